// `npm run package`: makes the Marketplace packages, offline.
//
//   prod  dist/mlops-pipelines.databricks-mlops-<version>.vsix       the public extension
//   dev   dist/mlops-pipelines.databricks-mlops-dev-<version>.vsix   private, shared with one organization,
//         installable beside prod: its own extension id, task ids, task names and endpoint type name, so
//         YAML `DatabricksTrain@1` never becomes ambiguous ("task name is ambiguous") in an org that has both.
//
// Each variant is staged into build/<variant>/ holding only what the agent and the Marketplace need
// (per task: task.json, icon.png, index.js; plus every other `files` entry of vss-extension.json), then
// `tfx extension create --root build/<variant>` runs there. tfx only *warns* about a broken task.json or a
// missing folder and still exits 0, so any tfx warning fails this script, and so does a missing file.
//
// Options: --variant prod|dev|all (default all), --out DIR (default dist), --staging DIR (default build),
//          --json (print the result as JSON on the last line).
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The files of a task folder that ship; nothing else from tasks/<Task>/ (no index.ts, no maps).
 * THIRD-PARTY-NOTICES.txt is written by the build beside index.js (scripts/notices.mjs): the license texts of
 * the npm code in the bundle, which redistributing it requires.
 */
export const TASK_FILES = ['task.json', 'icon.png', 'index.js', 'THIRD-PARTY-NOTICES.txt'];
/**
 * Optional tasks/<Task>/package-files.txt: more paths (files or folders, relative to the task folder, one a
 * line, # comments) to ship beside the bundle, for assets a task reads at run time from its own folder.
 */
export const EXTRA_FILES_LIST = 'package-files.txt';

/** The extra paths a task folder asks to ship (see EXTRA_FILES_LIST), checked to stay inside the folder. */
export function extraTaskFiles(taskDir) {
  const list = path.join(taskDir, EXTRA_FILES_LIST);
  if (!existsSync(list)) return [];
  const entries = readFileSync(list, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  for (const e of entries) {
    const resolved = path.resolve(taskDir, e);
    if (path.isAbsolute(e) || !resolved.startsWith(taskDir + path.sep)) fail(`${list}: ${e} is outside the task folder`);
    if (!existsSync(resolved)) fail(`${list}: ${e} does not exist`);
  }
  return entries;
}
const TASK_CONTRIBUTION = 'ms.vss-distributed-task.task';
const ENDPOINT_CONTRIBUTION = 'ms.vss-endpoint.service-endpoint-type';
/** Namespace for the dev task ids: uuidv5(DEV_NAMESPACE, prodTaskId). Never change it (ids must stay stable). */
const DEV_NAMESPACE = '6c0b7a0e-5d1f-5b8e-9f3a-2d4c6e8a0b1c';

/** RFC 4122 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name, namespace) {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1')
    .update(Buffer.concat([ns, Buffer.from(name, 'utf8')]))
    .digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const devTaskId = (prodId) => uuidV5(prodId.toLowerCase(), DEV_NAMESPACE);

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const writeJson = (p, v) => writeFileSync(p, JSON.stringify(v, null, 2) + '\n');

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

// ------------------------------------------------------------------ build freshness
function newestMtime(dir, accept) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, accept));
    else if (accept(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Why the bundles must be rebuilt, or undefined when every bundle is newer than everything it is made of. */
export function staleReason(taskFolders) {
  const inputs = Math.max(
    newestMtime(path.join(root, 'src'), (n) => n.endsWith('.ts') || n.endsWith('.json')),
    ...taskFolders.map((t) => statSync(path.join(root, t, 'index.ts')).mtimeMs),
    ...['package-lock.json', 'tsconfig.json', 'scripts/build.mjs', 'scripts/notices.mjs'].map((f) => statSync(path.join(root, f)).mtimeMs),
  );
  for (const t of taskFolders) {
    for (const f of ['index.js', 'THIRD-PARTY-NOTICES.txt']) {
      const built = path.join(root, t, f);
      if (!existsSync(built)) return `${t}/${f} is missing`;
      if (statSync(built).mtimeMs < inputs) return `${t}/${f} is older than its sources`;
    }
  }
  return undefined;
}

// ------------------------------------------------------------------ variants
/** Rewrites a manifest for the variant; returns it with the maps task.json rewriting needs. */
export function variantManifest(manifest, variant) {
  const m = structuredClone(manifest);
  const endpointNames = new Map();
  const taskIds = new Map();
  const taskFolders = m.contributions.filter((c) => c.type === TASK_CONTRIBUTION).map((c) => c.properties.name);
  for (const folder of taskFolders) {
    const id = readJson(path.join(root, folder, 'task.json')).id.toLowerCase();
    taskIds.set(id, variant === 'dev' ? devTaskId(id) : id);
  }
  for (const c of m.contributions.filter((c) => c.type === ENDPOINT_CONTRIBUTION)) {
    const name = c.properties.name;
    endpointNames.set(name, variant === 'dev' ? `${name}-dev` : name);
  }
  if (variant === 'dev') {
    m.id = `${manifest.id}-dev`;
    m.name = `${manifest.name} (dev)`;
    m.public = false;
    delete m.galleryFlags;
    // Links name the public item; the dev package is a different (private) item.
    for (const link of Object.values(m.links ?? {})) {
      if (typeof link?.uri === 'string') link.uri = link.uri.replace(`itemName=${manifest.publisher}.${manifest.id}`, `itemName=${m.publisher}.${m.id}`);
    }
    for (const c of m.contributions.filter((c) => c.type === ENDPOINT_CONTRIBUTION)) {
      c.properties.name = endpointNames.get(c.properties.name);
      c.properties.displayName = `${c.properties.displayName} (dev)`;
    }
    // Any other reference to a task id (e.g. a build results tab's supportsTasks) must follow the task.
    const swapIds = (v) => {
      if (typeof v === 'string') return taskIds.get(v.toLowerCase()) ?? v;
      if (Array.isArray(v)) return v.map(swapIds);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swapIds(x)]));
      return v;
    };
    m.contributions = swapIds(m.contributions);
  }
  return { manifest: m, endpointNames, taskIds, taskFolders };
}

