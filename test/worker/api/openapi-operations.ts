/** The admin API's operations as its live OpenAPI document lists them, for harnesses that cover every route. */
import { worker } from '../helpers';

/** Where the API is mounted: the document's paths are relative to it. */
export const API_BASE = '/api';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** One operation of the document, its path under API_BASE, e.g. `PATCH /api/activities/{id}`. */
export interface Operation {
  /** `METHOD /api/path`, the key the harness's maps use. */
  key: string;
  method: string;
  path: string;
  /** The path's parameters in order, e.g. `['id']`. */
  params: string[];
  /** Whether it declares a security requirement (its own, or the document's default). */
  secured: boolean;
  /** POST, PUT, PATCH or DELETE: something a caller may change. */
  mutating: boolean;
}

interface Document {
  security?: unknown[];
  paths: Record<string, Record<string, { security?: unknown[] } | unknown>>;
}

/** Fetches the worker's document, without a session (it is public). */
export async function liveDocument(): Promise<Document> {
  const res = await worker(`${API_BASE}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET ${API_BASE}/openapi.json answered ${res.status} without a session`);
  return res.json();
}

/** Every operation of the document. */
export function operationsOf(doc: Document): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => m in item).map((m) => {
      const op = item[m] as { security?: unknown[] };
      const method = m.toUpperCase();
      const full = `${API_BASE}${path}`;
      return {
        key: `${method} ${full}`,
        method,
        path: full,
        params: [...path.matchAll(/\{([^}]+)\}/g)].map((p) => p[1]),
        secured: (op.security ?? doc.security ?? []).length > 0,
        mutating: ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method),
      };
    }),
  );
}

/** The resource a parameterised path acts on: the path up to its last parameter (`/api/activities/{id}/stats` → `/api/activities/{id}`). */
export function resourceOf(path: string): string {
  return path.slice(0, path.lastIndexOf('}') + 1);
}

/** The path with its parameters replaced by `values`, as they are (a key may hold slashes). */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`no value for {${name}} in ${path}`);
    return values[name];
  });
}
