/**
 * Request checks of the Jobs emulator: the 400 INVALID_PARAMETER_VALUE answers Databricks gives for a bad
 * job or one-time-run body (docs/databricks-api-notes.md §1, §10.2), and the proto-JSON omission of empty
 * fields (§10.1).
 */
import { ApiFault } from '../../contracts';
import type { JobSettings, JobTaskSettings } from './model';

export function badParam(message: string): ApiFault {
  return new ApiFault(400, 'INVALID_PARAMETER_VALUE', message);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function stringMap(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw badParam(`Invalid value for field ${field}: expected an object of strings.`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw badParam(`Invalid value for ${field}.${k}: expected a string.`);
    out[k] = val;
  }
  return out;
}

export function parseId(raw: unknown, field: string): number {
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined || s === null || s === '') throw badParam(`Missing required field: ${field}`);
  const n = typeof s === 'number' ? s : /^\d+$/.test(String(s)) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw badParam(`Invalid value for field ${field}: ${String(s)}`);
  return n;
}

/** The first value of a query parameter (a repeated key gives an array). */
export function firstQueryValue(raw: string | string[] | undefined): string | undefined {
  return Array.isArray(raw) ? raw[0] : raw;
}

/** The offset a page token of ours carries (`<prefix>:<offset>`, base64url); 0 for no token. */
export function decodePageOffset(token: string | undefined, prefix: string): number {
  if (!token) return 0;
  const m = new RegExp(`^${prefix}:(\\d+)$`).exec(Buffer.from(String(token), 'base64url').toString('utf8'));
  if (!m) throw badParam('Invalid page token.');
  return Number(m[1]);
}

export function encodePageOffset(offset: number, prefix: string): string {
  return Buffer.from(`${prefix}:${offset}`).toString('base64url');
}

/** Drops undefined, empty strings, empty arrays, empty objects and false (proto-JSON omission). */
export function compact<T extends Record<string, unknown>>(o: T, keep: string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (keep.includes(k)) {
      if (v !== undefined) out[k] = v;
      continue;
    }
    if (v === undefined || v === '' || v === false || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (isPlainObject(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

export function validateJobSettings(settings: JobSettings): void {
  if (!isPlainObject(settings)) throw badParam('Invalid value for field settings.');
  validateTasks(settings.tasks ?? [], 'tasks', false);
  for (const p of settings.parameters ?? []) {
    if (!p || typeof p.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(p.name) || typeof p.default !== 'string') {
      throw badParam('Job parameters need a name (alphanumerics, _, - and .) and a string default.');
    }
  }
}

function validateTask(t: unknown, i: number, field: string, keys: Set<string>): void {
  if (!isPlainObject(t)) throw badParam(`Invalid value for ${field}[${i}].`);
  if (typeof t.task_key !== 'string' || t.task_key === '') throw badParam(`Missing required field: ${field}[${i}].task_key`);
  if (keys.has(t.task_key)) throw badParam(`Task key ${t.task_key} is not unique.`);
  keys.add(t.task_key);
  const nb = t.notebook_task;
  if (!isPlainObject(nb)) throw badParam(`The emulator supports notebook tasks only; task ${t.task_key} has no notebook_task.`);
  if (typeof nb.notebook_path !== 'string' || nb.notebook_path === '') throw badParam(`Missing required field: ${field}[${i}].notebook_task.notebook_path`);
  stringMap(nb.base_parameters, `${field}[${i}].notebook_task.base_parameters`);
  const computeKinds = ['existing_cluster_id', 'new_cluster', 'job_cluster_key'].filter((k) => t[k] !== undefined);
  if (computeKinds.length > 1) throw badParam(`Task ${t.task_key} can have only one of existing_cluster_id, new_cluster and job_cluster_key.`);
  if (t.existing_cluster_id !== undefined && (typeof t.existing_cluster_id !== 'string' || t.existing_cluster_id === '')) {
    throw badParam(`Invalid value for ${field}[${i}].existing_cluster_id.`);
  }
  if (t.new_cluster !== undefined) validateCluster(t.new_cluster, `${field}[${i}].new_cluster`);
  if (t.depends_on !== undefined) {
    if (!Array.isArray(t.depends_on)) throw badParam(`Invalid value for ${field}[${i}].depends_on.`);
    for (const d of t.depends_on) {
      if (!isPlainObject(d) || typeof d.task_key !== 'string') throw badParam(`Invalid value for ${field}[${i}].depends_on.`);
    }
  }
}

export function validateTasks(tasks: unknown, field: string, required: boolean): void {
  if (!Array.isArray(tasks)) throw badParam(`Invalid value for field ${field}: expected an array.`);
  if (required && tasks.length === 0) throw badParam(`Missing required field: ${field}`);
  const keys = new Set<string>();
  for (const [i, t] of tasks.entries()) validateTask(t, i, field, keys);
  for (const t of tasks as JobTaskSettings[]) {
    for (const d of t.depends_on ?? []) {
      if (!keys.has(d.task_key)) throw badParam(`Task ${t.task_key} depends on ${d.task_key}, which is not a task of this run.`);
    }
  }
  // Reject cycles: Databricks requires a DAG.
  const order = topoOrder(tasks as JobTaskSettings[]);
  if (!order) throw badParam('The task dependencies contain a cycle.');
}

function validateCluster(c: unknown, field: string): void {
  if (!isPlainObject(c)) throw badParam(`Invalid value for ${field}: expected an object.`);
  if (typeof c.spark_version !== 'string' || c.spark_version === '') throw badParam(`Missing required field: ${field}.spark_version`);
  if (c.node_type_id === undefined && c.instance_pool_id === undefined && c.policy_id === undefined) {
    throw badParam(`Missing required field: ${field}.node_type_id`);
  }
  if (c.num_workers === undefined && c.autoscale === undefined && c.is_single_node !== true) {
    throw badParam(`Missing required field: ${field}.num_workers`);
  }
}

/** The tasks in an order where each comes after the tasks it depends on; undefined when they form a cycle. */
export function topoOrder(tasks: JobTaskSettings[]): JobTaskSettings[] | undefined {
  const done = new Set<string>();
  const out: JobTaskSettings[] = [];
  let progress = true;
  while (out.length < tasks.length && progress) {
    progress = false;
    for (const t of tasks) {
      if (done.has(t.task_key)) continue;
      if ((t.depends_on ?? []).every((d) => done.has(d.task_key))) {
        done.add(t.task_key);
        out.push(t);
        progress = true;
      }
    }
  }
  return out.length === tasks.length ? out : undefined;
}
