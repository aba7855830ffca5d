/**
 * Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser) driven by playwright-core,
 * and a loopback static server for the pages under test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';

export const ROOT = path.resolve(__dirname, '../../..');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-results/ui');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile and everything that could reach the network switched off. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (npm test does it when run as root: apt-get install -y chromium)`);
  }
  const profile = mkdtempSync(path.join(os.tmpdir(), 'eval-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
};

/** Dynamic answers (fake REST APIs); undefined falls through to the static mounts. */
export type RouteHandler = (req: http.IncomingMessage, url: URL) => { status: number; type: string; body: string | Buffer } | undefined;

export interface StaticServer {
  origin: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `mounts` on 127.0.0.1 at a random port: a prefix ending in '/' maps to a folder, any other key is
 * one file. 404 for anything else.
 */
export async function serveStatic(mounts: Record<string, string>, handler?: RouteHandler): Promise<StaticServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const routed = handler?.(req, url);
    if (routed) {
      res.writeHead(routed.status, { 'content-type': routed.type });
      res.end(routed.body);
      return;
    }
    for (const [prefix, target] of Object.entries(mounts)) {
      const isFolder = prefix.endsWith('/');
      if (isFolder ? !url.pathname.startsWith(prefix) : url.pathname !== prefix) continue;
      const file = isFolder ? path.join(target, decodeURIComponent(url.pathname.slice(prefix.length))) : target;
      if (!file.startsWith(target) || !existsSync(file) || !statSync(file).isFile()) break;
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Rebuilds ui/dist/results-tab.js from the current sources, so the test never runs a stale bundle. */
export function buildUi(): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-ui.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

/** Exactly the files the VSIX ships for the tab (vss-extension.json `files`), at their package paths. */
export const SHIPPED_TAB = {
  '/results-tab.html': path.join(ROOT, 'ui/results-tab.html'),
  '/dist/': path.join(ROOT, 'ui/dist'),
};

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

/** Number of distinct colours in a PNG (a blank or failed render has one or two). */
export function distinctColours(pngBytes: Buffer): number {
  const png = PNG.sync.read(pngBytes);
  const seen = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4 * 7) {
    seen.add((png.data[i] << 16) | (png.data[i + 1] << 8) | png.data[i + 2]);
  }
  return seen.size;
}

/** RGB of the pixel at (x, y) of a PNG. */
export function pixel(pngBytes: Buffer, x: number, y: number): [number, number, number] {
  const png = PNG.sync.read(pngBytes);
  const i = (y * png.width + x) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}
