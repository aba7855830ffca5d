/**
 * The report as HTML strings: `renderReportBody` (the part the build results tab puts in its page) and
 * `renderReportHtml` (a complete, self-contained page the demo writes to disk). Every value taken from the
 * record is escaped; links are http(s) only (see `safeUrl`).
 */
import {
  DARK_PALETTE,
  deltaChart,
  deltaZonesShown,
  escapeXml as esc,
  LIGHT_PALETTE,
  metricDistributionChart,
  SERIES_COLOURS,
  type ChartOptions,
  type ChartSpec,
} from './charts';
import { renderChartSvg } from './render-svg';
import {
  decisionReason,
  decisionSentence,
  formatInteger,
  formatInterval,
  formatPercent,
  formatPValue,
  MAX_UNJUDGED_ROWS,
  metricFormat,
  metricLabel,
  metricWithOrientation,
  modelRole,
  problemLabel,
  viewFormat,
  type MetricFormat,
} from './format';
import { readEvaluationRecord, type EvaluationView, type GuardrailView, type ModelView, type SliceReportView, type SliceView } from './record';
import { REPORT_CSS } from './styles';

const DASH = '\u2014';

function confidenceLabel(view: EvaluationView): string {
  return view.confidence !== undefined ? `${Math.round(view.confidence * 1000) / 10}% CI` : 'CI';
}

function shortRunId(id: string): string {
  return id.length > 12 ? id.slice(0, 8) : id;
}

function colourClass(m: ModelView, view: EvaluationView): string {
  if (m.isBaseline) return 'eval-bg-baseline';
  const index = view.models.filter((x) => !x.isBaseline).indexOf(m);
  return `eval-bg-series${index % SERIES_COLOURS}`;
}

/** Why a resample was drawn again, per problem type (the engine's rule, docs/engine-metrics.md). */
const DEGENERATE_WORDS: Record<string, string> = {
  binaryClassification: 'they held only one class',
  regression: 'they held a single label value',
  multiclass: 'a class had no weight in them',
};

/** "3: setosa (50), versicolor (48), virginica (52)": K, the class values when known, the rows of each. */
function classesText(view: EvaluationView): string | undefined {
  const k = view.classes ?? view.classNames?.length ?? view.classCounts?.length;
  if (k === undefined) return undefined;
  const names = view.classNames ?? Array.from({ length: k }, (_, i) => `class ${i}`);
  const counts = view.classCounts?.length === names.length ? view.classCounts : undefined;
  return `${formatInteger(k)}: ${names.map((n, i) => (counts ? `${n} (${formatInteger(counts[i])})` : n)).join(', ')}`;
}

function facts(view: EvaluationView): string {
  const items: Array<[string, string, string]> = [];
  const add = (key: string, label: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') items.push([key, label, value]);
  };
  const fmt = viewFormat(view);
  if (view.problemType !== undefined) add('problem', 'Problem', problemLabel(view.problemType));
  add('metric', 'Metric', metricWithOrientation(view.metric, view.higherIsBetter));
  add('classes', 'Classes', classesText(view));
  add(
    'method',
    'Method',
    view.method === 'bootstrap'
      ? `paired bootstrap${view.resamples !== undefined ? `, ${formatInteger(view.resamples)} resamples` : ''}`
      : view.method === 'delong'
        ? 'DeLong test'
        : view.method,
  );
  add('seed', 'Seed', view.seed);
  add('confidence', 'Confidence', view.confidence !== undefined ? formatPercent(view.confidence) : undefined);
  add('win-rate-threshold', 'Win rate needed', view.winRateThreshold !== undefined ? formatPercent(view.winRateThreshold) : undefined);
  add('min-delta', 'Min \u0394', view.minDelta !== undefined ? fmt.delta(view.minDelta) : undefined);
  add('min-metric', view.higherIsBetter ? 'Min metric' : 'Max metric', view.minMetric !== undefined ? fmt.value(view.minMetric) : undefined);
  add('rows', 'Rows', view.n !== undefined ? formatInteger(view.n) : undefined);
  // Regression and multiclass records carry 0 positives: their classes are said above instead.
  const binary = view.problemType === undefined || view.problemType === 'binaryClassification';
  if (binary) add('positives', 'Positives', view.positives !== undefined ? formatInteger(view.positives) : undefined);
  // A resample the metric cannot score is drawn again; worth a word only when it happened.
  if (view.method === 'bootstrap' && view.degenerateResamples !== undefined && view.degenerateResamples > 0) {
    add('degenerate', 'Resamples drawn again', `${formatInteger(view.degenerateResamples)} (${DEGENERATE_WORDS[view.problemType ?? 'binaryClassification']})`);
  }
  return `<dl class="eval-facts">${items
    .map(([key, label, value]) => `<div data-fact="${key}"><dt>${esc(label)}</dt><dd>${esc(value)}</dd></div>`)
    .join('')}</dl>`;
}

