import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/agent';
import { Json, TASKS } from './manifest';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'bump-version.mjs');

/** A copy of the files the bump touches, so the test never edits the working tree. */
function copyTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bump-'));
  for (const f of ['vss-extension.json', 'package.json', 'package-lock.json']) copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
  for (const t of TASKS) {
    mkdirSync(path.join(dir, 'tasks', t.folder), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, 'tasks', t.folder, 'task.json'), path.join(dir, 'tasks', t.folder, 'task.json'));
  }
  return dir;
}

const read = (dir: string, f: string): Json => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
const bump = (dir: string, ...args: string[]) => spawnSync(process.execPath, [SCRIPT, '--root', dir, ...args], { encoding: 'utf8' });

/** Sets one version everywhere (for a known starting point). */
function setVersions(dir: string, ext: string, tasks: [number, number, number]) {
  const m = read(dir, 'vss-extension.json');
  writeFileSync(path.join(dir, 'vss-extension.json'), JSON.stringify({ ...m, version: ext }, null, 2));
  const pkg = read(dir, 'package.json');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version: ext }, null, 2));
  for (const t of TASKS) {
    const p = path.join('tasks', t.folder, 'task.json');
    writeFileSync(path.join(dir, p), JSON.stringify({ ...read(dir, p), version: { Major: tasks[0], Minor: tasks[1], Patch: tasks[2] } }, null, 2));
  }
}

function versions(dir: string) {
  return {
    extension: read(dir, 'vss-extension.json').version,
    pkg: read(dir, 'package.json').version,
    lock: [read(dir, 'package-lock.json').version, read(dir, 'package-lock.json').packages[''].version],
    tasks: TASKS.map((t) => read(dir, path.join('tasks', t.folder, 'task.json')).version),
  };
}

describe('foundation: npm run bump', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = copyTree()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('patch (the default) bumps the extension, package.json, the lock file and every task together', () => {
    setVersions(dir, '1.4.2', [1, 4, 2]);
    const r = bump(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bump patch: 1\.4\.2 -> 1\.4\.3/);
    assert.deepEqual(versions(dir), { extension: '1.4.3', pkg: '1.4.3', lock: ['1.4.3', '1.4.3'], tasks: TASKS.map(() => ({ Major: 1, Minor: 4, Patch: 3 })) });
  });

  it('minor resets the patch', () => {
    setVersions(dir, '1.4.2', [1, 4, 2]);
    assert.equal(bump(dir, 'minor').status, 0);
    assert.deepEqual(
      versions(dir).tasks,
      TASKS.map(() => ({ Major: 1, Minor: 5, Patch: 0 })),
    );
    assert.equal(versions(dir).extension, '1.5.0');
  });

  it('major never lowers a task version: the minor keeps counting (1.4.2 -> 2.5.0, tasks 1.4.2 -> 1.5.0)', () => {
    setVersions(dir, '1.4.2', [1, 4, 2]);
    assert.equal(bump(dir, 'major').status, 0);
    assert.equal(versions(dir).extension, '2.5.0');
    assert.deepEqual(
      versions(dir).tasks,
      TASKS.map(() => ({ Major: 1, Minor: 5, Patch: 0 })),
    );
  });

  it('keeps everything else in task.json and the manifest byte for byte', () => {
    const before = TASKS.map((t) => readFileSync(path.join(dir, 'tasks', t.folder, 'task.json'), 'utf8'));
    const manifestBefore = readFileSync(path.join(dir, 'vss-extension.json'), 'utf8');
    assert.equal(bump(dir, 'patch').status, 0);
    TASKS.forEach((t, i) => {
      const after = readFileSync(path.join(dir, 'tasks', t.folder, 'task.json'), 'utf8');
      assert.equal(after.replace(/"Patch": \d+/, ''), before[i].replace(/"Patch": \d+/, ''));
    });
    const manifestAfter = readFileSync(path.join(dir, 'vss-extension.json'), 'utf8');
    assert.equal(manifestAfter.replace(/"version": "[^"]+"/, ''), manifestBefore.replace(/"version": "[^"]+"/, ''));
  });

  it('--check fails, naming the task, when one task was left behind', () => {
    setVersions(dir, '1.4.2', [1, 4, 2]);
    assert.equal(bump(dir, '--check').status, 0);
    const p = path.join('tasks', TASKS[1].folder, 'task.json');
    writeFileSync(path.join(dir, p), JSON.stringify({ ...read(dir, p), version: { Major: 1, Minor: 4, Patch: 1 } }, null, 2));
    const r = bump(dir, '--check');
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim(),
      `version rule violated:\n  tasks/${TASKS[1].folder}/task.json: version 1.4.1 must have Minor.Patch 4.2 (extension 1.4.2); run npm run bump`,
    );
  });

  it('--check-tag accepts only the tag of the current version', () => {
    setVersions(dir, '1.4.2', [1, 4, 2]);
    assert.equal(bump(dir, '--check-tag', 'refs/tags/v1.4.2').status, 0);
    const r = bump(dir, '--check-tag', 'refs/tags/v1.4.3');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /tag v1\.4\.3 does not match the extension version 1\.4\.2/);
  });

  it('rejects an unknown bump kind and changes nothing', () => {
    const before = versions(dir);
    const r = bump(dir, 'huge');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown bump "huge"/);
    assert.deepEqual(versions(dir), before);
  });
});
