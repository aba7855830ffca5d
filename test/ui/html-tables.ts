/**
 * The text of the report's guardrail and slice tables, read from its HTML without a browser: each card's
 * heading and its rows as cell texts (tags removed, entities decoded), so tests compare exact strings.
 */
export interface CheckTable {
  testid: string;
  heading: string;
  rows: string[][];
}

function plain(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Every guardrail and slice card of a rendered report, in page order. */
export function checkTables(html: string): CheckTable[] {
  const out: CheckTable[] = [];
  for (const m of html.matchAll(/<section class="eval-card" data-testid="(guardrail|slices)"[^>]*>([\s\S]*?)<\/section>/g)) {
    const body = m[2];
    const heading = plain(/<h2>([\s\S]*?)<\/h2>/.exec(body)?.[1] ?? '');
    const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
    const rows = [...tbody.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => plain(c[1])));
    out.push({ testid: m[1], heading, rows });
  }
  return out;
}
