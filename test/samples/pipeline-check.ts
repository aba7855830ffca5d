/**
 * Checks the steps of an Azure Pipelines YAML document that use this extension's tasks against their task.json:
 * input names (or aliases) exist, required inputs are present unless their visibleRule hides them or they have a
 * default, pickList/radio values are options (unless the pickList is editable or the value is a macro), booleans
 * are booleans, and every output variable reference (`$(step.var)`, `variables['step.var']`,
 * `dependencies.J.outputs['step.var']`, `stageDependencies.S.J.outputs['J.step.var']`) names a step of ours that
 * declares that output. Used by test/samples and test/docs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

type Json = Record<string, any>;
const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface TaskDef {
  folder: string;
  json: Json;
}

/** Our tasks by YAML reference (`DatabricksTrain@1`). */
export function loadTasks(): Map<string, TaskDef> {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'vss-extension.json'), 'utf8'));
  const out = new Map<string, TaskDef>();
  for (const c of manifest.contributions.filter((x: Json) => x.type === 'ms.vss-distributed-task.task')) {
    const folder = path.basename(c.properties.name);
    const json = JSON.parse(readFileSync(path.join(ROOT, 'tasks', folder, 'task.json'), 'utf8'));
    out.set(`${json.name}@${json.version.Major}`, { folder, json });
  }
  return out;
}

export interface FoundStep {
  task: string;
  name?: string;
  inputs: Record<string, unknown>;
  /** Where it is: `stage/job` (empty parts for a bare steps list). */
  job: string;
}

function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Evaluates a task.json visibleRule (`a = x && b != y`, or `||`-chains; no parentheses) against input values. */
export function isVisible(rule: string | undefined, values: Record<string, string>): boolean {
  if (!rule) return true;
  const or = rule.includes('||');
  const clauses = rule.split(or ? '||' : '&&').map((c) => c.trim());
  const results = clauses.map((c) => {
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(==|!=|=)\s*(.*)$/.exec(c);
    if (!m) throw new Error(`visibleRule clause not understood: ${c}`);
    const actual = (values[m[1]] ?? '').toLowerCase();
    const expected = m[3].trim().toLowerCase();
    return m[2] === '!=' ? actual !== expected : actual === expected;
  });
  return or ? results.some(Boolean) : results.every(Boolean);
}

const isMacro = (v: string) => /\$\(|\$\{\{|\$\[/.test(v);

/** Problems of one step's inputs, each naming the step and the input. */
export function checkStepInputs(step: FoundStep, def: TaskDef): string[] {
  const where = `${step.job ? `${step.job}: ` : ''}${step.task}${step.name ? ` (${step.name})` : ''}`;
  const problems: string[] = [];
  const byName = new Map<string, Json>();
  for (const i of def.json.inputs) {
    byName.set(i.name.toLowerCase(), i);
    for (const a of i.aliases ?? []) byName.set(String(a).toLowerCase(), i);
  }
  const given: Record<string, string> = {};
  for (const [k, v] of Object.entries(step.inputs ?? {})) {
    const input = byName.get(k.toLowerCase());
    if (!input) {
      problems.push(`${where}: unknown input ${k}`);
      continue;
    }
    const value = typeof v === 'boolean' || typeof v === 'number' ? String(v) : typeof v === 'string' ? v : undefined;
    if (value === undefined) {
      problems.push(`${where}: input ${k} must be a scalar, got ${asText(v)}`);
      continue;
    }
    given[input.name] = value;
  }
  const effective: Record<string, string> = {};
  for (const i of def.json.inputs) effective[i.name] = given[i.name] ?? (i.defaultValue === undefined ? '' : String(i.defaultValue));
  for (const i of def.json.inputs) {
    const value = given[i.name];
    const visible = isVisible(i.visibleRule, effective);
    if (i.required && visible && (effective[i.name] ?? '').trim() === '') problems.push(`${where}: required input ${i.name} is missing`);
    if (value === undefined || isMacro(value)) continue;
    if ((i.type === 'pickList' || i.type === 'radio') && i.options && i.properties?.EditableOptions !== 'True' && !(value in i.options)) {
      problems.push(`${where}: ${i.name}: "${value}" is not one of ${Object.keys(i.options).join(', ')}`);
    }
    if (i.type === 'boolean' && !/^(true|false)$/i.test(value)) problems.push(`${where}: ${i.name}: "${value}" is not true or false`);
  }
  return problems;
}

interface JobSteps {
  key: string;
  steps: Json[];
  node: Json;
}

function stepsUnder(node: unknown, acc: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const x of node) stepsUnder(x, acc);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === 'steps' && Array.isArray(v)) acc.push(...v.filter((s) => s && typeof s === 'object'));
      else stepsUnder(v, acc);
    }
  }
  return acc;
}

