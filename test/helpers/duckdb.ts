/**
 * The DuckDB the Spark SQL tests run their statements on (`@duckdb/node-api`): one in-memory database per describe
 * block, with one thread, so that nothing in a result can depend on how DuckDB schedules its work (the sums must be
 * exact whatever the engine does; a single thread keeps a failure reproducible).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/** The repository root (this file runs from out/test/helpers). */
const REPO = path.resolve(__dirname, '..', '..', '..');

/** Registers the block's hooks: `set` receives the open connection before the tests; it is closed after them. */
export function useDuckDb(set: (db: DuckDBConnection) => void): void {
  let instance: DuckDBInstance | undefined;
  let db: DuckDBConnection | undefined;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    db = await instance.connect();
    set(db);
  });
  after(() => {
    db?.closeSync();
    instance?.closeSync();
  });
}

/** A query's rows as plain objects; DECIMAL and HUGEINT values (objects in the API) as their decimal text. */
export async function duckRows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await db.runAndReadAll(sql);
  return r.getRowObjects().map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v !== null && typeof v === 'object' ? String(v) : v])));
}

/**
 * Runs the scoring notebook's `spark_sums` in python3 (test/spark/python/notebook_sums_driver.py), answering each
 * statement it sends from DuckDB (`db`); returns its result or error, and the statements in the order sent.
 */
export function notebookSumsOnDuckDb(
  db: DuckDBConnection,
  params: Record<string, unknown>,
  rows: number,
): Promise<{ result?: Record<string, unknown>; error?: string; statements: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [path.join(REPO, 'test', 'spark', 'python', 'notebook_sums_driver.py')], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const statements: string[] = [];
    let err = '';
    let done: { result?: Record<string, unknown>; error?: string } | undefined;
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { sql?: string; result?: Record<string, unknown>; error?: string };
      if (msg.sql === undefined) {
        done = msg;
        return;
      }
      statements.push(msg.sql);
      db.runAndReadAll(msg.sql).then(
        (r) => child.stdin.write(`${JSON.stringify(r.getRowObjectsJson())}\n`),
        (e: Error) => {
          child.kill();
          reject(new Error(`DuckDB refused the notebook's statement: ${e.message}\n${msg.sql}`));
        },
      );
    });
    child.on('close', (code) => (code === 0 && done ? resolve({ ...done, statements }) : reject(new Error(`python3 exited ${String(code)}: ${err}`))));
    child.stdin.write(`${JSON.stringify({ params, rows })}\n`);
  });
}
