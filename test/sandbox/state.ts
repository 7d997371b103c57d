/**
 * What the sandbox remembers: WeChat's side of the world, in memory. `npm run dev` keeps it across
 * restarts in a file (snapshot / restore); tests start from nothing.
 */
import type { PrivateTemplate } from '../../worker/wechat/authorizer';

export interface SandboxAccount {
  appid: string;
  ghId: string;
  nickName: string;
  serviceType: number;
  verifyType: number;
  refreshToken: string;
  /** Whether the account has authorized the component (unauthorized → refresh fails with 61023). */
  authorized: boolean;
}

export interface Fan {
  appid: string;
  openid: string;
  nickname: string;
  headimgurl: string;
  following: boolean;
  /** The customer-service windows (WECHAT.md), two separate allowances: a fan's message opens 5 sends within 48 h… */
  message: ServiceWindow;
  /** …and a follow, SCAN or menu click 3 sends within 1 minute. */
  event: ServiceWindow;
  /** The fan refuses the account's template messages (their receipts say `failed:user block`). */
  blocksTemplates: boolean;
}

/** One customer-service allowance: sends left until a moment. */
export interface ServiceWindow {
  until: number;
  left: number;
}

export const MESSAGE_WINDOW = { ms: 48 * 3600_000, sends: 5 } as const;
export const EVENT_WINDOW = { ms: 60_000, sends: 3 } as const;

export interface SentMessage {
  appid: string;
  touser: string;
  msgtype: string;
  body: Record<string, unknown>;
  at: number;
}

export interface Fault {
  api: string;
  /** Only calls made for this account (known from their access token); all calls when absent. */
  appid?: string;
  errcode: number;
  errmsg?: string;
  times: number;
  delayMs?: number;
  /**
   * The request is lost on the way: WeChat never processes it, and the caller gets a gateway's
   * 502 page (after `delayMs`). Without it a delayed call is processed after the delay: a send
   * WeChat delivers but answers too late.
   */
  drop?: boolean;
  /** WeChat processes the call at once but answers this much later (the caller may have given up). */
  lateMs?: number;
}

/** A friend the phone page made scan a fan's poster (or a promo code): who, through which scene, and what the account answered. */
export interface Friend {
  appid: string;
  openid: string;
  scene: string;
  at: number;
  /** The account's passive reply to their last action ('' for none). */
  reply: string;
}

export interface Token {
  kind: 'component' | 'authorizer' | 'oauth';
  appid: string;
  openid?: string;
  expiresAt: number;
}

export const TOKEN_TTL_S = 7200;

/** A template message WeChat took, and the receipt it pushes (TEMPLATESENDJOBFINISH). */
export interface TemplateJob {
  msgid: string;
  appid: string;
  touser: string;
  status: 'success' | 'failed:user block' | 'failed: system failed';
  at: number;
}

export class SandboxState {
  readonly tickets = new Set<string>();
  latestTicket = '';
  readonly tokens = new Map<string, Token>();
  readonly preAuthCodes = new Map<string, number>();
  /** auth_code → appid (single use). */
  readonly authCodes = new Map<string, { appid: string; used: boolean }>();
  readonly accounts = new Map<string, SandboxAccount>();
  readonly fans = new Map<string, Fan>();
  readonly oauthCodes = new Map<string, { appid: string; openid: string; used: boolean; snapshot: boolean }>();
  readonly qrcodes = new Map<string, { appid: string; scene: string; expiresAt: number | null; url: string; createdAt: number }>();
  readonly media = new Map<string, { appid: string; bytes: number }>();
  readonly sent: SentMessage[] = [];
  readonly friends: Friend[] = [];
  /** Each account's templates (at most 25), and the template messages sent with them. */
  readonly templates = new Map<string, PrivateTemplate[]>();
  readonly templateJobs: TemplateJob[] = [];
  /** Template messages each account may still send today (WeChat's default is 100,000). */
  readonly templateQuota = new Map<string, number>();
  readonly calls = new Map<string, number>();
  /** api_component_token calls per verify ticket: each test file pushes its own ticket. */
  readonly tokenCallsByTicket = new Map<string, number>();
  faults: Fault[] = [];
  /** Every avatar request: the Host it was sent to, and the path (the poster flow's hostile-avatar tests). */
  readonly avatarRequests: { host: string; path: string }[] = [];
  /** Bytes `/__sandbox/avatars/endless.png` has handed to its readers so far. */
  endlessAvatarBytes = 0;
  /** A second loopback origin of this sandbox, standing for a host that is not WeChat's ('' when it has none). */
  elsewhere = '';
  private seq = 0;

