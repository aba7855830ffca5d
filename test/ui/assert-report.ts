/** Assertions shared by the tab and the static report tests: the fixture record, rendered in a page. */
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import {
  BEST_KEY,
  FIXTURE_BEST_RUN_URL,
  FIXTURE_DELTA_LEGEND,
  FIXTURE_HEADLINE,
  FIXTURE_LEGEND,
  FIXTURE_MEAN_LABELS,
  FIXTURE_MIN_BARS,
  FIXTURE_PRODUCTION_VERSION_URL,
  FIXTURE_REASON,
  FIXTURE_ROWS,
  FIXTURE_WIN_LABELS,
} from './expected';

interface Box {
  width: number;
  height: number;
}

/** What the page shows, read in one round trip (text as rendered: innerText, trimmed). */
interface Snapshot {
  sentence: string;
  reason: string;
  headlineRunHref: string | null;
  deltaLegend: string[];
  decision: string | null;
  facts: Record<string, string>;
  rows: Array<{ key: string | null; cells: Record<string, string>; runHref: string | null; versionHref: string | null }>;
  metric: Array<{ box: Box; texts: string[]; areas: number; marks: number }>;
  deltas: Array<{ model: string | null; box: Box; texts: string[]; bars: number; zero: number; min: number; ticks: string[]; yName: boolean }>;
}

