import { callWeChat } from './api';

/** Where WeChat lives; the sandbox or the fixed-IP proxy stand in by changing these. */
export interface WeChatBases {
  api: string;
  open: string;
  mp: string;
}

export interface ComponentConfig {
  appid: string;
  secret: string;
  bases: WeChatBases;
}

export interface TokenGrant {
  token: string;
  expiresIn: number;
}

export interface AuthorizationInfo {
  authorizer_appid: string;
  authorizer_access_token: string;
  expires_in: number;
  authorizer_refresh_token: string;
  func_info?: { funcscope_category: { id: number } }[];
}

export interface AuthorizerInfo {
  nick_name: string;
  head_img?: string;
  service_type_info: { id: number };
  verify_type_info: { id: number };
  user_name: string;
  principal_name?: string;
  alias?: string;
  qrcode_url?: string;
}

const cgi = (cfg: ComponentConfig, path: string, token?: string) =>
  `${cfg.bases.api}/cgi-bin/component/${path}${token ? `?component_access_token=${encodeURIComponent(token)}` : ''}`;

/** `api_component_token`: needs the latest component_verify_ticket. */
export async function requestComponentToken(cfg: ComponentConfig, ticket: string): Promise<TokenGrant> {
  const r = await callWeChat<{ component_access_token: string; expires_in: number }>('api_component_token', cgi(cfg, 'api_component_token'), {
    json: { component_appid: cfg.appid, component_appsecret: cfg.secret, component_verify_ticket: ticket },
  });
  return { token: r.component_access_token, expiresIn: r.expires_in };
}

export async function createPreAuthCode(cfg: ComponentConfig, componentToken: string): Promise<string> {
  const r = await callWeChat<{ pre_auth_code: string }>('api_create_preauthcode', cgi(cfg, 'api_create_preauthcode', componentToken), {
    json: { component_appid: cfg.appid },
  });
  return r.pre_auth_code;
}

export async function queryAuth(cfg: ComponentConfig, componentToken: string, authorizationCode: string): Promise<AuthorizationInfo> {
  const r = await callWeChat<{ authorization_info: AuthorizationInfo }>('api_query_auth', cgi(cfg, 'api_query_auth', componentToken), {
    json: { component_appid: cfg.appid, authorization_code: authorizationCode },
  });
  return r.authorization_info;
}

export async function getAuthorizerInfo(cfg: ComponentConfig, componentToken: string, authorizerAppid: string): Promise<AuthorizerInfo> {
  const r = await callWeChat<{ authorizer_info: AuthorizerInfo }>('api_get_authorizer_info', cgi(cfg, 'api_get_authorizer_info', componentToken), {
    json: { component_appid: cfg.appid, authorizer_appid: authorizerAppid },
  });
  return r.authorizer_info;
}

export async function refreshAuthorizerToken(
  cfg: ComponentConfig,
  componentToken: string,
  authorizerAppid: string,
  refreshToken: string,
): Promise<TokenGrant & { refreshToken: string }> {
  const r = await callWeChat<{ authorizer_access_token: string; expires_in: number; authorizer_refresh_token?: string }>(
    'api_authorizer_token',
    cgi(cfg, 'api_authorizer_token', componentToken),
    { json: { component_appid: cfg.appid, authorizer_appid: authorizerAppid, authorizer_refresh_token: refreshToken } },
  );
  return { token: r.authorizer_access_token, expiresIn: r.expires_in, refreshToken: r.authorizer_refresh_token || refreshToken };
}

/** The authorization page an operator is sent to (PC page, or the in-WeChat mobile page). */
export function authorizationPageUrl(cfg: ComponentConfig, preAuthCode: string, redirectUri: string, mobile = false): string {
  const q = new URLSearchParams({ component_appid: cfg.appid, pre_auth_code: preAuthCode, redirect_uri: redirectUri, auth_type: '1' });
  if (!mobile) return `${cfg.bases.mp}/cgi-bin/componentloginpage?${q}`;
  return `${cfg.bases.open}/wxaopen/safe/bindcomponent?action=bindcomponent&no_scan=1&${q}#wechat_redirect`;
}

/** Web OAuth on behalf of an authorized account (snsapi_userinfo). */
export function oauthAuthorizeUrl(cfg: ComponentConfig, authorizerAppid: string, redirectUri: string, state: string): string {
  const q = new URLSearchParams({
    appid: authorizerAppid,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'snsapi_userinfo',
    state,
    component_appid: cfg.appid,
  });
  return `${cfg.bases.open}/connect/oauth2/authorize?${q}#wechat_redirect`;
}

export interface OAuthToken {
  access_token: string;
  openid: string;
  scope: string;
  is_snapshotuser?: number;
}

export async function oauthCodeToToken(cfg: ComponentConfig, componentToken: string, authorizerAppid: string, code: string): Promise<OAuthToken> {
  const q = new URLSearchParams({
    appid: authorizerAppid,
    code,
    grant_type: 'authorization_code',
    component_appid: cfg.appid,
    component_access_token: componentToken,
  });
  return callWeChat<OAuthToken>('sns/oauth2/component/access_token', `${cfg.bases.api}/sns/oauth2/component/access_token?${q}`);
}

export interface OAuthUserInfo {
  openid: string;
  nickname: string;
  headimgurl: string;
  unionid?: string;
}

export async function oauthUserInfo(cfg: ComponentConfig, accessToken: string, openid: string): Promise<OAuthUserInfo> {
  const q = new URLSearchParams({ access_token: accessToken, openid, lang: 'zh_CN' });
  return callWeChat<OAuthUserInfo>('sns/userinfo', `${cfg.bases.api}/sns/userinfo?${q}`);
}