/** The jobs of a pipeline (or one pseudo-job for a bare list of steps), with their steps. */
export function jobsOf(doc: unknown): JobSteps[] {
  if (Array.isArray(doc)) return [{ key: '', steps: doc as Json[], node: { steps: doc } }];
  const d = (doc ?? {}) as Json;
  const out: JobSteps[] = [];
  const addJobs = (stage: string, jobs: Json[] | undefined) => {
    for (const j of jobs ?? []) {
      const name = j.job ?? j.deployment ?? '';
      out.push({ key: `${stage}/${name}`, steps: stepsUnder(j), node: j });
    }
  };
  if (Array.isArray(d.stages)) for (const s of d.stages) addJobs(s.stage ?? '', s.jobs);
  else if (Array.isArray(d.jobs)) addJobs('', d.jobs);
  else if (Array.isArray(d.steps)) out.push({ key: '', steps: d.steps, node: d });
  return out;
}

function strings(node: unknown, acc: string[] = []): string[] {
  if (typeof node === 'string') acc.push(node);
  else if (Array.isArray(node)) for (const x of node) strings(x, acc);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node as Json)) {
      strings(k, acc);
      strings(v, acc);
    }
  }
  return acc;
}

export interface CheckResult {
  problems: string[];
  steps: FoundStep[];
  /** Output references that were checked, as `job -> step.var`. */
  outputRefs: string[];
}

/** Checks a parsed YAML document (a pipeline, or a bare list of steps). */
export function checkPipeline(doc: unknown, tasks = loadTasks()): CheckResult {
  const problems: string[] = [];
  const steps: FoundStep[] = [];
  const outputRefs: string[] = [];
  const jobs = jobsOf(doc);
  const ourSteps = new Map<string, Map<string, TaskDef>>();
  for (const j of jobs) {
    const named = new Map<string, TaskDef>();
    for (const s of j.steps) {
      if (typeof s.task !== 'string') continue;
      const def = tasks.get(s.task);
      if (!def) {
        if (/^Databricks/i.test(s.task)) problems.push(`${j.key}: unknown task ${s.task}`);
        continue;
      }
      const found: FoundStep = { task: s.task, name: s.name, inputs: s.inputs ?? {}, job: j.key };
      steps.push(found);
      problems.push(...checkStepInputs(found, def));
      if (typeof s.name === 'string') {
        if (named.has(s.name)) problems.push(`${j.key}: two steps named ${s.name}`);
        named.set(s.name, def);
      }
    }
    ourSteps.set(j.key, named);
  }
  const checkRef = (jobKey: string, step: string, variable: string, text: string) => {
    const def = ourSteps.get(jobKey)?.get(step);
    if (!def) {
      problems.push(`${jobKey}: "${text}" refers to step ${step}, which is not a named step of this extension in job ${jobKey}`);
      return;
    }
    outputRefs.push(`${jobKey} -> ${step}.${variable}`);
    if (!(def.json.outputVariables ?? []).some((o: Json) => o.name === variable)) {
      problems.push(`${jobKey}: "${text}": ${def.json.name} declares no output variable ${variable}`);
    }
  };
  const knownSteps = new Set([...ourSteps.values()].flatMap((m) => [...m.keys()]));
  // Same-job references, inside each job.
  for (const j of jobs) {
    for (const s of strings(j.node)) {
      for (const m of s.matchAll(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)\)|variables\['([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)'\]/g,
      )) {
        const step = m[1] ?? m[3];
        const variable = m[2] ?? m[4];
        // Predefined variables (Build.BuildId, System.TeamProject, ...) start with a capital; a lowercase
        // `x.y` is a step output reference in this pipeline's naming.
        if (/^[A-Z]/.test(step) && !knownSteps.has(step)) continue;
        checkRef(j.key, step, variable, m[0]);
      }
    }
  }
  // Cross-job and cross-stage references, anywhere in the document.
  for (const s of strings(doc)) {
    for (const m of s.matchAll(
      /stageDependencies\.([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\.outputs\['([^']+)'\]|(?<!stage)dependencies\.([A-Za-z0-9_]+)\.outputs\['([^']+)'\]/gi,
    )) {
      const stage = m[1] ?? undefined;
      const job = m[2] ?? m[4];
      const parts = (m[3] ?? m[5]).split('.');
      const [step, variable] = parts.slice(-2);
      const key = stage !== undefined ? `${stage}/${job}` : ([...ourSteps.keys()].find((k) => k.endsWith(`/${job}`)) ?? `?/${job}`);
      if (!ourSteps.has(key)) {
        problems.push(`"${m[0]}" refers to job ${stage ?? '?'}/${job}, which does not exist`);
        continue;
      }
      checkRef(key, step, variable, m[0]);
    }
  }
  return { problems, steps, outputRefs };
}

/** Parses YAML text (one document) strictly: YAML errors are problems too. */
export function parseYaml(text: string): unknown {
  const docs = parseAllDocuments(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, got ${docs.length}`);
  const [doc] = docs;
  if (doc.errors.length) throw new Error(doc.errors.map((e) => e.message).join('; '));
  return doc.toJS();
}
