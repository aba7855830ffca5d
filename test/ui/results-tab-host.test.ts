import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import type { Frame, Page } from 'playwright-core';
import { assertFixtureReport, DARK_COLOURS, LIGHT_COLOURS, themeColours } from './assert-report';
import { artifactPath, buildUi, launchChromium, ROOT, serveStatic, SHIPPED_TAB, type Browser, type StaticServer } from './browser';

const PROJECT = '6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c';
const TIMELINE = '1f7e1c2a-33b4-4c5d-9e6f-7a8b9c0d1e2f';
const RECORD = '8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d';
const TYPE = 'mlopspipelines.evaluation';

interface RestCall {
  path: string;
  authorization: string | undefined;
  accept: string | undefined;
}

describe('Model evaluation tab inside a stand-in Azure DevOps host (SDK handshake, page services, Build REST API)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: StaticServer;
  let dir: string;
  const rest: RestCall[] = [];
  const fixture = readFileSync(path.join(ROOT, 'test/fixtures/evaluation-record.json'));

  before(async () => {
    buildUi();
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-host-'));
    await esbuild.build({
      entryPoints: [path.join(ROOT, 'test/ui/fake-host/host.mjs')],
      outfile: path.join(dir, 'host.js'),
      bundle: true,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      logLevel: 'warning',
      absWorkingDir: ROOT,
    });
    writeFileSync(
      path.join(dir, 'host.html'),
      '<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>host</title><style>body{margin:0}</style></head><body><script src="host.js"></script></body></html>',
    );
    server = await serveStatic({ '/host.html': path.join(dir, 'host.html'), '/host.js': path.join(dir, 'host.js'), ...SHIPPED_TAB }, (req, url) => {
      if (!url.pathname.startsWith('/tfs/')) return undefined;
      rest.push({ path: url.pathname, authorization: req.headers.authorization, accept: req.headers.accept });
      const list = new RegExp(`^/tfs/${PROJECT}/_apis/build/builds/(\\d+)/attachments/${TYPE}$`).exec(url.pathname);
      if (list) {
        const attachments =
          list[1] === '4321'
            ? [
                {
                  name: 'evaluation.json',
                  _links: {
                    self: { href: `${server.origin}/tfs/${PROJECT}/_apis/build/builds/4321/${TIMELINE}/${RECORD}/attachments/${TYPE}/evaluation.json` },
                  },
                },
              ]
            : [];
        return { status: 200, type: 'application/json', body: JSON.stringify(attachments) };
      }
      if (url.pathname === `/tfs/${PROJECT}/_apis/build/builds/4321/${TIMELINE}/${RECORD}/attachments/${TYPE}/evaluation.json`) {
        return { status: 200, type: 'application/octet-stream', body: fixture };
      }
      return { status: 404, type: 'application/json', body: JSON.stringify({ message: `no route ${url.pathname}` }) };
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function openHost(query: string): Promise<{ page: Page; tab: Frame; errors: string[] }> {
    rest.length = 0;
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${server.origin}/host.html${query}`);
    await page.waitForFunction('window.__host && window.__host.loaded === 1', undefined, { timeout: 15_000 });
    const tab = page.frames().find((f) => f.url().includes('/results-tab.html'));
    assert.ok(tab, 'the host frames the tab');
    return { page, tab, errors };
  }

  it('light host: reads the attachment through the Build REST API with the host token and renders it', async () => {
    const { page, tab, errors } = await openHost('?theme=light');
    assert.equal(await tab.getAttribute('body', 'data-state'), 'rendered');
    await assertFixtureReport(tab);
    assert.equal(await tab.getAttribute('html', 'data-theme'), 'light');
    assert.deepEqual(await themeColours(tab), LIGHT_COLOURS);
    assert.deepEqual(
      rest.map((r) => r.path),
      [
        `/tfs/${PROJECT}/_apis/build/builds/4321/attachments/${TYPE}`,
        `/tfs/${PROJECT}/_apis/build/builds/4321/${TIMELINE}/${RECORD}/attachments/${TYPE}/evaluation.json`,
      ],
    );
    for (const r of rest) {
      assert.equal(r.authorization, 'Bearer fake-access-token');
      assert.match(r.accept ?? '', /api-version=7\.2-preview\.2/);
    }
    assert.deepEqual(await page.evaluate('window.__host.services'), [
      'ms.vss-tfs-web.tfs-page-data-service',
      'ms.vss-build-web.build-page-data-service',
      'ms.vss-features.location-service',
    ]);
    assert.deepEqual(await page.evaluate('window.__host.failed'), []);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('dark host: the theme the SDK applies turns the tab dark, host colours first', async () => {
    const { page, tab } = await openHost('?theme=dark');
    assert.equal(await tab.getAttribute('html', 'data-theme'), 'dark');
    await assertFixtureReport(tab);
    // The page background is the host's own --background-color, the chart colours our dark palette.
    assert.deepEqual(await themeColours(tab), { ...DARK_COLOURS, page: 'rgb(32, 31, 30)' });
    await page.screenshot({ path: artifactPath('results-tab-host-dark.png'), fullPage: true });
    await page.close();
  });

  it('a build without an evaluation record says so (and still tells the host it loaded)', async () => {
    const { page, tab } = await openHost('?theme=light&build=999');
    assert.equal(await tab.getAttribute('body', 'data-state'), 'error');
    assert.equal(
      await tab.locator('[data-testid="error-message"]').innerText(),
      'This build has no evaluation record yet. The Evaluate & Promote step attaches one when it finishes.',
    );
    assert.deepEqual(
      rest.map((r) => r.path),
      [`/tfs/${PROJECT}/_apis/build/builds/999/attachments/${TYPE}`],
    );
    await page.close();
  });
});
