/**
 * The DuckDB the Spark SQL tests run their statements on (`@duckdb/node-api`): one in-memory database per describe
 * block, with one thread, so that nothing in a result can depend on how DuckDB schedules its work (the sums must be
 * exact whatever the engine does; a single thread keeps a failure reproducible).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

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
