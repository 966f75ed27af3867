/**
 * Browser sessions. A token is exchanged once for a random session id in an httpOnly,
 * SameSite=Strict cookie; the database keeps only its sha256. Every request re-resolves the
 * session's API token, so revoking the token ends the session at once. Each session has its own
 * CSRF token that every form carries in a hidden field.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { apiTokens, uiSessions } from '../db/schema.js';
import type { Actor } from '../records/service.js';
import { authenticate, ENV_ADMIN } from '../records/tokens.js';
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

/** The actor behind a stored token id, or undefined when the token is revoked or the env token is gone. */
async function actorOfToken(db: Db, tokenId: string, envAdminToken: string | undefined): Promise<Actor | undefined> {
  if (tokenId === ENV_ADMIN.id) return envAdminToken ? ENV_ADMIN : undefined;
  if (!/^[0-9a-f-]{36}$/i.test(tokenId)) return undefined;
  const [row] = await db.select().from(apiTokens).where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)));
  if (!row) return undefined;
  // The same shape authenticate() gives, so audit entries name the same actor as the API would.
  return { id: row.id, name: `token:${row.name}:${row.id.slice(0, 8)}`, role: row.role, areaId: row.areaId, institutionId: row.institutionId };
}

export async function login(db: Db, token: string, envAdminToken: string | undefined, lang: Lang, now: Date): Promise<{ cookie: string; session: UiSession } | undefined> {
  const actor = await authenticate(db, token, envAdminToken);
  if (!actor) return undefined;
  const cookie = randomToken();
  const csrfToken = randomToken();
  // Expired sessions are of no use to anyone; clear them on the way.
  await db.delete(uiSessions).where(or(lt(uiSessions.expiresAt, now), lt(uiSessions.lastSeenAt, new Date(now.getTime() - SESSION_IDLE_MS))));
  const [row] = await db
    .insert(uiSessions)
    .values({ sessionHash: sha256(cookie), tokenId: actor.id, csrfToken, lang, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION_TTL_MS) })
    .returning({ id: uiSessions.id });
  if (!row) throw new Error('session insert returned nothing');
  return { cookie, session: { id: row.id, actor, csrfToken, lang } };
}

export async function resolveSession(db: Db, cookie: string | undefined, envAdminToken: string | undefined, now: Date): Promise<UiSession | undefined> {
  if (!cookie || cookie.length > 200) return undefined;
  const [row] = await db.select().from(uiSessions).where(and(eq(uiSessions.sessionHash, sha256(cookie)), isNull(uiSessions.revokedAt)));
  if (!row) return undefined;
  if (row.expiresAt.getTime() <= now.getTime() || now.getTime() - row.lastSeenAt.getTime() > SESSION_IDLE_MS) return undefined;
  const actor = await actorOfToken(db, row.tokenId, envAdminToken);
  if (!actor) {
    // The token was revoked: the session goes with it, for good.
    await db.update(uiSessions).set({ revokedAt: now }).where(eq(uiSessions.id, row.id));
    return undefined;
  }
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) await db.update(uiSessions).set({ lastSeenAt: now }).where(eq(uiSessions.id, row.id));
  return { id: row.id, actor, csrfToken: row.csrfToken, lang: row.lang === 'en' ? 'en' : 'da' };
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
