/**
 * `audit verify` against the damage of issue 9: two processes on one PGlite directory left audit
 * rows with duplicate ids that the primary-key index did not list, and the id-ordered walk said
 * ok. Simulated here by stopping the index from taking new rows (pg_index.indisready, the state
 * CREATE INDEX CONCURRENTLY uses) while a second process's fork of the chain is written. Also:
 * ids left unused by a rolled-back transaction (not a break) and entries removed from the middle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, entryHash, verifyAudit, type VerifyResult } from '../../src/db/audit.js';
import { migrate, openDatabase, type Db } from '../../src/db/client.js';
import { auditLog } from '../../src/db/schema.js';
import { runCli } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const T0 = new Date('2026-11-22T11:00:00Z');

async function appendN(db: Db, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db.transaction((tx) => appendAudit(tx, { actor: 'test', action: 'token.create', entityType: 'token', entityId: `t${from + i}` }, new Date(T0.getTime() + (from + i) * 1000)));
  }
}

/** Writes a second chain over ids `fromId..fromId+n-1`, forked from entry fromId-1, past the primary-key index (as the second process did). */
async function forkPastTheIndex(db: Db, fromId: number, n: number): Promise<void> {
  const [base] = await db.select().from(auditLog).where(sql`id = ${fromId - 1}`);
  if (!base) throw new Error('no base entry');
  await db.execute(sql`UPDATE pg_index SET indisready = false WHERE indexrelid = 'audit_log_pkey'::regclass`);
  let prev = base.hash;
  for (let i = 0; i < n; i++) {
    const e = { at: new Date(T0.getTime() + 3_600_000 + i * 1000), actor: 'other-process', action: 'token.create', entityType: 'token', entityId: `fork${i}`, before: null, after: null };
    const hash = entryHash(prev, e);
    await db.insert(auditLog).values({ id: fromId + i, ...e, prevHash: prev, hash });
    prev = hash;
  }
  await db.execute(sql`UPDATE pg_index SET indisready = true WHERE indexrelid = 'audit_log_pkey'::regclass`);
}

describe.each(['pglite', 'postgres'] as const)('audit verify on %s', (driver) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(driver);
  });
  afterEach(async () => t?.drop());

  /**
   * verifyAudit on a session that prefers the index, as the planner does on a log of real size
   * (on a dozen rows it would sort the table instead and see every row anyway).
   */
  async function verifyPreferringTheIndex(): Promise<VerifyResult> {
    if (driver === 'pglite') {
      await t.database.db.execute(sql`SET enable_seqscan = off`);
      try {
        return await verifyAudit(t.database.db);
      } finally {
        await t.database.db.execute(sql`RESET enable_seqscan`);
      }
    }
    const one = await openDatabase({ databaseUrl: t.url, maxConnections: 1 });
    try {
      await one.db.execute(sql`SET enable_seqscan = off`);
      return await verifyAudit(one.db);
    } finally {
      await one.close();
    }
  }

  it('finds ids stored twice even when the primary-key index lists only one of them', async () => {
    await appendN(t.database.db, 12);
    expect(await verifyAudit(t.database.db)).toMatchObject({ ok: true, checked: 12 });
    await forkPastTheIndex(t.database.db, 8, 3);
    const res = await verifyPreferringTheIndex();
    expect(res).toMatchObject({ ok: false, duplicateIds: 3, duplicates: [{ from: 8, to: 10 }], brokenAt: { id: 8 } });
    expect(res.brokenAt?.reason).toMatch(/^3 ids stored more than once: #8–#10 \(two processes wrote the log at once/);
    // Ids and counts only, nothing of the entries.
    expect(res.brokenAt?.reason).not.toMatch(/other-process|fork|token/);
  });

  it('finds a row that the id-ordered walk cannot reach', async () => {
    await appendN(t.database.db, 5);
    const [last] = await t.database.db.select().from(auditLog).orderBy(asc(auditLog.id)).offset(4);
    if (!last) throw new Error('no entry');
    // A row with a new id, past the index: the table has 6 rows, the index 5.
    await t.database.db.execute(sql`UPDATE pg_index SET indisready = false WHERE indexrelid = 'audit_log_pkey'::regclass`);
    const e = { at: new Date(T0.getTime() + 60_000), actor: 'other-process', action: 'token.create', entityType: 'token', entityId: 'x', before: null, after: null };
    await t.database.db.insert(auditLog).values({ id: 6, ...e, prevHash: last.hash, hash: entryHash(last.hash, e) });
    await t.database.db.execute(sql`UPDATE pg_index SET indisready = true WHERE indexrelid = 'audit_log_pkey'::regclass`);
    expect(await verifyPreferringTheIndex()).toMatchObject({ ok: false, checked: 5, brokenAt: { id: 0, reason: 'the table holds 6 entries up to #6, the id-ordered walk reached 5 (the primary-key index and the table disagree)' } });
  });

  it('reports ids left unused by a rolled-back transaction without calling the chain broken', async () => {
    await appendN(t.database.db, 3);
    await t.database.db
      .transaction(async (tx) => {
        await appendAudit(tx, { actor: 'test', action: 'token.create', entityType: 'token', entityId: 'rolled-back' }, T0);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await appendN(t.database.db, 2, 3);
    expect(await verifyAudit(t.database.db)).toEqual({ ok: true, checked: 5, idGaps: [{ from: 4, to: 4 }], unusedIds: 1 });
  });

  it('names the ids of entries removed from the middle of the chain', async () => {
    await appendN(t.database.db, 8);
    await t.database.db.execute(sql`ALTER TABLE audit_log DISABLE TRIGGER audit_no_update`);
    await t.database.db.execute(sql`DELETE FROM audit_log WHERE id IN (4, 5)`);
    await t.database.db.execute(sql`ALTER TABLE audit_log ENABLE TRIGGER audit_no_update`);
    const res = await verifyAudit(t.database.db);
    expect(res).toMatchObject({ ok: false, checked: 3, brokenAt: { id: 6 } });
    expect(res.brokenAt?.reason).toMatch(/entries are missing: no #4–#5, and this entry's prev_hash does not match entry #3/);
  });
});

describe('fristvagt audit verify on a damaged PGlite directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-audit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 1 naming the duplicate ids', async () => {
    const database = await openDatabase({ dataDir: dir });
    try {
      await migrate(database);
      await appendN(database.db, 6);
      await forkPastTheIndex(database.db, 5, 2);
    } finally {
      await database.close();
    }
    const res = await runCli(['audit', 'verify'], '', { FRISTVAGT_DATA_DIR: dir, DATABASE_URL: '' });
    expect(res.stdout.trim()).toBe('audit chain BROKEN at entry 5: 2 ids stored more than once: #5–#6 (two processes wrote the log at once, e.g. one FRISTVAGT_DATA_DIR opened twice, or rows were copied in)');
    expect(res.code).toBe(1);
  }, 60_000);
});