/** The headline, with the promoted model's MLflow run id linked to the run when the record has its URL. */
function headlineHtml(view: EvaluationView): string {
  const best = view.decision === 'promote' ? view.models.find((m) => m.isBest) : undefined;
  // A placeholder keeps the sentence's words in one place (format.ts) while the run id becomes a link here.
  const MARK = '\u0000run\u0000';
  const text = decisionSentence(view, () => MARK);
  const run = best?.runId
    ? ` (MLflow run ${
        best.runUrl
          ? `<a href="${esc(best.runUrl)}" target="_blank" rel="noopener noreferrer" title="${esc(best.runId)}" data-testid="headline-run">${esc(shortRunId(best.runId))}</a>`
          : `<span title="${esc(best.runId)}" data-testid="headline-run">${esc(shortRunId(best.runId))}</span>`
      })`
    : '';
  return text.split(MARK).map(esc).join(run);
}

function decisionCard(view: EvaluationView): string {
  const label =
    view.decision === 'promote' && view.outcome === 'challenger'
      ? 'Challenger'
      : view.dryRun && view.decision === 'promote'
        ? 'Would promote'
        : { promote: 'Promoted', keep: 'Kept', none: 'No change' }[view.decision];
  const reason = decisionReason(view);
  return `<section class="eval-card eval-decision eval-decision--${view.decision}" data-testid="decision" data-decision="${view.decision}">
<span class="eval-pill">${label}</span>
<div><p class="eval-sentence" data-testid="decision-sentence">${headlineHtml(view)}</p>${reason ? `<p class="eval-reason" data-testid="decision-reason">${esc(reason)}</p>` : ''}${facts(view)}</div>
</section>`;
}

function runCell(m: ModelView): string {
  if (m.runUrl)
    return `<a href="${esc(m.runUrl)}" target="_blank" rel="noopener noreferrer" title="${esc(m.runId ?? m.runUrl)}">${esc(m.runId ? shortRunId(m.runId) : 'run')}</a>`;
  if (m.runId) return `<span title="${esc(m.runId)}">${esc(shortRunId(m.runId))}</span>`;
  return `<span class="eval-dim">${DASH}</span>`;
}

function signClass(v: number): string {
  return v > 0 ? 'eval-pos' : v < 0 ? 'eval-neg' : '';
}

/** Header of the gate's interval: "Δ lower 95.0% bound" (the one-sided bound at the win-rate level). */
function gateLabel(view: EvaluationView): string {
  return view.winRateThreshold !== undefined ? `\u0394 lower ${formatPercent(view.winRateThreshold)} bound` : '\u0394 gate bound';
}

/** " > min Δ" or " ≤ min Δ": which side of the gate the bound falls. */
function gateMark(bound: number, view: EvaluationView): string {
  if (view.minDelta === undefined) return '';
  return `<span class="eval-dim"> ${bound > view.minDelta ? '&gt;' : '\u2264'} min \u0394</span>`;
}

