import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

const build = (d1: D1Database) => drizzle(d1, { schema });

export type Db = ReturnType<typeof build>;

// Building drizzle's relational config walks the whole schema (~0.4 ms): once per binding, not
// once per request.
const instances = new WeakMap<D1Database, Db>();

/** Drizzle over the D1 binding, with the schema for typed queries. */
export function createDb(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) instances.set(d1, (db = build(d1)));
  return db;
}

/** Drizzle's batch() wants a non-empty tuple; callers guarantee at least one statement. */
export function nonEmpty<T>(items: T[]): [T, ...T[]] {
  if (!items.length) throw new Error('a D1 batch needs at least one statement');
  return items as [T, ...T[]];
}
export { schema };
