/**
 * Entry of the `mlops-eval` command (bundled by esbuild to dist/cli/mlops-eval.js, which the committed
 * bin/mlops-eval.js shim loads). All logic is in main.ts; this file only wires the process.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { main } from './main';

main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p),
  cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`mlops-eval: internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
