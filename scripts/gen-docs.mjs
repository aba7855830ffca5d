#!/usr/bin/env node
// Rewrites the generated regions of README.md and images/overview.md from the tasks' task.json files:
//   <!-- inputs:connection --> ... <!-- /inputs:connection -->        the four connection inputs every task
//                                                                     shares (identical in all task.json files)
//   <!-- inputs:<TaskFolder> --> ... <!-- /inputs:<TaskFolder> -->    the task's other inputs, in task.json order
//   <!-- outputs:<TaskFolder> --> ... <!-- /outputs:<TaskFolder> -->  every output variable
// The picker note (how the classic editor's lists work) is said once, in the docs' "Pickers in the classic
// editor" section: the tables leave it out of each input's help and link that section from the type.
// Usage: node scripts/gen-docs.mjs [--check] [--root DIR]
//   --check  change nothing; exit 1 and name each stale region when a file differs from what would be generated
//   --root   repository root to work on (default: this script's repository)
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOC_FILES = ['README.md', 'images/overview.md'];
const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';
/** The inputs every task begins with (test/foundation checks they are identical in every task.json). */
export const CONNECTION_INPUTS = ['connectionType', 'databricksConnection', 'azureSubscription', 'workspaceUrl'];
/** The sentence each picker input's help ends with in task.json (the form shows help per input). */
export const PICKER_NOTE =
  'In the classic editor you can pick it from a list that Azure DevOps fetches from the workspace with the service connection, from its own servers: this works only with the personal access token scheme and a workspace reachable from the internet (not behind Private Link or an IP access list). You can always type the value.';
const PICKERS_SECTION = '#pickers-in-the-classic-editor';

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
  if (input.type === 'pickList' && editable && !input.options) return `string ([picker in the classic editor](${PICKERS_SECTION}))`;
  return input.type;
}

function valuesText(input) {
  const opts = input.options ? Object.entries(input.options).map(([k, label]) => `${code(k)} (${label})`) : [];
  if (opts.length === 0) return '';
  return input.properties?.EditableOptions === 'True' ? `${opts.join(', ')}, or any value` : opts.join(', ');
}

/** An input's help for the tables: without the picker note, which the docs give once. */
function helpText(input) {
  const help = input.helpMarkDown ?? '';
  if (help.includes(PICKER_NOTE)) return help.replace(PICKER_NOTE, '').trim();
  // A reworded note would be repeated in every table: refuse it, so the note stays said once.
  if (/In the classic editor you can pick/.test(help))
    throw new Error(`input ${input.name}: its picker note differs from the one the docs say once; use the same sentence`);
  return help;
}

/** The markdown table of `inputs` (a task's own inputs, or the shared connection inputs). */
export function inputsTable(inputs) {
  const rows = ['| Input | Label | Type | Required | Default | Values | Shown when | Description |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const i of inputs) {
    const name = [code(i.name), ...(i.aliases ?? []).map((a) => `alias ${code(a)}`)].join(', ');
    const def = i.defaultValue === undefined || i.defaultValue === '' ? '' : code(i.defaultValue);
    rows.push(
      `| ${name} | ${cell(i.label)} | ${cell(typeText(i))} | ${i.required ? 'yes' : 'no'} | ${cell(def)} | ${cell(valuesText(i))} | ${cell(i.visibleRule ? code(i.visibleRule) : 'always')} | ${cell(helpText(i))} |`,
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
  const fill = (kind, folder, body) => {
    out = out.replace(regionPattern(kind, folder), (_, open, old, close) => {
      regions++;
      if (old !== body) stale.push(`${kind}:${folder}`);
      return `${open}${body}${close}`;
    });
  };
  const connection = (task) => task.inputs.slice(0, CONNECTION_INPUTS.length);
  if (tasks.length > 0) {
    const shared = JSON.stringify(connection(tasks[0][1]));
    for (const [folder, task] of tasks) {
      if (JSON.stringify(connection(task).map((i) => i.name)) !== JSON.stringify(CONNECTION_INPUTS) || JSON.stringify(connection(task)) !== shared) {
        throw new Error(`${folder}: the first inputs are not the shared connection inputs (${CONNECTION_INPUTS.join(', ')}), identical in every task`);
      }
    }
    fill('inputs', 'connection', `${inputsTable(connection(tasks[0][1]))}\n`);
  }
  for (const [folder, task] of tasks) {
    fill('inputs', folder, `${inputsTable(task.inputs.slice(CONNECTION_INPUTS.length))}\n`);
    fill('outputs', folder, `${outputsTable(task)}\n`);
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
