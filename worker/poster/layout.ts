/** Poster canvas size in px: a 750-wide phone screen at 2× (WeChat's usual poster size). */
export const POSTER_WIDTH = 750;
export const POSTER_HEIGHT = 1334;

/**
 * Where the personal parts go on the operator's background, in px on the 750×1334 canvas.
 * Text boxes are anchored by their top-left corner. The nickname is one line, cut with "…" when
 * too long; the rule wraps inside its box (see poster/rule.ts).
 */
export interface PosterLayout {
  /** Round avatar. */
  avatar: { x: number; y: number; size: number };
  nickname: { x: number; y: number; fontSize: number; color: string; maxWidth: number };
  /** QR code drawn on a white square that includes the quiet zone. */
  qr: { x: number; y: number; size: number };
  /** The activity's rule text, wrapped in a `width`×`height` box; `fontSize` is the size it is set at when it fits. */
  rule: { x: number; y: number; fontSize: number; color: string; width: number; height: number };
}

/** Avatar and nickname top-left, QR bottom-right, the rule's box beside the QR, 40 px margins. */
export const DEFAULT_LAYOUT: PosterLayout = {
  avatar: { x: 40, y: 40, size: 120 },
  nickname: { x: 184, y: 78, fontSize: 36, color: '#ffffff', maxWidth: 526 },
  qr: { x: 470, y: 1054, size: 240 },
  rule: { x: 40, y: 1054, fontSize: 26, color: '#ffffff', width: 400, height: 240 },
};

// Keeps modules at least 2 px wide for the ~33-module codes WeChat's ticket URLs produce.
const MIN_QR = 100;
const MIN_AVATAR = 16;
const MIN_FONT = 10;
const MAX_FONT = 120;
const MIN_TEXT_WIDTH = 20;
/** Line height (× font size) the renderer gives text; clamping uses it to keep text boxes on the canvas. */
export const TEXT_LINE_HEIGHT = 1.25;

const COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * Merges a partial, untrusted layout (an object or its JSON text, e.g. straight from D1) over
 * {@link DEFAULT_LAYOUT}. Numbers are rounded and clamped so every element stays on the canvas,
 * colours must be `#rgb`/`#rrggbb`; anything missing or malformed falls back to the default.
 * Never throws.
 */
export function resolveLayout(partial: unknown): PosterLayout {
  const input = asRecord(typeof partial === 'string' ? parseJson(partial) : partial);
  const d = DEFAULT_LAYOUT;

  const a = asRecord(input.avatar);
  const avatarSize = num(a.size, d.avatar.size, MIN_AVATAR, POSTER_WIDTH);
  const avatar = {
    x: num(a.x, d.avatar.x, 0, POSTER_WIDTH - avatarSize),
    y: num(a.y, d.avatar.y, 0, POSTER_HEIGHT - avatarSize),
    size: avatarSize,
  };

  const q = asRecord(input.qr);
  const qrSize = num(q.size, d.qr.size, MIN_QR, POSTER_WIDTH);
  const qr = {
    x: num(q.x, d.qr.x, 0, POSTER_WIDTH - qrSize),
    y: num(q.y, d.qr.y, 0, POSTER_HEIGHT - qrSize),
    size: qrSize,
  };

  const n = asRecord(input.nickname);
  const nick = textBox(n, d.nickname.x, d.nickname.y, d.nickname.fontSize);
  const nickname = {
    ...nick,
    color: color(n.color, d.nickname.color),
    maxWidth: num(n.maxWidth, d.nickname.maxWidth, MIN_TEXT_WIDTH, POSTER_WIDTH - nick.x),
  };

  const r = asRecord(input.rule);
  const ruleBox = textBox(r, d.rule.x, d.rule.y, d.rule.fontSize);
  // At least one line high; a layout saved before boxes had a height gets the room below it.
  const line = Math.ceil(ruleBox.fontSize * TEXT_LINE_HEIGHT);
  const rule = {
    ...ruleBox,
    color: color(r.color, d.rule.color),
    width: num(r.width, d.rule.width, MIN_TEXT_WIDTH, POSTER_WIDTH - ruleBox.x),
    height: num(r.height, Math.min(d.rule.height, POSTER_HEIGHT - ruleBox.y), line, POSTER_HEIGHT - ruleBox.y),
  };

  return { avatar, nickname, qr, rule };
}

function textBox(src: Record<string, unknown>, x: number, y: number, fontSize: number) {
  const size = num(src.fontSize, fontSize, MIN_FONT, MAX_FONT);
  return {
    x: num(src.x, x, 0, POSTER_WIDTH - MIN_TEXT_WIDTH),
    y: num(src.y, y, 0, POSTER_HEIGHT - Math.ceil(size * TEXT_LINE_HEIGHT)),
    fontSize: size,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Accepts numbers and numeric strings (HTML forms send strings); falls back when not finite. */
function num(value: unknown, fallback: number, min: number, max: number): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const n = Number.isFinite(parsed) ? Math.round(parsed) : fallback;
  return Math.min(Math.max(n, min), Math.max(min, max));
}

function color(value: unknown, fallback: string): string {
  return typeof value === 'string' && COLOR.test(value.trim()) ? value.trim().toLowerCase() : fallback;
}
