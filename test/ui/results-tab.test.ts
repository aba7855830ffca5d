import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { assertFixtureReport, DARK_COLOURS, LIGHT_COLOURS, themeColours } from './assert-report';
import { artifactPath, buildUi, distinctColours, launchChromium, ROOT, serveStatic, SHIPPED_TAB, type Browser, type StaticServer } from './browser';
import { FIXTURE_HEADLINE } from './expected';

const FIXTURE = path.join(ROOT, 'test/fixtures/evaluation-record.json');

describe('Model evaluation build results tab (ui/dist/results-tab.html) in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: StaticServer;
  let errors: string[];

  before(async () => {
    buildUi();
    server = await serveStatic({ '/fixtures/': path.join(ROOT, 'test/fixtures'), ...SHIPPED_TAB });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(query: string, opts: { colorScheme?: 'light' | 'dark'; init?: string } = {}): Promise<Page> {
    const page = await browser.context.newPage();
    errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.emulateMedia({ colorScheme: opts.colorScheme ?? 'light' });
    if (opts.init) await page.addInitScript(opts.init);
    await page.goto(`${server.origin}/results-tab.html${query}`);
    await page.waitForSelector('body[data-state="rendered"], body[data-state="error"]', { timeout: 10_000 });
    return page;
  }

  it('?record=<fixture>&theme=light renders the decision, the exact numbers and both charts in the light theme', async () => {
    const page = await open('?record=/fixtures/evaluation-record.json&theme=light');
    assert.equal(await page.getAttribute('body', 'data-state'), 'rendered');
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    await assertFixtureReport(page);
    assert.deepEqual(await themeColours(page), LIGHT_COLOURS);
    const png = await page.screenshot({ path: artifactPath('results-tab-light.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50, 'the screenshot shows a drawn page');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('follows the OS dark preference when no theme is forced, and renders the same numbers', async () => {
    const page = await open('?record=/fixtures/evaluation-record.json', { colorScheme: 'dark' });
    assert.equal(await page.getAttribute('html', 'data-theme'), null);
    await assertFixtureReport(page);
    assert.deepEqual(await themeColours(page), DARK_COLOURS);
    const png = await page.screenshot({ path: artifactPath('results-tab-dark.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50, 'the screenshot shows a drawn page');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('a narrower window redraws the live charts for the new width, with the same content', async () => {
    const page = await open('?record=/fixtures/evaluation-record.json&theme=light');
    const read = () =>
      page.evaluate(`(() => {
        const svg = document.querySelector('[data-chart-box="metric-distribution"] svg');
        return { width: Math.round(svg.getBoundingClientRect().width), texts: [...svg.querySelectorAll('text')].map((t) => t.textContent.trim()) };
      })()`) as Promise<{ width: number; texts: string[] }>;
    const wide = await read();
    await page.setViewportSize({ width: 520, height: 900 });
    await page.waitForFunction(`document.querySelector('[data-chart-box="metric-distribution"] svg').getBoundingClientRect().width < ${wide.width - 500}`);
    const narrow = await read();
    assert.ok(narrow.width < wide.width - 500, `${narrow.width} vs ${wide.width}`);
    for (const name of ['production', 'logreg_all_features (best)', 'ROC AUC over 1000 bootstrap resamples']) assert.ok(narrow.texts.includes(name), name);
    // Fewer ticks fit: the axis was laid out again for the new width.
    const ticks = (t: string[]) => t.filter((x) => /^0\.\d+$/.test(x)).length;
    assert.ok(ticks(narrow.texts) < ticks(wide.texts), `${ticks(narrow.texts)} ticks vs ${ticks(wide.texts)}`);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('?theme=dark wins over a light OS preference', async () => {
    const page = await open('?record=/fixtures/evaluation-record.json&theme=dark', { colorScheme: 'light' });
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    assert.deepEqual(await themeColours(page), DARK_COLOURS);
    await page.close();
  });

  it('follows the host theme: a themeApplied event (as the SDK dispatches it) with a dark background switches to dark and back', async () => {
    const page = await open('?record=/fixtures/evaluation-record.json', { colorScheme: 'light' });
    assert.deepEqual(await themeColours(page), LIGHT_COLOURS);
    await page.evaluate(`window.dispatchEvent(new CustomEvent('themeApplied', { detail: { 'background-color': 'rgba(32, 31, 30, 1)' } }))`);
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    assert.equal((await themeColours(page)).win, DARK_COLOURS.win);
    await page.evaluate(`window.dispatchEvent(new CustomEvent('themeApplied', { detail: { 'background-color': 'rgba(248, 248, 248, 1)' } }))`);
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    assert.equal((await themeColours(page)).win, LIGHT_COLOURS.win);
    // The host's own variables win over our fallbacks for page and text colours.
    await page.evaluate(`document.documentElement.style.setProperty('--background-color', 'rgb(1, 2, 3)')`);
    assert.equal((await themeColours(page)).page, 'rgb(1, 2, 3)');
    await page.close();
  });

  it('window.__EVALUATION_RECORD__ renders without fetching anything', async () => {
    const record = readFileSync(FIXTURE, 'utf8');
    const before = server.requests.length;
    const page = await open('', { init: `window.__EVALUATION_RECORD__ = ${record};` });
    assert.equal((await page.locator('[data-testid="decision-sentence"]').innerText()).trim(), FIXTURE_HEADLINE);
    assert.deepEqual(server.requests.slice(before), ['/results-tab.html', '/dist/results-tab.js']);
    await page.close();
  });

  it('shows record text as text: a model name with markup creates no element and runs no script', async () => {
    const record = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const evil = '<img src=x onerror="window.__pwned=1">';
    record.decision.models[1].name = evil;
    record.decision.best = evil;
    record.decision.reason = '<script>window.__pwned=2</script>';
    record.context.links.build = 'javascript:window.__pwned=3';
    const page = await open('', { init: `window.__EVALUATION_RECORD__ = ${JSON.stringify(record)};` });
    assert.equal(await page.getAttribute('body', 'data-state'), 'rendered');
    assert.equal(await page.locator('[data-testid="report"] img').count(), 0);
    assert.equal(await page.locator('[data-testid="report"] script').count(), 0);
    assert.equal(await page.evaluate('window.__pwned === undefined'), true);
    assert.equal(await page.locator(`tr[data-model="${evil.replace(/"/g, '\\"')}"] td[data-col="name"]`).innerText(), evil);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    assert.deepEqual(await page.locator('[data-testid="warnings"] li').allTextContents(), ["link 'build' is not an http(s) URL and is not shown"]);
    await page.close();
  });

  it('a record URL that answers 404 shows an error naming it', async () => {
    const page = await open('?record=/fixtures/missing.json');
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    assert.equal(await page.locator('[data-testid="error-message"]').innerText(), 'Could not fetch /fixtures/missing.json: HTTP 404.');
    await page.close();
  });

  it('refuses a record URL from another origin', async () => {
    const before = server.requests.length;
    const page = await open('?record=http://127.0.0.2:9/evil.json');
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    assert.equal(await page.locator('[data-testid="error-message"]').innerText(), '?record must be a same-origin URL, got http://127.0.0.2:9.');
    assert.deepEqual(server.requests.slice(before), ['/results-tab.html', '/dist/results-tab.js']);
    await page.close();
  });

  it('a record without a valid decision shows why instead of a half-drawn report', async () => {
    const page = await open('', { init: `window.__EVALUATION_RECORD__ = { decision: { decision: 'maybe', models: [] } };` });
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    assert.equal(
      await page.locator('[data-testid="error-message"]').innerText(),
      'The evaluation record has no valid decision (expected promote, keep or none, got "maybe").',
    );
    await page.close();
  });

  it('opened directly with no record, it says how to use it (and does not wait for an Azure DevOps host)', async () => {
    const page = await open('');
    assert.equal(await page.getAttribute('body', 'data-state'), 'error');
    assert.equal(
      await page.locator('[data-testid="error-message"]').innerText(),
      'Open this page from a build in Azure DevOps, or pass ?record=<url of an evaluation record>.',
    );
    await page.close();
  });

  it('the page loads only its bundle', () => {
    const html = readFileSync(path.join(ROOT, 'ui/results-tab.html'), 'utf8');
    assert.deepEqual(
      [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]),
      ['data:,', 'dist/results-tab.js'],
    );
    assert.deepEqual(readdirSync(path.join(ROOT, 'ui/dist')), ['THIRD-PARTY-NOTICES.txt', 'results-tab.js']);
  });
});