/** Rewrites one task.json for the variant (dev: new id, name + "Dev", friendlyName + " (dev)", endpoint type). */
export function variantTask(task, variant, endpointNames) {
  if (variant !== 'dev') return task;
  const t = structuredClone(task);
  t.id = devTaskId(task.id);
  t.name = `${task.name}Dev`;
  t.friendlyName = `${task.friendlyName} (dev)`;
  if (t.friendlyName.length > 40) fail(`dev friendlyName "${t.friendlyName}" is longer than 40 characters; shorten ${task.name}'s friendlyName`);
  for (const input of t.inputs ?? []) {
    const m = /^connectedService:(.+)$/.exec(input.type);
    if (m && endpointNames.has(m[1])) input.type = `connectedService:${endpointNames.get(m[1])}`;
  }
  return t;
}

function stagedFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? stagedFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function stage(variant, stagingRoot) {
  const source = readJson(path.join(root, 'vss-extension.json'));
  const { manifest, endpointNames, taskFolders } = variantManifest(source, variant);
  const dir = path.join(stagingRoot, variant);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const filePaths = (manifest.files ?? []).map((f) => f.path.replace(/\/+$/, ''));
  for (const folder of taskFolders) {
    if (!filePaths.includes(folder)) fail(`task contribution ${folder} is not in vss-extension.json "files": tfx would silently leave it out`);
  }
  for (const p of filePaths) {
    const src = path.join(root, p);
    if (!existsSync(src)) fail(`vss-extension.json "files" lists ${p}, which does not exist`);
    if (taskFolders.includes(p)) {
      mkdirSync(path.join(dir, p), { recursive: true });
      for (const f of TASK_FILES) {
        const from = path.join(src, f);
        if (!existsSync(from)) fail(`${p}/${f} is missing`);
        if (f === 'task.json') writeJson(path.join(dir, p, f), variantTask(readJson(from), variant, endpointNames));
        else cpSync(from, path.join(dir, p, f));
      }
      for (const extra of extraTaskFiles(src)) cpSync(path.join(src, extra), path.join(dir, p, extra), { recursive: true });
    } else {
      cpSync(src, path.join(dir, p), { recursive: true });
    }
  }
  // Every bundle we ship carries npm code whose licenses require their texts beside it (scripts/notices.mjs).
  for (const js of stagedFiles(dir).filter((f) => f.endsWith('.js'))) {
    if (!existsSync(path.join(path.dirname(js), 'THIRD-PARTY-NOTICES.txt')))
      fail(`${path.relative(dir, js)} is staged without THIRD-PARTY-NOTICES.txt beside it: run node scripts/build.mjs`);
  }
  for (const icon of Object.values(manifest.icons ?? {})) if (!existsSync(path.join(dir, icon))) fail(`icon ${icon} is not staged (add it to "files")`);
  for (const [kind, entry] of Object.entries(manifest.content ?? {})) {
    // The details page and the license (the repository's LICENSE, which the MIT terms require to travel with the code).
    if (entry?.path && !existsSync(path.join(dir, entry.path))) fail(`content.${kind} ${entry.path} is not staged (add it to "files")`);
  }
  writeJson(path.join(dir, 'vss-extension.json'), manifest);
  return { dir, manifest };
}

