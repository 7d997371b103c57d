import { Hono } from 'hono';
import { authorizerApp } from './authorizer';
import { componentApp } from './component';
import { controlApp } from './control';
import { oauthApp } from './oauth';
import { phoneApp } from './phone';
import { templateReceipt } from './pushes';
import { SandboxState } from './state';
import { templateApp } from './templates';
import { lateAnswers } from './wechat-api';

/** What the worker answered a fan's push with, as the phone shows it: a text, or a news card. */
export interface PhoneReply {
  text?: string;
  news?: { title: string; description: string; url: string };
}

export interface SandboxOptions {
  componentAppid: string;
  componentSecret: string;
  /** This sandbox's own origin, for avatar and QR URLs. */
  origin: string;
  /** Called when a fan acts on the phone page; dev wires it to push to the worker. */
  pushToWorker?: (appid: string, inner: string, ghId: string) => Promise<PhoneReply>;
  componentPush?: (inner: string) => Promise<unknown>;
}

/**
 * A stand-in for WeChat's servers, following WECHAT.md: the component and authorizer APIs with
 * realistic errcodes, the authorization and OAuth pages, a record of every message sent, fault
 * injection, and a phone page to play a fan. Never part of the worker bundle. One sub-app per
 * surface, all sharing one state.
 */
export function createSandbox(opts: SandboxOptions) {
  const state = new SandboxState();
  const app = new Hono();
  app.use('*', lateAnswers);
  app.route('/', componentApp(state, opts));
  app.route('/', oauthApp(state, opts));
  app.route('/', authorizerApp(state));
  // WeChat pushes each template message's receipt to the account's message URL (dev); tests deliver them themselves.
  const push = opts.pushToWorker;
  app.route(
    '/',
    templateApp(
      state,
      push &&
        ((appid, job) => {
          const a = state.accounts.get(appid)!;
          return push(appid, templateReceipt({ ghId: a.ghId, openId: job.touser, msgid: job.msgid, status: job.status }), a.ghId);
        }),
    ),
  );
  app.route('/', controlApp(state));
  app.route('/', phoneApp(state, opts));
  return { app, state };
}