function modelsTable(view: EvaluationView): string {
  const fmt = viewFormat(view);
  const delong = view.models.some((m) => m.vsBaseline?.pValue !== undefined);
  const ci = confidenceLabel(view);
  const head = [
    '<th>Model</th>',
    '<th>Role</th>',
    '<th>Version</th>',
    '<th>Run</th>',
    `<th class="num">${esc(metricLabel(view.metric))}</th>`,
    `<th class="num">${esc(ci)}</th>`,
    '<th class="num">Win rate vs production</th>',
    '<th class="num">Mean \u0394</th>',
    `<th class="num">\u0394 ${esc(ci)}</th>`,
    `<th class="num">${esc(gateLabel(view))}</th>`,
    delong ? '<th class="num">p-value</th>' : '',
  ].join('');
  const rows = view.models
    .map((m) => {
      const role = modelRole(m, view);
      const vb = m.vsBaseline;
      const cell = (col: string, html: string, cls = 'num'): string => `<td class="${cls}" data-col="${col}">${html}</td>`;
      const none = `<span class="eval-dim">${DASH}</span>`;
      return `<tr data-model="${esc(m.name)}">${[
        cell('name', `<span class="eval-name" title="${esc(m.name)}"><i class="eval-swatch ${colourClass(m, view)}"></i>${esc(m.label)}</span>`, ''),
        cell('role', `<span class="eval-badge eval-badge--${role.replace(' ', '-')}">${esc(role)}</span>`, ''),
        cell(
          'version',
          m.version ? (m.versionUrl ? `<a href="${esc(m.versionUrl)}" target="_blank" rel="noopener noreferrer">${esc(m.version)}</a>` : esc(m.version)) : none,
          '',
        ),
        cell('run', runCell(m), ''),
        cell('estimate', esc(fmt.value(m.estimate))),
        cell('ci', m.ci ? esc(formatInterval(m.ci, fmt.value)) : none),
        cell('win-rate', vb ? esc(formatPercent(vb.winRate)) : none),
        vb ? `<td class="num ${signClass(vb.meanDelta)}" data-col="mean-delta">${esc(fmt.delta(vb.meanDelta))}</td>` : cell('mean-delta', none),
        cell('delta-ci', vb?.deltaCi ? esc(formatInterval(vb.deltaCi, fmt.delta)) : none),
        cell('gate-bound', vb?.gateBound !== undefined ? `${esc(fmt.delta(vb.gateBound))}${gateMark(vb.gateBound, view)}` : none),
        delong ? cell('p-value', vb?.pValue !== undefined ? esc(formatPValue(vb.pValue)) : none) : '',
      ].join('')}</tr>`;
    })
    .join('\n');
  const orientation = view.higherIsBetter ? 'candidate \u2212 production' : 'production \u2212 candidate';
  return `<section class="eval-card" data-testid="models">
<h2>Models</h2>
<p class="eval-hint">${esc(metricLabel(view.metric))} on the full evaluation set with its ${esc(ci)}. Win rate: share of ${
    view.method === 'delong' ? 'the normal approximation' : 'resamples'
  } in which the candidate improves on production by more than min \u0394 (ties are not wins). ${esc(gateLabel(view))}: the interval the gate used, the one-sided lower bound of \u0394 at the win-rate level; a candidate is promoted only when it is above min \u0394. \u0394 = ${orientation}, so positive always means the candidate is better.</p>
<div class="eval-table-wrap"><table class="eval-models"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></div>
</section>`;
}

/** A verdict as a badge: passes, fails, not judged. */
function verdictBadge(passed: boolean | undefined): string {
  if (passed === undefined) return '<span class="eval-badge">not judged</span>';
  return passed ? '<span class="eval-badge eval-badge--promoted">passes</span>' : '<span class="eval-badge eval-neg">fails</span>';
}

function numCell(col: string, text: string, extraClass = ''): string {
  return `<td class="num${extraClass ? ` ${extraClass}` : ''}" data-col="${col}">${esc(text)}</td>`;
}

/** The label of the model a guardrail or slice check judged (the best candidate). */
function judgedLabel(view: EvaluationView, name: string | undefined): string {
  const key = name ?? view.best;
  return view.models.find((m) => m.name === key)?.label ?? key ?? 'the best candidate';
}

