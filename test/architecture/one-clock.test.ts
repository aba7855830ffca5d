/**
 * One clock (docs/architecture.md): shipped code reads the time only through the Clock of
 * src/databricks/clock.ts, so a test's fake clock reaches every wait, duration and timestamp. Read with the
 * TypeScript parser: `Date.now()`, `performance.now()`, `new Date()` without arguments, and any import of
 * perf_hooks are allowed in that one file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './graph';

const ROOT = path.resolve(__dirname, '../../..');
const CLOCK_MODULE = 'src/databricks/clock.ts';

/** Every place `text` reads the time itself, as `<line>: <code>`. */
export function clockReads(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const note = (node: ts.Node) => found.push(`${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`);
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'now') {
      const target = node.expression.expression.getText();
      if (target === 'Date' || target === 'performance') note(node);
    } else if (ts.isNewExpression(node) && node.expression.getText() === 'Date' && (node.arguments?.length ?? 0) === 0) {
      note(node);
    } else if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      if (/^(node:)?perf_hooks$/.test(node.moduleSpecifier.text)) note(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('architecture: one clock', () => {
  it('clockReads() finds Date.now(), performance.now(), new Date() and a perf_hooks import, and not new Date(x) or a comment', () => {
    const text = [
      "import { performance } from 'node:perf_hooks';",
      'const a = Date.now();',
      'const b = performance.now();',
      'const c = new Date();',
      'const d = new Date(a); // Date.now() in a comment',
      'const e = clock.now();',
    ].join('\n');
    assert.deepEqual(clockReads('x.ts', text), ["1: import { performance } from 'node:perf_hooks';", '2: Date.now()', '3: performance.now()', '4: new Date()']);
  });

  it(`nothing under src/ reads the time except ${CLOCK_MODULE}`, () => {
    const files = sourceFiles(ROOT).filter((f) => f.startsWith('src/'));
    assert.ok(files.includes(CLOCK_MODULE), 'the scan sees the clock module');
    const reads = files.filter((f) => f !== CLOCK_MODULE).flatMap((f) => clockReads(f, readFileSync(path.join(ROOT, f), 'utf8')).map((r) => `${f}:${r}`));
    assert.deepEqual(reads, []);
  });

  it(`${CLOCK_MODULE} itself is seen reading the time (the scan can fail)`, () => {
    assert.notDeepEqual(clockReads(CLOCK_MODULE, readFileSync(path.join(ROOT, CLOCK_MODULE), 'utf8')), []);
  });
});
