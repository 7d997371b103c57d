/** A parametric QR scene: `1_{take_part_in.id}` (a fan's poster) or `2_{promo.id}` (a promo code). */
export type Scene = { kind: 'poster'; rowId: number } | { kind: 'promo'; promoId: number };

const SCENE = /^([12])_(\d{1,15})$/;

export const posterScene = (rowId: number) => `1_${rowId}`;
export const promoScene = (promoId: number) => `2_${promoId}`;

/** Parses `scene_str`; `subscribe` events carry it after "qrscene_". Unknown shapes give null. */
export function parseScene(eventKey: string | undefined, event: string): Scene | null {
  if (!eventKey) return null;
  const raw = event === 'subscribe' ? (eventKey.startsWith('qrscene_') ? eventKey.slice(8) : '') : eventKey;
  const m = SCENE.exec(raw);
  if (!m) return null;
  const id = Number(m[2]);
  return m[1] === '1' ? { kind: 'poster', rowId: id } : { kind: 'promo', promoId: id };
}
