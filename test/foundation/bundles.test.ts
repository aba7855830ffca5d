import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { REPO_ROOT, runTask } from '../helpers/agent';
import { TASKS } from './manifest';

/** Every `require("literal")` in a bundle that is not a Node built-in: a module the agent would not have. */
export function nonBuiltinRequires(source: string): string[] {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const found = new Set<string>();
  for (const m of source.matchAll(/\brequire\(\s*(["'`])([^"'`]+)\1\s*\)/g)) {
    if (!builtins.has(m[2])) found.add(m[2]);
  }
  return [...found];
}

describe('foundation: task bundles', () => {
  it('nonBuiltinRequires() finds a package require and ignores built-ins (the scan itself can fail)', () => {
    assert.deepEqual(nonBuiltinRequires('const a=require("fs"),b=require(\'node:path\'),c=require("axios");require(`./x`)'), ['axios', './x']);
  });

  for (const t of TASKS) {
    describe(t.folder, () => {
      const bundlePath = path.join(REPO_ROOT, 'tasks', t.folder, 'index.js');

      it('requires nothing but Node built-ins', () => {
        assert.deepEqual(nonBuiltinRequires(readFileSync(bundlePath, 'utf8')), []);
      });

      it('run alone in an empty folder, with no connection input, fails naming databricksConnection', async function () {
        this.timeout(30_000);
        const r = await runTask({ task: t.folder, inputs: {}, isolate: true, env: { NODE_PATH: '' }, killAfterMs: 20_000 });
        const completes = r.stdout.split(/\r?\n/).filter((l) => l.startsWith('##vso[task.complete'));
        assert.deepEqual(completes, ['##vso[task.complete result=Failed;done=true;]Input required: databricksConnection (the Databricks service connection).'], r.stdout + r.stderr);
        assert.deepEqual(r.errors, ['Input required: databricksConnection (the Databricks service connection).']);
        assert.equal(r.stderr, '');
        assert.equal(r.signal, null);
        // Isolation is real: the bundle ran from the temp copy, next to its task.json and nothing else.
        assert.ok(r.stdout.includes(`adding resource file: ${path.join(r.tempDir, 'task', 'task.json')}`), r.stdout);
      });

      it('with connectionType azureResourceManager and no subscription, fails naming azureSubscription', async function () {
        this.timeout(30_000);
        const r = await runTask({ task: t.folder, inputs: { connectionType: 'azureResourceManager' }, isolate: true, env: { NODE_PATH: '' }, killAfterMs: 20_000 });
        assert.deepEqual(r.complete, { result: 'Failed', message: 'Input required: azureSubscription (an Azure Resource Manager service connection).' });
        assert.ok(r.stdout.includes('##vso[task.complete result=Failed;done=true;]Input required: azureSubscription (an Azure Resource Manager service connection).'));
      });
    });
  }
});
