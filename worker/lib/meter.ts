/**
 * What this isolate has sent to D1, to Durable Objects' SQLite and to the queue since it started,
 * in the units they are billed in: statements, rows read and written (as D1 and the storage API
 * report them), queue messages and their bytes.
 * Counted only under `npm run bench` (BENCH_ROUTES=1), whose bench-traffic route reads it.
 * Statements run with `first()` or `raw()` come back without D1's row counts, so only their
 * number is known; every write on the assist path runs with `run()`, `all()` or `batch()`.
 */
export interface Traffic {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
  queueMessages: number;
  queueBytes: number;
  /** Statements and rows Durable Objects' own SQLite ran (the activity counters). */
  objectStatements: number;
  objectRowsRead: number;
  objectRowsWritten: number;
}

export const traffic: Traffic = {
  statements: 0,
  rowsRead: 0,
  rowsWritten: 0,
  queueMessages: 0,
  queueBytes: 0,
  objectStatements: 0,
  objectRowsRead: 0,
  objectRowsWritten: 0,
};

const meters = new WeakMap<object, unknown>();
const real = new WeakMap<object, D1PreparedStatement>();

function count(results: { meta?: { rows_read?: number; rows_written?: number } }[]): void {
  for (const r of results) {
    traffic.rowsRead += r.meta?.rows_read ?? 0;
    traffic.rowsWritten += r.meta?.rows_written ?? 0;
  }
}

function meterStatement(stmt: D1PreparedStatement): D1PreparedStatement {
  const proxy = new Proxy(stmt, {
    get(target, key) {
      if (key === 'bind') return (...args: unknown[]) => meterStatement(target.bind(...args));
      if (key === 'run' || key === 'all')
        return async () => {
          traffic.statements++;
          const result = await target[key]();
          count([result]);
          return result;
        };
      if (key === 'first' || key === 'raw')
        return (...args: unknown[]) => {
          traffic.statements++;
          return (target[key] as (...a: unknown[]) => unknown)(...args);
        };
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  real.set(proxy, stmt);
  return proxy;
}

/** The same D1 binding, counted in {@link traffic} (one wrapper per binding). */
export function meterD1(d1: D1Database): D1Database {
  let metered = meters.get(d1) as D1Database | undefined;
  if (!metered) {
    metered = new Proxy(d1, {
      get(target, key) {
        if (key === 'prepare') return (sql: string) => meterStatement(target.prepare(sql));
        if (key === 'batch')
          return async (stmts: D1PreparedStatement[]) => {
            traffic.statements += stmts.length;
            const results = await target.batch(stmts.map((s) => real.get(s) ?? s));
            count(results);
            return results;
          };
        const value = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    meters.set(d1, metered);
  }
  return metered;
}

/**
 * A Durable Object's SQL storage, counted in {@link traffic} when `exec` returns: a write has run
 * by then, so its rows written are exact; rows read count what the statement had read by then.
 */
export function meterSql(sql: SqlStorage): SqlStorage {
  return new Proxy(sql, {
    get(target, key) {
      if (key === 'exec')
        return (query: string, ...bindings: unknown[]) => {
          const cursor = target.exec(query, ...bindings);
          traffic.objectStatements++;
          traffic.objectRowsWritten += cursor.rowsWritten;
          traffic.objectRowsRead += cursor.rowsRead;
          return cursor;
        };
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The same queue, its messages counted in {@link traffic}. */
export function meterQueue<T>(queue: Queue<T>): Queue<T> {
  let metered = meters.get(queue) as Queue<T> | undefined;
  if (!metered) {
    const sized = (body: unknown) => new TextEncoder().encode(JSON.stringify(body)).byteLength;
    metered = {
      send: (body, options) => {
        traffic.queueMessages++;
        traffic.queueBytes += sized(body);
        return queue.send(body, options);
      },
      sendBatch: (messages, options) => {
        for (const m of messages) {
          traffic.queueMessages++;
          traffic.queueBytes += sized(m.body);
        }
        return queue.sendBatch(messages, options);
      },
    } as Queue<T>;
    meters.set(queue, metered);
  }
  return metered;
}
