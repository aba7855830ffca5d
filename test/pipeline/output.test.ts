/**
 * The output path (src/pipeline/output.ts): every printed line has its logging-command prefixes made inert
 * and its secrets redacted; files get the same through a lossless encoding; the task's own commands still
 * come out of task-lib intact.
 */
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { taskLibLogger } from '../../src/pipeline/task-lib-host';
import { clip, containsCommandPrefix, inertJson, inertMarkdown, neutraliseCommands, printable, registerSecret } from '../../src/pipeline/output';
import { commandProblems, executableCommands, hasCommandPrefix } from '../helpers/commands';

const SETVAR = '##vso[task.setvariable variable=x;isOutput=true]pwned';

/** Captures what `fn` writes to stdout (task-lib writes its commands there too). */
function captureStdout(fn: () => void): string {
  const original = process.stdout.write.bind(process.stdout);
  let out = '';
  (process.stdout as unknown as { write: (c: string | Uint8Array) => boolean }).write = (c) => {
    out += typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
    return true;
  };
  try {
    fn();
  } finally {
    (process.stdout as unknown as { write: typeof original }).write = original;
  }
  return out;
}

describe('output path: logging commands in printed text are inert', () => {
  it('rewrites ##vso[ and ##[ the way the agent does (## -> **), keeping every other character', () => {
    assert.equal(neutraliseCommands(`Job "${SETVAR}" is job 7.`), 'Job "**vso[task.setvariable variable=x;isOutput=true]pwned" is job 7.');
    assert.equal(neutraliseCommands('##[error]fake error'), '**[error]fake error');
    assert.equal(neutraliseCommands('##[group]x ##[endgroup]'), '**[group]x **[endgroup]');
    assert.equal(neutraliseCommands('##VSO[task.complete result=Succeeded]'), '**VSO[task.complete result=Succeeded]');
    assert.equal(neutraliseCommands('###vso[x.y]'), '#**vso[x.y]');
    assert.equal(neutraliseCommands('####[a]'), '##**[a]');
  });

  it('leaves text without a command prefix exactly as it was', () => {
    for (const t of ['', 'plain', '# heading', '## heading', 'a#b', 'C# [x]', '#[x]', '##vso', 'vso[', '## [x]', 'tag#1 [ok]', 'ünïcødé 💥 #']) {
      assert.equal(neutraliseCommands(t), t, t);
    }
  });

  it('also defuses prefixes disguised with characters a culture-sensitive search skips', () => {
    for (const t of ['#\u200b#vso[a.b]x', '##\u0000vso[a.b]x', '##v\u00adso[a.b]x', '#\u2060#[error]x', '##vs\ufeffo[a.b]', '#\u0007#\u200d[group]']) {
      const out = neutraliseCommands(t);
      assert.ok(!hasCommandPrefix(out), JSON.stringify(out));
      assert.equal(out.length, t.length);
    }
  });

  it('fuzz: 20000 random strings over #, v, s, o, [, ], case and ignorables never keep a prefix and only # changes', () => {
    const rng = seedrandom('neutralise');
    const alphabet = ['#', '#', '#', 'v', 'V', 's', 'o', 'O', '[', ']', ' ', 'x', '\u200b', '\u0000', '\n', '\r', '*'];
    for (let n = 0; n < 20_000; n++) {
      const len = 1 + Math.floor(rng() * 14);
      let t = '';
      for (let i = 0; i < len; i++) t += alphabet[Math.floor(rng() * alphabet.length)];
      const out = neutraliseCommands(t);
      assert.ok(!hasCommandPrefix(out), JSON.stringify({ t, out }));
      assert.equal(out.length, t.length);
      for (let i = 0; i < t.length; i++) if (out[i] !== t[i]) assert.ok(t[i] === '#' && out[i] === '*', JSON.stringify({ t, out }));
      assert.equal(containsCommandPrefix(out), false);
    }
  });

  it('printable redacts registered secrets first, then neutralises', () => {
    registerSecret('s3cr3t-output-path-0001');
    assert.equal(printable('token s3cr3t-output-path-0001 ##vso[task.setsecret]x'), 'token *** **vso[task.setsecret]x');
  });

  it('clip cuts an echoed value to 200 characters and counts the rest', () => {
    assert.equal(clip('a'.repeat(200)), 'a'.repeat(200));
    assert.equal(clip('a'.repeat(10_240)), `${'a'.repeat(200)}…(10040 more)`);
    assert.equal(clip('💥'.repeat(201)), `${'💥'.repeat(200)}…(1 more)`);
  });

  it('files: JSON keeps the same data with no # byte; Markdown renders the same text with no prefix', () => {
    const record = { runName: `${SETVAR} ##[error] #1`, nested: [{ tag: '#\u200b#vso[' }] };
    const json = inertJson(JSON.stringify(record, null, 2));
    assert.ok(!json.includes('#'));
    assert.deepEqual(JSON.parse(json), record);
    const md = inertMarkdown(`### Evaluate: ${SETVAR}\n| ##[error] | ok |`);
    assert.equal(md, '### Evaluate: &#35;&#35;vso[task.setvariable variable=x;isOutput=true]pwned\n| &#35;&#35;[error] | ok |');
    assert.ok(!hasCommandPrefix(md));
  });

  it('the task-lib logger: injected commands come out inert, the task-lib commands around them intact', () => {
    const log = taskLibLogger();
    const out = captureStdout(() => {
      log.info(`Notebook output: ${SETVAR}`);
      log.info(`line one\r${SETVAR}\nline three`);
      log.warn(`Run name ${SETVAR}`);
      log.error(`API error: ##[error]${SETVAR}`);
      log.debug(`trace ${SETVAR}`);
    });
    assert.deepEqual(commandProblems(out, []), []);
    assert.deepEqual(
      executableCommands(out).map((c) => `${c.name} ${c.data}`),
      [
        'task.issue **vso[task.setvariable variable=x;isOutput=true]pwned',
        'task.issue API error: **[error]**vso[task.setvariable variable=x;isOutput=true]pwned',
        'task.debug trace **vso[task.setvariable variable=x;isOutput=true]pwned',
      ].map((l, i) => (i === 0 ? l.replace('task.issue ', 'task.issue Run name ') : l)),
    );
    assert.ok(out.includes('Notebook output: **vso[task.setvariable variable=x;isOutput=true]pwned\n'));
    assert.ok(out.includes('line one\r**vso[task.setvariable variable=x;isOutput=true]pwned\nline three\n'));
  });

  it('the test model of the agent finds an injected command anywhere in a line, and after a bare \\r', () => {
    assert.deepEqual(commandProblems(`Job "${SETVAR}"`, []).length, 2);
    assert.equal(executableCommands(`a\r${SETVAR}`)[0].at, 0);
    assert.deepEqual(commandProblems('##vso[task.setvariable variable=decision;isOutput=true]promote', ['decision']), []);
    assert.equal(commandProblems('##vso[task.setvariable variable=other;isOutput=true]x', ['decision']).length, 1);
  });
});
