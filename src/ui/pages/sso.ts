/**
 * Single sign-on routes (OpenID Connect, issue 14): /login/sso starts the authorization code flow
 * (PKCE, state, nonce kept in Postgres for ten minutes, so any process may take the callback) and
 * /login/sso/callback finishes it, maps the person (src/identity/sso.ts) and starts the session.
 *
 * The callback arrives as a cross-site navigation from the provider, on which browsers withhold
 * SameSite=Strict cookies, also after a redirect. So the callback answers with a page of its own
 * that moves on (meta refresh, a same-site navigation) rather than with a redirect: the first page
 * after the login then has its session.
 */
import { createHash } from 'node:crypto';
import { and, eq, gt, lt } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { oidcLogins } from '../../db/schema.js';
import { DEFAULT_PUBLIC_URL } from '../../identity/login.js';
import { createOidc, DEFAULT_OIDC_SCOPES, OidcError, type Oidc } from '../../identity/oidc.js';
import { userForSsoLogin, type SsoPolicy, type SsoRefusal } from '../../identity/sso.js';
import { html } from '../html.js';
import { parseLang, t, type Lang } from '../i18n.js';
import type { UiContext } from '../index.js';
import { cookieOptions, sameToken, type SessionLimits } from '../session.js';
import { page, queryOf, sendHtml, uiState } from '../web.js';
import { beginSession, safeNext } from './auth.js';

const PENDING_TTL_MS = 10 * 60_000;
/** The state of this browser's login under way (SameSite=Lax: it must come back with the provider's redirect). */
const SSO_STATE_COOKIE = 'fristvagt_sso_state';

type SsoConfig = Partial<Pick<Config, 'FRISTVAGT_OIDC_ISSUER' | 'FRISTVAGT_OIDC_CLIENT_ID' | 'FRISTVAGT_OIDC_CLIENT_SECRET' | 'FRISTVAGT_OIDC_SCOPES' | 'FRISTVAGT_OIDC_GROUPS_CLAIM' | 'FRISTVAGT_OIDC_ROLE_MAP' | 'FRISTVAGT_OIDC_PROVISION' | 'FRISTVAGT_OIDC_LABEL' | 'PUBLIC_URL'>>;

export function ssoEnabled(cfg: SsoConfig): boolean {
  return Boolean(cfg.FRISTVAGT_OIDC_ISSUER && cfg.FRISTVAGT_OIDC_CLIENT_ID && cfg.FRISTVAGT_OIDC_ROLE_MAP);
}

export function ssoLabel(cfg: SsoConfig, lang: Lang): string {
  return cfg.FRISTVAGT_OIDC_LABEL ?? t(lang).id.ssoDefault;
}

