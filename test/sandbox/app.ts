import { Hono } from 'hono';
import { authorizerApp } from './authorizer';
import { componentApp } from './component';
import { controlApp } from './control';
import { oauthApp } from './oauth';
import { phoneApp } from './phone';
import { SandboxState } from './state';

export interface SandboxOptions {
  componentAppid: string;
  componentSecret: string;
  /** This sandbox's own origin, for avatar and QR URLs. */
  origin: string;
  /** Called when a fan acts on the phone page; dev wires it to push to the worker. */
  pushToWorker?: (appid: string, inner: string, ghId: string) => Promise<string>;
  componentPush?: (inner: string) => Promise<string>;
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
  app.route('/', componentApp(state, opts));
  app.route('/', oauthApp(state, opts));
  app.route('/', authorizerApp(state));
  app.route('/', controlApp(state));
  app.route('/', phoneApp(state, opts));
  return { app, state };
}
