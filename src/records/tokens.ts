/** API tokens: random, shown once, stored as sha256. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { appendAudit } from '../db/audit.js';
import { apiTokens, areas, institutions } from '../db/schema.js';
import { ServiceError, validationError } from './errors.js';
import { plainString, refineRoleScope, slug } from './values.js';
import { zodIssues, type Actor } from './service.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export const tokenCreate = z.strictObject({
  name: plainString().trim().min(1).max(100).default('token'),
  role: z.enum(['admin', 'area', 'institution', 'reader']),
  areaId: slug.optional(),
  institutionId: slug.optional(),
  /** Optional end of the token's life (an ISO instant in the future). */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
}).superRefine(refineRoleScope);

/** Tokens are managed by admins only (the API, the UI and the CLI's admin actor alike). */
function requireTokenAdmin(actor: Actor, what: string): void {
  if (actor.role !== 'admin') throw new ServiceError('FORBIDDEN', `only admin tokens may ${what} tokens`);
}

/** Every token, newest first, without its hash: name, role, scope, when created, last used and revoked. */
export async function listTokens(db: Db, actor: Actor) {
  requireTokenAdmin(actor, 'list');
  return db
    .select({ id: apiTokens.id, name: apiTokens.name, role: apiTokens.role, areaId: apiTokens.areaId, institutionId: apiTokens.institutionId, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt, expiresAt: apiTokens.expiresAt })
    .from(apiTokens)
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

export async function createToken(db: Db, body: unknown, actor: Actor, now: Date): Promise<{ id: string; token: string; role: string; expiresAt: string | null }> {
  requireTokenAdmin(actor, 'create');
  const r = tokenCreate.safeParse(body);
  if (!r.success) throw validationError(zodIssues(r.error));
  const input = r.data;
  if (input.areaId && (await db.select().from(areas).where(eq(areas.id, input.areaId))).length === 0) throw validationError([{ path: 'areaId', message: `unknown area "${input.areaId}"` }]);
  if (input.institutionId && (await db.select().from(institutions).where(eq(institutions.id, input.institutionId))).length === 0) throw validationError([{ path: 'institutionId', message: `unknown institution "${input.institutionId}"` }]);
  const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) throw validationError([{ path: 'expiresAt', message: 'must be in the future' }]);
  const token = `fv_${randomBytes(32).toString('base64url')}`;
  const id = await db.transaction(async (tx) => {
    const [row] = await tx.insert(apiTokens).values({ name: input.name, role: input.role, areaId: input.areaId ?? null, institutionId: input.institutionId ?? null, tokenHash: hashToken(token), createdAt: now, expiresAt }).returning({ id: apiTokens.id });
    if (!row) throw new Error('insert returned nothing');
    await appendAudit(tx, { actor: actor.name, action: 'token.create', entityType: 'token', entityId: row.id, after: { name: input.name, role: input.role, areaId: input.areaId ?? null, institutionId: input.institutionId ?? null, expiresAt: expiresAt?.toISOString() ?? null } }, now);
    return row.id;
  });
  return { id, token, role: input.role, expiresAt: expiresAt?.toISOString() ?? null };
}

export async function revokeToken(db: Db, id: string, actor: Actor, now: Date): Promise<void> {
  requireTokenAdmin(actor, 'revoke');
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ServiceError('NOT_FOUND', `no active token ${id}`);
  await db.transaction(async (tx) => {
    const rows = await tx.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))).returning({ id: apiTokens.id });
    if (rows.length === 0) throw new ServiceError('NOT_FOUND', `no active token ${id}`);
    await appendAudit(tx, { actor: actor.name, action: 'token.revoke', entityType: 'token', entityId: id }, now);
  });
}

export const ENV_ADMIN: Actor = { id: 'env-admin', name: 'FRISTVAGT_ADMIN_TOKEN', role: 'admin', kind: 'token' };

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(hashToken(a), 'hex');
  const y = Buffer.from(hashToken(b), 'hex');
  return timingSafeEqual(x, y);
}

/** The actor of a live token row: the same shape for the API and for a token's browser session. */
export function tokenActor(row: typeof apiTokens.$inferSelect, now: Date): Actor | undefined {
  if (row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now.getTime())) return undefined;
  return { id: row.id, name: `token:${row.name}:${row.id.slice(0, 8)}`, role: row.role, areaId: row.areaId, institutionId: row.institutionId, kind: 'token' };
}

/** The actor behind a bearer token, or undefined when it is unknown, revoked or expired. */
export async function authenticate(db: Db, token: string, envAdminToken: string | undefined, now: Date = new Date()): Promise<Actor | undefined> {
  if (envAdminToken && sameSecret(token, envAdminToken)) return ENV_ADMIN;
  const [row] = await db.select().from(apiTokens).where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  return row ? tokenActor(row, now) : undefined;
}