/** One guardrail: a second metric the best candidate may not worsen by more than its allowance. */
function guardrailCard(view: EvaluationView, g: GuardrailView): string {
  const fmt = metricFormat(g.metric, [g.baselineEstimate, g.candidateEstimate], [g.maxWorsening, g.meanDelta, ...(g.deltaCi ?? [])]);
  const ci = confidenceLabel(view);
  const head = [
    'Candidate',
    'Allowed worsening',
    'Production',
    'Candidate value',
    'Mean \u0394',
    `\u0394 ${ci}`,
    'Resamples over the allowance',
    'Allowed share',
    'Verdict',
  ];
  const over = `${formatPercent(g.exceedShare)}${g.exceeded !== undefined ? ` (${formatInteger(g.exceeded)})` : ''}`;
  const row = [
    `<td data-col="candidate">${esc(judgedLabel(view, g.candidate))}</td>`,
    numCell('allowance', fmt.amount(g.maxWorsening)),
    numCell('baseline', fmt.value(g.baselineEstimate)),
    numCell('candidate', fmt.value(g.candidateEstimate)),
    numCell('mean-delta', fmt.delta(g.meanDelta), signClass(g.meanDelta)),
    numCell('delta-ci', g.deltaCi ? formatInterval(g.deltaCi, fmt.delta) : DASH),
    numCell('over', over),
    numCell('allowed', `< ${formatPercent(g.allowedShare)}`),
    `<td data-col="verdict">${verdictBadge(g.passed)}</td>`,
  ].join('');
  return `<section class="eval-card" data-testid="guardrail" data-metric="${esc(g.metric)}">
<h2>Guardrail: ${esc(metricWithOrientation(g.metric, g.higherIsBetter))}</h2>
<p class="eval-hint">The candidate may worsen ${esc(metricLabel(g.metric))} by at most ${esc(fmt.amount(g.maxWorsening))}: it passes when the worsening exceeds that in fewer than ${esc(formatPercent(g.allowedShare))} of the paired resamples (the same resamples as the primary metric). \u0394 is oriented: positive means the candidate is better.</p>
<div class="eval-table-wrap"><table class="eval-models"><thead><tr>${head.map((h, i) => `<th${i === 0 ? '' : ' class="num"'}>${esc(h)}</th>`).join('')}</tr></thead><tbody>
<tr data-guardrail="${esc(g.metric)}">${row}</tr>
</tbody></table></div>
</section>`;
}

function sliceRow(s: SliceView, fmt: MetricFormat): string {
  const name = `<td data-col="slice">${esc(s.name)}</td>`;
  const rows = numCell('rows', formatInteger(s.rows));
  if (!s.judged) {
    return `<tr data-slice="${esc(s.name)}" data-judged="false">${name}${rows}<td class="eval-dim" data-col="note" colspan="5">${esc(s.note ?? 'not judged')}</td><td data-col="verdict">${verdictBadge(undefined)}</td></tr>`;
  }
  const opt = (v: number | undefined, f: (x: number) => string): string => (v !== undefined ? f(v) : DASH);
  return `<tr data-slice="${esc(s.name)}" data-judged="true">${[
    name,
    rows,
    numCell('baseline', opt(s.baselineEstimate, fmt.value)),
    numCell('candidate', opt(s.candidateEstimate, fmt.value)),
    numCell('mean-delta', opt(s.meanDelta, fmt.delta), signClass(s.meanDelta ?? 0)),
    numCell('delta-ci', s.deltaCi ? formatInterval(s.deltaCi, fmt.delta) : DASH),
    numCell('worse', opt(s.worseShare, formatPercent)),
    `<td data-col="verdict">${verdictBadge(s.passed)}</td>`,
  ].join('')}</tr>`;
}

