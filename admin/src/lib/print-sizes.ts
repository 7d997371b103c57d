import type { paths } from '$lib/api/schema';

type Size = NonNullable<NonNullable<paths['/promos/{id}/qr']['get']['parameters']['query']>['size']>;

/** The promo QR's print sizes the API offers (checked against its schema), with what each suits. */
export const PRINT_SIZES = [
  { size: '8', label: '8 厘米', use: '桌贴、台卡、收银台' },
  { size: '12', label: '12 厘米', use: 'A5 单页、展架' },
  { size: '20', label: '20 厘米', use: 'A4 / A3 海报、门头' },
] as const satisfies readonly { size: Size; label: string; use: string }[];

/** Where a channel's QR downloads as a print-ready PNG of `size` cm, its name under the code. */
export const printQrHref = (promoId: number, size: Size) => `/api/promos/${promoId}/qr?size=${size}`;
