/**
 * Entry of the `mlops-eval` command. Bundled twice from this file by esbuild: into the npm package
 * packages/mlops-eval (dist/mlops-eval.js, npm packages left as dependencies; packages/mlops-eval/build.mjs)
 * and, for the repository's own tests, into dist/cli/mlops-eval.js (self-contained, loaded by the
 * bin/mlops-eval.js shim). All logic is in main.ts; this file only wires the process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openChunkedFile } from '../io/file-chunks';
import { main } from './main';

/**
 * The version of the package the bundle belongs to: packages/mlops-eval/dist/mlops-eval.js (installed or in
 * the repository) sits one level below the `mlops-eval` package.json, dist/cli/mlops-eval.js two levels below
 * the repository's.
 */
function packageVersion(): string | undefined {
  const candidates: [string, string][] = [
    ['../package.json', 'mlops-eval'],
    ['../../package.json', 'databricks-mlops-azure-pipelines'],
  ];
  for (const [relative, name] of candidates) {
    try {
      const pkg = JSON.parse(readFileSync(path.resolve(__dirname, relative), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version;
    } catch {
      // not this layout: try the next
    }
  }
  return undefined;
}

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p),
  openFile: (p) => openChunkedFile(p),
  writeFile: (p, text) => writeFileSync(p, text, 'utf8'),
  cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  version: packageVersion(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mlops-eval: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
