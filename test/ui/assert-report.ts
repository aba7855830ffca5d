/** Assertions shared by the tab and the static report tests: the fixture record, rendered in a page. */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { FIXTURE_ROWS, FIXTURE_RUN_URL_GBM, FIXTURE_SENTENCE, FIXTURE_WIN_LABELS } from './expected';

const COLUMNS: Array<[keyof (typeof FIXTURE_ROWS)[number], string]> = [
  ['name', 'name'],
  ['role', 'role'],
  ['version', 'version'],
  ['run', 'run'],
  ['estimate', 'estimate'],
  ['ci', 'ci'],
  ['winRate', 'win-rate'],
  ['meanDelta', 'mean-delta'],
  ['deltaCi', 'delta-ci'],
];

export async function assertFixtureReport(page: Page): Promise<void> {
  assert.equal((await page.locator('[data-testid="decision-sentence"]').innerText()).trim(), FIXTURE_SENTENCE);
  assert.equal(await page.locator('[data-testid="decision"]').getAttribute('data-decision'), 'promote');
  assert.equal((await page.locator('[data-fact="method"] dd').innerText()).trim(), 'paired bootstrap, 1,000 resamples');
  assert.equal((await page.locator('[data-fact="win-rate-threshold"] dd').innerText()).trim(), '95.0%');
  assert.equal((await page.locator('[data-fact="min-delta"] dd').innerText()).trim(), '+0.0050');

  const rows = page.locator('table.eval-models tbody tr');
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-model'))), FIXTURE_ROWS.map((r) => r.name));
  for (const expected of FIXTURE_ROWS) {
    const row = page.locator(`tr[data-model="${expected.name}"]`);
    const shown: Record<string, string> = {};
    for (const [key, col] of COLUMNS) shown[key] = (await row.locator(`td[data-col="${col}"]`).innerText()).trim();
    assert.deepEqual(shown, { ...expected }, `row ${expected.name}`);
  }
  assert.equal(await page.locator('tr[data-model="gbm_depth6"] td[data-col="run"] a').getAttribute('href'), FIXTURE_RUN_URL_GBM);

  // The metric chart: one curve per model, actually drawn (non-trivial paths, a real size on the page).
  const metric = page.locator('svg[data-chart="metric-distribution"]');
  assert.equal(await metric.count(), 1);
  const box = await metric.boundingBox();
  assert.ok(box && box.width > 600 && box.height > 150, `metric chart box ${JSON.stringify(box)}`);
  assert.deepEqual(await metric.locator('g[data-model]').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-model'))), [
    'production',
    'gbm_depth6',
    'logreg_l2',
    'mlp_2x64',
  ]);
  const pathLengths = await metric.locator('g[data-model] path').evaluateAll((ps) => ps.map((p) => (p.getAttribute('d') ?? '').length));
  assert.equal(pathLengths.length, 8);
  assert.ok(pathLengths.every((n) => n > 200), `paths: ${pathLengths.join(',')}`);

  // One paired-difference chart per candidate, with bars, the min Δ line right of zero, and the win rate.
  const deltas = page.locator('svg[data-chart="delta-distribution"]');
  assert.equal(await deltas.count(), 3);
  for (let i = 0; i < 3; i++) {
    const chart = deltas.nth(i);
    const b = await chart.boundingBox();
    assert.ok(b && b.width > 300 && b.height > 100, `delta chart ${i} box ${JSON.stringify(b)}`);
    assert.ok((await chart.locator('rect').count()) > 15, `delta chart ${i} has bars`);
    const zero = Number(await chart.locator('[data-line="zero"]').getAttribute('x1'));
    const min = Number(await chart.locator('[data-line="min-delta"]').getAttribute('x1'));
    assert.ok(min > zero, `min Δ line (${min}) right of zero (${zero})`);
    assert.equal((await chart.locator('[data-label="min-delta"]').textContent())?.trim(), 'min \u0394 +0.0050');
  }
  assert.deepEqual(await deltas.locator('[data-label="win-rate"]').allTextContents(), FIXTURE_WIN_LABELS);
}

/** Computed colours that prove which palette is in force. */
export async function themeColours(page: Page): Promise<{ page: string; win: string; text: string }> {
  return page.evaluate(`(() => ({
    page: getComputedStyle(document.body).backgroundColor,
    win: getComputedStyle(document.querySelector('svg[data-chart="delta-distribution"] .eval-f-win')).fill,
    text: getComputedStyle(document.querySelector('[data-testid="decision-sentence"]')).color,
  }))()`);
}

export const LIGHT_COLOURS = { page: 'rgb(248, 248, 248)', win: 'rgb(16, 124, 16)', text: 'rgba(0, 0, 0, 0.9)' };
export const DARK_COLOURS = { page: 'rgb(27, 26, 25)', win: 'rgb(84, 176, 84)', text: 'rgba(255, 255, 255, 0.87)' };
