/**
 * The scoring notebook as the task ships it (src/tasks/evaluate/notebook-compose.ts; notebook-source.ts
 * composes it in the bundle the same way): evaluate_models.py with spark_compare.py and spark_sql.py inlined
 * in place of its marked import block. Checked with the system python3: it compiles, keeps the notebook
 * header, defines every imported name, has no top-level name defined by two of the pieces, and passes all
 * of the notebook's Python tests when they load it instead of evaluate_models.py.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeNotebookSource, inlinedImports } from '../../src/tasks/evaluate/notebook-compose';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NOTEBOOKS = path.join(ROOT, 'tasks', 'DatabricksEvaluatePromoteV1', 'notebooks');
/** The notebook's Python tests (as in test/tasks/evaluate/notebook-python.test.ts). */
const EXPECTED_PYTHON_TESTS = 116;

const read = (name: string): string => readFileSync(path.join(NOTEBOOKS, name), 'utf8');

function python(
  args: string[],
  opts: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.stdin ?? '');
  });
}

describe('the shipped scoring notebook: evaluate_models.py with its modules inlined', function () {
  this.timeout(120_000);
  const main = read('evaluate_models.py');
  const modules = { spark_compare: read('spark_compare.py'), spark_sql: read('spark_sql.py') };
  const composed = composeNotebookSource(main, modules);

  it('replaces the marked block with spark_compare then spark_sql, keeps the header, and leaves no import of them', () => {
    assert.deepEqual(
      inlinedImports(main).map((i) => i.module),
      ['spark_compare', 'spark_sql'],
    );
    assert.ok(composed.startsWith('# Databricks notebook source\n'));
    assert.doesNotMatch(composed, /^from spark_(compare|sql) import/m);
    assert.doesNotMatch(composed, /INLINED MODULES/);
    assert.ok(composed.indexOf('def seed64(') < composed.indexOf('def render_row_key_check_sql('));
    assert.ok(composed.indexOf('def render_row_key_check_sql(') < composed.indexOf('def parse_models('));
    assert.equal(composed.split('\n# COMMAND ----------\n').length, main.split('\n# COMMAND ----------\n').length);
  });

  it('compiles, defines every imported name, and has no top-level name defined twice', async () => {
    const { code, out, err } = await python([path.join(ROOT, 'test', 'spark', 'python', 'check_composed.py')], {
      stdin: JSON.stringify({ composed, main, modules }),
    });
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as { compiles: boolean; clashes: unknown[]; undefined: string[]; defined_after_exec: string[]; imported: string[] };
    assert.equal(report.compiles, true, out);
    assert.deepEqual(report.clashes, []);
    assert.deepEqual(report.undefined, []);
    assert.ok(report.imported.length >= 14, out);
    assert.deepEqual(report.defined_after_exec, report.imported);
  });

  it(`passes all ${EXPECTED_PYTHON_TESTS} notebook tests when they load the composed notebook`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'composed-notebook-'));
    try {
      const file = path.join(dir, 'evaluate_models.py');
      writeFileSync(file, composed);
      const { code, out, err } = await python(['-m', 'unittest', 'discover', '-s', 'tests', '-p', 'test_*.py', '-v'], {
        cwd: NOTEBOOKS,
        env: { MLOPS_SCORING_NOTEBOOK: file },
      });
      const output = out + err;
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`\\nRan ${EXPECTED_PYTHON_TESTS} tests in [0-9.]+s\\n`), output);
      assert.match(output, /\nOK\n?$/, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a notebook without exactly one well-formed block, and an unknown module', () => {
    assert.throws(() => composeNotebookSource('# Databricks notebook source\nx = 1\n', modules), /exactly one block/);
    const block = (body: string): string => `# Databricks notebook source\n# BEGIN INLINED MODULES\n${body}\n# END INLINED MODULES\n`;
    assert.throws(() => composeNotebookSource(block('import spark_sql'), modules), /only single-line 'from <module> import <names>'/);
    assert.throws(() => composeNotebookSource(block('from other import x'), modules), /imports other, which is not among the modules to inline/);
    assert.equal(
      composeNotebookSource(block('from m import a, b'), { m: '"""doc"""\nfrom m import zz\na = 1\nb = 2\n' }),
      '# Databricks notebook source\n# ---- m.py, inlined (the task ships one notebook)\n"""doc"""\na = 1\nb = 2\n# ---- end of m.py\n',
    );
  });
});
