#!/usr/bin/env node
// Rewrites the generated regions of README.md and images/overview.md from the tasks' task.json files:
//   <!-- inputs:<TaskFolder> --> ... <!-- /inputs:<TaskFolder> -->    every input, in task.json order
//   <!-- outputs:<TaskFolder> --> ... <!-- /outputs:<TaskFolder> -->  every output variable
// Usage: node scripts/gen-docs.mjs [--check] [--root DIR]
//   --check  change nothing; exit 1 and name each stale region when a file differs from what would be generated
//   --root   repository root to work on (default: this script's repository)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOC_FILES = ['README.md', 'images/overview.md'];
const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';

const cell = (s) =>
  String(s ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
const code = (s) => (s === '' || s === undefined ? '' : `\`${String(s).replace(/`/g, "'")}\``);

/** The task folders the manifest contributes, in manifest order. */
export function taskFolders(root) {
  const m = JSON.parse(readFileSync(path.join(root, 'vss-extension.json'), 'utf8'));
  return m.contributions.filter((c) => c.type === TASK_CONTRIBUTION).map((c) => path.basename(c.properties.name));
}

function typeText(input) {
  if (input.type.startsWith('connectedService:')) return `service connection (${input.type.slice('connectedService:'.length)})`;
  const editable = input.properties?.EditableOptions === 'True';
  if (input.type === 'pickList' && editable && !input.options) return 'string (picker in the classic editor)';
  return input.type;
}

function valuesText(input) {
  const opts = input.options ? Object.entries(input.options).map(([k, label]) => `${code(k)} (${label})`) : [];
  if (opts.length === 0) return '';
  return input.properties?.EditableOptions === 'True' ? `${opts.join(', ')}, or any value` : opts.join(', ');
}

/** The markdown table of a task's inputs. */
export function inputsTable(task) {
  const rows = [
    '| Input | Label | Type | Required | Default | Values | Shown when | Description |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const i of task.inputs) {
    const name = [code(i.name), ...(i.aliases ?? []).map((a) => `alias ${code(a)}`)].join(', ');
    const def = i.defaultValue === undefined || i.defaultValue === '' ? '' : code(i.defaultValue);
    rows.push(
      `| ${name} | ${cell(i.label)} | ${cell(typeText(i))} | ${i.required ? 'yes' : 'no'} | ${cell(def)} | ${cell(valuesText(i))} | ${cell(i.visibleRule ? code(i.visibleRule) : 'always')} | ${cell(i.helpMarkDown)} |`,
    );
  }
  return rows.join('\n');
}

/** The markdown table of a task's output variables. */
export function outputsTable(task) {
  const rows = ['| Output variable | Description |', '| --- | --- |'];
  for (const o of task.outputVariables ?? []) rows.push(`| ${code(o.name)} | ${cell(o.description)} |`);
  return rows.join('\n');
}

function regionPattern(kind, folder) {
  return new RegExp(`(<!-- ${kind}:${folder} -->\\n)([\\s\\S]*?)(<!-- /${kind}:${folder} -->)`, 'g');
}

/**
 * Returns `{ text, regions, stale }`: the file with every region regenerated, how many regions it has,
 * and which regions differed.
 */
export function regenerate(text, tasks) {
  let regions = 0;
  const stale = [];
  let out = text;
  for (const [folder, task] of tasks) {
    for (const [kind, render] of [
      ['inputs', inputsTable],
      ['outputs', outputsTable],
    ]) {
      const body = `${render(task)}\n`;
      out = out.replace(regionPattern(kind, folder), (_, open, old, close) => {
        regions++;
        if (old !== body) stale.push(`${kind}:${folder}`);
        return `${open}${body}${close}`;
      });
    }
  }
  // An opening marker without its closing one would silently keep stale text: refuse it.
  const opens = [...out.matchAll(/<!-- (inputs|outputs):([A-Za-z0-9]+) -->/g)].length;
  if (opens !== regions) throw new Error(`unbalanced or unknown generated-region markers (${opens} opening, ${regions} regenerated)`);
  return { text: out, regions, stale };
}

export function run({ root, check }) {
  const tasks = taskFolders(root).map((f) => [f, JSON.parse(readFileSync(path.join(root, 'tasks', f, 'task.json'), 'utf8'))]);
  const problems = [];
  for (const rel of DOC_FILES) {
    const file = path.join(root, rel);
    const before = readFileSync(file, 'utf8');
    const { text, regions, stale } = regenerate(before, tasks);
    if (regions === 0) problems.push(`${rel}: no generated regions`);
    if (check) {
      for (const s of stale) problems.push(`${rel}: region ${s} is stale`);
    } else if (text !== before) {
      writeFileSync(file, text);
      console.log(`gen-docs: rewrote ${stale.join(', ')} in ${rel}`);
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const rootIdx = args.indexOf('--root');
  const root = rootIdx >= 0 ? path.resolve(args[rootIdx + 1]) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  try {
    const problems = run({ root, check });
    if (problems.length) {
      for (const p of problems) console.error(`gen-docs: ${p}`);
      if (check) console.error('gen-docs: run `node scripts/gen-docs.mjs` to regenerate.');
      process.exit(1);
    }
    if (check) console.log('gen-docs: generated tables are up to date');
  } catch (e) {
    console.error(`gen-docs: ${e.message}`);
    process.exit(1);
  }
}
