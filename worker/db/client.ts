import { drizzle } from 'drizzle-orm/d1';
import * as schema from './schema';

/** Drizzle over the D1 binding, with the schema for typed queries. */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

export type Db = ReturnType<typeof createDb>;

/** Drizzle's batch() wants a non-empty tuple; callers guarantee at least one statement. */
export function nonEmpty<T>(items: T[]): [T, ...T[]] {
  if (!items.length) throw new Error('a D1 batch needs at least one statement');
  return items as [T, ...T[]];
}
export { schema };
