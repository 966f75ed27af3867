/**
 * Single sign-on with OpenID Connect: the authorization code flow with PKCE (S256), state and
 * nonce, over openid-client v6. This module holds no state of a login: begin() hands back what the
 * caller stores server-side (PendingLogin) and finish() takes it back with the callback URL.
 *
 * The provider's metadata is discovered on first use and kept. A failed discovery (provider down)
 * is not kept: that call throws OIDC_UNAVAILABLE and the next call tries again, so a provider that
 * is down when the process starts breaks neither the start nor later logins.
 *
 * Errors are OidcError with a code and a message made of this module's own words: never a claim
 * value, a token, a name or an e-mail address, and no `cause` (openid-client's errors carry the
 * response bodies and claims they checked), so an OidcError may be logged as it is.
 */
import * as client from 'openid-client';

export interface OidcSettings {
  /** The issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent: a public client (token endpoint auth `none`). */
  clientSecret?: string | undefined;
  /** The registered redirect URI; it is also the redirect_uri of the token request. */
  redirectUri: string;
  postLogoutRedirectUri: string;
  /** Space-separated; DEFAULT_OIDC_SCOPES by convention. `openid` is added when missing. */
  scopes: string;
}

export const DEFAULT_OIDC_SCOPES = 'openid profile email';

/** What the caller keeps server-side between begin() and finish(); random per login. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OidcLogin {
  /** The ID token's `iss`. (issuer, subject) names the person at the provider. */
  issuer: string;
  subject: string;
  /** The ID token's claims, with the userinfo response's merged in (protocol claims stay the ID token's). */
  claims: Record<string, unknown>;
  /** The raw ID token, kept for the logout's id_token_hint. */
  idToken: string;
}

export interface Oidc {
  begin(): Promise<{ url: string; pending: PendingLogin }>;
  finish(callbackUrl: URL, pending: PendingLogin): Promise<OidcLogin>;
  /** The provider's end_session_endpoint with post_logout_redirect_uri, or undefined if it has none. */
  logoutUrl(idTokenHint: string | undefined): Promise<string | undefined>;
}

export type OidcErrorCode =
  /** The callback's state is missing or is not this login's (forged, replayed or another tab's). */
  | 'OIDC_STATE'
  /** The provider sent the user back with an error (access_denied, login_required…): see `oauthError`. */
  | 'OIDC_DENIED'
  /** The provider's answer failed validation or was an error (bad code, nonce, signature, userinfo subject…). */
  | 'OIDC_PROVIDER'
  /** The provider could not be reached or answered 5xx (discovery, token, keys or userinfo). */
  | 'OIDC_UNAVAILABLE'
  /** This side is set up wrong: an invalid issuer URL, http without allowInsecureHttp, an issuer mismatch. */
  | 'OIDC_CONFIG';

export class OidcError extends Error {
  override readonly name = 'OidcError';
  /**
   * The OAuth error code the provider gave (e.g. access_denied, invalid_grant) when it is a plain
   * token; error_description is never kept (free text from the provider).
   */
  readonly oauthError: string | undefined;
  /** openid-client's or the network's error code (OAUTH_…, ECONNREFUSED), when there was one. */
  readonly reason: string | undefined;

  constructor(
    readonly code: OidcErrorCode,
    message: string,
    details: { oauthError?: string | undefined; reason?: string | undefined } = {},
  ) {
    super(message);
    this.oauthError = details.oauthError;
    this.reason = details.reason;
  }
}

/** Protocol claims of the ID token that the userinfo response never overrides. */
const PROTECTED_CLAIMS = ['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'nonce', 'auth_time', 'acr', 'amr', 'at_hash', 'c_hash', 'sid', 'jti'];
const DISCOVERY_TIMEOUT_SECONDS = 10;

/** Error codes of OAuth 2.0 and OpenID Connect (RFC 6749, 6750, 9449, OIDC Core 3.1.2.6). */
const OAUTH_ERRORS = new Set([
  'access_denied', 'invalid_request', 'unauthorized_client', 'unsupported_response_type', 'invalid_scope', 'server_error', 'temporarily_unavailable',
  'interaction_required', 'login_required', 'account_selection_required', 'consent_required', 'invalid_request_uri', 'invalid_request_object',
  'request_not_supported', 'request_uri_not_supported', 'registration_not_supported', 'invalid_grant', 'invalid_client', 'unsupported_grant_type',
  'invalid_token', 'insufficient_scope', 'invalid_dpop_proof', 'use_dpop_nonce', 'invalid_target', 'invalid_authorization_details',
]);

/** The provider's OAuth error code if it is a known one: the parameter is the provider's (or a forger's) free text. */
function oauthCode(v: unknown): string | undefined {
  return typeof v === 'string' && OAUTH_ERRORS.has(v) ? v : undefined;
}

/** A library's or the network's error code (OAUTH_JWT_CLAIM_COMPARISON_FAILED, ECONNREFUSED), or undefined. */
function token(v: unknown): string | undefined {
  return typeof v === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(v) ? v : undefined;
}

/** The network error code under a fetch failure (undici: TypeError "fetch failed", cause.code). */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = token((e as { code?: unknown }).code);
    if (code && !code.startsWith('OAUTH_') && !code.startsWith('ERR_INVALID_ARG')) return code;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      const inner = errors.map((x) => token((x as { code?: unknown } | null)?.code)).find(Boolean);
      if (inner) return inner;
    }
  }
  return undefined;
}

const UNREACHABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT']);

/** openid-client's error (or a fetch failure) as an OidcError; `step` names what failed, in words. */
function translate(err: unknown, step: string): OidcError {
  if (err instanceof OidcError) return err;
  if (err instanceof client.AuthorizationResponseError) {
    const oauthError = oauthCode(err.error);
    return new OidcError('OIDC_DENIED', `the identity provider refused the login (${oauthError ?? 'unrecognised error'})`, { oauthError, reason: err.code });
  }
  if (err instanceof client.ResponseBodyError) {
    const oauthError = oauthCode(err.error);
    const code = err.status >= 500 ? 'OIDC_UNAVAILABLE' : 'OIDC_PROVIDER';
    return new OidcError(code, `${step}: the identity provider answered ${err.status} ${oauthError ?? 'with an unrecognised error'}`, { oauthError, reason: err.code });
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const oauthError = oauthCode(err.cause[0]?.parameters.error);
    return new OidcError(err.status >= 500 ? 'OIDC_UNAVAILABLE' : 'OIDC_PROVIDER', `${step}: the identity provider answered ${err.status} ${oauthError ?? ''}`.trim(), { oauthError, reason: err.code });
  }
  if (err instanceof client.ClientError) {
    const reason = token(err.code);
    if (reason === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || reason === 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN') {
      return new OidcError('OIDC_CONFIG', `${step}: the identity provider's URL is not https (allowInsecureHttp is off)`, { reason });
    }
    if (reason && UNREACHABLE_CODES.has(reason)) return new OidcError('OIDC_UNAVAILABLE', `${step}: the identity provider did not answer in time`, { reason });
    if (reason === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      // The cause is the Response; a 5xx is an outage, anything else a provider that answers wrongly.
      const status = (err.cause as { status?: unknown } | undefined)?.status;
      const s = typeof status === 'number' ? status : 0;
      return new OidcError(s >= 500 || s === 0 ? 'OIDC_UNAVAILABLE' : 'OIDC_PROVIDER', `${step}: the identity provider answered ${s || 'unexpectedly'}`, { reason });
    }
    return new OidcError('OIDC_PROVIDER', `${step}: the identity provider's answer failed validation${reason ? ` (${reason})` : ''}`, { reason });
  }
  if (err instanceof TypeError) {
    const code = token((err as { code?: unknown }).code);
    if (code?.startsWith('ERR_INVALID_ARG')) return new OidcError('OIDC_CONFIG', `${step}: invalid argument (${code})`, { reason: code });
    // fetch() failed: connection refused or reset, DNS, TLS.
    const reason = networkCode(err);
    return new OidcError('OIDC_UNAVAILABLE', `${step}: the identity provider could not be reached${reason ? ` (${reason})` : ''}`, { reason });
  }
  if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new OidcError('OIDC_UNAVAILABLE', `${step}: the identity provider did not answer in time`, { reason: err.name });
  }
  const name = err instanceof Error && /^[A-Za-z]{1,40}$/.test(err.name) ? err.name : 'error';
  return new OidcError('OIDC_PROVIDER', `${step} failed (${name})`);
}

function discoveryError(err: unknown): OidcError {
  const e = translate(err, 'OIDC discovery');
  if (e.reason === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') {
    return new OidcError('OIDC_CONFIG', "OIDC discovery: the provider's metadata names another issuer than the one configured", { reason: e.reason });
  }
  // Metadata that is no metadata (a proxy's HTML page, a 404) is as unusable as no answer.
  if (e.code === 'OIDC_PROVIDER') return new OidcError('OIDC_UNAVAILABLE', `OIDC discovery: the provider's metadata is unusable${e.reason ? ` (${e.reason})` : ''}`, { reason: e.reason });
  return e;
}

function parseUrl(value: string, what: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new OidcError('OIDC_CONFIG', `the OIDC ${what} is not a valid URL`);
  }
}

