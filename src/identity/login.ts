/**
 * The local ways in (issue 14): e-mail and password with a rate limit, one-time login links, and
 * the first-run set-up link that creates the first administrator. Single sign-on is oidc.ts.
 *
 * Rate limit: at most FAILS_PER_EMAIL failed attempts for one e-mail address, and FAILS_PER_CLIENT
 * for one client address, in WINDOW_MS; beyond that every attempt is refused unchecked until the
 * oldest failure leaves the window. Failures are kept in Postgres (several processes share them,
 * a restart does not reset them) under the sha256 of the address, never the address itself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, count, eq, gt, isNull, lt, min, sql } from 'drizzle-orm';
import type { Db, Executor } from '../db/client.js';
import { appendAudit } from '../db/audit.js';
import { loginFailures, loginLinks, users } from '../db/schema.js';
import { ServiceError } from '../records/errors.js';
import type { Actor } from '../records/service.js';
import { countUsers, createUser, findUserByEmail, requireManageable, touchLogin, type UserRow } from '../records/users.js';
import { verifyPassword } from './passwords.js';

export const WINDOW_MS = 15 * 60_000;
export const FAILS_PER_EMAIL = 5;
export const FAILS_PER_CLIENT = 30;
/** A login link is good for this long (one use). */
export const LOGIN_LINK_TTL_MS = 24 * 3600_000;

export const SYSTEM: Actor = { id: 'system', name: 'system', role: 'admin', kind: 'system' };

/** PUBLIC_URL's default (src/config.ts), for a process started without one (tests, the quick start). */
export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

/** Where a one-time link points: the link route (src/ui/pages/auth.ts) or the first-run set-up, with the secret. */
export function loginLinkUrl(publicUrl: string | undefined, secret: string, purpose: 'login' | 'setup' = 'login'): string {
  return `${(publicUrl ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '')}/${purpose === 'setup' ? 'setup' : 'login/link'}?k=${encodeURIComponent(secret)}`;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

const emailKey = (email: string): string => `email:${sha256(email.trim().toLowerCase())}`;
const clientKey = (addr: string): string => `client:${sha256(addr)}`;

export type PasswordLogin = { ok: true; user: UserRow } | { ok: false; reason: 'invalid' | 'locked'; retryAfterS?: number };

/** Seconds until `key` may try again, or 0 when it is under its limit. */
async function lockedFor(db: Executor, key: string, limit: number, now: Date): Promise<number> {
  const since = new Date(now.getTime() - WINDOW_MS);
  const [r] = await db.select({ n: count(), oldest: min(loginFailures.at) }).from(loginFailures).where(and(eq(loginFailures.key, key), gt(loginFailures.at, since)));
  if (!r || Number(r.n) < limit || !r.oldest) return 0;
  return Math.max(1, Math.ceil((r.oldest.getTime() + WINDOW_MS - now.getTime()) / 1000));
}

export async function passwordLogin(db: Db, email: string, password: string, clientAddr: string, now: Date): Promise<PasswordLogin> {
  const keys = { email: emailKey(email), client: clientKey(clientAddr) };
  const wait = Math.max(await lockedFor(db, keys.email, FAILS_PER_EMAIL, now), await lockedFor(db, keys.client, FAILS_PER_CLIENT, now));
  if (wait > 0) return { ok: false, reason: 'locked', retryAfterS: wait };
  const user = await findUserByEmail(db, email);
  // verifyPassword checks against a decoy when there is no user or no password: the same time either way.
  const good = await verifyPassword(password, user && !user.deactivatedAt ? user.passwordHash : undefined);
  if (!good || !user || user.deactivatedAt) {
    await db.insert(loginFailures).values([{ key: keys.email, at: now }, { key: keys.client, at: now }]);
    // Old failures serve no one; drop them on the way.
    await db.delete(loginFailures).where(lt(loginFailures.at, new Date(now.getTime() - 24 * 3600_000)));
    return { ok: false, reason: 'invalid' };
  }
  await db.delete(loginFailures).where(eq(loginFailures.key, keys.email));
  await touchLogin(db, user.id, now);
  return { ok: true, user };
}

/** A one-time login link for a person (no password yet, or forgotten). Returns the secret, shown once. */
export async function createLoginLink(db: Db, userId: string, actor: Actor, now: Date, ttlMs = LOGIN_LINK_TTL_MS): Promise<{ secret: string; expiresAt: Date }> {
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs);
  await db.transaction(async (tx) => {
    // A link logs in as the person: only who may manage them may make one (403, or 404 outside the scope).
    await requireManageable(tx, actor, userId);
    const [u] = await tx.select({ id: users.id, deactivatedAt: users.deactivatedAt }).from(users).where(eq(users.id, userId));
    if (!u) throw new ServiceError('NOT_FOUND', `no user ${userId}`);
    if (u.deactivatedAt) throw new ServiceError('CONFLICT', 'the user is deactivated');
    // One live link per person: a new one replaces the old.
    await tx.update(loginLinks).set({ usedAt: now }).where(and(eq(loginLinks.userId, userId), isNull(loginLinks.usedAt)));
    await tx.insert(loginLinks).values({ tokenHash: sha256(secret), purpose: 'login', userId, createdAt: now, expiresAt });
    await appendAudit(tx, { actor: actor.name, action: 'user.login_link', entityType: 'user', entityId: userId, before: null, after: { expiresAt: expiresAt.toISOString() } }, now);
  });
  return { secret, expiresAt };
}

