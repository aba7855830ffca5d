import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { renderReportHtml } from '../../src/report/html';
import { RecordError } from '../../src/report/record';
import { assertFixtureReport, DARK_COLOURS, LIGHT_COLOURS, themeColours } from './assert-report';
import { artifactPath, distinctColours, launchChromium, ROOT, serveStatic, type Browser, type StaticServer } from './browser';

const record = JSON.parse(readFileSync(path.join(ROOT, 'test/fixtures/evaluation-record.json'), 'utf8'));

describe('renderReportHtml(record): the static report page, in headless Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;
  let server: StaticServer;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-report-'));
    writeFileSync(path.join(dir, 'report.html'), renderReportHtml(record));
    server = await serveStatic({ '/': dir });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(query: string, colorScheme: 'light' | 'dark'): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.emulateMedia({ colorScheme });
    await page.goto(`${server.origin}/report.html${query}`);
    return { page, errors };
  }

  it('is self-contained: the page requests nothing but itself, and holds no external reference', async () => {
    const html = renderReportHtml(record);
    assert.deepEqual(
      [...html.matchAll(/\s(?:src|href)="(?!https:\/\/|data:,")([^"]*)"/g)].map((m) => m[1]),
      [],
    );
    const before = server.requests.length;
    const { page, errors } = await open('', 'light');
    await page.waitForLoadState('load');
    assert.deepEqual(server.requests.slice(before), ['/report.html']);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('light: shows the decision, the exact numbers and both charts', async () => {
    const { page, errors } = await open('', 'light');
    assert.equal(await page.getAttribute('html', 'data-theme'), null);
    await assertFixtureReport(page);
    assert.deepEqual(await themeColours(page), LIGHT_COLOURS);
    assert.equal(await page.title(), 'Model evaluation \u2013 main.ml.churn_classifier');
    const png = await page.screenshot({ path: artifactPath('report-light.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('dark: follows the OS preference with the same numbers', async () => {
    const { page, errors } = await open('', 'dark');
    await assertFixtureReport(page);
    assert.deepEqual(await themeColours(page), DARK_COLOURS);
    const png = await page.screenshot({ path: artifactPath('report-dark.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('the theme switch cycles auto -> light -> dark, and ?theme=dark starts dark', async () => {
    const { page } = await open('', 'dark');
    const button = page.locator('#eval-theme');
    assert.equal(await button.innerText(), 'Theme: auto');
    await button.click();
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    assert.deepEqual(await themeColours(page), LIGHT_COLOURS);
    await button.click();
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await button.click();
    assert.equal(await page.getAttribute('html', 'data-theme'), null);
    await page.goto(`${server.origin}/report.html?theme=dark`);
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    assert.equal(await page.locator('#eval-theme').innerText(), 'Theme: dark');
    await page.close();
  });

  it('one candidate: its paired-difference panel keeps its own width (no full-width stretch, no doubled fonts)', async () => {
    const one = JSON.parse(JSON.stringify(record));
    one.decision.models = one.decision.models.filter((m: { name: string }) => m.name === 'production' || m.name === one.decision.best);
    writeFileSync(path.join(dir, 'one.html'), renderReportHtml(one));
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(`${server.origin}/one.html?theme=light`);
    const sizes = (await page.evaluate(`(() => {
      const svg = [...document.querySelectorAll('[data-chart-box="delta-distribution"] svg')].find((s) => s.getBoundingClientRect().width > 0);
      const card = document.querySelector('[data-testid="delta-chart"]').getBoundingClientRect().width;
      return { panel: svg.getBoundingClientRect().width, natural: Number(svg.getAttribute('width')), card };
    })()`)) as { panel: number; natural: number; card: number };
    assert.equal(sizes.natural, 560);
    // Drawn at (at most) the size it was laid out for: text keeps its size instead of scaling up.
    assert.ok(sizes.panel <= sizes.natural && sizes.panel >= 500, JSON.stringify(sizes));
    assert.ok(sizes.card > 2 * sizes.panel - 100, `the card (${sizes.card}px) is wider than the lone panel`);
    await page.close();
  });

  it('throws RecordError for a record it cannot show, rather than writing an empty page', () => {
    assert.throws(
      () => renderReportHtml({ decision: { decision: 'promote' } }),
      (e: unknown) => e instanceof RecordError && e.message === 'The evaluation record has no models list.',
    );
    assert.throws(
      () => renderReportHtml('{}'),
      (e: unknown) => e instanceof RecordError && e.message === 'The evaluation record is not a JSON object.',
    );
  });
});
