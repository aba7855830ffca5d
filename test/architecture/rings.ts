/**
 * The ring rules (docs/architecture.md) as a pure function of an import graph, so the test can run them on
 * the repository and on a synthetic graph that breaks every rule (the rules must be able to fail).
 *
 * Rings: the engine (pure: no I/O, no clock, no ambient randomness), the clients (Databricks and MLflow
 * HTTP), the tasks (`run(inputs, deps)`), and the adapter (the only code that imports
 * azure-pipelines-task-lib). The report, the I/O of prediction files and the CLI sit beside the tasks.
 * The emulator and the demo ship in no bundle: nothing shipped imports them.
 */
import type { ImportGraph } from './graph';

export type Ring = 'engine' | 'client' | 'tasks' | 'pipeline' | 'adapter' | 'report' | 'io' | 'cli' | 'entry' | 'emulator' | 'demo';

export const TASK_LIB = 'pkg:azure-pipelines-task-lib';

/** The adapter: the src/pipeline modules that implement the host, the inputs and the connection over task-lib. */
export const ADAPTER_FILES = new Set([
  'src/pipeline/entry.ts',
  'src/pipeline/client.ts',
  'src/pipeline/connection.ts',
  'src/pipeline/task-lib-host.ts',
  'src/pipeline/task-lib-inputs.ts',
]);

/**
 * The tasks' composition roots: they build the agent's inputs and client through the adapter and hand
 * them to `run(inputs, deps)`. Only they may reach task-lib (through the adapter, never directly).
 */
export const COMPOSITION_ROOT = /^src\/tasks\/[^/]+\/(main|promote-main)\.ts$/;

/** The engine's only runtime shell allowed to start threads. */
export const ENGINE_THREAD_MODULE = 'src/engine/parallel.ts';
export const ENGINE_PACKAGES = new Set(['pkg:seedrandom', 'pkg:apache-arrow']);

/** Clients stream a caller-given file (Files API upload/download, http.ts's download to disk); no other client touches the disk. */
export const CLIENT_FILE_STREAMERS = new Set(['src/databricks/files.ts', 'src/databricks/http.ts']);
/** Node modules a client must never load: processes, threads, and (outside the streamers) the file system. */
const CLIENT_FORBIDDEN_PACKAGES = new Set(['pkg:child_process', 'pkg:worker_threads', 'pkg:fs', 'pkg:fs/promises']);

/** Usages the engine forbids (no process, clock, ambient randomness, timers, console, require). */
export const ENGINE_FORBIDDEN_USAGES: [RegExp, string][] = [
  [/\bprocess\b(?!\w)/, 'process'],
  [/\bDate\s*\.\s*now\b/, 'Date.now'],
  [/\bnew\s+Date\b/, 'new Date'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bperformance\s*\./, 'performance'],
  [/\brequire\s*\(/, 'require('],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'timers'],
  [/\bconsole\s*\./, 'console'],
];

