/**
 * The subset of Azure DevOps' Mustache dialect that service endpoint data sources and task dataSourceBindings
 * use: `{{{x}}}` (raw), `{{x}}` (HTML-escaped, mustache.js's escape set), dotted names resolved up the context
 * stack, sections `{{#x}}..{{/x}}` (skipped when falsy or an empty list, repeated over a list, rendered once
 * otherwise), inverted sections `{{^x}}..{{/x}}`, comments `{{! }}`, the triple-brace section form
 * `{{{#x}}}..{{{/x}}}` Microsoft's pagination doc uses, and the ADO helper
 * `{{#equals name 'literal'}}..{{else}}..{{/equals}}` (Microsoft's AzureRM endpoint uses it on
 * `endpoint.scopeLevel`). Anything else (partials, other helpers) throws, so a template that uses something
 * this evaluator does not model fails the test instead of rendering wrongly.
 */

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string; raw: boolean }
  | { kind: 'section'; name: string; inverted: boolean; children: Node[] }
  | { kind: 'equals'; name: string; literal: string; then: Node[]; otherwise: Node[] };

const TAG = /\{\{\{\s*([\s\S]+?)\s*\}\}\}|\{\{\s*([\s\S]+?)\s*\}\}/g;

function parse(template: string): Node[] {
  const root: Node[] = [];
  // Open blocks: the list we append to, and the block being filled.
  const stack: Array<{ list: Node[]; block?: Extract<Node, { kind: 'section' | 'equals' }>; name?: string }> = [{ list: root }];
  let last = 0;
  for (const m of template.matchAll(TAG)) {
    const top = stack[stack.length - 1];
    if (m.index! > last) top.list.push({ kind: 'text', text: template.slice(last, m.index) });
    last = m.index! + m[0].length;
    const triple = m[1] !== undefined;
    const body = (m[1] ?? m[2]).trim();
    const sigil = body[0];
    if (sigil === '!') continue;
    if (sigil === '#' || sigil === '^') {
      const words = body.slice(1).trim();
      const helper = /^equals\s+(\S+)\s+'([^']*)'$/.exec(words);
      if (helper && sigil === '#') {
        const block: Extract<Node, { kind: 'equals' }> = { kind: 'equals', name: helper[1], literal: helper[2], then: [], otherwise: [] };
        top.list.push(block);
        stack.push({ list: block.then, block, name: 'equals' });
        continue;
      }
      if (/\s/.test(words)) throw new Error(`unsupported helper in template: {{${body}}}`);
      const block: Extract<Node, { kind: 'section' }> = { kind: 'section', name: words, inverted: sigil === '^', children: [] };
      top.list.push(block);
      stack.push({ list: block.children, block, name: words });
      continue;
    }
    if (sigil === '/') {
      const name = body.slice(1).trim();
      if (stack.length === 1 || top.name !== name) throw new Error(`unbalanced {{/${name}}} in template`);
      stack.pop();
      continue;
    }
    if (body === 'else') {
      if (top.block?.kind !== 'equals') throw new Error('{{else}} outside {{#equals}}');
      top.list = top.block.otherwise;
      continue;
    }
    if (/[\s>&=]/.test(body[0]) || /\s/.test(body)) throw new Error(`unsupported tag in template: ${m[0]}`);
    top.list.push({ kind: 'var', name: body, raw: triple });
  }
  if (stack.length !== 1) throw new Error(`unclosed {{#${stack[stack.length - 1].name}}} in template`);
  if (last < template.length) root.push({ kind: 'text', text: template.slice(last) });
  return root;
}

function lookup(stack: unknown[], name: string): unknown {
  if (name === '.') return stack[stack.length - 1];
  const [first, ...rest] = name.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    const ctx = stack[i];
    if (ctx !== null && typeof ctx === 'object' && first in (ctx as object)) {
      let v: unknown = (ctx as Record<string, unknown>)[first];
      for (const part of rest) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
      return v;
    }
  }
  return undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '/': '&#x2F;', '`': '&#x60;', '=': '&#x3D;' };

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function render(nodes: Node[], stack: unknown[]): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'var') {
      const s = text(lookup(stack, n.name));
      out += n.raw ? s : s.replace(/[&<>"'`=/]/g, (c) => ESCAPES[c]);
    } else if (n.kind === 'equals') {
      out += render(text(lookup(stack, n.name)) === n.literal ? n.then : n.otherwise, stack);
    } else {
      const v = lookup(stack, n.name);
      const falsy = v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
      if (n.inverted) out += falsy ? render(n.children, stack) : '';
      else if (falsy) continue;
      else if (Array.isArray(v)) for (const item of v) out += render(n.children, [...stack, item]);
      else out += render(n.children, [...stack, v]);
    }
  }
  return out;
}

/** Renders `template` against `view` with the ADO subset described above. */
export function renderAdoTemplate(template: string, view: unknown): string {
  return render(parse(template), [view]);
}

/** True when the template uses an ADO-only helper (so mustache.js cannot be used as a cross-check). */
export function usesAdoHelpers(template: string): boolean {
  return /\{\{#equals\s/.test(template);
}
