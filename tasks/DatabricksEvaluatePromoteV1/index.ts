import { runEntry } from '../../src/pipeline/entry';
import { main } from '../../src/tasks/evaluate/main';

void runEntry(__dirname, main);
