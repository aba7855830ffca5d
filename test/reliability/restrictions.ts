/** task.json restrictions as the agent applies them; see restrictions.test.ts for the sources. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Commands the agent runs in restricted mode (task area), from TaskCommandExtension.cs. */
export const ALLOWED_IN_RESTRICTED_MODE = new Set([
  'task.logdetail',
  'task.logissue',
  'task.issue',
  'task.complete',
  'task.setprogress',
  'task.setsecret',
  'task.setvariable',
  'task.debug',
  'task.settaskvariable',
  'task.prependpath',
]);

export interface TaskRestrictions {
  commands?: { mode?: 'any' | 'restricted' };
  settableVariables?: { allowed?: string[] };
}

export function taskJson(folder: string): { outputVariables: Array<{ name: string }>; restrictions?: TaskRestrictions } {
  return JSON.parse(readFileSync(path.join(ROOT, 'tasks', folder, 'task.json'), 'utf8'));
}
