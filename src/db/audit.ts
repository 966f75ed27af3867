/**
 * The append-only, hash-chained audit log. Each entry's hash covers the previous hash and the
 * entry's canonical JSON, so changing, removing or reordering any row breaks the chain from there
 * on; `fristvagt audit verify` walks it. The database refuses UPDATE/DELETE/TRUNCATE (trigger).
 *
 * An inmate's name, CPR number and free texts must go when the record's retention period ends, but
 * an append-only chain cannot forget. So the entry keeps only a salted hash of each such value
 * (`{"$personal": "<sha256>"}`) and the values live in `audit_personal`, which retention may delete
 * from. The chain still verifies after erasure, and a value changed in place is still detected.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { insertJson } from './bulk.js';
import { rowsOf, type Db, type Executor } from './client.js';
import { auditLog, auditPersonal } from './schema.js';
import { entryHash, GENESIS_HASH, PERSONAL_KEY, personalDigest, personalSideMatches, type HashedEntry } from './audit-hash.js';

export { canonicalJson, entryHash, entryHashInput, GENESIS_HASH, PERSONAL_KEY, personalDigest } from './audit-hash.js';

const AUDIT_LOCK = 7_347_002;

export interface AuditEntry {
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
  /** Top-level keys of before/after that hold personal data: stored apart, erasable. */
  personal?: readonly string[];
}

export interface PersonalRow {
  field: string;
  salt: string;
  before: unknown;
  after: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Replaces each personal value by its digest; returns what the chain stores and what goes to audit_personal. */
export function sealPersonal(entry: Pick<AuditEntry, 'before' | 'after' | 'personal'>, newSalt: () => string = () => randomBytes(16).toString('hex')): { before: unknown; after: unknown; personal: PersonalRow[] } {
  const before = ownCopy(entry.before);
  const after = ownCopy(entry.after);
  const personal: PersonalRow[] = [];
  for (const field of entry.personal ?? []) {
    const b = isObject(before) ? (before[field] ?? null) : null;
    const a = isObject(after) ? (after[field] ?? null) : null;
    if (b === null && a === null) continue;
    const salt = newSalt();
    if (b !== null && isObject(before)) before[field] = { [PERSONAL_KEY]: personalDigest(salt, b) };
    if (a !== null && isObject(after)) after[field] = { [PERSONAL_KEY]: personalDigest(salt, a) };
    personal.push({ field, salt, before: b, after: a });
  }
  return { before, after, personal };
}

/**
 * How a personal value is stored: wrapped, because a bare jsonb string that looks like JSON ("42",
 * "true", "[1]") comes back from the driver parsed (42, true, [1]) and would no longer match its digest.
 */
export function wrapPersonal(value: unknown): { v: unknown } | null {
  return value === null || value === undefined ? null : { v: value };
}
function unwrapPersonal(stored: unknown): unknown {
  return isObject(stored) && 'v' in stored ? stored['v'] : null;
}

/** Erases the personal data of every audit entry of one entity (retention); the chain stays intact. */
export async function erasePersonal(tx: Executor, entityType: string, entityId: string): Promise<number> {
  const gone = await tx
    .delete(auditPersonal)
    .where(inArray(auditPersonal.auditId, tx.select({ id: auditLog.id }).from(auditLog).where(and(eq(auditLog.entityType, entityType), eq(auditLog.entityId, entityId)))))
    .returning({ id: auditPersonal.auditId });
  return gone.length;
}

/**
 * A copy the sealing may change (personal fields are top-level keys). No JSON round trip is
 * needed for the hash to match what jsonb gives back: canonicalJson writes dates, undefined and
 * every other value as JSON.stringify (and so the stored payload) does.
 */
function ownCopy(v: unknown): unknown {
  if (v === undefined) return null;
  if (!isObject(v) || v instanceof Date) return v;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) out[key] = v[key];
  return out;
}

/** Appends one entry within the caller's transaction: a batch of one. */
export async function appendAudit(tx: Executor, entry: AuditEntry, now: Date): Promise<void> {
  await appendAuditEntries(tx, [entry], now);
}

/**
 * Appends entries within the caller's transaction, chained in the given order. The advisory lock
 * keeps concurrent writers in one chain (held to the end of the transaction); the ids are drawn
 * after it and sorted, so the chain's order is the id order. One statement inserts the entries and
 * one their personal data, however many there are.
 */
