/**
 * Browser sessions, stored in Postgres (they survive a restart). A login (a person's password, a
 * one-time link, single sign-on, or a machine token for bootstrap) is exchanged once for a random
 * session id in an httpOnly, SameSite=Strict cookie; the database keeps only its sha256. Every
 * request re-resolves the session's person or token, so deactivating the person or revoking the
 * token ends the session at once. Each session has its own CSRF token that every form carries.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Db, Executor } from '../db/client.js';
import { apiTokens, uiSessions } from '../db/schema.js';
import type { Actor } from '../records/service.js';
import { authenticate, ENV_ADMIN, tokenActor } from '../records/tokens.js';
import { activeUsers, userActor } from '../records/users.js';
import type { Lang } from './i18n.js';

export const SESSION_COOKIE = 'fristvagt_session';
/** Double-submit cookie for the login form, which has no session yet. */
export const LOGIN_CSRF_COOKIE = 'fristvagt_login_csrf';
/** Absolute lifetime of a session. */
export const SESSION_TTL_MS = 12 * 3600_000;
/** A session unused this long is over. */
export const SESSION_IDLE_MS = 2 * 3600_000;
/** lastSeenAt is written at most this often (a write per request would be wasteful). */
const TOUCH_EVERY_MS = 60_000;

export interface UiSession {
  id: string;
  actor: Actor;
  csrfToken: string;
  lang: Lang;
  via: SessionVia;
  /** SSO sessions: the provider's ID token, for its logout. */
  idToken?: string;
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(sha256(a), 'hex');
  const y = Buffer.from(sha256(b), 'hex');
  return timingSafeEqual(x, y);
}

/**
 * `publicUrl` is config.PUBLIC_URL: behind a TLS-terminating proxy the request itself arrives over
 * plain http, and only the configured public address says that browsers reach us over https.
 */
export function cookieOptions(req: FastifyRequest, publicUrl: string | undefined, maxAgeS?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: req.protocol === 'https' || (publicUrl?.toLowerCase().startsWith('https:') ?? false),
    ...(maxAgeS !== undefined ? { maxAge: maxAgeS } : {}),
  };
}

/** The actor behind a stored token id, or undefined when the token is revoked, expired or the env token is gone. */
async function actorOfToken(db: Db, tokenId: string, envAdminToken: string | undefined, now: Date): Promise<Actor | undefined> {
  if (tokenId === ENV_ADMIN.id) return envAdminToken ? ENV_ADMIN : undefined;
  if (!/^[0-9a-f-]{36}$/i.test(tokenId)) return undefined;
  const [row] = await db.select().from(apiTokens).where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)));
  // The same shape authenticate() gives, so audit entries name the same actor as the API would.
  return row ? tokenActor(row, now) : undefined;
}

/** How long sessions live (config: FRISTVAGT_SESSION_IDLE_MINUTES and FRISTVAGT_SESSION_MAX_HOURS). */
export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}
export const DEFAULT_LIMITS: SessionLimits = { idleMs: SESSION_IDLE_MS, maxMs: SESSION_TTL_MS };

/** The configuration the UI's identity part reads (sessions and single sign-on). */
export type IdentityConfigKey =
  | 'FRISTVAGT_SESSION_IDLE_MINUTES'
  | 'FRISTVAGT_SESSION_MAX_HOURS'
  | 'FRISTVAGT_OIDC_ISSUER'
  | 'FRISTVAGT_OIDC_CLIENT_ID'
  | 'FRISTVAGT_OIDC_CLIENT_SECRET'
  | 'FRISTVAGT_OIDC_SCOPES'
  | 'FRISTVAGT_OIDC_GROUPS_CLAIM'
  | 'FRISTVAGT_OIDC_ROLE_MAP'
  | 'FRISTVAGT_OIDC_PROVISION'
  | 'FRISTVAGT_OIDC_LABEL';

export function limitsOf(cfg: Partial<Pick<Config, 'FRISTVAGT_SESSION_IDLE_MINUTES' | 'FRISTVAGT_SESSION_MAX_HOURS'>>): SessionLimits {
  return {
    idleMs: cfg.FRISTVAGT_SESSION_IDLE_MINUTES !== undefined ? cfg.FRISTVAGT_SESSION_IDLE_MINUTES * 60_000 : SESSION_IDLE_MS,
    maxMs: cfg.FRISTVAGT_SESSION_MAX_HOURS !== undefined ? cfg.FRISTVAGT_SESSION_MAX_HOURS * 3600_000 : SESSION_TTL_MS,
  };
}