export function ringOf(file: string): Ring | undefined {
  if (/^(src\/)?emulator\//.test(file)) return 'emulator';
  if (/^(src\/)?demo\//.test(file)) return 'demo';
  if (/^tasks\/[^/]+\/index\.ts$/.test(file)) return 'entry';
  if (file.startsWith('src/engine/')) return 'engine';
  if (file.startsWith('src/databricks/') || file.startsWith('src/mlflow/')) return 'client';
  if (file.startsWith('src/tasks/')) return 'tasks';
  if (file.startsWith('src/pipeline/')) return ADAPTER_FILES.has(file) ? 'adapter' : 'pipeline';
  if (file.startsWith('src/report/')) return 'report';
  if (file.startsWith('src/io/')) return 'io';
  if (file.startsWith('src/cli/')) return 'cli';
  return undefined;
}

const NOT_SHIPPED = new Set<Ring | undefined>(['emulator', 'demo']);

/** Rings a ring may import at all (any edge, type-only included); packages are checked separately. */
const MAY_IMPORT: Record<Ring, ReadonlySet<Ring>> = {
  engine: new Set(['engine']),
  client: new Set(['client']),
  io: new Set(['io', 'engine']),
  report: new Set(['report', 'engine']),
  pipeline: new Set(['pipeline', 'client']),
  adapter: new Set(['adapter', 'pipeline', 'client']),
  tasks: new Set(['tasks', 'engine', 'client', 'pipeline', 'adapter', 'report', 'io']),
  cli: new Set(['cli', 'engine', 'report', 'io']),
  entry: new Set(['adapter', 'pipeline', 'tasks']),
  emulator: new Set(['emulator', 'engine', 'client', 'tasks', 'pipeline', 'adapter', 'report', 'io', 'cli', 'entry', 'demo']),
  demo: new Set(['demo', 'emulator', 'engine', 'client', 'tasks', 'pipeline', 'adapter', 'report', 'io', 'cli', 'entry']),
};

export interface Violation {
  rule: string;
  file: string;
  detail: string;
}

/** `rule file` — the key of the allow-list. */
export function keyOf(v: Violation): string {
  return `${v.rule} ${v.file}`;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** A runtime import chain from `file` to task-lib, or undefined (type-only imports load nothing). */
export function chainToTaskLib(graph: ImportGraph, file: string): string[] | undefined {
  const seen = new Set<string>([file]);
  const queue: string[][] = [[file]];
  while (queue.length > 0) {
    const chain = queue.shift()!;
    for (const edge of graph.files.get(chain[chain.length - 1]) ?? []) {
      if (edge.typeOnly || seen.has(edge.to)) continue;
      if (edge.to === TASK_LIB) return [...chain, edge.to];
      seen.add(edge.to);
      if (graph.files.has(edge.to)) queue.push([...chain, edge.to]);
    }
  }
  return undefined;
}

function checkEdges(graph: ImportGraph, file: string, ring: Ring, out: Violation[]): void {
  for (const edge of graph.files.get(file) ?? []) {
    if (edge.to === TASK_LIB && ring !== 'adapter' && !NOT_SHIPPED.has(ring)) {
      out.push({ rule: 'only-adapter-imports-task-lib', file, detail: `imports '${edge.spec}'` });
    }
    if (edge.to.startsWith('pkg:')) {
      checkPackage(file, ring, edge.to, edge.spec, out);
      continue;
    }
    if (!edge.to.endsWith('.ts')) {
      // A data file bundled as text or JSON (package.json's version, the notebooks' Python source).
      if (ring === 'engine' || ring === 'client')
        out.push({ rule: `${ring}-no-files`, file, detail: `imports ${edge.to} (a client or the engine takes values, never files)` });
      continue;
    }
    const target = ringOf(edge.to);
    if (!NOT_SHIPPED.has(ring) && (NOT_SHIPPED.has(target) || edge.to.startsWith('test/'))) {
      out.push({ rule: 'nothing-shipped-imports-emulator-demo-or-tests', file, detail: `imports ${edge.to}` });
    } else if (target === undefined || !MAY_IMPORT[ring].has(target)) {
      out.push({ rule: `${ring}-imports`, file, detail: `imports ${edge.to} (ring ${target ?? 'unclassified'})` });
    }
  }
}

function checkPackage(file: string, ring: Ring, pkg: string, spec: string, out: Violation[]): void {
  if (ring === 'engine') {
    const ok = ENGINE_PACKAGES.has(pkg) || (file === ENGINE_THREAD_MODULE && pkg === 'pkg:worker_threads');
    if (!ok)
      out.push({ rule: 'engine-no-io', file, detail: `imports '${spec}' (the engine imports only engine modules and ${[...ENGINE_PACKAGES].join(', ')})` });
  }
  if (ring === 'client' && CLIENT_FORBIDDEN_PACKAGES.has(pkg) && !(pkg.startsWith('pkg:fs') && CLIENT_FILE_STREAMERS.has(file))) {
    out.push({ rule: 'client-no-files-or-processes', file, detail: `imports '${spec}'` });
  }
}

/** Every rule on every file of the graph; an empty list means the rings hold. */
export function checkRings(graph: ImportGraph): Violation[] {
  const out: Violation[] = [];
  for (const file of graph.files.keys()) {
    const ring = ringOf(file);
    if (ring === undefined) {
      out.push({ rule: 'every-folder-has-a-ring', file, detail: 'is in no ring: add its folder to ringOf (test/architecture/rings.ts)' });
      continue;
    }
    checkEdges(graph, file, ring, out);
    const reachesTaskLib = ring !== 'adapter' && ring !== 'entry' && !NOT_SHIPPED.has(ring) && !COMPOSITION_ROOT.test(file);
    const chain = reachesTaskLib ? chainToTaskLib(graph, file) : undefined;
    if (chain) out.push({ rule: 'no-task-lib-outside-the-adapter', file, detail: `loads task-lib: ${chain.join(' -> ')}` });
    if (ring === 'engine') {
      const code = stripComments(graph.sources.get(file) ?? '');
      for (const [re, what] of ENGINE_FORBIDDEN_USAGES) {
        // The thread module builds the worker's source text, which itself calls require('worker_threads').
        if (file === ENGINE_THREAD_MODULE && what === 'require(') continue;
        if (re.test(code)) out.push({ rule: 'engine-no-io', file, detail: `uses ${what}` });
      }
    }
  }
  return out;
}
