/**
 * The import graph of the repository's TypeScript, read with the TypeScript compiler's parser (not a
 * regex): every `import`, `export ... from`, `import()` and `require()` of every source file, resolved to
 * a repository file or an npm / Node package. Used by the ring rules (rings.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Repository-relative path with `/` (`src/engine/rng.ts`), or `pkg:<name>` for a package (`pkg:fs`, `pkg:azure-pipelines-task-lib`). */
  to: string;
  /** The specifier as written. */
  spec: string;
  /** `import type` / `export type` (or every binding marked `type`): erased at compile time, so nothing is loaded. */
  typeOnly: boolean;
}

export interface ImportGraph {
  /** Every scanned file (repository-relative) with its imports. */
  files: Map<string, ImportEdge[]>;
  /** Source text of each file, for the usage scans. */
  sources: Map<string, string>;
}

/** `node:fs` -> `fs`, `azure-pipelines-task-lib/task` -> `azure-pipelines-task-lib`, `@scope/x/y` -> `@scope/x`. */
export function packageOf(spec: string): string {
  const bare = spec.replace(/^node:/, '');
  const parts = bare.split('/');
  return bare.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // `import './x'` runs the module
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  const bindings = clause.namedBindings;
  return !!bindings && ts.isNamedImports(bindings) && bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return !!clause && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

/** The specifiers a source text imports, with whether each is type-only. */
export function importsOf(fileName: string, text: string): { spec: string; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, typeOnly: isTypeOnlyImport(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push({ spec: node.moduleSpecifier.text, typeOnly: isTypeOnlyExport(node) });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push({ spec: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteralLike(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) {
        out.push({ spec: node.arguments[0].text, typeOnly: false });
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const EXTENSIONS = ['.ts', '.tsx', '.d.ts', '/index.ts'];

/** Resolves a relative specifier from `from` (repository-relative) to a repository file, or undefined. */
export function resolveRelative(root: string, from: string, spec: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = [...EXTENSIONS.map((e) => base + e), base];
  return candidates.find((c) => existsSync(path.join(root, c)) && statSync(path.join(root, c)).isFile());
}

function walk(root: string, dir: string, out: string[]): void {
  const abs = path.join(root, dir);
  if (!existsSync(abs)) return;
  for (const entry of readdirSync(abs, { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') walk(root, rel, out);
    } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(rel);
    }
  }
}

/** Source folders scanned: everything under src/, the task entries, and the emulator and demo wherever they live. */
export function sourceFiles(root: string): string[] {
  const files: string[] = [];
  walk(root, 'src', files);
  walk(root, 'emulator', files);
  walk(root, 'demo', files);
  const tasks = path.join(root, 'tasks');
  for (const t of readdirSync(tasks, { withFileTypes: true })) {
    if (t.isDirectory() && existsSync(path.join(tasks, t.name, 'index.ts'))) files.push(`tasks/${t.name}/index.ts`);
  }
  return files.sort();
}

export function buildGraph(root: string): ImportGraph {
  const files = new Map<string, ImportEdge[]>();
  const sources = new Map<string, string>();
  for (const file of sourceFiles(root)) {
    const text = readFileSync(path.join(root, file), 'utf8');
    sources.set(file, text);
    files.set(
      file,
      importsOf(file, text).map(({ spec, typeOnly }) => {
        if (!spec.startsWith('.')) return { to: `pkg:${packageOf(spec)}`, spec, typeOnly };
        const to = resolveRelative(root, file, spec);
        if (!to) throw new Error(`${file}: cannot resolve '${spec}'`);
        return { to, spec, typeOnly };
      }),
    );
  }
  return { files, sources };
}
