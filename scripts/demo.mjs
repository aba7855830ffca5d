// `npm run demo`: builds, then runs Deploy -> Train -> Evaluate & Promote as the agent would, against the
// local workspace emulator, or against a real workspace when DATABRICKS_HOST and DATABRICKS_TOKEN are set.
//
//   npm run demo                       local emulator (no workspace needed)
//   npm run demo -- --no-build         skip the build (the tests use this after building once)
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
const { values } = parseArgs({
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
  },
});

const started = Date.now();
if (!values['no-build']) execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
const require = createRequire(import.meta.url);
const { runDemo } = require(path.join(root, 'out/demo/run-demo.js'));

const host = process.env.DATABRICKS_HOST;
const token = process.env.DATABRICKS_TOKEN;
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
  });
  console.log('');
  console.log(`Demo ${summary.ok ? 'finished' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  for (const s of summary.steps) console.log(`  ${s.result.padEnd(19)} ${(s.durationMs / 1000).toFixed(1).padStart(5)} s  ${s.title}`);
  if (summary.reportPath) console.log(`Report:            ${summary.reportPath}`);
  for (const r of summary.records) console.log(`Decision record:   ${r}`);
  console.log('Task bundles (what `npm run package` puts in the .vsix):');
  for (const b of summary.bundles) console.log(`  ${b}`);
  process.exit(summary.ok ? 0 : 1);
} catch (e) {
  console.error(`Demo failed: ${e?.message ?? e}`);
  process.exit(1);
}
