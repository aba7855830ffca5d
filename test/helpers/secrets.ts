/**
 * Every secret value the tests hand to the code under test, and a scanner that proves none of them
 * reached a log line, an error message, an output or a file. Register a value with `registerTestSecret`
 * (the emulator defaults are registered already) and scan with `findSecrets` / `assertNoSecrets`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EMULATOR_DEFAULTS } from '../../emulator/auth';

const registry = new Map<string, string>();

/** Adds a secret (with a label used in failure messages). Values shorter than 6 characters are refused: they would match by accident. */
export function registerTestSecret(label: string, value: string): string {
  if (value.length < 6) throw new Error(`Test secret ${label} is too short to scan for reliably.`);
  registry.set(value, label);
  return value;
}

registerTestSecret('emulator PAT', EMULATOR_DEFAULTS.pat);
registerTestSecret('Databricks OAuth secret', EMULATOR_DEFAULTS.databricksClientSecret);
registerTestSecret('Entra client secret', EMULATOR_DEFAULTS.entraClientSecret);
registerTestSecret('System.AccessToken', EMULATOR_DEFAULTS.systemAccessToken);
registerTestSecret('proxy password', 'proxy-p4ssw0rd-test');

/** The registered secrets (label and value). */
export function testSecrets(): Array<{ label: string; value: string }> {
  return [...registry].map(([value, label]) => ({ label, value }));
}

/**
 * Forms under which a secret could leak: as is, URL-encoded, base64 (a Basic header) and JSON-escaped.
 * `extra` adds values known only at run time (issued access tokens).
 */
function needles(extra: string[]): Array<{ label: string; needle: string }> {
  const out: Array<{ label: string; needle: string }> = [];
  const all: Array<[string, string]> = [
    ...[...registry].map(([v, l]) => [l, v] as [string, string]),
    ...extra.map((v, i) => [`runtime secret #${i + 1}`, v] as [string, string]),
  ];
  for (const [label, value] of all) {
    if (value.length < 6) continue;
    out.push({ label, needle: value });
    const enc = encodeURIComponent(value);
    if (enc !== value) out.push({ label: `${label} (url-encoded)`, needle: enc });
    out.push({ label: `${label} (base64)`, needle: Buffer.from(value).toString('base64').slice(0, -2) });
  }
  return out;
}

/** Labels of the secrets found in `text` (empty when clean). */
export function findSecrets(text: string, extra: string[] = []): string[] {
  return needles(extra)
    .filter(({ needle }) => text.includes(needle))
    .map(({ label }) => label);
}

/** Fails with the secret's label (never its value) if any registered or extra secret occurs in `text`. */
export function assertNoSecrets(text: string, where: string, extra: string[] = []): void {
  const found = findSecrets(text, extra);
  assert.deepEqual(found, [], `${where} contains secrets: ${found.join(', ')}`);
}

/** Text of an error for scanning: name, message, stack and every own enumerable field (JSON). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let fields = '';
  try {
    fields = JSON.stringify(err, Object.getOwnPropertyNames(err));
  } catch {
    fields = '';
  }
  return `${err.name}\n${err.message}\n${err.stack ?? ''}\n${fields}\n${err.cause ? errorText(err.cause) : ''}`;
}

/** Scans every file under `dir` (recursively); returns `path: label` for each hit. */
export function scanFiles(dir: string, extra: string[] = []): string[] {
  const hits: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) walk(path.join(p, e));
      return;
    }
    const text = readFileSync(p).toString('latin1');
    for (const label of findSecrets(text, extra)) hits.push(`${p}: ${label}`);
  };
  walk(dir);
  return hits;
}

/**
 * Scans the agent temp folders (`<tmpdir>/agent-<Task>-*`, one per bundled-task run of test/helpers/agent.ts)
 * created at or after `sinceMs`: every attachment, summary, decision record and other file the task runs of
 * this test process left behind. Returns `path: label` for each hit and how many folders/files were read.
 */
export function scanAgentTempDirs(sinceMs: number, extra: string[] = []): { hits: string[]; folders: number; files: number } {
  const root = tmpdir();
  const hits: string[] = [];
  let folders = 0;
  let files = 0;
  for (const name of readdirSync(root)) {
    if (!/^agent-Databricks[A-Za-z]+V\d+-/.test(name)) continue;
    const dir = path.join(root, name);
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st?.isDirectory() || st.birthtimeMs < sinceMs - 1000) continue;
    folders++;
    const walk = (p: string) => {
      const s = statSync(p, { throwIfNoEntry: false });
      if (!s) return;
      if (s.isDirectory()) {
        for (const e of readdirSync(p)) walk(path.join(p, e));
        return;
      }
      files++;
      for (const label of findSecrets(readFileSync(p).toString('latin1'), extra)) hits.push(`${p}: ${label}`);
    };
    walk(dir);
  }
  return { hits, folders, files };
}