function runTfx(dir, outDir) {
  const tfx = path.join(root, 'node_modules', 'tfx-cli', '_build', 'tfx-cli.js');
  const args = [tfx, 'extension', 'create', '--root', dir, '--manifests', 'vss-extension.json', '--output-path', outDir, '--no-prompt', '--no-color', '--json'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const text = (out + '\n' + err).replace(/\p{Cc}\[[0-9;]*m/gu, '');
      const warnings = text.split('\n').filter((l) => /^\s*warning:/i.test(l));
      if (code !== 0) return reject(new Error(`tfx exited with ${code}:\n${text.trim()}`));
      if (warnings.length) return reject(new Error(`tfx reported problems (it would still have made a package):\n${warnings.join('\n')}`));
      const jsonStart = out.indexOf('{');
      try {
        resolve(JSON.parse(out.slice(jsonStart)));
      } catch {
        reject(new Error(`tfx printed no result:\n${text.trim()}`));
      }
    });
  });
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main() {
  const t0 = Date.now();
  const variantArg = option('--variant', 'all');
  if (!['prod', 'dev', 'all'].includes(variantArg)) fail(`--variant must be prod, dev or all (got ${variantArg})`);
  const variants = variantArg === 'all' ? ['prod', 'dev'] : [variantArg];
  const outDir = path.resolve(root, option('--out', 'dist'));
  const stagingRoot = path.resolve(root, option('--staging', 'build'));

  const source = readJson(path.join(root, 'vss-extension.json'));
  const taskFolders = source.contributions.filter((c) => c.type === TASK_CONTRIBUTION).map((c) => c.properties.name);
  for (const t of taskFolders) if (!existsSync(path.join(root, t, 'index.ts'))) fail(`${t}/index.ts is missing`);
  const stale = staleReason(taskFolders);
  if (stale) {
    console.log(`package: ${stale}; building first`);
    execFileSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', cwd: root });
    const still = staleReason(taskFolders);
    if (still) fail(`the build did not refresh the bundles: ${still}`);
  }

  mkdirSync(outDir, { recursive: true });
  const staged = variants.map((v) => ({ variant: v, ...stage(v, stagingRoot) }));
  for (const s of staged) {
    // A previous version's package beside the new one invites uploading the wrong file.
    const prefix = `${s.manifest.publisher}.${s.manifest.id}-`;
    for (const f of readdirSync(outDir)) if (f.startsWith(prefix) && f.endsWith('.vsix') && /^\d/.test(f.slice(prefix.length))) rmSync(path.join(outDir, f));
  }
  const results = [];
  try {
    const made = await Promise.all(staged.map((s) => runTfx(s.dir, outDir)));
    for (let i = 0; i < staged.length; i++) {
      const vsix = made[i].path;
      results.push({
        variant: staged[i].variant,
        vsix,
        staging: staged[i].dir,
        extensionId: made[i].extensionId,
        version: made[i].version,
        publisher: made[i].publisher,
        bytes: statSync(vsix).size,
      });
    }
  } catch (e) {
    fail(e.message);
  }
  for (const r of results) console.log(`package: ${r.variant.padEnd(4)} ${path.relative(root, r.vsix)} (${(r.bytes / 1024).toFixed(1)} KiB)`);
  console.log(`package: done in ${Date.now() - t0} ms`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => fail(e?.message ?? String(e)));
}
