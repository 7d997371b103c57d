/**
 * The seed's coded columns keep their numbers (a contract with the original data model); code
 * reads and writes them through these names. SQL strings interpolate them, so a query says
 * `looking = ${Looking.following}` rather than a bare 0.
 */

/** take_part_in.looking: 关注中 / 已取关. */
export const Looking = { following: 0, unfollowed: 1 } as const;

/** take_part_in.origin: came through a fan's poster, a promo code, or anything else. */
export const Origin = { poster: 0, promo: 1, other: 2 } as const;
export type OriginName = keyof typeof Origin;

/** take_part_in.part_in: 参与 (asked for a poster) / 不参与 (only helped, or a promo fan). */
export const PartIn = { participant: 0, helper: 1 } as const;

/** activity.protect_switch (拉新保护): the seed's 1 开 / 2 关. */
export const ProtectSwitch = { on: 1, off: 2 } as const;

/** Flags stored as integers: take_part_in.black, assist_counted, activity.unsubscribe_deduct, public_numbers.authorized, account_fan.following. */
export const Flag = { no: 0, yes: 1 } as const;
export const flag = (on: boolean) => (on ? Flag.yes : Flag.no);

/** public_numbers.service_type (service_type_info.id): 0/1 订阅号, 2 服务号. */
export const ServiceType = { service: 2 } as const;
/** public_numbers.verify_type (verify_type_info.id): -1 unverified, 0 and above verified. */
export const VerifyType = { unverified: -1 } as const;

/** Parametric QR codes need a verified service account. */
export const canCreateQr = (a: { serviceType: number; verifyType: number }) => a.serviceType === ServiceType.service && a.verifyType > VerifyType.unverified;
