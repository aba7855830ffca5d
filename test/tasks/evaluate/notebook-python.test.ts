import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/agent';

const NOTEBOOKS = path.join(REPO_ROOT, 'tasks', 'DatabricksEvaluatePromoteV1', 'notebooks');
/** Update when tests are added or removed in notebooks/tests: a silently skipped module must fail this test. */
const EXPECTED_PYTHON_TESTS = 116;

function runPython(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', args, {
      cwd: NOTEBOOKS,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('bundled notebooks (Python unit tests)', () => {
  it(`python3 -m unittest discover passes all ${EXPECTED_PYTHON_TESTS} notebook tests`, async function () {
    this.timeout(60_000);
    const { code, output } = await runPython(['-m', 'unittest', 'discover', '-s', 'tests', '-p', 'test_*.py', '-v']);
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`\\nRan ${EXPECTED_PYTHON_TESTS} tests in [0-9.]+s\\n`), output);
    assert.match(output, /\nOK\n?$/, output);
  });
});
