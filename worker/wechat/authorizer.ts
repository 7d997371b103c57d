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