/** The provider's origin: the logout form's redirect goes there, so the pages' CSP form-action names it. */
export function ssoOrigin(cfg: SsoConfig): string | undefined {
  return ssoEnabled(cfg) && cfg.FRISTVAGT_OIDC_ISSUER ? new URL(cfg.FRISTVAGT_OIDC_ISSUER).origin : undefined;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** http is for a provider on this machine only (development and the tests); anything else must be https. */
function loopback(issuer: string): boolean {
  const host = new URL(issuer).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

const clients = new WeakMap<UiContext, Oidc>();
function oidcOf(u: UiContext): Oidc | undefined {
  const cfg = u.deps.config;
  if (!ssoEnabled(cfg) || !cfg.FRISTVAGT_OIDC_ISSUER || !cfg.FRISTVAGT_OIDC_CLIENT_ID) return undefined;
  let o = clients.get(u);
  if (!o) {
    const base = (cfg.PUBLIC_URL ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '');
    o = createOidc(
      { issuer: cfg.FRISTVAGT_OIDC_ISSUER, clientId: cfg.FRISTVAGT_OIDC_CLIENT_ID, clientSecret: cfg.FRISTVAGT_OIDC_CLIENT_SECRET, redirectUri: `${base}/login/sso/callback`, postLogoutRedirectUri: `${base}/login?out=1`, scopes: cfg.FRISTVAGT_OIDC_SCOPES ?? DEFAULT_OIDC_SCOPES },
      { allowInsecureHttp: loopback(cfg.FRISTVAGT_OIDC_ISSUER) },
    );
    clients.set(u, o);
  }
  return o;
}

/** Where the browser goes to end the provider's session too; undefined without SSO or when it has no such endpoint. */
export async function ssoLogoutUrl(u: UiContext, idToken: string | undefined, _lang: Lang): Promise<string | undefined> {
  const o = oidcOf(u);
  if (!o) return undefined;
  try {
    return await o.logoutUrl(idToken);
  } catch {
    // The provider is unreachable: fristvagt's own session has ended all the same.
    return undefined;
  }
}

function refusal(req: FastifyRequest, reply: FastifyReply, status: number, text: string): FastifyReply {
  const d = t(uiState(req).lang);
  const body = html`<div class="notice error" role="alert" id="sso-refused"><p>${text}</p></div>
<p><a href="/login">${d.id.tryAgain}</a></p>`;
  return sendHtml(reply, status, page(req, { title: d.id.refusedTitle, body }));
}

function refusalText(lang: Lang, reason: SsoRefusal): string {
  const d = t(lang).id;
  switch (reason) {
    case 'no_group':
      return d.noGroup;
    case 'ambiguous':
      return d.ambiguous;
    case 'no_name':
      return d.noName;
    case 'no_user':
      return d.noUser;
    case 'deactivated':
      return d.deactivated;
    case 'bad_mapping':
      return d.badMapping;
  }
}

export function registerSso(app: FastifyInstance, u: UiContext, limits: SessionLimits): void {
  const cfg = u.deps.config;
  if (!ssoEnabled(cfg)) return;
  const db = u.deps.database.db;
  const log = u.deps.logger.child({ component: 'sso' });
  const policy: SsoPolicy = { rules: cfg.FRISTVAGT_OIDC_ROLE_MAP ?? [], groupsClaim: cfg.FRISTVAGT_OIDC_GROUPS_CLAIM ?? 'groups', provision: cfg.FRISTVAGT_OIDC_PROVISION ?? 'auto' };

  app.get('/login/sso', async (req, reply) => {
    const q = queryOf(req);
    const lang = uiState(req).lang;
    const oidc = oidcOf(u) as Oidc;
    let begun: Awaited<ReturnType<Oidc['begin']>>;
    try {
      begun = await oidc.begin();
    } catch (err) {
      log.warn({ code: err instanceof OidcError ? err.code : 'ERROR', reason: err instanceof OidcError ? err.reason : undefined }, 'single sign-on could not start');
      return refusal(req, reply, 503, t(lang).id.ssoUnavailable);
    }
    const now = u.deps.clock();
    await db.delete(oidcLogins).where(lt(oidcLogins.expiresAt, now));
    await db.insert(oidcLogins).values({ stateHash: sha256(begun.pending.state), nonce: begun.pending.nonce, codeVerifier: begun.pending.codeVerifier, next: safeNext(q['next']), lang, expiresAt: new Date(now.getTime() + PENDING_TTL_MS) });
    // The login is bound to this browser too: a callback opened in another browser (an attacker's
    // own login, sent to a victim, would log the victim in as the attacker) finds no such cookie.
    // Lax, not Strict: the provider's redirect back is a cross-site navigation.
    void reply.setCookie(SSO_STATE_COOKIE, begun.pending.state, { ...cookieOptions(req, cfg.PUBLIC_URL, PENDING_TTL_MS / 1000), sameSite: 'lax', path: '/login/sso' });
    return reply.redirect(begun.url, 303);
  });

  app.get('/login/sso/callback', async (req, reply) => {
    const q = queryOf(req);
    const now = u.deps.clock();
    // The login under way, used once whatever happens next (a replayed callback finds nothing).
    const bound = sameToken(q['state'], req.cookies[SSO_STATE_COOKIE]);
    void reply.clearCookie(SSO_STATE_COOKIE, { ...cookieOptions(req, cfg.PUBLIC_URL), sameSite: 'lax', path: '/login/sso' });
    const [pending] = q['state'] && bound ? await db.delete(oidcLogins).where(and(eq(oidcLogins.stateHash, sha256(q['state'])), gt(oidcLogins.expiresAt, now))).returning() : [];
    const lang: Lang = parseLang(pending?.lang) ?? uiState(req).lang;
    req.ui = { ...uiState(req), lang };
    const d = t(lang).id;
    if (!pending) return refusal(req, reply, 400, d.ssoFailed);
    const base = (cfg.PUBLIC_URL ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '');
    let login;
    try {
      login = await (oidcOf(u) as Oidc).finish(new URL(req.url, `${base}/`), { state: q['state'] ?? '', nonce: pending.nonce, codeVerifier: pending.codeVerifier });
    } catch (err) {
      const code = err instanceof OidcError ? err.code : 'ERROR';
      log.warn({ code, reason: err instanceof OidcError ? err.reason : undefined, oauthError: err instanceof OidcError ? err.oauthError : undefined }, 'single sign-on callback refused');
      return refusal(req, reply, code === 'OIDC_UNAVAILABLE' ? 503 : code === 'OIDC_DENIED' ? 403 : 400, code === 'OIDC_UNAVAILABLE' ? d.ssoUnavailable : d.ssoFailed);
    }
    const outcome = await userForSsoLogin(db, login, policy, now);
    if (!outcome.ok) {
      log.info({ reason: outcome.reason }, 'single sign-on login refused');
      return refusal(req, reply, 403, refusalText(lang, outcome.reason));
    }
    if (outcome.created) log.info({ user: outcome.user.id }, 'user provisioned by single sign-on');
    await beginSession(u, req, reply, { userId: outcome.user.id }, 'sso', lang, limits, login.idToken);
    const next = safeNext(pending.next);
    const body = html`<meta http-equiv="refresh" content="0;url=${next}"><p><a href="${next}" id="sso-continue">${t(lang).backToOverview}</a></p>`;
    return sendHtml(reply, 200, page(req, { title: t(lang).loginTitle, body }));
  });
}