/** client_secret_basic (the OIDC default) unless the provider lists only client_secret_post. */
function secretAuth(secret: string): client.ClientAuth {
  const basic = client.ClientSecretBasic(secret);
  const post = client.ClientSecretPost(secret);
  return (as, c, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const usePost = Array.isArray(methods) && !methods.includes('client_secret_basic') && methods.includes('client_secret_post');
    (usePost ? post : basic)(as, c, body, headers);
  };
}

export function createOidc(settings: OidcSettings, opts: { allowInsecureHttp?: boolean } = {}): Oidc {
  const issuer = parseUrl(settings.issuer, 'issuer');
  const redirectUri = parseUrl(settings.redirectUri, 'redirect URI');
  parseUrl(settings.postLogoutRedirectUri, 'post-logout redirect URI');
  const scopeList = settings.scopes.split(/\s+/).filter(Boolean);
  const scope = (scopeList.includes('openid') ? scopeList : ['openid', ...scopeList]).join(' ');
  const execute = opts.allowInsecureHttp === true ? [client.allowInsecureRequests] : [];

  let discovered: Promise<client.Configuration> | undefined;
  /** Concurrent callers share one discovery; a failed one is forgotten so the next call retries. */
  const configuration = (): Promise<client.Configuration> => {
    if (!discovered) {
      const attempt = client
        .discovery(
          issuer,
          settings.clientId,
          { redirect_uris: [redirectUri.href], response_types: ['code'] },
          settings.clientSecret ? secretAuth(settings.clientSecret) : client.None(),
          { execute, timeout: DISCOVERY_TIMEOUT_SECONDS },
        )
        .catch((err: unknown) => {
          if (discovered === attempt) discovered = undefined;
          throw discoveryError(err);
        });
      discovered = attempt;
    }
    return discovered;
  };

  return {
    async begin() {
      const config = await configuration();
      const pending: PendingLogin = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
      const codeChallenge = await client.calculatePKCECodeChallenge(pending.codeVerifier);
      try {
        const url = client.buildAuthorizationUrl(config, {
          redirect_uri: redirectUri.href,
          scope,
          state: pending.state,
          nonce: pending.nonce,
          code_challenge: codeChallenge,
          code_challenge_method: 'S256',
        });
        return { url: url.href, pending };
      } catch (err) {
        throw translate(err, 'OIDC authorization request');
      }
    },

    async finish(callbackUrl, pending) {
      // State first, before anything else is believed or fetched: a callback that is not this
      // login's is refused whatever else it carries (an error too).
      const state = callbackUrl.searchParams.getAll('state');
      if (!pending.state || state.length !== 1 || state[0] !== pending.state) {
        throw new OidcError('OIDC_STATE', state.length === 0 ? 'the OIDC callback has no state' : "the OIDC callback's state is not this login's");
      }
      // Without them the nonce and PKCE checks would quietly become "expect none".
      if (!pending.nonce || !pending.codeVerifier) throw new OidcError('OIDC_STATE', 'the pending OIDC login lacks its nonce or code verifier');
      const config = await configuration();
      // The token request's redirect_uri must be the authorization request's: the registered URI
      // with the callback's parameters, whatever host and scheme the request arrived under (proxy).
      const current = new URL(redirectUri.href);
      current.search = callbackUrl.search;
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, current, {
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          pkceCodeVerifier: pending.codeVerifier,
          idTokenExpected: true,
        });
      } catch (err) {
        throw translate(err, 'OIDC token exchange');
      }
      const idClaims = tokens.claims();
      const idToken = tokens.id_token;
      if (!idClaims || !idToken) throw new OidcError('OIDC_PROVIDER', 'OIDC token exchange: the provider sent no ID token');
      let claims: Record<string, unknown> = { ...idClaims };
      if (config.serverMetadata().userinfo_endpoint && tokens.access_token) {
        let userinfo: Record<string, unknown>;
        try {
          // openid-client refuses a userinfo response whose sub is not the ID token's.
          userinfo = { ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)) };
        } catch (err) {
          throw translate(err, 'OIDC userinfo');
        }
        claims = { ...claims, ...userinfo };
        for (const k of PROTECTED_CLAIMS) {
          if (k in idClaims) claims[k] = idClaims[k];
          else delete claims[k];
        }
      }
      return { issuer: idClaims.iss, subject: idClaims.sub, claims, idToken };
    },

    async logoutUrl(idTokenHint) {
      const config = await configuration();
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      try {
        const url = client.buildEndSessionUrl(config, {
          post_logout_redirect_uri: settings.postLogoutRedirectUri,
          ...(idTokenHint ? { id_token_hint: idTokenHint } : {}),
        });
        return url.href;
      } catch (err) {
        throw translate(err, 'OIDC logout');
      }
    },
  };
}
