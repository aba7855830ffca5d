/**
 * The rings, enforced for every folder (docs/architecture.md): the import graph of the sources (read with
 * the TypeScript parser, see graph.ts) against the rules in rings.ts, and the esbuild metafile of every
 * bundle (written by scripts/build.mjs under out/bundle-meta/) against what may ship. Replaces the engine
 * purity scan that lived in test/engine/purity.test.ts; ESLint's no-restricted-imports (eslint.config.mjs)
 * gives the same rules in the editor, this test is the enforcement (it also sees transitive imports).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildGraph, importsOf, type ImportEdge, type ImportGraph } from './graph';
import { ADAPTER_FILES, checkRings, keyOf, ringOf, TASK_LIB } from './rings';

const ROOT = path.resolve(__dirname, '../../..');

/** A synthetic graph: one file per entry, edges `to` (a file or `pkg:x`), `type:` prefix for type-only. */
function synthetic(files: Record<string, string[]>, sources: Record<string, string> = {}): ImportGraph {
  const graph: ImportGraph = { files: new Map(), sources: new Map() };
  for (const [file, edges] of Object.entries(files)) {
    graph.files.set(
      file,
      edges.map((e): ImportEdge => {
        const typeOnly = e.startsWith('type:');
        const to = e.replace(/^type:/, '');
        return { to, spec: to, typeOnly };
      }),
    );
    graph.sources.set(file, sources[file] ?? '');
  }
  return graph;
}

describe('architecture: the rings hold for every folder', () => {
  const graph = buildGraph(ROOT);
  const violations = checkRings(graph);

  it('scans every folder of src/ and the task entries', () => {
    const folders = new Set([...graph.files.keys()].filter((f) => f.startsWith('src/')).map((f) => f.split('/')[1]));
    const expected = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    assert.deepEqual([...folders].sort(), expected.sort());
    for (const f of expected) assert.notEqual(ringOf(`src/${f}/x.ts`), undefined, `src/${f} has a ring`);
    assert.ok([...graph.files.keys()].filter((f) => ringOf(f) === 'entry').length >= 4, 'the task entries are scanned');
  });

  it('no violation', () => {
    assert.deepEqual(
      violations.map((v) => `${keyOf(v)}: ${v.detail}`),
      [],
    );
  });

  it('only the adapter imports azure-pipelines-task-lib, and every adapter file exists', () => {
    const importers = [...graph.files].filter(([, edges]) => edges.some((e) => e.to === TASK_LIB)).map(([f]) => f);
    assert.deepEqual(
      importers.filter((f) => !ADAPTER_FILES.has(f) && !['emulator', 'demo'].includes(ringOf(f) ?? '')),
      [],
    );
    for (const f of ADAPTER_FILES) assert.ok(graph.files.has(f), `${f} exists`);
  });
});

