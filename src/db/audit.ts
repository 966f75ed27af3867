/**
 * The append-only, hash-chained audit log. Each entry's hash covers the previous hash and the
 * entry's canonical JSON, so changing, removing or reordering any row breaks the chain from there
 * on; `fristvagt audit verify` walks it. The database refuses UPDATE/DELETE/TRUNCATE (trigger).
 */
import { createHash } from 'node:crypto';
import { asc, desc, gt, sql } from 'drizzle-orm';
import type { Db, Executor } from './client.js';
import { auditLog } from './schema.js';

export const GENESIS_HASH = '0'.repeat(64);
const AUDIT_LOCK = 7_347_002;

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

/** Stable JSON: keys sorted at every level, so jsonb's own key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function entryHash(prevHash: string, e: { at: Date; actor: string; action: string; entityType: string; entityId: string; before: unknown; after: unknown }): string {
  const body = canonicalJson({ at: e.at.toISOString(), actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: e.before ?? null, after: e.after ?? null });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/** JSON round-trip so that what is hashed is exactly what jsonb stores (dates become strings). */
function plain(v: unknown): unknown {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as unknown);
}

/** Appends within the caller's transaction; the advisory lock keeps concurrent writers in one chain. */
export async function appendAudit(tx: Executor, entry: AuditEntry, now: Date): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`);
  const [last] = await tx.select({ hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  const prevHash = last?.hash ?? GENESIS_HASH;
  // Millisecond precision: what Postgres stores and what a JS Date reads back must be equal.
  const at = new Date(Math.floor(now.getTime()));
  const before = plain(entry.before);
  const after = plain(entry.after);
  const hash = entryHash(prevHash, { at, actor: entry.actor, action: entry.action, entityType: entry.entityType, entityId: entry.entityId, before, after });
  await tx.insert(auditLog).values({ at, actor: entry.actor, action: entry.action, entityType: entry.entityType, entityId: entry.entityId, before, after, prevHash, hash });
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first row whose stored hashes do not match, and why. */
  brokenAt?: { id: number; reason: string };
}

export async function verifyAudit(db: Db, batchSize = 1000): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  for (;;) {
    const rows = await db.select().from(auditLog).where(gt(auditLog.id, lastId)).orderBy(asc(auditLog.id)).limit(batchSize);
    if (rows.length === 0) return { ok: true, checked };
    for (const row of rows) {
      if (row.prevHash !== prev) return { ok: false, checked, brokenAt: { id: row.id, reason: 'prev_hash does not match the previous entry (a row was changed, removed or inserted)' } };
      const expected = entryHash(prev, { at: row.at, actor: row.actor, action: row.action, entityType: row.entityType, entityId: row.entityId, before: row.before, after: row.after });
      if (expected !== row.hash) return { ok: false, checked, brokenAt: { id: row.id, reason: 'hash does not match the entry contents (the row was altered)' } };
      prev = row.hash;
      lastId = row.id;
      checked++;
    }
  }
}
