import { html, raw } from 'hono/html';
import type { ClaimView } from '../campaign/claim';
import type { FanRow } from '../campaign/fan-access';

import type { Winner } from '../campaign/winners';
import { formatShanghai } from '../lib/time';
import { qrSvg } from '../poster/qr';
import { copyScript, page } from './pages';

/** What a posted address form carried, to show it again with its errors. */
export interface AddressDraft {
  winner: number;
  values: Record<string, string>;
  errors: Record<string, string>;
}

export interface ClaimPageProps {
  fan: FanRow;
  view: ClaimView;
  /** The form's anti-forgery token. */
  formToken: string;
  /** Where the page posts (its own signed URL). */
  action: string;
  /** Where staff's phones open an onsite claim code (the admin's redeem box). */
  redeemUrl: (code: string) => string;
  saved: boolean;
  draft?: AddressDraft;
}

const STATUS_LABEL: Record<Winner['kind'], Partial<Record<Winner['status'], string>>> = {
  code: { won: '待领取', fulfilled: '已领取' },
  onsite: { won: '待领取', claimed: '待核销', fulfilled: '已核销' },
  shipping: { won: '待填写收货地址', claimed: '待发货', fulfilled: '已发货' },
};
const label = (x: Winner) => (x.status === 'held' ? '核验中' : x.status === 'void' ? '已作废' : STATUS_LABEL[x.kind][x.status]);

/** The claim page (mobile, Chinese): each prize of the fan with what they need to receive it. */
export function claimPage(p: ClaimPageProps) {
  const { fan, view } = p;
  const deadline = fan.activity.claimDeadline;
  return page(
    `${fan.activity.name} · 我的奖品`,
    html`<h1>${fan.activity.name} · 我的奖品</h1>
${view.closed ? html`<p class="notice">领奖已于 ${formatShanghai(deadline ?? 0)} 截止。</p>` : deadline ? html`<p class="tip">领奖截止：${formatShanghai(deadline)}</p>` : ''}
${p.saved ? html`<p class="ok" role="status">收货地址已保存，发货后会通知你。</p>` : ''}
${view.prizes.length ? view.prizes.map((x) => prizeCard(p, x)) : html`<p>你还没有获得奖品，继续邀请好友助力吧！</p>`}
${copyScript()}`,
  );
}

function prizeCard(p: ClaimPageProps, x: Winner) {
  return html`<section class="prize" data-prize="${x.id}">
<h2>第 ${x.level} 档 · ${x.good}</h2>
<p class="status">${label(x)}</p>
${x.status === 'held' ? html`<p>奖品正在核验，核验通过后即可领取。</p>` : x.status === 'void' ? html`<p>该奖品未通过活动核验。</p>` : prizeBody(p, x)}
</section>`;
}

function prizeBody(p: ClaimPageProps, x: Winner) {
  // Before the page revealed it (claims closed), a prize still "won" has nothing to show.
  if (x.status === 'won' && p.view.closed) return html`<p>已过领奖截止时间。</p>`;
  if (x.kind === 'code')
    return html`<p class="code" id="code-${x.id}">${x.code}</p><button type="button" class="button" data-copy="code-${x.id}">复制兑换码</button><p class="tip small">复制兑换码后按奖品说明使用。</p>`;
  if (x.kind === 'onsite') {
    if (x.status === 'fulfilled') return html`<p>已于 ${formatShanghai(x.fulfilledAt ?? 0)} 核销。</p>`;
    return html`<p>到场后向工作人员出示下面的核销码，扫码或输入即可核销。</p><div class="qr">${raw(qrSvg(p.redeemUrl(x.code ?? ''), 200))}</div><p class="code">${x.code}</p>`;
  }
  if (x.status === 'fulfilled') return html`<p>${x.shipCompany} · 单号 <span class="code small">${x.trackingNo}</span></p>`;
  if (p.view.closed) return x.contactName ? html`<p>收货信息：${x.contactName} ${x.contactPhone}，${x.contactRegion} ${x.contactAddress}</p>` : '';
  return addressForm(p, x);
}

function addressForm(p: ClaimPageProps, x: Winner) {
  const draft = p.draft?.winner === x.id ? p.draft : undefined;
  const value = (name: string, stored: string | null) => draft?.values[name] ?? stored ?? '';
  const error = (name: string) => (draft?.errors[name] ? html`<span class="error">${draft.errors[name]}</span>` : '');
  return html`<form method="post" action="${p.action}" class="address">
<input type="hidden" name="token" value="${p.formToken}"><input type="hidden" name="winner" value="${x.id}">
<label>收货人<input name="name" maxlength="20" autocomplete="name" value="${value('name', x.contactName)}" required>${error('name')}</label>
<label>手机号<input name="phone" type="tel" inputmode="numeric" maxlength="11" autocomplete="tel" value="${value('phone', x.contactPhone)}" required>${error('phone')}</label>
<label>所在地区<input name="region" maxlength="60" placeholder="省 市 区" autocomplete="address-level1" value="${value('region', x.contactRegion)}" required>${error('region')}</label>
<label>详细地址<textarea name="address" maxlength="120" rows="2" placeholder="街道、小区、门牌号" autocomplete="street-address" required>${value('address', x.contactAddress)}</textarea>${error('address')}</label>
<button class="button" type="submit">${x.status === 'claimed' ? '修改收货地址' : '提交收货地址'}</button>
${x.status === 'claimed' ? html`<p class="tip small">发货前可以修改地址。</p>` : ''}
</form>`;
}
