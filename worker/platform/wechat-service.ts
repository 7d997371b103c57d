import { unwrap } from '../rpc-result';
import { withFreshToken } from '../wechat/api';
import * as authorizerApi from '../wechat/authorizer';
import * as componentApi from '../wechat/component';
import type { PlatformTokens } from './tokens';

type TokenKey = 'component' | `authorizer:${string}`;

/**
 * Tokens a request got from PlatformTokens, reused by later requests of the same isolate for a
 * minute (tokens live two hours and are refreshed five minutes early), which spares a Durable
 * Object round trip per WeChat call. A token WeChat rejects is dropped here and there.
 */
const ISOLATE_TOKEN_TTL_MS = 60_000;
const isolateTokens = new Map<TokenKey, { token: string; at: number }>();

/**
 * WeChat as the rest of the worker sees it: every call carries the right token (from the
 * PlatformTokens object) and is retried once with a fresh token when WeChat says it expired.
 */
export class WeChatService {
  constructor(
    readonly cfg: componentApi.ComponentConfig,
    private readonly tokens: DurableObjectStub<PlatformTokens>,
  ) {}

  /** Runs `call` with the token under `key`, taken from this isolate's cache or PlatformTokens. */
  private withToken<T>(key: TokenKey, fetchToken: () => Promise<string>, call: (token: string) => Promise<T>): Promise<T> {
    return withFreshToken(
      async () => {
        const hit = isolateTokens.get(key);
        if (hit && Date.now() - hit.at < ISOLATE_TOKEN_TTL_MS) return hit.token;
        const token = await fetchToken();
        isolateTokens.set(key, { token, at: Date.now() });
        return token;
      },
      async (failed) => {
        if (isolateTokens.get(key)?.token === failed) isolateTokens.delete(key);
        await this.tokens.invalidate(key, failed);
      },
      call,
    );
  }

  private withComponent<T>(call: (token: string) => Promise<T>): Promise<T> {
    return this.withToken('component', async () => unwrap(await this.tokens.componentToken()), call);
  }

  private withAuthorizer<T>(appid: string, call: (token: string) => Promise<T>): Promise<T> {
    return this.withToken(`authorizer:${appid}`, async () => unwrap(await this.tokens.authorizerToken(appid)), call);
  }

  preAuthCode(): Promise<string> {
    return this.withComponent((t) => componentApi.createPreAuthCode(this.cfg, t));
  }

  authorizationPageUrl(preAuthCode: string, redirectUri: string, mobile = false): string {
    return componentApi.authorizationPageUrl(this.cfg, preAuthCode, redirectUri, mobile);
  }

  /** `api_query_auth`; the first authorizer token it returns is cached for later calls. */
  async queryAuth(code: string): Promise<componentApi.AuthorizationInfo> {
    const info = await this.withComponent((t) => componentApi.queryAuth(this.cfg, t, code));
    await this.tokens.storeAuthorizerToken(info.authorizer_appid, { token: info.authorizer_access_token, expiresIn: info.expires_in });
    return info;
  }

  authorizerInfo(appid: string): Promise<componentApi.AuthorizerInfo> {
    return this.withComponent((t) => componentApi.getAuthorizerInfo(this.cfg, t, appid));
  }

  forgetAuthorizer(appid: string): Promise<void> {
    isolateTokens.delete(`authorizer:${appid}`);
    return this.tokens.forgetAuthorizer(appid);
  }

  oauthAuthorizeUrl(appid: string, redirectUri: string, state: string): string {
    return componentApi.oauthAuthorizeUrl(this.cfg, appid, redirectUri, state);
  }

  /** OAuth code → fan token. Codes are single-use, so this is never retried with the same code. */
  oauthToken(appid: string, code: string): Promise<componentApi.OAuthToken> {
    return this.withComponent((t) => componentApi.oauthCodeToToken(this.cfg, t, appid, code));
  }

  oauthUserInfo(accessToken: string, openid: string): Promise<componentApi.OAuthUserInfo> {
    return componentApi.oauthUserInfo(this.cfg, accessToken, openid);
  }

  createQrcode(appid: string, sceneStr: string, expireSeconds?: number): Promise<authorizerApi.QrTicket> {
    return this.withAuthorizer(appid, (t) => authorizerApi.createQrcode(this.cfg.bases, t, sceneStr, expireSeconds));
  }

  sendCustomMessage(appid: string, message: authorizerApi.CustomMessage): Promise<unknown> {
    return this.withAuthorizer(appid, (t) => authorizerApi.sendCustomMessage(this.cfg.bases, t, message));
  }

  uploadImage(appid: string, bytes: Uint8Array, filename: string, contentType: string): Promise<string> {
    return this.withAuthorizer(appid, (t) => authorizerApi.uploadImage(this.cfg.bases, t, bytes, filename, contentType));
  }

  /** Sends a template message; returns the msgid its delivery receipt will name. */
  sendTemplateMessage(appid: string, message: authorizerApi.TemplateMessage): Promise<string> {
    return this.withAuthorizer(appid, (t) => authorizerApi.sendTemplateMessage(this.cfg.bases, t, message));
  }

  listTemplates(appid: string): Promise<authorizerApi.PrivateTemplate[]> {
    return this.withAuthorizer(appid, (t) => authorizerApi.listPrivateTemplates(this.cfg.bases, t));
  }

  addTemplate(appid: string, shortId: string, keywordNames?: string[]): Promise<string> {
    return this.withAuthorizer(appid, (t) => authorizerApi.addTemplate(this.cfg.bases, t, shortId, keywordNames));
  }

  deleteTemplate(appid: string, templateId: string): Promise<void> {
    return this.withAuthorizer(appid, (t) => authorizerApi.deleteTemplate(this.cfg.bases, t, templateId));
  }
}