  /** Everything, as JSON (Maps and Sets as lists of entries), to keep across restarts. */
  snapshot(): string {
    return JSON.stringify(this, (_key, v) => (v instanceof Map ? { map: [...v] } : v instanceof Set ? { set: [...v] } : v));
  }

  /** Takes back what {@link snapshot} wrote (a field the snapshot lacks keeps its fresh value). */
  restore(json: string): void {
    const saved = JSON.parse(json) as Record<string, unknown>;
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(saved)) {
      const mine = self[key];
      const entries = (value as { map?: [unknown, unknown][]; set?: unknown[] } | null) ?? {};
      if (mine instanceof Map && entries.map) for (const [k, v] of entries.map) mine.set(k, v);
      else if (mine instanceof Set && entries.set) for (const v of entries.set) mine.add(v);
      else if (Array.isArray(mine) && Array.isArray(value)) mine.push(...value);
      else if (key in self) self[key] = value;
    }
  }

  id(prefix: string): string {
    this.seq += 1;
    return `${prefix}${Date.now().toString(36)}${this.seq.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Counts a call, in all and per account (`api@appid`), so parallel tests can tell theirs apart. */
  count(api: string, appid?: string) {
    for (const key of appid ? [api, `${api}@${appid}`] : [api]) this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Takes the next injected fault for `api` (and the account the call is for), if any. */
  takeFault(api: string, appid?: string): Fault | undefined {
    const f = this.faults.find((x) => x.api === api && x.times > 0 && (!x.appid || x.appid === appid));
    if (f) f.times -= 1;
    return f;
  }

  issueToken(kind: Token['kind'], appid: string, openid?: string): string {
    const token = this.id(`${kind[0]}tok_`);
    this.tokens.set(token, { kind, appid, openid, expiresAt: Date.now() + TOKEN_TTL_S * 1000 });
    return token;
  }

  /** null when valid; otherwise WeChat's errcode: 40001 invalid, 42001 expired. */
  checkToken(token: string | undefined, kind: Token['kind']): { errcode: number; errmsg: string; token?: Token } {
    const t = token ? this.tokens.get(token) : undefined;
    if (!t || t.kind !== kind) return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' };
    if (t.expiresAt <= Date.now()) return { errcode: 42001, errmsg: 'access_token expired' };
    return { errcode: 0, errmsg: 'ok', token: t };
  }

  /** Expires every live token of a kind (optionally one appid's), as if 2 hours had passed. */
  expireTokens(kind?: Token['kind'], appid?: string) {
    for (const t of this.tokens.values()) if ((!kind || t.kind === kind) && (!appid || t.appid === appid)) t.expiresAt = 0;
  }

  fan(appid: string, openid: string): Fan {
    const key = `${appid}/${openid}`;
    let f = this.fans.get(key);
    if (!f) {
      f = {
        appid,
        openid,
        nickname: `粉丝${openid.slice(-4)}`,
        headimgurl: '',
        following: false,
        message: { until: 0, left: 0 },
        event: { until: 0, left: 0 },
        blocksTemplates: false,
      };
      this.fans.set(key, f);
    }
    // A fan restored from an older snapshot has neither window.
    f.message ??= { until: 0, left: 0 };
    f.event ??= { until: 0, left: 0 };
    return f;
  }

  /** A fan wrote (`message`) or followed, scanned or clicked a menu (`event`): that window opens afresh. */
  interact(appid: string, openid: string, kind: 'message' | 'event', now = Date.now()) {
    const f = this.fan(appid, openid);
    const w = kind === 'message' ? MESSAGE_WINDOW : EVENT_WINDOW;
    f[kind] = { until: now + w.ms, left: w.sends };
  }

  /**
   * Spends one customer-service send to a fan, as WeChat does: from the open window with room
   * that closes first (the two allowances are separate; neither is wasted while the other
   * lasts). Returns the errcode: 45015 when no window is open, 45047 when the open ones are used up.
   */
  spendSend(f: Fan, now = Date.now()): 0 | 45015 | 45047 {
    const open = [f.event, f.message].filter((w) => w.until > now).sort((a, b) => a.until - b.until);
    if (!open.length) return 45015;
    const w = open.find((x) => x.left > 0);
    if (!w) return 45047;
    w.left -= 1;
    return 0;
  }
}
