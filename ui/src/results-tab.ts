/**
 * "Model evaluation" build results tab: reads the decision record(s) that Evaluate & Promote attached to
 * the build and renders them with the shared report renderer (src/report).
 *
 * Outside Azure DevOps (tests, local preview) the page renders `window.__EVALUATION_RECORD__` or the JSON
 * at `?record=<same-origin url>` without touching the SDK; `?theme=light|dark` forces a theme.
 */
import * as SDK from 'azure-devops-extension-sdk';
import { CommonServiceIds, getClient, type IProjectPageService } from 'azure-devops-extension-api';
import { BuildRestClient, BuildServiceIds, type IBuildPageDataService } from 'azure-devops-extension-api/Build';
import { readEvaluationRecord, RecordError } from '../../src/report/record';
import { renderErrorBody, renderReportBody } from '../../src/report/html';
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

function showRecords(records: unknown[]): void {
  // Several Evaluate & Promote steps (or retried jobs) each attach a record: show them all, in order.
  const bodies = records.map((r) => renderReportBody(readEvaluationRecord(r)));
  show(bodies.join('\n'), 'rendered');
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
