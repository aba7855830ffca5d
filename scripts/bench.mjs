// `npm run bench`: prints the foundation figures, then runs every other scripts/bench-*.mjs
// (bench-engine.mjs, bench-train.mjs, ...) in turn. Figures are reported, not asserted.
//
// Foundation targets: each .vsix under 5 MB; a task bundle, copied alone into an empty folder and started
// as the agent starts it (`node index.js`), prints its first line in under 300 ms on a 2-core machine.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STARTS_PER_TASK = Number(process.env.BENCH_STARTS ?? 15);
const VSIX_TARGET_BYTES = 5 * 1024 * 1024;
const START_TARGET_MS = 300;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Milliseconds from spawn to the first complete stdout line (resolved once the process has exited). */
function timeToFirstLine(bundle, cwd) {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: cwd, NODE_PATH: '' };
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [bundle], { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    let first;
    child.stdout.on('data', (d) => {
      buf += d;
      if (first === undefined && buf.includes('\n')) first = { ms: Number(process.hrtime.bigint() - t0) / 1e6, line: buf.slice(0, buf.indexOf('\n')) };
    });
    child.on('error', reject);
    child.on('close', () => (first ? resolve(first) : reject(new Error(`${bundle} printed no line`))));
  });
}

/** Node's own start-up to a first line, the floor under every bundle's figure (and a gauge of machine load). */
async function nodeFloor() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-floor-'));
  const script = path.join(dir, 'hello.js');
  writeFileSync(script, 'console.log("hello")\n');
  await timeToFirstLine(script, dir);
  const times = [];
  for (let i = 0; i < STARTS_PER_TASK; i++) times.push((await timeToFirstLine(script, dir)).ms);
  rmSync(dir, { recursive: true, force: true });
  return times.sort((a, b) => a - b);
}

async function bundleStarts() {
  const tasks = JSON.parse(readFileSync(path.join(root, 'vss-extension.json'), 'utf8'))
    .contributions.filter((c) => c.type === 'ms.vss-distributed-task.task')
    .map((c) => c.properties.name);
  const rows = [];
  for (const t of tasks) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-start-'));
    const isolated = path.join(dir, 'task');
    mkdirSync(isolated);
    for (const f of ['task.json', 'index.js']) copyFileSync(path.join(root, t, f), path.join(isolated, f));
    await timeToFirstLine(path.join(isolated, 'index.js'), dir); // warm the OS file cache once
    const times = [];
    let first = '';
    for (let i = 0; i < STARTS_PER_TASK; i++) {
      const r = await timeToFirstLine(path.join(isolated, 'index.js'), dir);
      times.push(r.ms);
      first = r.line;
    }
    rmSync(dir, { recursive: true, force: true });
    times.sort((a, b) => a - b);
    rows.push({ task: path.basename(t), median: percentile(times, 50), p90: percentile(times, 90), max: times[times.length - 1], first });
  }
  return rows;
}

function packageSizes() {
  const staging = mkdtempSync(path.join(os.tmpdir(), 'bench-stage-'));
  const out = execFileSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--json', '--staging', staging], { cwd: root, encoding: 'utf8' });
  rmSync(staging, { recursive: true, force: true });
  return JSON.parse(out.trim().split('\n').pop());
}

let failedFoundation = false;

async function main() {
  const cpus = os.cpus();
  console.log(`# Foundation (node ${process.version}, ${cpus.length} cores, ${cpus[0]?.model ?? 'unknown cpu'})`);
  let packages = [];
  try {
    packages = packageSizes();
  } catch (e) {
    failedFoundation = true;
    console.log(
      `vsix: npm run package failed, no size to report (${String(e.stderr ?? e.message)
        .trim()
        .split('\n')
        .pop()})`,
    );
  }
  for (const r of packages) {
    const ok = r.bytes < VSIX_TARGET_BYTES ? 'ok' : 'OVER TARGET';
    console.log(
      `vsix ${r.variant.padEnd(4)} ${(r.bytes / 1024).toFixed(1)} KiB (target < ${VSIX_TARGET_BYTES / 1024 / 1024} MB: ${ok})  ${path.relative(root, r.vsix)}`,
    );
  }
  const floor = await nodeFloor();
  console.log(
    `start node itself (console.log only)   median ${percentile(floor, 50).toFixed(0)} ms, p90 ${percentile(floor, 90).toFixed(0)} ms (load average ${os.loadavg()[0].toFixed(1)})`,
  );
  for (const r of await bundleStarts()) {
    const ok = r.median < START_TARGET_MS ? 'ok' : 'OVER TARGET';
    console.log(
      `start ${r.task.padEnd(28)} first line median ${r.median.toFixed(0)} ms, p90 ${r.p90.toFixed(0)} ms, max ${r.max.toFixed(0)} ms over ${STARTS_PER_TASK} starts (target: median < ${START_TARGET_MS} ms: ${ok})`,
    );
  }

  const others = readdirSync(path.join(root, 'scripts'))
    .filter((f) => /^bench-.+\.mjs$/.test(f))
    .sort((a, b) => (a === 'bench-engine.mjs' ? -1 : b === 'bench-engine.mjs' ? 1 : a.localeCompare(b)));
  let failed = failedFoundation ? 1 : 0;
  for (const f of others) {
    console.log(`\n# ${f}`);
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', f)], { cwd: root, stdio: 'inherit' });
    } catch {
      failed++;
      console.log(`${f} failed`);
    }
  }
  if (!others.length) console.log('\n(no other scripts/bench-*.mjs yet)');
  if (failed) process.exit(1);
}

if (!existsSync(path.join(root, 'node_modules'))) {
  console.error('bench: run npm ci first');
  process.exit(1);
}
main().catch((e) => {
  console.error(`bench: ${e?.message ?? e}`);
  process.exit(1);
});
