/**
 * Entry of the `mlops-eval` command (bundled by esbuild to dist/cli/mlops-eval.js, which the committed
 * bin/mlops-eval.js shim loads). All logic is in main.ts; this file only wires the process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from './main';

/** The installed package's version: the bundle is dist/cli/mlops-eval.js, two levels below package.json. */
function packageVersion(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name === 'databricks-mlops-azure-pipelines' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p),
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
