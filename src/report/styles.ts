/**
 * The report's stylesheet, shared by the build results tab and the static HTML report.
 *
 * Theme: `:root[data-theme=light|dark]` picks a palette; without the attribute the OS preference
 * (`prefers-color-scheme`) decides. Inside Azure DevOps the SDK writes the host's theme variables
 * (`--background-color`, `--text-primary-color`, ...) on `:root`; page and text colours use them first,
 * so the tab matches the host exactly, and the tab sets `data-theme` from the host background so the
 * chart colours follow too.
 */
import { DARK_PALETTE, LIGHT_PALETTE, SERIES_COLOURS, type FixedPalette } from './charts';

type Theme = Record<string, string>;

function themeVars(p: FixedPalette, ui: Theme): Theme {
  const vars: Theme = { ...ui };
  for (const role of ['text', 'muted', 'axis', 'grid', 'baseline', 'win', 'loss', 'neutral', 'threshold', 'surface'] as const) {
    vars[`--eval-c-${role}`] = p[role];
  }
  for (let i = 0; i < SERIES_COLOURS; i++) vars[`--eval-c-series${i}`] = p.series[i];
  return vars;
}

const LIGHT = themeVars(LIGHT_PALETTE, {
  'color-scheme': 'light',
  '--eval-page': 'var(--background-color, #f8f8f8)',
  '--eval-card': '#ffffff',
  '--eval-fg': 'var(--text-primary-color, rgba(0, 0, 0, 0.9))',
  '--eval-fg-2': 'var(--text-secondary-color, rgba(0, 0, 0, 0.55))',
  '--eval-border': 'rgba(0, 0, 0, 0.08)',
  '--eval-row-hover': 'rgba(0, 0, 0, 0.03)',
  '--eval-shadow': '0 1.6px 3.6px 0 rgba(0, 0, 0, 0.132), 0 0.3px 0.9px 0 rgba(0, 0, 0, 0.108)',
  '--eval-link': '#0078d4',
  '--eval-promote-bg': '#dff6dd',
  '--eval-promote-fg': '#107c10',
  '--eval-keep-bg': '#deecf9',
  '--eval-keep-fg': '#005a9e',
  '--eval-none-bg': '#fff4ce',
  '--eval-none-fg': '#8a6d00',
  '--eval-badge-bg': 'rgba(0, 0, 0, 0.06)',
});

const DARK = themeVars(DARK_PALETTE, {
  'color-scheme': 'dark',
  '--eval-page': 'var(--background-color, #1b1a19)',
  '--eval-card': '#252423',
  '--eval-fg': 'var(--text-primary-color, rgba(255, 255, 255, 0.87))',
  '--eval-fg-2': 'var(--text-secondary-color, rgba(255, 255, 255, 0.6))',
  '--eval-border': 'rgba(255, 255, 255, 0.1)',
  '--eval-row-hover': 'rgba(255, 255, 255, 0.04)',
  '--eval-shadow': '0 1.6px 3.6px 0 rgba(0, 0, 0, 0.4), 0 0.3px 0.9px 0 rgba(0, 0, 0, 0.3)',
  '--eval-link': '#4aa0e6',
  '--eval-promote-bg': '#1d3a1c',
  '--eval-promote-fg': '#8fd98f',
  '--eval-keep-bg': '#102c45',
  '--eval-keep-fg': '#9ccbf3',
  '--eval-none-bg': '#3d3210',
  '--eval-none-fg': '#f2d675',
  '--eval-badge-bg': 'rgba(255, 255, 255, 0.1)',
});

function block(selector: string, vars: Theme): string {
  return `${selector}{${Object.entries(vars)
    .map(([k, v]) => `${k}:${v}`)
    .join(';')}}`;
}

const ROLES = [
  'text',
  'muted',
  'axis',
  'grid',
  'baseline',
  'win',
  'loss',
  'neutral',
  'threshold',
  'surface',
  ...Array.from({ length: SERIES_COLOURS }, (_, i) => `series${i}`),
];

// Swatches (models table, chart legends written in HTML) in the chart colours of the current theme. The
// live charts of the tab read the same `--eval-c-*` variables (paletteFromCss in ui/src/results-tab.ts).
const SWATCH_CLASSES = ROLES.map((role) => `.eval-bg-${role}{background:var(--eval-c-${role})}`).join('');

