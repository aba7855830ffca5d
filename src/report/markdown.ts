/**
 * Markdown of a decision record's guardrails and slice columns, for the Evaluate & Promote build summary
 * (src/tasks/evaluate/report.ts) and any other Markdown writer of a record (the CLI's --markdown): a table per
 * guardrail and per slice column, with the same verdicts as the HTML report. Every record text goes through
 * `mdCell`. Plain ASCII numbers (toFixed, hyphen-minus) as the summary's other tables.
 */
import { checksVerdict, MAX_UNJUDGED_ROWS, metricDecimals, metricLabel, metricWithOrientation } from './format';
import type { EvaluationView, GuardrailView, SliceReportView } from './record';

function fmt(x: number | undefined, digits = 4): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

function pct(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(1)}%`;
}

/** Most slices not judged listed in Markdown (the tab lists more); judged slices (at most 50 a column) are always listed. */
export const SUMMARY_UNJUDGED_SLICES = 20;

function signedDigits(x: number, digits: number): string {
  return `${x >= 0 ? '+' : ''}${fmt(x, digits)}`;
}

function modelName(view: EvaluationView, key: string | undefined): string {
  return mdCell(view.models.find((m) => m.name === key)?.label ?? key ?? 'the best candidate');
}

/** One table per guardrail: the best candidate's worsening of a second metric against its allowance. */
function guardrailLines(view: EvaluationView, g: GuardrailView, confidence: string): string[] {
  const d = metricDecimals(g.metric, [g.baselineEstimate, g.candidateEstimate], [g.maxWorsening, g.meanDelta, ...(g.deltaCi ?? [])]);
  const ci = g.deltaCi ? `[${signedDigits(g.deltaCi[0], d.delta)}, ${signedDigits(g.deltaCi[1], d.delta)}]` : '–';
  const over = `${pct(g.exceedShare)}${g.exceeded !== undefined ? ` (${g.exceeded})` : ''}`;
  return [
    `Guardrail on ${mdCell(metricWithOrientation(g.metric, g.higherIsBetter))}: may worsen by at most ${fmt(g.maxWorsening, d.delta)} in fewer than ${pct(g.allowedShare)} of the resamples.`,
    '',
    `| Candidate | Production | Candidate value | Mean improvement | Improvement ${confidence} interval | Resamples over the allowance | Allowed | Verdict |`,
    '|---|---|---|---|---|---|---|---|',
    `| ${modelName(view, g.candidate)} | ${fmt(g.baselineEstimate, d.value)} | ${fmt(g.candidateEstimate, d.value)} | ${signedDigits(g.meanDelta, d.delta)} | ${ci} | ${over} | < ${pct(g.allowedShare)} | ${g.passed ? 'passes' : '**fails**'} |`,
    '',
  ];
}

/** One table per slice column: judged slices worst first, then (at most SUMMARY_UNJUDGED_SLICES of) the others with why. */
function sliceLines(view: EvaluationView, r: SliceReportView, confidence: string): string[] {
  const values = r.slices.flatMap((s) => [s.baselineEstimate, s.candidateEstimate]).filter((v): v is number => v !== undefined);
  const deltas = r.slices.flatMap((s) => [s.meanDelta, ...(s.deltaCi ?? [])]).filter((v): v is number => v !== undefined);
  const d = metricDecimals(view.metric, [...view.models.map((m) => m.estimate), ...values], deltas);
  const judged = r.slices.filter((s) => s.judged);
  const others = r.slices.filter((s) => !s.judged);
  const rules = [
    r.minRows !== undefined ? `at least ${r.minRows} rows` : undefined,
    r.maxJudged !== undefined ? `at most the ${r.maxJudged} largest` : undefined,
    r.tolerance !== undefined ? `tolerance ${fmt(r.tolerance, d.delta)}` : undefined,
  ].filter((x): x is string => x !== undefined);
  const lines = [
    `Slices of ${mdCell(r.column)}: ${r.passed ? 'passes' : '**fails**'}; ${judged.length} of ${r.slices.length} slices judged${rules.length ? ` (${rules.join(', ')})` : ''}${r.capped ? '; **capped**: more slices had enough rows than were judged' : ''}.`,
    '',
    `| Slice | Rows | Production | Candidate | Mean improvement | Improvement ${confidence} interval | Resamples worse | Verdict |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  const opt = (v: number | undefined, f: (x: number) => string): string => (v !== undefined ? f(v) : '–');
  for (const s of judged) {
    const ci = s.deltaCi ? `[${signedDigits(s.deltaCi[0], d.delta)}, ${signedDigits(s.deltaCi[1], d.delta)}]` : '–';
    lines.push(
      `| ${mdCell(s.name)} | ${s.rows} | ${opt(s.baselineEstimate, (x) => fmt(x, d.value))} | ${opt(s.candidateEstimate, (x) => fmt(x, d.value))} | ${opt(s.meanDelta, (x) => signedDigits(x, d.delta))} | ${ci} | ${opt(s.worseShare, pct)} | ${s.passed ? 'passes' : '**fails**'} |`,
    );
  }
  for (const s of others.slice(0, SUMMARY_UNJUDGED_SLICES))
    lines.push(`| ${mdCell(s.name)} | ${s.rows} | – | – | – | – | – | not judged: ${mdCell(s.note ?? 'no reason given')} |`);
  if (others.length > SUMMARY_UNJUDGED_SLICES) {
    lines.push(
      '',
      `${others.length - SUMMARY_UNJUDGED_SLICES} more slices not judged, smaller than those listed, are left out (the Model evaluation tab lists up to ${MAX_UNJUDGED_ROWS}).`,
    );
  }
  lines.push('');
  return lines;
}

/** Escapes text for a Markdown table cell (also neutralises HTML). */
export function mdCell(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The checks of a record in Markdown: a line with each check's verdict in words, then a table per guardrail
 * and per slice column. `confidence` is the intervals' level as written in the headers ("95%"). No lines
 * for a record without guardrails or slices (every v1 record).
 */
export function checksMarkdown(view: EvaluationView, confidence: string): string[] {
  if (view.guardrails.length === 0 && view.sliceReports.length === 0) return [];
  const lines: string[] = [`Checks of ${modelName(view, view.best)} beyond the ${mdCell(metricLabel(view.metric))} gate: ${mdCell(checksVerdict(view))}.`, ''];
  for (const g of view.guardrails) lines.push(...guardrailLines(view, g, confidence));
  for (const r of view.sliceReports) lines.push(...sliceLines(view, r, confidence));
  return lines;
}