export type SessionVia = 'password' | 'link' | 'sso' | 'token' | 'setup';

/** Who a new session is for: a person (by user id) or a machine credential's actor. */
export type Principal = { userId: string } | { actor: Actor };

/** A new session: the cookie value (shown to the browser once, stored as sha256) and the session. */
export async function startSession(db: Executor, principal: Principal, via: SessionVia, lang: Lang, now: Date, limits: SessionLimits = DEFAULT_LIMITS, idToken?: string): Promise<{ cookie: string; sessionId: string; csrfToken: string }> {
  const cookie = randomToken();
  const csrfToken = randomToken();
  // Expired sessions are of no use to anyone; clear them on the way.
  await db.delete(uiSessions).where(or(lt(uiSessions.expiresAt, now), lt(uiSessions.lastSeenAt, new Date(now.getTime() - limits.idleMs))));
  const who = 'userId' in principal ? { userId: principal.userId, tokenId: null } : { userId: null, tokenId: principal.actor.id };
  const [row] = await db
    .insert(uiSessions)
    .values({ sessionHash: sha256(cookie), ...who, via, idToken: idToken ?? null, csrfToken, lang, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + limits.maxMs) })
    .returning({ id: uiSessions.id });
  if (!row) throw new Error('session insert returned nothing');
  return { cookie, sessionId: row.id, csrfToken };
}

/** The token login (bootstrap and break-glass: FRISTVAGT_ADMIN_TOKEN or an API token). */
export async function login(db: Db, token: string, envAdminToken: string | undefined, lang: Lang, now: Date, limits: SessionLimits = DEFAULT_LIMITS): Promise<{ cookie: string; session: UiSession } | undefined> {
  const actor = await authenticate(db, token, envAdminToken, now);
  if (!actor) return undefined;
  const s = await startSession(db, { actor }, 'token', lang, now, limits);
  return { cookie: s.cookie, session: { id: s.sessionId, actor, csrfToken: s.csrfToken, lang, via: 'token' } };
}

export async function resolveSession(db: Db, cookie: string | undefined, envAdminToken: string | undefined, now: Date, limits: SessionLimits = DEFAULT_LIMITS): Promise<UiSession | undefined> {
  if (!cookie || cookie.length > 200) return undefined;
  const [row] = await db.select().from(uiSessions).where(and(eq(uiSessions.sessionHash, sha256(cookie)), isNull(uiSessions.revokedAt)));
  if (!row) return undefined;
  // The session's own expiry was fixed when it began; the idle limit is judged by today's setting.
  if (row.expiresAt.getTime() <= now.getTime() || now.getTime() - row.lastSeenAt.getTime() > limits.idleMs) return undefined;
  let actor: Actor | undefined;
  if (row.userId) {
    const [u] = await activeUsers(db, [row.userId]);
    actor = u ? userActor(u) : undefined;
  } else if (row.tokenId) {
    actor = await actorOfToken(db, row.tokenId, envAdminToken, now);
  }
  if (!actor) {
    // The token was revoked or the person deactivated: the session goes with it, for good.
    await db.update(uiSessions).set({ revokedAt: now }).where(eq(uiSessions.id, row.id));
    return undefined;
  }
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) await db.update(uiSessions).set({ lastSeenAt: now }).where(eq(uiSessions.id, row.id));
  return { id: row.id, actor, csrfToken: row.csrfToken, lang: row.lang === 'en' ? 'en' : 'da', via: row.via as SessionVia, ...(row.idToken ? { idToken: row.idToken } : {}) };
}

export async function setSessionLang(db: Db, sessionId: string, lang: Lang): Promise<void> {
  await db.update(uiSessions).set({ lang }).where(eq(uiSessions.id, sessionId));
}

export async function logout(db: Db, sessionId: string, now: Date): Promise<void> {
  await db.update(uiSessions).set({ revokedAt: now }).where(eq(uiSessions.id, sessionId));
}

export function clearSessionCookie(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined): void {
  void reply.clearCookie(SESSION_COOKIE, cookieOptions(req, publicUrl));
}
