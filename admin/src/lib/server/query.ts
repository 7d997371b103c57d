/** Reading list filters from the page URL, keeping only values the API accepts. */

export function pageOf(url: URL): number {
  const p = Number(url.searchParams.get('page'));
  return Number.isInteger(p) && p >= 1 ? p : 1;
}

export function oneOf<T extends string>(url: URL, name: string, allowed: readonly T[]): T | undefined {
  const v = url.searchParams.get(name);
  return allowed.includes(v as T) ? (v as T) : undefined;
}

export function str(url: URL, name: string, max = 64): string | undefined {
  const v = url.searchParams.get(name)?.trim();
  return v ? v.slice(0, max) : undefined;
}

export function id(url: URL, name: string): number | undefined {
  const v = Number(url.searchParams.get(name));
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