/** One slice column: its slices, judged ones worst mean Δ first, then the ones not judged with why. */
function sliceCard(view: EvaluationView, r: SliceReportView): string {
  const fmt = viewFormat(view);
  const ci = confidenceLabel(view);
  const limit = view.winRateThreshold !== undefined ? ` (fails at \u2265 ${formatPercent(view.winRateThreshold)})` : '';
  const head = ['Slice', 'Rows', 'Production', 'Candidate', 'Mean \u0394', `\u0394 ${ci}`, `Resamples worse${limit}`, 'Verdict'];
  const judged = r.slices.filter((s) => s.judged).length;
  // Every judged slice (at most the cap) is listed; of the others (a column of ids can have thousands), the largest.
  const shown = r.slices.filter((s, i) => s.judged || i < judged + MAX_UNJUDGED_ROWS);
  const hidden = r.slices.length - shown.length;
  const rules = [
    r.minRows !== undefined ? `slices of at least ${formatInteger(r.minRows)} rows are judged` : undefined,
    r.maxJudged !== undefined ? `at most the ${formatInteger(r.maxJudged)} largest` : undefined,
    r.tolerance !== undefined
      ? `a slice fails when ${metricLabel(view.metric)} worsens by more than ${fmt.amount(r.tolerance)} in at least the win rate's share of its resamples`
      : undefined,
  ].filter((x): x is string => x !== undefined);
  const capped = r.capped
    ? `<p class="eval-hint" data-testid="slices-capped">Capped: more slices had enough rows than the cap on judged slices${r.maxJudged !== undefined ? ` (${formatInteger(r.maxJudged)})` : ''}; the slices beyond the largest are listed as not judged.</p>`
    : '';
  return `<section class="eval-card" data-testid="slices" data-column="${esc(r.column)}">
<h2>Slices of ${esc(r.column)}: ${r.passed ? 'passes' : 'fails'}</h2>
<p class="eval-hint">${esc(metricWithOrientation(view.metric, view.higherIsBetter))} of ${esc(judgedLabel(view, r.candidate))} against production within each slice; ${formatInteger(judged)} of ${formatInteger(r.slices.length)} slices judged${rules.length ? `: ${esc(rules.join('; '))}` : ''}. \u0394 is oriented: positive means the candidate is better.</p>
${capped}<div class="eval-table-wrap"><table class="eval-models"><thead><tr>${head.map((h, i) => `<th${i === 0 ? '' : ' class="num"'}>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${shown.map((s) => sliceRow(s, fmt)).join('\n')}
</tbody></table></div>${
    hidden > 0
      ? `\n<p class="eval-hint" data-testid="slices-more">${formatInteger(hidden)} more slices not judged, smaller than those listed, are not shown.</p>`
      : ''
  }
</section>`;
}

/** The guardrail and slice cards of a v2 record, each on its own line; '' for a record without either (every v1 record). */
function checksCards(view: EvaluationView): string {
  return [...view.guardrails.map((g) => guardrailCard(view, g)), ...view.sliceReports.map((r) => sliceCard(view, r))].map((c) => `\n${c}`).join('');
}

/** Sizes the report lays its charts out for (the static SVGs scale to the card's width). */
export const METRIC_CHART_SIZE = { width: 1100, height: 320, bins: 48 } satisfies ChartOptions;
export const DELTA_CHART_SIZE = { width: 560, height: 230, bins: 40 } satisfies ChartOptions;

/**
 * One chart's place on the page. Static (`svg`): the chart rendered server-side twice, in the light and
 * the dark palette, and the stylesheet shows the one of the page's theme. Live: an empty box of the
 * chart's height that the build results tab fills with a live ECharts chart (see ui/src/results-tab.ts).
 */
function chartBox(
  mode: ChartMode,
  kind: ChartSpec['kind'],
  model: string | undefined,
  build: (palette: typeof LIGHT_PALETTE) => ChartSpec | undefined,
): string {
  const light = build(LIGHT_PALETTE);
  if (!light) return '';
  const attrs = `class="eval-chart-box" data-chart-box="${kind}"${model !== undefined ? ` data-model="${esc(model)}"` : ''}`;
  if (mode === 'live') return `<div ${attrs} data-live style="height:${light.height}px"></div>`;
  const dark = build(DARK_PALETTE) as ChartSpec;
  return `<div ${attrs}><div class="eval-only-light">${renderChartSvg(light)}</div><div class="eval-only-dark">${renderChartSvg(dark)}</div></div>`;
}

function chartsCards(view: EvaluationView, mode: ChartMode): string {
  const label = metricLabel(view.metric);
  const metricSvg = chartBox(mode, 'metric-distribution', undefined, (p) => metricDistributionChart(view, p, METRIC_CHART_SIZE));
  const metricCard = `<section class="eval-card" data-testid="metric-chart">
<h2>${esc(label)} across resamples</h2>
<p class="eval-hint">Each curve is one model's ${esc(label)} over the ${
    view.method === 'bootstrap' ? 'bootstrap resamples (the same rows for every model)' : 'normal approximation of its interval'
  }; production is dashed. ${
    view.method === 'bootstrap' ? 'The vertical axis counts resamples per bar, in bars shared by all models. ' : ''
  }The vertical line ending in a dot, in each model\u2019s colour, is that model\u2019s value on the full data.${mode === 'live' ? ' Click a name in the legend to hide or show its curve.' : ''}</p>
