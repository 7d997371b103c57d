/** Links and form actions that keep a list page's filters in its URL. */

/** `url` with one query parameter set (or removed with null), as a relative link. */
export function withParam(url: URL, name: string, value: string | number | null, drop: string[] = []): string {
  const u = new URL(url);
  for (const d of drop) u.searchParams.delete(d);
  if (value === null) u.searchParams.delete(name);
  else u.searchParams.set(name, String(value));
  return `${u.pathname}${u.search}`;
}

/**
 * A named form action on this page that keeps the current query (a bare `?/name` would replace
 * it), so the list comes back with the same filters, also without JavaScript.
 */
export function actionUrl(url: URL, name: string, drop: string[] = []): string {
  const u = new URL(url);
  for (const d of drop) u.searchParams.delete(d);
  for (const k of [...u.searchParams.keys()]) if (k.startsWith('/')) u.searchParams.delete(k);
  const q = u.searchParams.toString();
  return `${u.pathname}?${q ? `${q}&` : ''}/${name}`;
}

/** Where to go after an action: the page's URL without the action and the given parameters. */
export function backTo(url: URL, drop: string[], set: Record<string, string> = {}): string {
  const u = new URL(url);
  for (const k of [...u.searchParams.keys()]) if (k.startsWith('/') || drop.includes(k)) u.searchParams.delete(k);
  for (const [k, v] of Object.entries(set)) u.searchParams.set(k, v);
  return `${u.pathname}${u.search}`;
}
