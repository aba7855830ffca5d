import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { REPO_ROOT, runTask } from '../helpers/agent';
import { TASKS, taskJson } from './manifest';

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

      it('run alone in an empty folder with no inputs, ends Failed with one completion line naming an input of its task.json', async function () {
        this.timeout(30_000);
        const r = await runTask({ task: t.folder, inputs: {}, isolate: true, env: { NODE_PATH: '' }, killAfterMs: 20_000 });
        // Which input a task checks first is its owner's choice (tested in test/tasks); the shape of the failure is not.
        const completes = r.stdout.split(/\r?\n/).filter((l) => l.startsWith('##vso[task.complete'));
        assert.equal(completes.length, 1, r.stdout + r.stderr);
        const prefix = '##vso[task.complete result=Failed;done=true;]';
        assert.ok(completes[0].startsWith(prefix), completes[0]);
        const message = completes[0].slice(prefix.length);
        const names = (taskJson(t.folder).inputs as Array<{ name: string }>).map((i) => i.name);
        const named = names.filter((n) => new RegExp(`\\b${n}\\b`).test(message));
        assert.ok(named.length > 0, `the failure names no input of ${t.folder}/task.json: ${message}`);
        assert.deepEqual(r.errors, [message]);
        assert.equal(r.code, 0, 'the agent reads the result from task.complete; the process itself exits normally');
        assert.equal(r.stderr, '');
        // Isolation is real: the bundle ran from the temp copy, next to its task.json and nothing else.
        assert.ok(r.stdout.includes(`adding resource file: ${path.join(r.tempDir, 'task', 'task.json')}`), r.stdout);
      });
    });
  }
});