/** Uses a login link once: the person it was for, or undefined when it is unknown, used or expired. */
export async function useLoginLink(db: Db, secret: string, now: Date): Promise<UserRow | undefined> {
  if (secret.length === 0 || secret.length > 100) return undefined;
  return db.transaction(async (tx) => {
    const [link] = await tx
      .update(loginLinks)
      .set({ usedAt: now })
      .where(and(eq(loginLinks.tokenHash, sha256(secret)), eq(loginLinks.purpose, 'login'), isNull(loginLinks.usedAt), gt(loginLinks.expiresAt, now)))
      .returning({ userId: loginLinks.userId });
    if (!link?.userId) return undefined;
    const [u] = await tx.select().from(users).where(and(eq(users.id, link.userId), isNull(users.deactivatedAt)));
    if (!u) return undefined;
    await tx.update(users).set({ lastLoginAt: now }).where(eq(users.id, u.id));
    return u;
  });
}

/**
 * The first-run set-up link: made only while there is no user at all (`start` prints it). A new
 * one replaces any earlier unused one. Undefined once somebody exists.
 */
export async function setupLink(db: Db, now: Date, ttlMs = LOGIN_LINK_TTL_MS): Promise<string | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('fristvagt:first-admin'))`);
    if ((await countUsers(tx)) > 0) return undefined;
    const secret = randomBytes(32).toString('base64url');
    await tx.update(loginLinks).set({ usedAt: now }).where(and(eq(loginLinks.purpose, 'setup'), isNull(loginLinks.usedAt)));
    await tx.insert(loginLinks).values({ tokenHash: sha256(secret), purpose: 'setup', userId: null, createdAt: now, expiresAt: new Date(now.getTime() + ttlMs) });
    return secret;
  });
}

/** Whether a set-up link is live (the set-up page shows its form only then). */
export async function setupLinkValid(db: Db, secret: string, now: Date): Promise<boolean> {
  if (secret.length === 0 || secret.length > 100) return false;
  const [link] = await db.select({ id: loginLinks.id }).from(loginLinks).where(and(eq(loginLinks.tokenHash, sha256(secret)), eq(loginLinks.purpose, 'setup'), isNull(loginLinks.usedAt), gt(loginLinks.expiresAt, now)));
  return link !== undefined && (await countUsers(db)) === 0;
}

/**
 * Creates the first administrator from the set-up form, using the link once. Refused (NOT_FOUND)
 * when the link is unknown, used or expired, or somebody already exists; validation as for any
 * user (the password is required here).
 */
export async function completeSetup(db: Db, secret: string, body: Record<string, unknown>, now: Date): Promise<UserRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('fristvagt:first-admin'))`);
    const gone = new ServiceError('NOT_FOUND', 'the set-up link is unknown, used or expired');
    if ((await countUsers(tx)) > 0) throw gone;
    const [link] = await tx.select({ id: loginLinks.id }).from(loginLinks).where(and(eq(loginLinks.tokenHash, sha256(secret)), eq(loginLinks.purpose, 'setup'), isNull(loginLinks.usedAt), gt(loginLinks.expiresAt, now))).for('update');
    if (!link) throw gone;
    if (typeof body['password'] !== 'string' || body['password'] === '') throw new ServiceError('VALIDATION', 'password: is required', { issues: [{ path: 'password', message: 'is required' }] });
    const view = await createUser(db, { ...body, role: 'admin' }, SYSTEM, now, tx);
    await tx.update(loginLinks).set({ usedAt: now }).where(eq(loginLinks.id, link.id));
    const [u] = await tx.update(users).set({ lastLoginAt: now }).where(eq(users.id, view.id)).returning();
    if (!u) throw new Error('the new administrator is gone');
    return u;
  });
}
