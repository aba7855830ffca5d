import { runEntry } from '../../src/pipeline/entry';
import { main } from '../../src/tasks/serve/main';

void runEntry(__dirname, main);
