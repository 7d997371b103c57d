import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { serve } from '@hono/node-server';
import { WXBizMsgCrypt } from '../../worker/wechat/crypto';
import { parseWeChatXml } from '../../worker/wechat/xml';
import { createSandbox, type PhoneReply, type SandboxOptions } from './app';
import { componentMessage, sealPush } from './pushes';
import type { SandboxState } from './state';

export interface SandboxServerOptions {
  port: number;
  componentAppid: string;
  componentSecret: string;
  componentToken: string;
  aesKey: string;
  /** The worker to push to (dev); tests push from inside workerd instead. */
  workerUrl?: string;
  /** Where to keep the state across restarts (dev); without it the sandbox forgets everything when it stops. */
  stateFile?: string;
}

/** How often the state is written to `stateFile` when it changed. */
const SAVE_EVERY_MS = 2_000;

/** Restores the state from `file` and writes it back whenever it changes; returns a final save. */
function keepState(state: SandboxState, file: string): () => void {
  if (existsSync(file)) state.restore(readFileSync(file, 'utf8'));
  let saved = state.snapshot();
  const save = () => {
    const now = state.snapshot();
    if (now === saved) return;
    mkdirSync(dirname(file), { recursive: true });
    // Written aside and renamed, so a stop mid-write never leaves half a file.
    writeFileSync(`${file}.tmp`, now);
    renameSync(`${file}.tmp`, file);
    saved = now;
  };
  setInterval(save, SAVE_EVERY_MS).unref();
  return save;
}

/** Starts the sandbox on loopback; returns its state and a close function. */
export function startSandbox(o: SandboxServerOptions) {
  const keys = { token: o.componentToken, aesKey: o.aesKey, componentAppid: o.componentAppid };
  const box = new WXBizMsgCrypt({ token: o.componentToken, encodingAesKey: o.aesKey, appid: o.componentAppid });
  const post = async (path: string, ghId: string, inner: string): Promise<PhoneReply> => {
    const sealed = await sealPush(keys, ghId, inner);
    const res = await fetch(`${o.workerUrl}${path}?${sealed.query}`, { method: 'POST', body: sealed.body, headers: { 'content-type': 'text/xml' } });
    const text = await res.text();
    if (!res.ok) throw new Error(`worker answered ${res.status}: ${text}`);
    if (!text.startsWith('<xml>')) return {};
    const outer = parseWeChatXml(text);
    const xml = outer.Encrypt ? await box.decrypt(outer.Encrypt) : text;
    const reply = parseWeChatXml(xml);
    if (reply.MsgType !== 'news') return { text: reply.Content ?? '' };
    // A news reply's one article is nested, which parseWeChatXml does not keep.
    const field = (tag: string) => new RegExp(`<${tag}><!\\[CDATA\\[([\\s\\S]*?)\\]\\]></${tag}>`).exec(xml)?.[1] ?? '';
    return { news: { title: field('Title'), description: field('Description'), url: field('Url') } };
  };
  const options: SandboxOptions = {
    componentAppid: o.componentAppid,
    componentSecret: o.componentSecret,
    origin: `http://127.0.0.1:${o.port}`,
    ...(o.workerUrl
      ? {
          pushToWorker: (appid, inner, ghId) => post(`/wechat/callback/${appid}`, ghId, inner),
          componentPush: (inner) => post('/wechat/component', o.componentAppid, inner),
        }
      : {}),
  };
  const sandbox = createSandbox(options);
  const save = o.stateFile ? keepState(sandbox.state, o.stateFile) : () => undefined;
  const server = serve({ fetch: sandbox.app.fetch, port: o.port, hostname: '127.0.0.1' });
  // The same sandbox on a second loopback port: another origin, i.e. a host that is not WeChat's.
  const elsewhere = serve({ fetch: sandbox.app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    sandbox.state.elsewhere = `http://127.0.0.1:${info.port}`;
  });

  /** Issues a verify ticket and pushes it to the worker, as WeChat does every 10 minutes. */
  async function pushTicket() {
    const ticket = `ticket@@@${Date.now().toString(36)}`;
    sandbox.state.tickets.add(ticket);
    sandbox.state.latestTicket = ticket;
    if (options.componentPush) await options.componentPush(componentMessage(o.componentAppid, 'component_verify_ticket', { ComponentVerifyTicket: ticket }));
    return ticket;
  }

  const close = (s: typeof server) => new Promise<void>((r) => s.close(() => r()));
  return {
    ...sandbox,
    server,
    pushTicket,
    /** Writes the state to `stateFile` now, if it changed (e.g. before the process exits). */
    save,
    close: () => Promise.all([close(server), close(elsewhere)]).then(save),
  };
}
