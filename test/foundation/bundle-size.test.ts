import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/agent';
import { readJson, TASKS } from './manifest';

/** Bundles over their budget, as "<task>: <bytes> > <budget>" lines; empty when every bundle fits. */
export function overBudget(sizes: Record<string, number>, budget: Record<string, number>): string[] {
  return Object.entries(sizes)
    .filter(([task, bytes]) => !(bytes <= budget[task]))
    .map(([task, bytes]) => `${task}: ${bytes} > ${budget[task] ?? 'no budget'}`);
}

describe('foundation: task bundle sizes', () => {
  const budget = readJson('test/foundation/bundle-budget.json').maxBytes as Record<string, number>;

  it('overBudget() reports a bundle one byte over, and one with no budget (the check itself can fail)', () => {
    assert.deepEqual(overBudget({ A: 101, B: 100, C: 5 }, { A: 100, B: 100 }), ['A: 101 > 100', 'C: 5 > no budget']);
  });

  it('the budget file names exactly the four tasks', () => {
    assert.deepEqual(Object.keys(budget).sort(), TASKS.map((t) => t.folder).sort());
  });

  it('no task bundle is larger than its budget in test/foundation/bundle-budget.json', function () {
    const sizes = Object.fromEntries(TASKS.map((t) => [t.folder, statSync(path.join(REPO_ROOT, 'tasks', t.folder, 'index.js')).size]));
    // The figures go to the test log, so a run records each bundle's size beside its budget.
    console.log(`      bundle sizes (bytes): ${TASKS.map((t) => `${t.folder} ${sizes[t.folder]} of ${budget[t.folder]}`).join(', ')}`);
    assert.deepEqual(overBudget(sizes, budget), []);
  });
});