// A chart box holds the chart of the page's theme (the static report: a light and a dark rendering, one
// hidden; the tab: one live ECharts chart): read the SVG that is actually visible. Bars are the filled
// paths in the zone colours; the zero position is the centre of the axis label "0"; the min Δ line is
// the dashed path.
const SNAPSHOT = `(() => {
  const text = (el) => (el ? el.innerText.trim() : '');
  const box = (el) => { const r = el.getBoundingClientRect(); return { width: r.width, height: r.height }; };
  const visibleSvg = (b) => [...b.querySelectorAll('svg')].find((s) => s.getBoundingClientRect().width > 0);
  const texts = (svg) => [...svg.querySelectorAll('text')].map((t) => t.textContent.trim()).filter((t) => t !== '');
  const centreX = (el) => { const r = el.getBoundingClientRect(); return r.left + r.width / 2; };
  const facts = {};
  for (const f of document.querySelectorAll('[data-fact]')) facts[f.getAttribute('data-fact')] = text(f.querySelector('dd'));
  const zoneFills = new Set(['win', 'loss', 'neutral'].map((r) => {
    const probe = document.createElement('i');
    probe.className = 'eval-bg-' + r;
    document.body.appendChild(probe);
    const c = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return c;
  }));
  return {
    sentence: text(document.querySelector('[data-testid="decision-sentence"]')),
    reason: text(document.querySelector('[data-testid="decision-reason"]')),
    headlineRunHref: document.querySelector('[data-testid="decision-sentence"] a[data-testid="headline-run"]')?.getAttribute('href') ?? null,
    deltaLegend: [...document.querySelectorAll('[data-testid="delta-legend"] span')].map(text),
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
    metric: [...document.querySelectorAll('[data-chart-box="metric-distribution"]')].map(visibleSvg).map((svg) => ({
      box: box(svg),
      texts: texts(svg),
      areas: [...svg.querySelectorAll('path')].filter((p) => Number(p.getAttribute('fill-opacity')) > 0 && Number(p.getAttribute('fill-opacity')) < 0.5 && p.getAttribute('fill') !== 'none').length,
      // The full-data marks: vertical lines (one move, one vertical draw) at least half the plot's height.
      marks: [...svg.querySelectorAll('path')].filter((p) => {
        const m = /^M(-?[\\d.]+) (-?[\\d.]+)L(-?[\\d.]+) (-?[\\d.]+)$/.exec((p.getAttribute('d') || '').trim());
        return m && p.getAttribute('stroke-width') === '2' && Math.abs(+m[1] - +m[3]) < 0.5 && Math.abs(+m[2] - +m[4]) > 100;
      }).length,
    })),
    deltas: [...document.querySelectorAll('[data-chart-box="delta-distribution"]')].map((b) => {
      const svg = visibleSvg(b);
      const zero = [...svg.querySelectorAll('text')].find((t) => t.textContent.trim() === '0');
      const dashed = [...svg.querySelectorAll('path[stroke-dasharray]')];
      return {
        model: b.getAttribute('data-model'),
        box: box(svg),
        texts: texts(svg),
        bars: [...svg.querySelectorAll('path')].filter((p) => p.getAttribute('fill') !== 'none' && zoneFills.has(getComputedStyle(p).fill)).length,
        zero: zero ? centreX(zero) : NaN,
        min: dashed.length === 1 ? centreX(dashed[0]) : NaN,
        // The horizontal axis' tick labels, left to right: the same in every panel when the scale is shared.
        ticks: [...svg.querySelectorAll('text')].filter((t) => /^[+\\u2212]?\\d/.test(t.textContent.trim()) && t.getBoundingClientRect().top > svg.getBoundingClientRect().top + svg.getBoundingClientRect().height * 0.75).map((t) => t.textContent.trim()),
        yName: texts(svg).includes('resamples'),
      };
    }),
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
  gateBound: 'gate-bound',
};

export async function assertFixtureReport(page: Page | Frame): Promise<void> {
  const s = (await page.evaluate(SNAPSHOT)) as Snapshot;
  assert.equal(s.sentence, FIXTURE_HEADLINE);
  assert.equal(s.reason, FIXTURE_REASON);
  assert.equal(s.headlineRunHref, FIXTURE_BEST_RUN_URL);
  assert.deepEqual(s.deltaLegend, FIXTURE_DELTA_LEGEND);
  assert.equal(s.decision, 'promote');
  assert.equal(s.facts.method, 'paired bootstrap, 1,000 resamples');
  assert.equal(s.facts['win-rate-threshold'], '95.0%');
  assert.equal(s.facts['min-delta'], '+0.0050');
  assert.equal(s.facts.rows, '3,000');
  // No resample held a single class: nothing to say about redrawing them.
  assert.equal(s.facts.degenerate, undefined);

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

  // The metric chart: one shaded curve per model, a legend entry per model, actually drawn at a real size.
  assert.equal(s.metric.length, 1);
  const metric = s.metric[0];
  assert.ok(metric.box.width > 600 && metric.box.height > 150, `metric chart box ${JSON.stringify(metric.box)}`);
  assert.equal(metric.areas, FIXTURE_ROWS.length);
  assert.equal(metric.marks, FIXTURE_ROWS.length, 'one tall full-data mark per model');
  assert.ok(metric.texts.includes('resamples per 0.0017'), `count axis named in ${JSON.stringify(metric.texts)}`);
  for (const name of FIXTURE_LEGEND) assert.ok(metric.texts.includes(name), `legend entry ${name} in ${JSON.stringify(metric.texts)}`);
  assert.ok(metric.texts.includes('ROC AUC over 1000 bootstrap resamples'), JSON.stringify(metric.texts));

  // One paired-difference chart per candidate, in record order: bars, the min Δ line right of zero, the
  // win rate and the mean difference written with the record's numbers.
  assert.deepEqual(
    s.deltas.map((d) => d.model),
    FIXTURE_ROWS.filter((r) => r.key !== 'production').map((r) => r.key),
  );
  s.deltas.forEach((d, i) => {
    assert.ok(d.box.width > 300 && d.box.height > 100, `delta chart ${i} box ${JSON.stringify(d.box)}`);
    // On the shared scale a narrow distribution (logreg_plus_f5: differences within about 0.004) covers
    // fewer pixels, so it gets fewer (at least 8, at least 3 px wide) bars than the broad ones.
    assert.ok(d.bars >= FIXTURE_MIN_BARS[i], `delta chart ${i} has ${d.bars} bars`);
    assert.ok(d.min > d.zero, `min Δ line (${d.min}) right of zero (${d.zero})`);
    assert.ok(d.texts.includes('min \u0394 +0.0050'), JSON.stringify(d.texts));
    assert.ok(d.texts.includes(FIXTURE_WIN_LABELS[i]), `${FIXTURE_WIN_LABELS[i]} in ${JSON.stringify(d.texts)}`);
    assert.ok(d.texts.includes(FIXTURE_MEAN_LABELS[i]), `${FIXTURE_MEAN_LABELS[i]} in ${JSON.stringify(d.texts)}`);
    assert.ok(d.yName, `count axis named "resamples" in ${JSON.stringify(d.texts)}`);
    // One shared horizontal scale: every panel has the first panel's ticks (including 0).
    assert.ok(d.ticks.includes('0') && d.ticks.length >= 4, JSON.stringify(d.ticks));
    assert.deepEqual(d.ticks, s.deltas[0].ticks, `panel ${i} has the same x ticks as panel 0`);
  });
}

/** Computed colours that prove which palette is in force: the page, a "better" bar of the first delta chart, the text. */
export async function themeColours(page: Page | Frame): Promise<{ page: string; win: string; text: string }> {
  return page.evaluate(`(() => {
    const box = document.querySelector('[data-chart-box="delta-distribution"]');
    const svg = [...box.querySelectorAll('svg')].find((s) => s.getBoundingClientRect().width > 0);
    const fills = [...svg.querySelectorAll('path')].map((p) => getComputedStyle(p).fill);
    const win = ['rgb(16, 124, 16)', 'rgb(84, 176, 84)'].filter((c) => fills.includes(c));
    return {
      page: getComputedStyle(document.body).backgroundColor,
      win: win.length === 1 ? win[0] : 'ambiguous: ' + win.join(' and '),
      text: getComputedStyle(document.querySelector('[data-testid="decision-sentence"]')).color,
    };
  })()`);
}

export const LIGHT_COLOURS = { page: 'rgb(248, 248, 248)', win: 'rgb(16, 124, 16)', text: 'rgba(0, 0, 0, 0.9)' };
export const DARK_COLOURS = { page: 'rgb(27, 26, 25)', win: 'rgb(84, 176, 84)', text: 'rgba(255, 255, 255, 0.87)' };