const LAYOUT = `
*{box-sizing:border-box}
html,body{margin:0;padding:0}
body{background:var(--eval-page);color:var(--eval-fg);font-family:"Segoe UI","Segoe UI Web (West European)",-apple-system,BlinkMacSystemFont,Roboto,"Helvetica Neue",Helvetica,Ubuntu,Arial,sans-serif;font-size:14px;line-height:20px;-webkit-font-smoothing:antialiased}
.eval-root{max-width:1180px;margin:0 auto;padding:16px 20px 32px}
.eval-header{display:flex;align-items:baseline;justify-content:space-between;gap:12px;flex-wrap:wrap;margin:4px 0 14px}
.eval-header h1{font-size:20px;line-height:28px;font-weight:600;margin:0}
.eval-sub{color:var(--eval-fg-2);font-size:13px}
.eval-card{background:var(--eval-card);border-radius:4px;box-shadow:var(--eval-shadow);padding:16px 20px;margin:0 0 16px}
.eval-card h2{font-size:16px;line-height:22px;font-weight:600;margin:0 0 4px}
.eval-card .eval-hint{color:var(--eval-fg-2);font-size:12px;margin:0 0 12px}
.eval-decision{display:flex;gap:14px;align-items:flex-start;border-left:4px solid var(--eval-keep-fg)}
.eval-decision--promote{border-left-color:var(--eval-promote-fg)}
.eval-decision--none{border-left-color:var(--eval-none-fg)}
.eval-pill{flex:none;display:inline-block;padding:2px 10px;border-radius:12px;font-size:12px;font-weight:600;letter-spacing:.02em;text-transform:uppercase;background:var(--eval-keep-bg);color:var(--eval-keep-fg)}
.eval-decision--promote .eval-pill{background:var(--eval-promote-bg);color:var(--eval-promote-fg)}
.eval-decision--none .eval-pill{background:var(--eval-none-bg);color:var(--eval-none-fg)}
.eval-sentence{font-size:15px;line-height:22px;margin:0 0 6px;font-weight:600}
.eval-reason{font-size:13px;line-height:19px;margin:0 0 10px;color:var(--eval-fg)}
.eval-facts{display:flex;flex-wrap:wrap;gap:6px 24px;margin:0;font-size:12px;color:var(--eval-fg-2)}
.eval-facts div{display:flex;gap:6px}
.eval-facts dt{margin:0}
.eval-facts dd{margin:0;color:var(--eval-fg);font-variant-numeric:tabular-nums}
.eval-table-wrap{overflow-x:auto}
table.eval-models{width:100%;border-collapse:collapse;font-size:13px}
.eval-models th{text-align:left;font-weight:600;color:var(--eval-fg-2);font-size:12px;padding:8px 10px;border-bottom:1px solid var(--eval-border);white-space:nowrap}
.eval-models td{padding:9px 10px;border-bottom:1px solid var(--eval-border);white-space:nowrap}
.eval-models tbody tr:hover{background:var(--eval-row-hover)}
.eval-models .num{text-align:right;font-variant-numeric:tabular-nums}
.eval-models th.num{text-align:right}
.eval-name{display:flex;align-items:center;gap:8px;font-weight:600}
.eval-swatch{width:10px;height:10px;border-radius:2px;flex:none}
.eval-badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:11px;line-height:18px;font-weight:600;background:var(--eval-badge-bg);color:var(--eval-fg-2)}
.eval-badge--promoted{background:var(--eval-promote-bg);color:var(--eval-promote-fg)}
.eval-badge--production{background:var(--eval-keep-bg);color:var(--eval-keep-fg)}
.eval-pos{color:var(--eval-c-win)}
.eval-neg{color:var(--eval-c-loss)}
.eval-dim{color:var(--eval-fg-2)}
a{color:var(--eval-link);text-decoration:none}
a:hover{text-decoration:underline}
.eval-chart-box svg{display:block;width:100%;height:auto;max-width:100%}
.eval-chart-box[data-live]{width:100%}
.eval-only-dark{display:none}
:root[data-theme="dark"] .eval-only-dark{display:block}
:root[data-theme="dark"] .eval-only-light{display:none}
@media (prefers-color-scheme: dark){:root:not([data-theme="light"]) .eval-only-dark{display:block}:root:not([data-theme="light"]) .eval-only-light{display:none}}
/* auto-fill keeps the empty column: a single candidate's panel keeps its width instead of stretching (and scaling its text) across the card. */
.eval-deltas{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:8px 24px}
.eval-deltas .eval-chart-box svg{max-width:560px}
.eval-legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--eval-fg-2);margin:8px 0 0}
.eval-legend span{display:inline-flex;align-items:center;gap:6px}
.eval-legend i{width:10px;height:10px;border-radius:2px;display:inline-block}
.eval-links ul{margin:0;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:6px 24px}
.eval-skipped{margin:0;padding-left:18px;font-size:13px}
.eval-skipped code{font-family:Consolas,"Cascadia Mono",Menlo,monospace;font-size:12px}
.eval-warnings{color:var(--eval-none-fg);font-size:12px}
.eval-empty{color:var(--eval-fg-2);font-style:italic;margin:8px 0}
.eval-error{border-left:4px solid var(--eval-c-loss)}
.eval-footer{color:var(--eval-fg-2);font-size:12px;margin-top:8px}
.eval-toggle{font:inherit;font-size:12px;color:var(--eval-fg);background:var(--eval-card);border:1px solid var(--eval-border);border-radius:2px;padding:3px 10px;cursor:pointer}
`;

/** The complete stylesheet: palettes, OS-preference fallback, swatch classes and layout. */
export const REPORT_CSS = [
  block(':root', LIGHT),
  `@media (prefers-color-scheme: dark){${block(':root:not([data-theme="light"])', DARK)}}`,
  block(':root[data-theme="dark"]', DARK),
  SWATCH_CLASSES,
  LAYOUT.trim(),
].join('\n');
