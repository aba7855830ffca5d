import { runEntry } from '../../src/pipeline/entry';
import { main } from '../../src/tasks/deploy/main';

void runEntry(__dirname, main);
