/**
 * Decision records of schema v2 in headless Chromium: the build results tab (ui/results-tab.html, live
 * ECharts charts) and the static report page, for a regression and a multiclass record built by the real
 * engine (test/ui/v2-records.ts). The tables are read as the browser lays them out (innerText).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { renderReportHtml } from '../../src/report/html';
import type { DecisionRecord } from '../../src/tasks/evaluate/report';
import { artifactPath, buildUi, distinctColours, launchChromium, serveStatic, SHIPPED_TAB, type Browser, type StaticServer } from './browser';
import { multiclassRecord, regressionRecord } from './v2-records';

const MINUS = '\u2212';

/** Each guardrail and slice card: its heading and its rows' cells as the page shows them. */
async function checkCards(page: Page): Promise<Array<{ heading: string; rows: string[][] }>> {
  return (await page.evaluate(`[...document.querySelectorAll('[data-testid="guardrail"], [data-testid="slices"]')].map((card) => ({
    heading: card.querySelector('h2').innerText.trim(),
    rows: [...card.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.innerText.trim())),
  }))`)) as Array<{ heading: string; rows: string[][] }>;
}

const REGRESSION_REGION_ROWS = [
  ['north', '1,000', '13,852', '18,897', `${MINUS}5,085`, `[${MINUS}6,061, ${MINUS}4,129]`, '100.0%', 'fails'],
  ['west', '900', '14,107', '10,196', '+3,893', '[+3,140, +4,757]', '0.0%', 'passes'],
  ['south', '1,000', '14,196', '10,043', '+4,112', '[+3,321, +4,894]', '0.0%', 'passes'],
  ['east', '1,000', '14,229', '10,053', '+4,179', '[+3,369, +5,016]', '0.0%', 'passes'],
  ['islands', '100', 'fewer than 500 rows', 'not judged'],
];

describe('decision records v2 (regression, multiclass) in headless Chromium: the tab and the static report', function () {
  this.timeout(90_000);
  let browser: Browser;
  let server: StaticServer;
  let dir: string;
  let regression: DecisionRecord;
  let multiclass: DecisionRecord;

  before(async () => {
    regression = regressionRecord();
    multiclass = multiclassRecord();
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-v2-'));
    writeFileSync(path.join(dir, 'regression.json'), JSON.stringify(regression));
    writeFileSync(path.join(dir, 'multiclass.json'), JSON.stringify(multiclass));
    writeFileSync(path.join(dir, 'regression.html'), renderReportHtml(regression));
    buildUi();
    server = await serveStatic({ '/records/': dir, ...SHIPPED_TAB });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${server.origin}${url}`);
    return { page, errors };
  }

  it('tab, regression: facts, guardrail tables, slice tables worst first, the reason, and live charts drawn', async () => {
    const { page, errors } = await open('/results-tab.html?record=/records/regression.json&theme=light');
    await page.waitForSelector('body[data-state="rendered"]', { timeout: 10_000 });
    assert.equal(await page.locator('[data-fact="problem"] dd').innerText(), 'Regression');
    assert.equal(await page.locator('[data-fact="metric"] dd').innerText(), 'RMSE (lower is better)');
    assert.equal(await page.locator('[data-fact="positives"]').count(), 0);
    assert.match(
      await page.locator('[data-testid="decision-reason"]').innerText(),
      /^The best candidate gbm_prices_v2 passes the RMSE gate but fails on slice 'north' of 'region' \(1,000 rows\)/,
    );
    const cards = await checkCards(page);
    assert.deepEqual(
      cards.map((c) => c.heading),
      ['Guardrail: MAE (lower is better)', 'Guardrail: R² (higher is better)', 'Slices of region: fails', 'Slices of channel: passes'],
    );
    assert.deepEqual(cards[0].rows, [['gbm_prices_v2', '500', '11,176', '9,833', '+1,325', '[+954, +1,698]', '0.0% (0)', '< 5.0%', 'passes']]);
    assert.deepEqual(cards[2].rows, REGRESSION_REGION_ROWS);
    // Every chart box got a live chart: the metric distribution and one paired-difference panel per candidate.
    assert.equal(await page.getAttribute('body', 'data-charts'), '3');
    // The live paired-difference panel of the best candidate: its titles in dollars, with a true minus and grouping.
    const texts = (await page
      .locator('[data-chart-box="delta-distribution"]')
      .first()
      .evaluate((box) => [...box.querySelectorAll('svg text')].map((t) => (t.textContent ?? '').trim()))) as string[];
    for (const t of [
      'gbm_prices_v2',
      'Win rate 100.0% (needs \u2265 95.0%)',
      'mean \u0394 +1,220 \u00b7 lower 95.0% bound +824',
      'RMSE difference vs production (positive = candidate better)',
    ]) {
      assert.ok(texts.includes(t), t);
    }
    const png = await page.screenshot({ path: artifactPath('results-tab-v2-regression.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('tab, multiclass: the class names, the capped store column and its slices not judged with their notes', async () => {
    const { page, errors } = await open('/results-tab.html?record=/records/multiclass.json&theme=dark');
    await page.waitForSelector('body[data-state="rendered"]', { timeout: 10_000 });
    assert.equal(await page.locator('[data-fact="problem"] dd').innerText(), 'Multiclass classification');
    assert.equal(await page.locator('[data-fact="metric"] dd').innerText(), 'Log loss (lower is better)');
    assert.equal(await page.locator('[data-fact="classes"] dd').innerText(), '3: setosa (2,139), versicolor (2,015), virginica (1,976)');
    const cards = await checkCards(page);
    assert.deepEqual(
      cards.map((c) => [c.heading, c.rows.length]),
      [
        ['Guardrail: Accuracy (higher is better)', 1],
        ['Guardrail: Macro F1 (higher is better)', 1],
        ['Slices of country: passes', 3],
        ['Slices of store: passes', 61],
      ],
    );
    assert.deepEqual(cards[3].rows[49], ['S00', '130', 'cannot be bootstrapped: classes 1, 2 absent', 'not judged']);
    assert.equal(
      await page.locator('[data-testid="slices"][data-column="store"] [data-testid="slices-capped"]').innerText(),
      'Capped: more slices had enough rows than the cap on judged slices (50); the slices beyond the largest are listed as not judged.',
    );
    assert.equal(await page.getAttribute('body', 'data-charts'), '3');
    const png = await page.screenshot({ path: artifactPath('results-tab-v2-multiclass-dark.png'), fullPage: true });
    assert.ok(distinctColours(png) > 50);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('static report, regression: the same tables as the tab, and the static charts titled with the orientation', async () => {
    const { page, errors } = await open('/records/regression.html?theme=light');
    const cards = await checkCards(page);
    assert.deepEqual(cards[2].rows, REGRESSION_REGION_ROWS);
    assert.deepEqual(cards[3].rows[0], ['auction', '1,354', '14,038', '13,042', '+948', '[+98, +1,748]', '1.3%', 'passes']);
    const labels = await page
      .locator('.eval-only-light svg[data-chart="delta-distribution"]')
      .evaluateAll((svgs) => svgs.map((s) => s.getAttribute('aria-label')));
    assert.deepEqual(
      labels.map((l) => /^Paired difference of RMSE, ([^:]*):/.exec(l ?? '')?.[1]),
      ['production minus gbm_prices_v2', 'production minus linear_prices_v3'],
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
});
