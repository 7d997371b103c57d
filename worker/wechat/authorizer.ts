import { callWeChat } from './api';
import type { WeChatBases } from './component';

export interface QrTicket {
  ticket: string;
  url: string;
  /** Absent for permanent codes. */
  expire_seconds?: number;
}

/** 30 days, the longest a temporary QR code lives. */
export const MAX_QR_SECONDS = 2_592_000;

/** `qrcode/create`: QR_STR_SCENE (temporary) or QR_LIMIT_STR_SCENE (permanent). */
export function createQrcode(bases: WeChatBases, token: string, sceneStr: string, expireSeconds?: number): Promise<QrTicket> {
  const body = expireSeconds
    ? { expire_seconds: expireSeconds, action_name: 'QR_STR_SCENE', action_info: { scene: { scene_str: sceneStr } } }
    : { action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: sceneStr } } };
  return callWeChat<QrTicket>('qrcode/create', `${bases.api}/cgi-bin/qrcode/create?access_token=${encodeURIComponent(token)}`, { json: body });
}

/** A customer-service message (客服消息). */
export type CustomMessage =
  | { touser: string; msgtype: 'text'; text: { content: string } }
  | { touser: string; msgtype: 'news'; news: { articles: [{ title: string; description: string; url: string; picurl: string }] } }
  | { touser: string; msgtype: 'image'; image: { media_id: string } };

export function sendCustomMessage(bases: WeChatBases, token: string, message: CustomMessage): Promise<unknown> {
  return callWeChat('message/custom/send', `${bases.api}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`, {
    json: message,
    // Sends happen off the request path, but a message is only useful inside WeChat's window;
    // one that gets no answer in 5 s is tried again by the queue, in the slot it holds.
    busyBackoffMs: [300],
    timeoutMs: 5_000,
  });
}

/** `media/upload?type=image`: a temporary image for image messages. */
export async function uploadImage(bases: WeChatBases, token: string, bytes: Uint8Array, filename: string, contentType: string): Promise<string> {
  const form = new FormData();
  form.append('media', new Blob([bytes], { type: contentType }), filename);
  const r = await callWeChat<{ media_id: string }>('media/upload', `${bases.api}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=image`, {
    body: form,
  });
  return r.media_id;
}

/** A template message (模板消息): not bound by the customer-service windows; verified service accounts only. */
export interface TemplateMessage {
  touser: string;
  template_id: string;
  url?: string;
  data: Record<string, { value: string }>;
}

/** `message/template/send` → the msgid its TEMPLATESENDJOBFINISH receipt will name. */
export async function sendTemplateMessage(bases: WeChatBases, token: string, message: TemplateMessage): Promise<string> {
  const r = await callWeChat<{ msgid: number | string }>(
    'message/template/send',
    `${bases.api}/cgi-bin/message/template/send?access_token=${encodeURIComponent(token)}`,
    {
      json: message,
      busyBackoffMs: [300],
      timeoutMs: 5_000,
    },
  );
  return String(r.msgid);
}

/** One of an account's templates, as `get_all_private_template` lists it; `content` names its fields as `{{KEY.DATA}}`. */
export interface PrivateTemplate {
  template_id: string;
  title: string;
  primary_industry: string;
  deputy_industry: string;
  content: string;
  example: string;
}

export async function listPrivateTemplates(bases: WeChatBases, token: string): Promise<PrivateTemplate[]> {
  const r = await callWeChat<{ template_list?: PrivateTemplate[] }>(
    'template/get_all_private_template',
    `${bases.api}/cgi-bin/template/get_all_private_template?access_token=${encodeURIComponent(token)}`,
  );
  return r.template_list ?? [];
}

/** `api_add_template`: takes a template from the library by its short id; returns the account's template_id. */
export async function addTemplate(bases: WeChatBases, token: string, shortId: string, keywordNames?: string[]): Promise<string> {
  const r = await callWeChat<{ template_id: string }>(
    'template/api_add_template',
    `${bases.api}/cgi-bin/template/api_add_template?access_token=${encodeURIComponent(token)}`,
    {
      json: { template_id_short: shortId, ...(keywordNames?.length ? { keyword_name_list: keywordNames } : {}) },
    },
  );
  return r.template_id;
}

export async function deleteTemplate(bases: WeChatBases, token: string, templateId: string): Promise<void> {
  await callWeChat('template/del_private_template', `${bases.api}/cgi-bin/template/del_private_template?access_token=${encodeURIComponent(token)}`, {
    json: { template_id: templateId },
  });
}

/** The fields a template's content names (`{{KEY.DATA}}`), each with the words before it on its line as its label. */
export function templateFields(content: string): { key: string; label: string }[] {
  return content.split('\n').flatMap((line) =>
    [...line.matchAll(/\{\{(\w+)\.DATA\}\}/g)].map((m) => ({
      key: m[1],
      label:
        line
          .slice(0, m.index)
          .replace(/[：:\s]+$/, '')
          .trim() || m[1],
    })),
  );
}
