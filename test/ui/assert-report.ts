/** Assertions shared by the tab and the static report tests: the fixture record, rendered in a page. */
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { BEST_KEY, FIXTURE_BEST_RUN_URL, FIXTURE_PRODUCTION_VERSION_URL, FIXTURE_ROWS, FIXTURE_SENTENCE, FIXTURE_WIN_LABELS } from './expected';

interface Box {
  width: number;
  height: number;
}

/** What the page shows, read in one round trip (text as rendered: innerText, trimmed). */
interface Snapshot {
  sentence: string;
  decision: string | null;
  facts: Record<string, string>;
  rows: Array<{ key: string | null; cells: Record<string, string>; runHref: string | null; versionHref: string | null }>;
  metric: Array<{ box: Box; models: Array<string | null>; pathLengths: number[] }>;
  deltas: Array<{ box: Box; rects: number; zero: number; min: number; minLabel: string; winLabel: string }>;
}

const SNAPSHOT = `(() => {
  const text = (el) => (el ? el.innerText.trim() : '');
  const box = (el) => { const r = el.getBoundingClientRect(); return { width: r.width, height: r.height }; };
  const facts = {};
  for (const f of document.querySelectorAll('[data-fact]')) facts[f.getAttribute('data-fact')] = text(f.querySelector('dd'));
  return {
    sentence: text(document.querySelector('[data-testid="decision-sentence"]')),
    decision: document.querySelector('[data-testid="decision"]')?.getAttribute('data-decision') ?? null,
    facts,
    rows: [...document.querySelectorAll('table.eval-models tbody tr')].map((tr) => {
      const cells = {};
      for (const td of tr.querySelectorAll('td[data-col]')) cells[td.getAttribute('data-col')] = text(td);
      return {
        key: tr.getAttribute('data-model'),
        cells,
        runHref: tr.querySelector('td[data-col="run"] a')?.getAttribute('href') ?? null,
        versionHref: tr.querySelector('td[data-col="version"] a')?.getAttribute('href') ?? null,
      };
    }),
    metric: [...document.querySelectorAll('svg[data-chart="metric-distribution"]')].map((svg) => ({
      box: box(svg),
      models: [...svg.querySelectorAll('g[data-model]')].map((g) => g.getAttribute('data-model')),
      pathLengths: [...svg.querySelectorAll('g[data-model] path')].map((p) => (p.getAttribute('d') || '').length),
    })),
    deltas: [...document.querySelectorAll('svg[data-chart="delta-distribution"]')].map((svg) => ({
      box: box(svg),
      rects: svg.querySelectorAll('rect').length,
      zero: Number(svg.querySelector('[data-line="zero"]')?.getAttribute('x1')),
      min: Number(svg.querySelector('[data-line="min-delta"]')?.getAttribute('x1')),
      minLabel: svg.querySelector('[data-label="min-delta"]')?.textContent.trim() ?? '',
      winLabel: svg.querySelector('[data-label="win-rate"]')?.textContent.trim() ?? '',
    })),
  };
})()`;

const COLUMN_OF: Record<string, string> = {
  name: 'name',
  role: 'role',
  version: 'version',
  run: 'run',
  estimate: 'estimate',
  ci: 'ci',
  winRate: 'win-rate',
  meanDelta: 'mean-delta',
  deltaCi: 'delta-ci',
};

export async function assertFixtureReport(page: Page | Frame): Promise<void> {
  const s = (await page.evaluate(SNAPSHOT)) as Snapshot;
  assert.equal(s.sentence, FIXTURE_SENTENCE);
  assert.equal(s.decision, 'promote');
  assert.equal(s.facts.method, 'paired bootstrap, 1,000 resamples');
  assert.equal(s.facts['win-rate-threshold'], '95.0%');
  assert.equal(s.facts['min-delta'], '+0.0050');
  assert.equal(s.facts.rows, '3,000');

  // The table: every model, in record order, with the exact strings for its numbers.
  assert.deepEqual(
    s.rows.map((r) => r.key),
    FIXTURE_ROWS.map((r) => r.key),
  );
  for (const expected of FIXTURE_ROWS) {
    const row = s.rows.find((r) => r.key === expected.key);
    const shown: Record<string, string> = { key: expected.key };
    for (const [field, col] of Object.entries(COLUMN_OF)) shown[field] = row?.cells[col] ?? '(missing)';
    assert.deepEqual(shown, { ...expected }, `row ${expected.key}`);
  }
  const best = s.rows.find((r) => r.key === BEST_KEY);
  const production = s.rows.find((r) => r.key === 'production');
  assert.equal(best?.runHref, FIXTURE_BEST_RUN_URL);
  assert.equal(production?.versionHref, FIXTURE_PRODUCTION_VERSION_URL);
  // Production's only link is its version page: the run cell must not pretend to be a run link.
  assert.equal(production?.runHref, null);

  // The metric chart: one curve per model, actually drawn (non-trivial paths, a real size on the page).
  assert.equal(s.metric.length, 1);
  const metric = s.metric[0];
  assert.ok(metric.box.width > 600 && metric.box.height > 150, `metric chart box ${JSON.stringify(metric.box)}`);
  assert.deepEqual(
    metric.models,
    FIXTURE_ROWS.map((r) => r.key),
  );
  assert.equal(metric.pathLengths.length, 8);
  assert.ok(
    metric.pathLengths.every((n) => n > 200),
    `paths: ${metric.pathLengths.join(',')}`,
  );

  // One paired-difference chart per candidate: bars, the min Δ line right of zero, the win rate written.
  assert.equal(s.deltas.length, 3);
  s.deltas.forEach((d, i) => {
    assert.ok(d.box.width > 300 && d.box.height > 100, `delta chart ${i} box ${JSON.stringify(d.box)}`);
    assert.ok(d.rects > 15, `delta chart ${i} has ${d.rects} bars`);
    assert.ok(d.min > d.zero, `min Δ line (${d.min}) right of zero (${d.zero})`);
    assert.equal(d.minLabel, 'min \u0394 +0.0050');
  });
  assert.deepEqual(
    s.deltas.map((d) => d.winLabel),
    FIXTURE_WIN_LABELS,
  );
}

/** Computed colours that prove which palette is in force. */
export async function themeColours(page: Page | Frame): Promise<{ page: string; win: string; text: string }> {
  return page.evaluate(`(() => ({
    page: getComputedStyle(document.body).backgroundColor,
    win: getComputedStyle(document.querySelector('svg[data-chart="delta-distribution"] .eval-f-win')).fill,
    text: getComputedStyle(document.querySelector('[data-testid="decision-sentence"]')).color,
  }))()`);
}

export const LIGHT_COLOURS = { page: 'rgb(248, 248, 248)', win: 'rgb(16, 124, 16)', text: 'rgba(0, 0, 0, 0.9)' };
export const DARK_COLOURS = { page: 'rgb(27, 26, 25)', win: 'rgb(84, 176, 84)', text: 'rgba(255, 255, 255, 0.87)' };
