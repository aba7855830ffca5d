#!/usr/bin/env node
// Renders the screenshots in images/screenshots/ (1366x768, the Marketplace size) in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core; nothing is downloaded):
//   results-tab.png          the shipped build results tab (ui/results-tab.html + ui/dist) on the fixture
//                            decision record test/fixtures/evaluation-record.json, light theme: the decision,
//                            the models table and the skipped candidates
//   results-tab-metric.png   the same tab, light theme: the decision and the metric distributions chart
//   results-tab-charts-dark.png the same tab, dark theme: the paired-difference panels and their colour key
// Each tab image shows whole cards only (the others are hidden for the picture), so no chart is cut off at
// the edge of the 1366x768 frame; the render fails if a card shown does not fit.
//   classic-editor-train.png a rendering of the Train task's classic-editor form generated from its task.json
//                            (groups, labels, pickers, help icons), labelled as a rendering in the image itself
// Usage: node scripts/render-screenshots.mjs [--out DIR]
//        node scripts/render-screenshots.mjs --form-html <TaskFolder>   prints the form HTML (used by test/docs)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WIDTH = 1366;
const HEIGHT = 768;

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** Evaluates a visibleRule (`a = x && b != y`, or an `||` chain) against the form's values. */
export function visible(rule, values) {
  if (!rule) return true;
  const or = rule.includes('||');
  const results = rule.split(or ? '||' : '&&').map((c) => {
    const m = /^\s*([A-Za-z0-9]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(c);
    if (!m) throw new Error(`visibleRule not understood: ${rule}`);
    const same = String(values[m[1]] ?? '').toLowerCase() === m[3].toLowerCase();
    return m[2] === '!=' ? !same : same;
  });
  return or ? results.some(Boolean) : results.every(Boolean);
}

/** Values shown in the rendered form: the defaults, with these example choices. */
const EXAMPLE_VALUES = {
  DatabricksTrainV1: { databricksConnection: 'databricks-staging', jobId: '718356204915502' },
  DatabricksReposDeployV1: { databricksConnection: 'databricks-staging', repoPath: '/Repos/Staging/churn-model' },
  DatabricksEvaluatePromoteV1: { databricksConnection: 'databricks-production', modelName: 'main.ml.churn' },
};

/** Items shown in the open picker of the rendering (illustration of what the jobs data source lists). */
const EXAMPLE_PICKER = {
  DatabricksTrainV1: {
    input: 'jobId',
    items: ['churn-train (718356204915502)', 'churn-train-nightly (40911283377261)', 'churn-score (998112070653)', 'feature-refresh (52266104881019)'],
  },
};

function control(input, value, bound, openPicker) {
  const id = `in-${input.name}`;
  if (input.type === 'radio') {
    return `<div class="radios">${Object.entries(input.options ?? {})
      .map(([k, label]) => `<label class="radio"><span class="dot${k === value ? ' on' : ''}"></span>${esc(label)}</label>`)
      .join('')}</div>`;
  }
  if (input.type === 'boolean')
    return `<label class="check"><span class="box${value === 'true' ? ' on' : ''}">${value === 'true' ? '✓' : ''}</span>${esc(input.label)}</label>`;
  if (input.type === 'multiLine') return `<div class="textarea" id="${id}">${esc(value)}</div>`;
  if (input.type.startsWith('connectedService:')) {
    return `<div class="row"><div class="select" id="${id}"><span>${esc(value)}</span><span class="chev">⌄</span></div><span class="link">Manage ↗</span></div>`;
  }
  if (input.type === 'pickList') {
    const text = input.options?.[value] ?? value;
    const refresh = bound ? '<span class="icon" title="Refresh">⟳</span>' : '';
    const list = openPicker
      ? `<div class="dropdown">${openPicker.map((t, i) => `<div class="item${i === 0 ? ' sel' : ''}">${esc(t)}</div>`).join('')}</div>`
      : '';
    return `<div class="row"><div class="select${bound ? ' editable' : ''}" id="${id}"><span>${esc(text)}</span><span class="chev">⌄</span>${list}</div>${refresh}</div>`;
  }
  return `<div class="text" id="${id}">${esc(value)}</div>`;
}

/** The classic-editor form of a task, generated from its task.json. */
export function formHtml(folder) {
  const task = JSON.parse(readFileSync(path.join(root, 'tasks', folder, 'task.json'), 'utf8'));
  const values = {};
  for (const i of task.inputs) values[i.name] = i.defaultValue === undefined ? '' : String(i.defaultValue);
  Object.assign(values, EXAMPLE_VALUES[folder] ?? {});
  const bound = new Set((task.dataSourceBindings ?? []).map((b) => b.target));
  const picker = EXAMPLE_PICKER[folder];
  const groups = [{ name: '', displayName: '', isExpanded: true }, ...(task.groups ?? [])];
  const sections = groups
    .map((g) => {
      const inputs = task.inputs.filter((i) => (i.groupName ?? '') === g.name && visible(i.visibleRule, values));
      if (inputs.length === 0) return '';
      const rows = g.isExpanded
        ? inputs
            .map((i) => {
              const label =
                i.type === 'boolean'
                  ? ''
                  : `<div class="label">${esc(i.label)}${i.required ? '<span class="req"> *</span>' : ''}<span class="info" title="${esc(i.helpMarkDown)}">i</span></div>`;
              return `<div class="field" data-input="${esc(i.name)}">${label}${control(i, values[i.name], bound.has(i.name), picker?.input === i.name ? picker.items : undefined)}</div>`;
            })
            .join('')
        : '';
      const head = g.name ? `<div class="group"><span class="chev2">${g.isExpanded ? '⌄' : '›'}</span>${esc(g.displayName)}</div>` : '';
      return `<section>${head}${rows}</section>`;
    })
    .join('');
  const title = task.instanceNameFormat.replace(/\$\((\w+)\)/g, (_, n) => values[n] ?? '');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(task.friendlyName)}</title><style>
  *{box-sizing:border-box} body{margin:0;font:14px "Segoe UI",system-ui,-apple-system,"Helvetica Neue",Arial,sans-serif;color:#201f1e;background:#f8f8f8}
  .top{height:48px;background:#fff;border-bottom:1px solid #e1dfdd;display:flex;align-items:center;padding:0 20px;gap:24px}
  .top b{font-size:16px} .tab{color:#605e5c} .tab.on{color:#201f1e;border-bottom:2px solid #0078d4;padding:13px 0}
  .wrap{display:flex;height:${HEIGHT - 48 - 30}px}
  .left{width:380px;background:#fff;border-right:1px solid #e1dfdd;padding:16px}
  .job{font-weight:600;padding:10px 8px;border-bottom:1px solid #edebe9} .job small{display:block;font-weight:400;color:#605e5c}
  .task{display:flex;gap:10px;align-items:center;padding:10px 8px;border-bottom:1px solid #edebe9}
  .task.on{background:#deecf9} .task img{width:24px;height:24px} .task small{display:block;color:#605e5c}
  .right{flex:1;overflow:hidden;padding:16px 28px;background:#fff}
  .hdr{display:flex;justify-content:space-between;align-items:center;margin-bottom:6px} .hdr h2{font-size:18px;margin:0;font-weight:600}
  .ver{color:#605e5c;font-size:13px} .ver .select{display:inline-flex;width:90px;margin-left:8px}
  .field{margin:10px 0;max-width:720px} .label{font-weight:600;margin-bottom:4px;font-size:13px} .req{color:#a4262c}
  .info{display:inline-flex;align-items:center;justify-content:center;width:14px;height:14px;border:1px solid #605e5c;border-radius:50%;color:#605e5c;margin-left:6px;font-size:10px;font-weight:600;font-style:normal;vertical-align:1px}
  .text,.select,.textarea{border:1px solid #8a8886;border-radius:2px;min-height:32px;padding:6px 8px;background:#fff;width:100%}
  .textarea{min-height:56px} .select{display:flex;justify-content:space-between;position:relative} .select.editable{border-color:#0078d4}
  .chev{color:#605e5c} .row{display:flex;gap:10px;align-items:center} .link{color:#0078d4;white-space:nowrap;font-size:13px}
  .icon{color:#0078d4;font-size:18px}
  .radios{display:flex;gap:24px} .radio{display:flex;gap:6px;align-items:center}
  .dot{width:18px;height:18px;border-radius:50%;border:1px solid #605e5c;display:inline-block;position:relative}
  .dot.on::after{content:"";position:absolute;left:4px;top:4px;width:8px;height:8px;border-radius:50%;background:#0078d4}
  .check{display:flex;gap:8px;align-items:center} .box{width:18px;height:18px;border:1px solid #605e5c;display:inline-flex;align-items:center;justify-content:center;font-size:12px}
  .box.on{background:#0078d4;color:#fff;border-color:#0078d4}
  .group{font-weight:600;font-size:15px;margin:16px 0 4px;padding-top:10px;border-top:1px solid #edebe9} .chev2{display:inline-block;width:18px;color:#605e5c}
  .dropdown{position:absolute;left:-1px;right:-1px;top:31px;background:#fff;border:1px solid #c8c6c4;box-shadow:0 6px 14px rgba(0,0,0,.18);z-index:5}
  .item{padding:8px 10px} .item.sel{background:#edebe9}
  .note{height:30px;background:#fff4ce;border-top:1px solid #e1dfdd;display:flex;align-items:center;padding:0 20px;font-size:12px;color:#323130}
</style></head><body>
<div class="top"><b>churn-model-CI</b><span class="tab on">Tasks</span><span class="tab">Variables</span><span class="tab">Triggers</span><span class="tab">Options</span><span class="tab">History</span></div>
<div class="wrap"><div class="left">
<div class="job">Pipeline<small>Build pipeline</small></div>
<div class="job">Agent job 1<small>Run on agent</small></div>
<div class="task"><span>⚙</span><div>Deploy notebooks via Repos API<small>Deploy Notebooks via Repos API</small></div></div>
<div class="task on"><span>⚙</span><div>${esc(title)}<small>${esc(task.friendlyName)}</small></div></div>
<div class="task"><span>⚙</span><div>Evaluate &amp; promote MLflow model<small>Evaluate &amp; Promote</small></div></div>
</div><div class="right">
<div class="hdr"><h2>${esc(task.friendlyName)}</h2><span class="link">View YAML</span></div>
<div class="ver">Task version <span class="select">${task.version.Major}.*<span class="chev">⌄</span></span></div>
<div class="field"><div class="label">Display name<span class="req"> *</span></div><div class="text">${esc(title)}</div></div>
${sections}
</div></div>
<div class="note">Rendering of the ${esc(task.friendlyName)} task's form generated from its task.json: not a screenshot of Azure DevOps. Job list shown as the jobs picker would list it.</div>
</body></html>`;
}

function serve(mounts) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json', '.png': 'image/png' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    for (const [prefix, target] of Object.entries(mounts)) {
      const file = prefix.endsWith('/')
        ? url.pathname.startsWith(prefix)
          ? path.join(target, url.pathname.slice(prefix.length))
          : undefined
        : url.pathname === prefix
          ? target
          : undefined;
      if (file && file.startsWith(target) && existsSync(file)) {
        res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
        res.end(readFileSync(file));
        return;
      }
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Shows only the report cards named (data-testid), from the top of the page, and checks they fit the frame. */
async function showOnly(page, cards) {
  const bottom = await page.evaluate(`(() => {
    const keep = new Set(${JSON.stringify(cards)});
    for (const s of document.querySelectorAll('[data-testid="report"] > section')) s.style.display = keep.has(s.getAttribute('data-testid')) ? '' : 'none';
    window.scrollTo(0, 0);
    const shown = [...document.querySelectorAll('[data-testid="report"] > section')].filter((s) => s.style.display !== 'none');
    return Math.max(...shown.map((s) => s.getBoundingClientRect().bottom));
  })()`);
  if (bottom > HEIGHT) throw new Error(`render-screenshots: the cards ${cards.join(', ')} end at ${Math.round(bottom)} px, below the ${HEIGHT} px frame`);
}

async function render(outDir) {
  const { chromium } = await import('playwright-core');
  if (!existsSync(path.join(root, 'ui/dist/results-tab.js'))) execFileSync(process.execPath, [path.join(root, 'scripts/build-ui.mjs')], { stdio: 'inherit' });
  mkdirSync(outDir, { recursive: true });
  const server = await serve({
    '/results-tab.html': path.join(root, 'ui/results-tab.html'),
    '/dist/': path.join(root, 'ui/dist'),
    '/fixtures/': path.join(root, 'test/fixtures'),
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  const profile = mkdtempSync(path.join(os.tmpdir(), 'screenshots-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: WIDTH, height: HEIGHT },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${origin}/results-tab.html?record=/fixtures/evaluation-record.json&theme=light`);
    await page.waitForSelector('body[data-state="rendered"]', { timeout: 15_000 });
    await showOnly(page, ['decision', 'models', 'skipped']);
    await page.screenshot({ path: path.join(outDir, 'results-tab.png') });
    await page.reload();
    await page.waitForSelector('body[data-state="rendered"]', { timeout: 15_000 });
    await showOnly(page, ['decision', 'metric-chart']);
    await page.screenshot({ path: path.join(outDir, 'results-tab-metric.png') });
    // The paired differences (the live ECharts drawing), in the dark theme a host may use.
    await page.goto(`${origin}/results-tab.html?record=/fixtures/evaluation-record.json&theme=dark`);
    await page.waitForSelector('body[data-state="rendered"]', { timeout: 15_000 });
    await showOnly(page, ['delta-chart']);
    await page.screenshot({ path: path.join(outDir, 'results-tab-charts-dark.png') });
    const form = await context.newPage();
    await form.setContent(formHtml('DatabricksTrainV1'));
    await form.screenshot({ path: path.join(outDir, 'classic-editor-train.png') });
    console.log(
      `render-screenshots: wrote results-tab.png, results-tab-metric.png, results-tab-charts-dark.png and classic-editor-train.png in ${path.relative(root, outDir) || '.'}`,
    );
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const formIdx = args.indexOf('--form-html');
  if (formIdx >= 0) {
    process.stdout.write(formHtml(args[formIdx + 1]));
  } else {
    const outIdx = args.indexOf('--out');
    await render(outIdx >= 0 ? path.resolve(args[outIdx + 1]) : path.join(root, 'images/screenshots'));
  }
}
