/**
 * "Model evaluation" build results tab: reads the decision record(s) that Evaluate & Promote attached to
 * the build and renders them with the shared report renderer (src/report): the page as HTML, the charts
 * as live Apache ECharts charts built from the same options as the static report's (tooltips, legend
 * toggles, resizing), coloured from the stylesheet's palette of the current theme.
 *
 * Outside Azure DevOps (tests, local preview) the page renders `window.__EVALUATION_RECORD__` or the JSON
 * at `?record=<same-origin url>` without touching the SDK; `?theme=light|dark` forces a theme.
 */
import * as SDK from 'azure-devops-extension-sdk';
import { CommonServiceIds, getClient, type IProjectPageService } from 'azure-devops-extension-api';
import { BuildRestClient, BuildServiceIds, type IBuildPageDataService } from 'azure-devops-extension-api/Build';
import { readEvaluationRecord, RecordError, type EvaluationView } from '../../src/report/record';
import { DELTA_CHART_SIZE, METRIC_CHART_SIZE, renderErrorBody, renderReportBody } from '../../src/report/html';
import { deltaChart, LIGHT_PALETTE, metricDistributionChart, type FixedPalette, type PaletteRole } from '../../src/report/charts';
import { echarts } from '../../src/report/echarts';
import { REPORT_CSS } from '../../src/report/styles';
import { themeFromBackground } from '../../src/report/theme';
import { EVALUATION_ATTACHMENT_TYPE } from '../../src/report/record';

declare global {
  interface Window {
    __EVALUATION_RECORD__?: unknown;
  }
}

type Theme = 'light' | 'dark';

function setTheme(theme: Theme | undefined): void {
  if (theme) document.documentElement.setAttribute('data-theme', theme);
  else document.documentElement.removeAttribute('data-theme');
  redrawCharts();
}

function installStyles(): void {
  const style = document.createElement('style');
  style.textContent = REPORT_CSS;
  document.head.appendChild(style);
}

/**
 * Theme precedence: `?theme=` (tests, previews) > the host theme the SDK applies > the OS preference
 * (the stylesheet's prefers-color-scheme rule, used when no `data-theme` is set).
 */
function followTheme(params: URLSearchParams): void {
  const forced = params.get('theme');
  if (forced === 'light' || forced === 'dark') {
    setTheme(forced);
    return;
  }
  // The SDK dispatches `themeApplied` with the host's theme variables on load and on every theme change.
  window.addEventListener('themeApplied', (ev) => {
    const vars = (ev as CustomEvent<Record<string, string> | undefined>).detail;
    setTheme(themeFromBackground(vars?.['background-color']));
  });
}

function show(html: string, state: 'rendered' | 'error'): void {
  const root = document.getElementById('root') ?? document.body;
  root.innerHTML = html;
  document.body.setAttribute('data-state', state);
}

/** The live charts on the page, each with the record view it draws. */
const charts: Array<{ box: HTMLElement; view: EvaluationView; chart: ReturnType<typeof echarts.init> }> = [];

/**
 * The chart palette of the theme in force, read from the stylesheet's `--eval-c-*` variables, so the
 * charts always match the table swatches and follow `data-theme` and the OS preference alike.
 */
function paletteFromCss(): FixedPalette {
  const css = getComputedStyle(document.documentElement);
  const read = (name: string, fallback: string): string => css.getPropertyValue(`--eval-c-${name}`).trim() || fallback;
  const roles: PaletteRole[] = ['text', 'muted', 'axis', 'grid', 'baseline', 'win', 'loss', 'neutral', 'threshold', 'surface'];
  const palette = { series: LIGHT_PALETTE.series.map((c, i) => read(`series${i}`, c)) } as FixedPalette;
  for (const role of roles) palette[role] = read(role, LIGHT_PALETTE[role]);
  return palette;
}

function optionFor(box: HTMLElement, view: EvaluationView, palette: FixedPalette) {
  // Laid out for the box's actual width, so the axis gets as many ticks as fit.
  const width = box.clientWidth || undefined;
  if (box.dataset.chartBox === 'metric-distribution')
    return metricDistributionChart(view, palette, { ...METRIC_CHART_SIZE, width: width ?? METRIC_CHART_SIZE.width })?.option;
  const m = view.models.find((x) => x.name === box.dataset.model);
  return m ? deltaChart(view, m, palette, { ...DELTA_CHART_SIZE, width: width ?? DELTA_CHART_SIZE.width })?.option : undefined;
}

function drawCharts(reports: HTMLElement[], views: EvaluationView[]): void {
  const palette = paletteFromCss();
  reports.forEach((report, i) => {
    for (const box of report.querySelectorAll<HTMLElement>('[data-chart-box][data-live]')) {
      const option = optionFor(box, views[i], palette);
      if (!option) continue;
      const chart = echarts.init(box, null, { renderer: 'svg' });
      chart.setOption(option);
      charts.push({ box, view: views[i], chart });
    }
  });
}