${metricSvg || `<p class="eval-empty">This record holds no per-resample distribution or interval to draw.</p>`}
</section>`;

  const candidates = view.models.filter((m) => !m.isBaseline);
  let deltaBody: string;
  if (!view.models.some((m) => m.isBaseline)) {
    deltaBody = `<p class="eval-empty">There is no production model, so there is no paired difference to show.</p>`;
  } else if (candidates.length === 0) {
    deltaBody = `<p class="eval-empty">There is no candidate to compare with production.</p>`;
  } else {
    const panels = candidates.map((m) => chartBox(mode, 'delta-distribution', m.name, (p) => deltaChart(view, m, p, DELTA_CHART_SIZE))).filter((s) => s !== '');
    deltaBody = panels.length
      ? `<div class="eval-deltas">${panels.map((p) => `<div>${p}</div>`).join('')}</div>
${deltaLegend(view)}`
      : `<p class="eval-empty">This record holds no paired differences to draw.</p>`;
  }
  const deltaCard = `<section class="eval-card" data-testid="delta-chart">
<h2>Paired difference vs production</h2>
<p class="eval-hint">${
    view.method === 'bootstrap'
      ? view.higherIsBetter
        ? 'For every resample, the candidate\u2019s metric minus production\u2019s on the same rows.'
        : 'For every resample, production\u2019s metric minus the candidate\u2019s on the same rows (lower is better, so positive means the candidate is better).'
      : 'Normal approximation of the difference from DeLong\u2019s variance.'
  } ${
    (view.minDelta ?? 0) > 0
      ? 'The win rate is the share strictly right of the dashed line, the minimum improvement required.'
      : 'The win rate is the share strictly right of 0 (no minimum improvement is required; a tie is not a win).'
  } All panels share one horizontal scale; the vertical axis counts resamples per bar.</p>
${deltaBody}
</section>`;
  return metricCard + '\n' + deltaCard;
}

/** The colour key of the paired-difference charts: only the zones that the charts actually show. */
function deltaLegend(view: EvaluationView): string {
  const zones = deltaZonesShown(view);
  const minDelta = view.minDelta ?? 0;
  const formatDelta = viewFormat(view).delta;
  const items: Array<[string, string, string]> = [];
  if (zones.worse) items.push(['worse', 'loss', 'worse than production']);
  if (zones.notWin)
    items.push(['not-win', 'neutral', minDelta > 0 ? `better by at most min \u0394 (${formatDelta(minDelta)}): not a win` : 'no difference: a tie, not a win']);
  if (zones.win)
    items.push(['win', 'win', minDelta > 0 ? `better by more than min \u0394 (${formatDelta(minDelta)}): a win` : 'better than production: a win']);
  if (items.length === 0) return '';
  return `<div class="eval-legend" data-testid="delta-legend">${items.map(([key, role, text]) => `<span data-zone="${key}"><i class="eval-bg-${role}"></i>${esc(text)}</span>`).join('')}</div>`;
}

function linksCard(view: EvaluationView): string {
  if (view.context.links.length === 0) return '';
  return `<section class="eval-card eval-links" data-testid="links"><h2>Links</h2><ul>${view.context.links
    .map((l) => `<li><a href="${esc(l.url)}" target="_blank" rel="noopener noreferrer">${esc(l.label)}</a></li>`)
    .join('')}</ul></section>`;
}

function skippedCard(view: EvaluationView): string {
  if (view.skipped.length === 0) return '';
  return `<section class="eval-card" data-testid="skipped"><h2>Skipped candidates</h2><p class="eval-hint">Runs tagged as candidates that could not be evaluated.</p><ul class="eval-skipped">${view.skipped
    .map((s) => `<li><code>${esc(s.runId)}</code>: ${esc(s.reason)}</li>`)
    .join('')}</ul></section>`;
}

const REGISTRY_LABELS: Record<string, string> = { 'unity-catalog': 'Unity Catalog', workspace: 'Workspace Model Registry' };

function warningsCard(view: EvaluationView): string {
  if (view.warnings.length === 0) return '';
  return `<section class="eval-card eval-warnings" data-testid="warnings"><h2>Record warnings</h2><ul>${view.warnings
    .map((w) => `<li>${esc(w)}</li>`)
    .join('')}</ul></section>`;
}

/** `svg`: charts rendered server-side (static report); `live`: boxes the build results tab draws into. */
export type ChartMode = 'svg' | 'live';

export interface BodyOptions {
  /** Extra HTML placed at the right of the header (the static report's theme switch). */
  headerExtra?: string;
  /** How charts are placed (default `svg`). */
  charts?: ChartMode;
}

/** The report's content (no `<html>`/`<head>`): header, decision, models table, charts, links, warnings. */
export function renderReportBody(view: EvaluationView, opts: BodyOptions = {}): string {
  const ctx = view.context;
  const build = ctx.buildNumber ?? ctx.buildId;
  const sub = [
    ctx.modelName,
    ctx.registry ? (REGISTRY_LABELS[ctx.registry] ?? ctx.registry) : undefined,
    build ? `build ${build}` : undefined,
    view.dryRun ? 'dry run' : undefined,
  ].filter((s): s is string => !!s);
  return `<div class="eval-root" data-testid="report">
