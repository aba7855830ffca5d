import { runEntry } from '../../src/pipeline/entry';
import { main } from '../../src/tasks/train/main';

void runEntry(__dirname, main);