/** Theme switch or resize: same data, the current palette and width (`notMerge`, so no colour of an old theme survives). */
function redrawCharts(): void {
  if (charts.length === 0) return;
  const palette = paletteFromCss();
  for (const c of charts) {
    const option = optionFor(c.box, c.view, palette);
    if (option) c.chart.setOption(option, true);
  }
}

// A new width changes how many axis ticks fit: resize, then lay the options out again for it.
window.addEventListener('resize', () => {
  for (const c of charts) c.chart.resize();
  redrawCharts();
});

function showRecords(records: unknown[]): void {
  // Several Evaluate & Promote steps (or retried jobs) each attach a record: show them all, in order.
  const views = records.map((r) => readEvaluationRecord(r));
  show(views.map((v) => renderReportBody(v, { charts: 'live' })).join('\n'), 'rendered');
  const root = document.getElementById('root') ?? document.body;
  drawCharts([...root.querySelectorAll<HTMLElement>('[data-testid="report"]')], views);
  // Drawn synchronously by then; the attribute tells a watcher (and the UI tests) how many.
  document.body.setAttribute('data-charts', String(charts.length));
}

function errorMessage(e: unknown): string {
  if (e instanceof RecordError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The record given to a standalone page, or undefined when the page runs inside Azure DevOps. */
async function standaloneRecord(params: URLSearchParams): Promise<unknown[] | undefined> {
  if (window.__EVALUATION_RECORD__ !== undefined) {
    const r = window.__EVALUATION_RECORD__;
    return [typeof r === 'string' ? JSON.parse(r) : r];
  }
  const src = params.get('record');
  if (src === null) return undefined;
  const url = new URL(src, window.location.href);
  // A crafted link must not make the page fetch and vouch for someone else's data.
  if (url.origin !== window.location.origin) throw new Error(`?record must be a same-origin URL, got ${url.origin}.`);
  const res = await fetch(url.href, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`Could not fetch ${url.pathname}: HTTP ${res.status}.`);
  return [JSON.parse(await res.text())];
}

const ATTACHMENT_HREF = /([a-f0-9-]+)\/_apis\/build\/builds\/(\d+)\/([a-f0-9-]+)\/([a-f0-9-]+)\/attachments\//i;

async function recordsOfCurrentBuild(): Promise<unknown[]> {
  const projectService = await SDK.getService<IProjectPageService>(CommonServiceIds.ProjectPageService);
  const project = await projectService.getProject();
  const buildService = await SDK.getService<IBuildPageDataService>(BuildServiceIds.BuildPageDataService);
  // Declared synchronous, but the service is a cross-frame proxy: every call returns a promise.
  const build = (await buildService.getBuildPageData())?.build;
  if (!project || !build) throw new Error('This page must be opened from a build: no project or build in the page context.');
  const client = getClient(BuildRestClient);
  const attachments = await client.getAttachments(project.id, build.id, EVALUATION_ATTACHMENT_TYPE);
  if (attachments.length === 0) {
    throw new Error('This build has no evaluation record yet. The Evaluate & Promote step attaches one when it finishes.');
  }
  const records: unknown[] = [];
  for (const a of attachments) {
    const href: string | undefined = a._links?.self?.href;
    const m = href ? ATTACHMENT_HREF.exec(href) : null;
    if (!m) throw new Error(`Unexpected attachment link for ${a.name}.`);
    const buf = await client.getAttachment(m[1], Number(m[2]), m[3], m[4], EVALUATION_ATTACHMENT_TYPE, a.name);
    records.push(JSON.parse(new TextDecoder().decode(buf)));
  }
  return records;
}

async function main(): Promise<void> {
  installStyles();
  const params = new URLSearchParams(window.location.search);
  followTheme(params);
  let records: unknown[] | undefined;
  try {
    records = await standaloneRecord(params);
  } catch (e) {
    show(renderErrorBody(errorMessage(e)), 'error');
    return;
  }
  if (records) {
    try {
      showRecords(records);
    } catch (e) {
      show(renderErrorBody(errorMessage(e)), 'error');
    }
    return;
  }
  if (window.parent === window) {
    show(renderErrorBody('Open this page from a build in Azure DevOps, or pass ?record=<url of an evaluation record>.'), 'error');
    return;
  }
  await SDK.init({ loaded: false, applyTheme: true });
  await SDK.ready();
  try {
    showRecords(await recordsOfCurrentBuild());
  } catch (e) {
    show(renderErrorBody(errorMessage(e)), 'error');
  }
  // Our own error panel explains a failure better than the host's generic one, so the load "succeeds".
  await SDK.notifyLoadSucceeded();
}

void main();