<header class="eval-header"><div><h1>Model evaluation</h1>${sub.length ? `<div class="eval-sub" data-testid="subtitle">${esc(sub.join(' \u00b7 '))}</div>` : ''}</div>${opts.headerExtra ?? ''}</header>
${decisionCard(view)}
${modelsTable(view)}${checksCards(view)}
${chartsCards(view, opts.charts ?? 'svg')}
${skippedCard(view)}
${linksCard(view)}
${warningsCard(view)}
</div>`;
}

/** Shown in place of the report when the record cannot be read or fetched. */
export function renderErrorBody(message: string): string {
  return `<div class="eval-root" data-testid="report-error"><header class="eval-header"><h1>Model evaluation</h1></header><section class="eval-card eval-error"><p class="eval-sentence">The evaluation record could not be shown.</p><p data-testid="error-message">${esc(message)}</p></section></div>`;
}

// Inline script of the static report: a light / dark / auto switch. `auto` removes the attribute so the
// stylesheet's prefers-color-scheme rule applies.
const THEME_SCRIPT = `(function(){var m=['auto','light','dark'],i=0,b=document.getElementById('eval-theme');if(!b)return;function s(){var t=m[i];if(t==='auto')document.documentElement.removeAttribute('data-theme');else document.documentElement.setAttribute('data-theme',t);b.textContent='Theme: '+t;}b.addEventListener('click',function(){i=(i+1)%m.length;s();});var q=/[?&]theme=(light|dark)/.exec(location.search);if(q){i=m.indexOf(q[1]);}s();})();`;

export interface ReportHtmlOptions {
  /** Page title; default "Model evaluation – <model name>". */
  title?: string;
}

/**
 * A complete, self-contained HTML page (inline CSS, the charts as SVG rendered by ECharts in both palettes,
 * and a small theme-switch script; no external resource) for a decision record.
 * @throws RecordError when the record cannot be read.
 */
export function renderReportHtml(record: unknown, opts: ReportHtmlOptions = {}): string {
  const view = readEvaluationRecord(record);
  const title = opts.title ?? `Model evaluation${view.context.modelName ? ` \u2013 ${view.context.modelName}` : ''}`;
  const toggle = `<button type="button" class="eval-toggle" id="eval-theme">Theme: auto</button>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(title)}</title>
<link rel="icon" href="data:,">
<style>
${REPORT_CSS}
</style>
</head>
<body>
${renderReportBody(view, { headerExtra: toggle })}
<script>${THEME_SCRIPT}</script>
</body>
</html>
`;
}