describe('architecture: the rules can fail (synthetic import graphs)', () => {
  const rulesOf = (g: ImportGraph) => checkRings(g).map(keyOf).sort();

  it('engine: no I/O module, no client, no clock, no Math.random; worker_threads only in parallel.ts', () => {
    const g = synthetic(
      {
        'src/engine/a.ts': ['pkg:fs', 'src/databricks/http.ts', 'pkg:seedrandom', 'src/engine/b.ts'],
        'src/engine/b.ts': ['pkg:worker_threads'],
        'src/engine/parallel.ts': ['pkg:worker_threads'],
        'src/engine/c.ts': [],
        'src/databricks/http.ts': [],
      },
      { 'src/engine/c.ts': 'export const t = Date.now() + Math.random();' },
    );
    assert.deepEqual(rulesOf(g), [
      'engine-imports src/engine/a.ts',
      'engine-no-io src/engine/a.ts',
      'engine-no-io src/engine/b.ts',
      'engine-no-io src/engine/c.ts',
      'engine-no-io src/engine/c.ts',
    ]);
  });

  it('clients: no task-lib, tasks, adapter, emulator or demo; no fs outside the file streamers; no package.json', () => {
    const g = synthetic({
      'src/databricks/jobs.ts': [
        'src/tasks/train/run.ts',
        'src/pipeline/entry.ts',
        'src/emulator/index.ts',
        'demo/run.ts',
        'pkg:azure-pipelines-task-lib',
        'pkg:fs',
        'package.json',
      ],
      'src/databricks/files.ts': ['pkg:fs'],
      'src/mlflow/tracking.ts': ['type:src/pipeline/host.ts', 'pkg:child_process'],
      'src/tasks/train/run.ts': [],
      'src/pipeline/entry.ts': [],
      'src/pipeline/host.ts': [],
      'src/emulator/index.ts': [],
      'demo/run.ts': [],
    });
    assert.deepEqual(rulesOf(g), [
      'client-imports src/databricks/jobs.ts',
      'client-imports src/databricks/jobs.ts',
      'client-imports src/mlflow/tracking.ts',
      'client-no-files src/databricks/jobs.ts',
      'client-no-files-or-processes src/databricks/jobs.ts',
      'client-no-files-or-processes src/mlflow/tracking.ts',
      'no-task-lib-outside-the-adapter src/databricks/jobs.ts',
      'nothing-shipped-imports-emulator-demo-or-tests src/databricks/jobs.ts',
      'nothing-shipped-imports-emulator-demo-or-tests src/databricks/jobs.ts',
      'only-adapter-imports-task-lib src/databricks/jobs.ts',
    ]);
  });

  it('tasks: no task-lib, directly or transitively through any module; type-only imports load nothing; composition roots may use the adapter', () => {
    const g = synthetic({
      'src/tasks/train/run.ts': ['src/tasks/train/helper.ts', 'type:src/pipeline/entry.ts'],
      'src/tasks/train/helper.ts': ['src/pipeline/inputs.ts'],
      'src/tasks/train/direct.ts': ['pkg:azure-pipelines-task-lib'],
      'src/tasks/train/main.ts': ['src/pipeline/client.ts', 'src/tasks/train/run.ts'],
      'src/pipeline/inputs.ts': ['src/pipeline/task-lib-inputs.ts'],
      'src/pipeline/task-lib-inputs.ts': ['pkg:azure-pipelines-task-lib'],
      'src/pipeline/client.ts': ['pkg:azure-pipelines-task-lib'],
      'src/pipeline/entry.ts': ['pkg:azure-pipelines-task-lib'],
      'emulator/server.ts': ['pkg:azure-pipelines-task-lib', 'src/tasks/train/run.ts'],
    });
    assert.deepEqual(rulesOf(g), [
      'no-task-lib-outside-the-adapter src/pipeline/inputs.ts',
      'no-task-lib-outside-the-adapter src/tasks/train/direct.ts',
      'no-task-lib-outside-the-adapter src/tasks/train/helper.ts',
      'no-task-lib-outside-the-adapter src/tasks/train/run.ts',
      'only-adapter-imports-task-lib src/tasks/train/direct.ts',
      'pipeline-imports src/pipeline/inputs.ts',
    ]);
    const detail = checkRings(g).find((v) => v.file === 'src/tasks/train/run.ts')?.detail;
    assert.equal(
      detail,
      'loads task-lib: src/tasks/train/run.ts -> src/tasks/train/helper.ts -> src/pipeline/inputs.ts -> src/pipeline/task-lib-inputs.ts -> pkg:azure-pipelines-task-lib',
    );
  });

  it('nothing shipped imports the emulator, the demo or a test, in src/ or at the top level; a new folder needs a ring', () => {
    const g = synthetic({
      'src/report/html.ts': ['src/emulator/index.ts', 'emulator/index.ts', 'src/demo/x.ts', 'demo/x.ts', 'test/helpers/agent.ts'],
      'tasks/DatabricksTrainV1/index.ts': ['type:src/emulator/index.ts'],
      'src/emulator/index.ts': [],
      'emulator/index.ts': [],
      'src/demo/x.ts': [],
      'demo/x.ts': ['src/report/html.ts'],
      'test/helpers/agent.ts': [],
      'src/newthing/a.ts': [],
    });
    assert.deepEqual(rulesOf(g), [
      'every-folder-has-a-ring src/newthing/a.ts',
      'every-folder-has-a-ring test/helpers/agent.ts',
      ...Array(5).fill('nothing-shipped-imports-emulator-demo-or-tests src/report/html.ts'),
      'nothing-shipped-imports-emulator-demo-or-tests tasks/DatabricksTrainV1/index.ts',
    ]);
  });

  it('the parser sees every import form and which are type-only', () => {
    const src = [
      "import a from 'a';",
      "import type { B } from './b';",
      "import { type C, type D } from './c';",
      "import { type E, f } from './e';",
      "import './side-effect';",
      "export { g } from './g';",
      "export type { H } from './h';",
      "const i = require('i');",
      "const j = await import('./j');",
      "type K = import('./k').K;",
      '// import { nope } from "commented";',
      'const s = "import x from \'in-a-string\'";',
    ].join('\n');
    assert.deepEqual(
      importsOf('x.ts', src).map((i) => `${i.spec}${i.typeOnly ? ' (type)' : ''}`),
      ['a', './b (type)', './c (type)', './e', './side-effect', './g', './h (type)', 'i', './j', './k (type)'],
    );
  });
});

describe('architecture: no emulator, demo or test input in any bundle (esbuild metafiles)', () => {
  const META = path.join(ROOT, 'out', 'bundle-meta');
  const metas = existsSync(META) ? readdirSync(META).filter((f) => f.endsWith('.json')) : [];

  it('scripts/build.mjs wrote a metafile for every task bundle, the CLI and the results tab', () => {
    const tasks = readdirSync(path.join(ROOT, 'tasks'), { withFileTypes: true }).filter((d) => existsSync(path.join(ROOT, 'tasks', d.name, 'index.ts')));
    const expected = [...tasks.map((t) => `tasks__${t.name}__index.js.json`), 'dist__cli__mlops-eval.js.json', 'ui__dist__results-tab.js.json'];
    assert.deepEqual(
      expected.filter((e) => !metas.includes(e)),
      [],
      'run node scripts/build.mjs first',
    );
  });

  it('every bundle: inputs only from shipped code and packages; task-lib imported only by the adapter', () => {
    const problems: string[] = [];
    for (const m of metas) {
      const meta = JSON.parse(readFileSync(path.join(META, m), 'utf8')) as { inputs: Record<string, { imports?: { path: string }[] }> };
      for (const [input, info] of Object.entries(meta.inputs)) {
        if (/^(src\/)?(emulator|demo)\/|^test\//.test(input)) problems.push(`${m}: ${input}`);
        const importsTaskLib = (info.imports ?? []).some((i) => i.path.startsWith('node_modules/azure-pipelines-task-lib/'));
        if (importsTaskLib && !input.startsWith('node_modules/') && !ADAPTER_FILES.has(input)) problems.push(`${m}: ${input} imports task-lib`);
      }
      if (m.startsWith('tasks__') && !Object.keys(meta.inputs).some((i) => i.startsWith('src/pipeline/')))
        problems.push(`${m}: no src/pipeline input (is this the metafile of a task?)`);
    }
    assert.deepEqual(problems, []);
  });
});
