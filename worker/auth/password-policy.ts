/** Length bounds of a new password. */
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

let common: Promise<Set<string>> | undefined;

/**
 * The most used passwords (zxcvbn-ts's list from the leaked-password corpora, ~50,000), lowercase,
 * those long enough to pass the length rule. Loaded on the first registration, not at start-up:
 * the dynamic import keeps the list's decompression off every other request's isolate start.
 */
function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) => new Set(dictionary['passwords-common'].filter((p) => p.length >= PASSWORD_MIN)));
  return common;
}

/**
 * Why a new password is refused, or null: one of the most common passwords (in any case), or one
 * that contains the username (already lowercase). The length rule is the schema's.
 */
export async function passwordProblem(username: string, password: string): Promise<string | null> {
  const lower = password.toLowerCase();
  if (lower.includes(username)) return '密码不能包含用户名';
  if ((await commonPasswords()).has(lower)) return '这个密码太常见，很容易被猜中，请换一个';
  return null;
}
