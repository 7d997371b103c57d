/** Reading HTML form posts: everything arrives as strings, and empty means "not given". */

export function text(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
}

const HOME = '/activities';
const SELF = 'http://admin.invalid';

/**
 * Where to go after logging in: a path of this origin, or the activities. Browsers read `\` as
 * `/` and drop tabs and line breaks in URLs, so `/\host` or `/\t/host` would leave for `host`;
 * such characters are refused outright, and what remains must resolve to this origin and not
 * to a path starting `//` (which a browser reads as another host).
 */
export function safeNext(next: string | null): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  if (!next?.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(next)) return HOME;
  let url: URL;
  try {
    url = new URL(next, SELF);
  } catch {
    return HOME;
  }
  const path = `${url.pathname}${url.search}${url.hash}`;
  return url.origin === SELF && !path.startsWith('//') ? path : HOME;
}