export async function appendAuditEntries(tx: Executor, entries: readonly AuditEntry[], now: Date): Promise<void> {
  if (entries.length === 0) return;
  await tx.execute(sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`);
  const [head] = rowsOf<{ last: string | null; ids: Array<string | number> }>(
    await tx.execute(sql`SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1) AS last, array(SELECT nextval(pg_get_serial_sequence('audit_log', 'id')) FROM generate_series(1, ${entries.length}) ORDER BY 1) AS ids`),
  );
  const ids = (head?.ids ?? []).map(Number);
  let prevHash = head?.last ?? GENESIS_HASH;
  // Millisecond precision: what Postgres stores and what a JS Date reads back must be equal.
  const at = new Date(Math.floor(now.getTime()));
  // One draw of randomness for every salt of the batch.
  const salts = randomBytes(16 * entries.reduce((n, e) => n + (e.personal?.length ?? 0), 0)).toString('hex');
  let salt = 0;
  const nextSalt = (): string => salts.slice(32 * salt, 32 * ++salt);
  const personal: Array<Record<string, unknown>> = [];
  const rows = entries.map((e, i) => {
    const id = ids[i] as number;
    const sealed = sealPersonal(e, nextSalt);
    for (const p of sealed.personal) personal.push({ auditId: id, field: p.field, salt: p.salt, before: wrapPersonal(p.before), after: wrapPersonal(p.after) });
    const hash = entryHash(prevHash, { at, actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: sealed.before, after: sealed.after });
    const row = { id, at, actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: sealed.before, after: sealed.after, prevHash, hash };
    prevHash = hash;
    return row;
  });
  await insertJson(tx, auditLog, rows);
  await insertJson(tx, auditPersonal, personal);
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  /** The first row whose stored hashes do not match, and why (id 0: the table as a whole). */
  brokenAt?: { id: number; reason: string };
  /** Ids stored more than once, as ranges (at most the first 20): never legitimate. */
  duplicates?: IdRange[];
  /** How many ids are stored more than once. */
  duplicateIds?: number;
  /**
   * Unused ids between entries whose hashes still link up: sequence numbers of rolled-back
   * transactions or lost in a crash, not missing entries (at most the first 20 ranges).
   */
  idGaps?: IdRange[];
  /** How many ids the gaps span in all. */
  unusedIds?: number;
}

export interface IdRange {
  from: number;
  to: number;
}

const LISTED = 20;

/** `#4, #7–#9, …`: ids only, nothing of an entry's contents. */
export function formatIdRanges(ranges: readonly IdRange[], more = false): string {
  return `${ranges.map((r) => (r.from === r.to ? `#${r.from}` : `#${r.from}–#${r.to}`)).join(', ')}${more ? ', …' : ''}`;
}

/**
 * Counts the table's rows and finds ids stored twice, reading the table itself rather than the
 * primary-key index. Two processes on one PGlite directory left rows the index does not list
 * (issue 9): an id-ordered walk over the index then sees one consistent chain and says ok.
 */
async function census(db: Db): Promise<{ rows: number; maxId: number; duplicates: IdRange[]; duplicateCount: number }> {
  return db.transaction(async (tx) => {
    for (const setting of ['enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan']) await tx.execute(sql.raw(`SET LOCAL ${setting} = off`));
    await tx.execute(sql`SET LOCAL enable_seqscan = on`);
    const [row] = rowsOf<{ rows: unknown; max_id: unknown; dup_count: unknown; dups: unknown }>(await tx.execute(sql`
      WITH g AS (SELECT id, count(*) AS c FROM audit_log GROUP BY id)
      SELECT coalesce(sum(c), 0)::bigint::text AS rows, coalesce(max(id), 0)::text AS max_id, (count(*) FILTER (WHERE c > 1))::text AS dup_count,
        (SELECT string_agg(r, ',' ORDER BY lo) FROM (
          SELECT min(id) AS lo, min(id)::text || '-' || max(id)::text AS r FROM (SELECT id, id - row_number() OVER (ORDER BY id) AS run FROM g WHERE c > 1) d
          GROUP BY run ORDER BY lo LIMIT ${LISTED}) runs) AS dups
      FROM g`));
    const dups = typeof row?.dups === 'string' && row.dups ? row.dups.split(',').map((r) => ({ from: Number(r.split('-')[0]), to: Number(r.split('-')[1]) })) : [];
    return { rows: Number(row?.rows ?? 0), maxId: Number(row?.max_id ?? 0), duplicates: dups, duplicateCount: Number(row?.dup_count ?? 0) };
  });
}

/**
 * Walks the chain in id order: each entry's prev_hash must be the previous entry's hash and its
 * hash must match its contents. Before that, a census of the table itself: an id stored twice, or
 * a row the id-ordered walk cannot reach, is a break too. Unused ids between linked entries are
 * reported, not a break (a rolled-back transaction or a crash consumes sequence numbers);
 * entries removed from the middle break the link and are named as missing ids.
 */
export async function verifyAudit(db: Db, batchSize = 1000): Promise<VerifyResult> {
  const table = await census(db);
  if (table.duplicateCount > 0) {
    return {
      ok: false,
      checked: 0,
      duplicates: table.duplicates,
      duplicateIds: table.duplicateCount,
      brokenAt: { id: table.duplicates[0]?.from ?? 0, reason: `${table.duplicateCount} id${table.duplicateCount > 1 ? 's' : ''} stored more than once: ${formatIdRanges(table.duplicates, table.duplicates.length >= LISTED)} (two processes wrote the log at once, e.g. one FRISTVAGT_DATA_DIR opened twice, or rows were copied in)` },
    };
  }
  let prev = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  let reachable = 0;
  const idGaps: IdRange[] = [];
  let unusedIds = 0;
  const result = (extra: Partial<VerifyResult> = {}): VerifyResult => ({ ok: true, checked, ...(unusedIds > 0 ? { idGaps, unusedIds } : {}), ...extra });
  for (;;) {
    const rows = await db.select().from(auditLog).where(gt(auditLog.id, lastId)).orderBy(asc(auditLog.id)).limit(batchSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      const gap = row.id > lastId + 1 ? { from: lastId + 1, to: row.id - 1 } : undefined;
      if (row.prevHash !== prev) {
        const reason = gap
          ? `entries are missing: no ${formatIdRanges([gap])}, and this entry's prev_hash does not match ${lastId > 0 ? `entry #${lastId}` : 'the start of the chain'} (entries were removed)`
          : 'prev_hash does not match the previous entry (a row was changed, removed or inserted)';
        return result({ ok: false, brokenAt: { id: row.id, reason } });
      }
      const expected = entryHash(prev, { at: row.at, actor: row.actor, action: row.action, entityType: row.entityType, entityId: row.entityId, before: row.before, after: row.after });
      if (expected !== row.hash) return result({ ok: false, brokenAt: { id: row.id, reason: 'hash does not match the entry contents (the row was altered)' } });
      if (gap) {
        unusedIds += gap.to - gap.from + 1;
        if (idGaps.length < LISTED) idGaps.push(gap);
      }
      prev = row.hash;
      lastId = row.id;
      checked++;
      if (row.id <= table.maxId) reachable++;
    }
    // Erased personal data is fine; personal data that no longer matches its entry's digest is not.
    const first = rows[0]?.id ?? 0;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const personal = await db.select().from(auditPersonal).where(and(gte(auditPersonal.auditId, first), lte(auditPersonal.auditId, lastId)));
    for (const p of personal) {
      const entry = byId.get(p.auditId);
      const ok = entry !== undefined && personalSideMatches(entry.before, p.field, p.salt, unwrapPersonal(p.before)) && personalSideMatches(entry.after, p.field, p.salt, unwrapPersonal(p.after));
      if (!ok) return result({ ok: false, brokenAt: { id: p.auditId, reason: `personal data of the entry (field ${p.field}) does not match its digest (it was altered)` } });
    }
  }
  // Entries appended while this ran have ids above the census's; up to there, every row must have been reached.
  if (reachable !== table.rows) {
    return result({ ok: false, brokenAt: { id: 0, reason: `the table holds ${table.rows} entries up to #${table.maxId}, the id-ordered walk reached ${reachable} (the primary-key index and the table disagree)` } });
  }
  return result();
}

export interface AuditRow extends HashedEntry {
  id: number;
  /** Fields whose personal data was erased by retention. */
  erased: string[];
}

/** Audit entries with their personal data put back where it still exists; erased values read `erasedAs`. */
export async function readAudit(db: Executor, where: SQL | undefined, erasedAs: unknown = null): Promise<AuditRow[]> {
  const rows = await db.select().from(auditLog).where(where).orderBy(asc(auditLog.id));
  if (rows.length === 0) return [];
  const personal = await db.select().from(auditPersonal).where(inArray(auditPersonal.auditId, rows.map((r) => r.id)));
  const byEntry = new Map<number, Map<string, PersonalRow>>();
  for (const p of personal) {
    const m = byEntry.get(p.auditId) ?? new Map<string, PersonalRow>();
    m.set(p.field, { field: p.field, salt: p.salt, before: unwrapPersonal(p.before), after: unwrapPersonal(p.after) });
    byEntry.set(p.auditId, m);
  }
  return rows.map((r) => {
    const found = byEntry.get(r.id);
    const erased = new Set<string>();
    const restore = (view: unknown, side: 'before' | 'after'): unknown => {
      if (!isObject(view)) return view;
      const out: Record<string, unknown> = { ...view };
      for (const [k, v] of Object.entries(view)) {
        if (!isObject(v) || typeof v[PERSONAL_KEY] !== 'string') continue;
        const p = found?.get(k);
        if (p) out[k] = p[side];
        else {
          out[k] = erasedAs;
          erased.add(k);
        }
      }
      return out;
    };
    const before = restore(r.before, 'before');
    const after = restore(r.after, 'after');
    return { id: r.id, at: r.at, actor: r.actor, action: r.action, entityType: r.entityType, entityId: r.entityId, before, after, erased: [...erased] };
  });
}

/** The newest entry's id and hash: an anchor to keep outside the database (logs, `audit verify` output). */
export async function auditHead(db: Executor): Promise<{ id: number; hash: string } | undefined> {
  const [last] = await db.select({ id: auditLog.id, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  return last;
}
