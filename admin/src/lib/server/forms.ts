/** Reading HTML form posts: everything arrives as strings, and empty means "not given". */

export function text(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v.trim() : '';
}

/** Only safe local paths are followed after login, never another origin. */
export function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/activities';
}
