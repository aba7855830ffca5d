// `npm run demo`: builds, then runs Deploy -> Train -> Evaluate & Promote as the agent would, against the
// local workspace emulator, or against a real workspace when DATABRICKS_HOST and DATABRICKS_TOKEN are set.
//
//   npm run demo                       local emulator (no workspace needed)
//   npm run demo -- --no-build         skip the build (the tests use this after building once)
//   npm run demo -- --local            the emulator even when DATABRICKS_HOST and DATABRICKS_TOKEN are set
//   npm run demo -- --verbose          also the tasks' debug lines
//   npm run demo -- --help             this usage
//   DATABRICKS_HOST=https://adb-... DATABRICKS_TOKEN=dapi... npm run demo -- \
//     --model main.ml.churn --registry unityCatalog --experiment /Shared/churn \
//     --evaluation-table main.ml.churn_eval --output-path /Volumes/main/ml/scratch \
//     [--job-name churn-train] [--repo-path /Repos/Staging/churn --ref refs/heads/main] [--allow-promotion]
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { requireSupportedNode } from './node-version.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
requireSupportedNode('npm run demo');
const USAGE = `Usage: npm run demo [-- options]

  (no options)            Deploy -> Train -> Evaluate & Promote -> Serve against the local workspace emulator,
                          or against a real workspace when DATABRICKS_HOST and DATABRICKS_TOKEN are set
  --local                 use the local emulator even when DATABRICKS_HOST and DATABRICKS_TOKEN are set
  --no-build              skip the build
  --out-dir <folder>      where the reports, the decision records, the predictions and summary.json go (default .demo/)
  --rows <n>              evaluation rows; --resamples <n> bootstrap resamples
  --verbose               also the tasks' debug lines (as the agent shows them with System.Debug true)
  Real workspace only:    --model --registry --experiment --evaluation-table --output-path --job-name | --job-id
                          --repo-path --repo-url --ref --cluster-id --allow-promotion
  --help                  this text`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      'no-build': { type: 'boolean' },
      'out-dir': { type: 'string' },
      rows: { type: 'string' },
      resamples: { type: 'string' },
      model: { type: 'string' },
      registry: { type: 'string' },
      experiment: { type: 'string' },
      'job-name': { type: 'string' },
      'job-id': { type: 'string' },
      'repo-path': { type: 'string' },
      'repo-url': { type: 'string' },
      ref: { type: 'string' },
      'evaluation-table': { type: 'string' },
      'output-path': { type: 'string' },
      'cluster-id': { type: 'string' },
      'allow-promotion': { type: 'boolean' },
      local: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  }));
} catch (e) {
  // A mistyped flag gets the usage, not a stack trace.
  console.error(`npm run demo: ${e?.message ?? e}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const started = Date.now();
if (!values['no-build']) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
const require = createRequire(import.meta.url);
const { runDemo, nextSteps } = require(path.join(root, 'out/demo/run-demo.js'));

const host = values.local ? undefined : process.env.DATABRICKS_HOST;
const token = values.local ? undefined : process.env.DATABRICKS_TOKEN;
if (values.local && (process.env.DATABRICKS_HOST || process.env.DATABRICKS_TOKEN)) {
  console.log('--local: DATABRICKS_HOST and DATABRICKS_TOKEN are set but not used; the demo runs against the local emulator.');
}
const workspace =
  host && token
    ? {
        host: host.startsWith('http') ? host : `https://${host}`,
        token,
        model: values.model,
        registry: values.registry,
        experiment: values.experiment,
        jobName: values['job-name'],
        jobId: values['job-id'],
        repoPath: values['repo-path'],
        repoUrl: values['repo-url'],
        ref: values.ref,
        evaluationTable: values['evaluation-table'],
        outputPath: values['output-path'],
        clusterId: values['cluster-id'],
        allowPromotion: values['allow-promotion'],
      }
    : undefined;

const outDir = path.resolve(values['out-dir'] ?? process.env.DEMO_OUTPUT_DIR ?? path.join(root, '.demo'));
try {
  const summary = await runDemo({
    outDir,
    workspace,
    evaluationRows: values.rows ? Number(values.rows) : undefined,
    resamples: values.resamples ? Number(values.resamples) : undefined,
    verbose: values.verbose,
  });
  console.log('');
  console.log(`Demo ${summary.ok ? 'finished' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  for (const s of summary.steps) console.log(`  ${s.result.padEnd(19)} ${(s.durationMs / 1000).toFixed(1).padStart(5)} s  ${s.title}`);
  console.log('Task bundles (what `npm run package` puts in the .vsix):');
  for (const b of summary.bundles) console.log(`  ${b}`);
  for (const e of summary.evaluations) console.log(`Decision record:   ${e.record}`);
  console.log('');
  for (const line of nextSteps(summary)) console.log(line);
  process.exit(summary.ok ? 0 : 1);
} catch (e) {
  console.error(`Demo failed: ${e?.message ?? e}`);
  process.exit(1);
}
