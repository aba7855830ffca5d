/**
 * The scoring notebook as shipped: one Databricks source file. evaluate_models.py imports its helpers
 * (spark_compare.py, spark_sql.py) in a marked block so that it runs and is tested as ordinary Python in the
 * repository; the task imports a single notebook into the workspace, where those modules do not exist, so
 * the block is replaced with the modules' code. Pure text work: tested in test/spark/notebook-compose.test.ts
 * (the composed source compiles, defines every imported name, has no clashing names, and passes the notebook's
 * Python tests).
 */

export const INLINE_BEGIN = '# BEGIN INLINED MODULES';
export const INLINE_END = '# END INLINED MODULES';

const IMPORT_LINE = /^from ([A-Za-z_][A-Za-z0-9_]*) import ([A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)*)$/;

/** The modules named by the block's `from <module> import <names>` lines, in order of first appearance, with the names. */
export function inlinedImports(main: string): { module: string; names: string[] }[] {
  const lines = main.split('\n');
  const begin = lines.findIndex((l) => l.startsWith(INLINE_BEGIN));
  const end = lines.findIndex((l) => l.startsWith(INLINE_END));
  if (begin < 0 || end < begin || lines.filter((l) => l.startsWith(INLINE_BEGIN) || l.startsWith(INLINE_END)).length !== 2) {
    throw new Error(`the notebook needs exactly one block from a line starting '${INLINE_BEGIN}' to a line starting '${INLINE_END}'`);
  }
  const out: { module: string; names: string[] }[] = [];
  for (const line of lines.slice(begin + 1, end)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = IMPORT_LINE.exec(line);
    if (m === null) throw new Error(`the inlined-modules block takes only single-line 'from <module> import <names>' statements, got: ${line}`);
    const entry = out.find((e) => e.module === m[1]);
    if (entry) entry.names.push(...m[2].split(', '));
    else out.push({ module: m[1], names: m[2].split(', ') });
  }
  return out;
}

/**
 * Replaces the marked block of `main` with the source of each module it imports (`modules` maps a module name
 * to its text), in the block's order. A module's own `from <inlined module> import …` lines are dropped: the
 * names are then defined earlier in the same file.
 */
export function composeNotebookSource(main: string, modules: Record<string, string>): string {
  const imports = inlinedImports(main);
  const names = new Set(imports.map((i) => i.module));
  const pieces = imports.map(({ module }) => {
    const text = modules[module];
    if (text === undefined) throw new Error(`the notebook imports ${module}, which is not among the modules to inline`);
    const kept = text.split('\n').filter((line) => {
      const m = IMPORT_LINE.exec(line);
      return m === null || !names.has(m[1]);
    });
    return `# ---- ${module}.py, inlined (the task ships one notebook)\n${kept.join('\n').trimEnd()}\n# ---- end of ${module}.py`;
  });
  const lines = main.split('\n');
  const begin = lines.findIndex((l) => l.startsWith(INLINE_BEGIN));
  const end = lines.findIndex((l) => l.startsWith(INLINE_END));
  return [...lines.slice(0, begin), pieces.join('\n\n'), ...lines.slice(end + 1)].join('\n');
}
