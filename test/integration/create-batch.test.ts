/**
 * The one write path: `createRecords` (the batched create behind createRecord, the importer and
 * the demo seed) on a real Postgres database — a refused body refuses the batch or only itself,
 * idempotency of a batch, the audit chain after batched appends side by side with single ones, and
 * an import that plans what it created.
 */
import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEntries, verifyAudit } from '../../src/db/audit.js';
import { jsonLiteral, selectRows, updateJson } from '../../src/db/bulk.js';
import type { Db } from '../../src/db/client.js';
import { auditLog, auditPersonal, deadlines, forceUses, incidents, notifications } from '../../src/db/schema.js';
import { importRows, jsonlSource } from '../../src/records/import.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { createRecord, createRecords, type Actor, type ServiceContext } from '../../src/records/service.js';
import { planRecords } from '../../src/worker/planner.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';

const ADMIN: Actor = { id: 'test', name: 'test', role: 'admin' };
const NOW = '2026-11-22T12:00:00+01:00';

const force = (journalNumber: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ institutionId: 'vestre', journalNumber, occurredAt: '2026-11-03T08:15:00+01:00', inmateName: 'Testa Testesen', ...extra });

describe('createRecords on Postgres', () => {
  let db: TestDatabase;
  let ctx: ServiceContext;
  const dbOf = (): Db => db.database.db;
  const n = async (table: typeof forceUses | typeof auditLog | typeof deadlines | typeof incidents): Promise<number> => (await dbOf().select({ n: count() }).from(table))[0]?.n ?? 0;

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    ctx = { db: db.database.db, clock: () => new Date(NOW), closureDays: [] };
    await createArea(ctx, { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Direktør', directorEmail: 'direktor@kf.test' }, ADMIN);
    await createInstitution(ctx, { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt.vestre@kf.test' }, ADMIN);
    await createArea(ctx, { id: 'syd', name: 'Kriminalforsorgen Syd', officeEmail: 'syd@kf.test', directorName: 'Direktør Syd', directorEmail: 'syd.dir@kf.test' }, ADMIN);
    await createInstitution(ctx, { id: 'horsens', areaId: 'syd', name: 'Anstalten ved Horsens', kind: 'prison', dutyManagerEmail: 'vagt.horsens@kf.test' }, ADMIN);
  });
  afterAll(async () => db?.drop());

  it('refuses a whole batch for one invalid body, naming the body and its field, and writes nothing', async () => {
    const before = { records: await n(forceUses), audit: await n(auditLog), deadlines: await n(deadlines) };
    const bodies = [force('B-ALL-1'), force('B-ALL-2', { occurredAt: '2026-02-30' }), force('B-ALL-3')];
    await expect(createRecords(ctx, 'force_use', bodies, ADMIN)).rejects.toMatchObject({ code: 'VALIDATION', issues: [{ path: '[1].occurredAt', message: expect.any(String) }] });
    // The engine's cross-field rule (report before the event), in the batch's last body.
    const engine = [force('B-ALL-4'), force('B-ALL-5', { reportFiledAt: '2026-11-01T08:00:00+01:00' })];
    await expect(createRecords(ctx, 'force_use', engine, ADMIN)).rejects.toMatchObject({ code: 'VALIDATION', issues: [expect.objectContaining({ path: expect.stringMatching(/^\[1\]\.reportFiledAt/) })] });
    expect({ records: await n(forceUses), audit: await n(auditLog), deadlines: await n(deadlines) }).toEqual(before);
  });

  it('in `each` mode writes the valid bodies and reports every refused one by index and field', async () => {
    const auditBefore = await n(auditLog);
    const area: Actor = { id: 'area-syd', name: 'Syd', role: 'area', areaId: 'syd' };
    const bodies = [force('B-EACH-1', { institutionId: 'horsens' }), force('B-EACH-2', { institutionId: 'nowhere' }), force('B-EACH-3', { institutionId: 'horsens', cpr: 'not a cpr' }), force('B-EACH-4', { institutionId: 'vestre' }), force('B-EACH-5', { institutionId: 'horsens' })];
    const out = await createRecords(ctx, 'force_use', bodies, area, { mode: 'each' });
    expect(out.map((o) => o.status)).toEqual(['created', 'rejected', 'rejected', 'rejected', 'created']);
    expect(out[1]).toEqual({ status: 'rejected', code: 'VALIDATION', issues: [{ path: 'institutionId', message: 'unknown institution "nowhere"' }] });
    expect(out[2]).toMatchObject({ status: 'rejected', code: 'VALIDATION', issues: [{ path: 'cpr' }] });
    // The area token may not write another area's institution.
    expect(out[3]).toMatchObject({ status: 'rejected', code: 'FORBIDDEN' });
    const ids = out.flatMap((o) => (o.status === 'created' && o.id ? [o.id] : []));
    const stored = await dbOf().select({ id: forceUses.id, journalNumber: forceUses.journalNumber }).from(forceUses).where(inArray(forceUses.id, ids));
    expect(stored.map((r) => r.journalNumber).sort()).toEqual(['B-EACH-1', 'B-EACH-5']);
    // One audit entry per created record, in the order of the bodies, with the name kept apart.
    const entries = await dbOf().select().from(auditLog).where(inArray(auditLog.entityId, ids)).orderBy(asc(auditLog.id));
    expect(entries.map((e) => [e.action, e.entityId, e.actor])).toEqual(ids.map((id) => ['force_use.create', id, 'Syd']));
    expect(JSON.stringify(entries)).not.toContain('Testa Testesen');
    expect(await dbOf().select({ n: count() }).from(auditPersonal).where(inArray(auditPersonal.auditId, entries.map((e) => e.id)))).toEqual([{ n: 2 }]);
    expect(await n(auditLog)).toBe(auditBefore + 2);
    // Deadlines as createRecord stores them: the report deadline of each record.
    const dl = await dbOf().select({ recordId: deadlines.recordId, ruleId: deadlines.ruleId }).from(deadlines).where(inArray(deadlines.recordId, ids));
    expect(new Set(dl.map((d) => d.recordId))).toEqual(new Set(ids));
  });

  it('a journal number stored meanwhile refuses only that body, the others go in', async () => {
    await createRecord(ctx, 'force_use', force('B-RACE-2'), ADMIN);
    const out = await createRecords(ctx, 'force_use', [force('B-RACE-1'), force('B-RACE-2'), force('B-RACE-3')], ADMIN, { mode: 'each' });
    expect(out.map((o) => o.status)).toEqual(['created', 'rejected', 'created']);
    expect(out[1]).toMatchObject({ code: 'CONFLICT', issues: [{ path: 'journalNumber', message: expect.stringMatching(/already exists/) }] });
    // `compare` tells the same body (unchanged) from another (conflict, naming the fields); `skip` does not compare.
    const again = await createRecords(ctx, 'force_use', [force('B-RACE-1'), force('B-RACE-3', { occurredAt: '2026-11-04T08:15:00+01:00' })], ADMIN, { mode: 'each', existing: 'compare' });
    expect(again).toEqual([{ status: 'unchanged', id: (out[0] as { id: string }).id }, { status: 'conflict', id: (out[2] as { id: string }).id, fields: ['occurredAt'] }]);
    const skipped = await createRecords(ctx, 'force_use', [force('B-RACE-3', { occurredAt: '2026-11-05T08:15:00+01:00' })], ADMIN, { existing: 'skip' });
    expect(skipped).toEqual([{ status: 'present', id: (out[2] as { id: string }).id }]);
  });

  it('a batch under an idempotency key is written once; a retry gets the same ids, another batch under the key is refused', async () => {
    const opts = { idempotencyKey: 'batch-key-1', requestTarget: 'POST /test/batch' };
    const bodies = [force('B-IDEM-1'), force('B-IDEM-2')];
    const first = await createRecords(ctx, 'force_use', bodies, ADMIN, opts);
    const records = await n(forceUses);
    const second = await createRecords(ctx, 'force_use', bodies, ADMIN, opts);
    expect(second).toEqual(first.map((o) => ({ ...o, replayed: true })));
    expect(await n(forceUses)).toBe(records);
    await expect(createRecords(ctx, 'force_use', [force('B-IDEM-3')], ADMIN, opts)).rejects.toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    // A batch of one is createRecord's request: the same key and body replay its result.
    const one = await createRecord(ctx, 'force_use', force('B-IDEM-4'), ADMIN, { idempotencyKey: 'one-key', requestTarget: 'POST /api/force-uses' });
    const [replay] = await createRecords(ctx, 'force_use', [force('B-IDEM-4')], ADMIN, { idempotencyKey: 'one-key', requestTarget: 'POST /api/force-uses' });
    expect(replay).toEqual({ status: 'created', id: one.id, replayed: true });
  });

  it('keeps one verifiable chain when batched and single appends run side by side', async () => {
    const batches = Array.from({ length: 4 }, (_, b) => Array.from({ length: 50 }, (_, i) => force(`B-CHAIN-${b}-${i}`, { cpr: '010190-0000', description: `Tekst ${b}/${i}` })));
    await Promise.all([
      ...batches.map((bodies) => createRecords(ctx, 'force_use', bodies, ADMIN)),
      ...Array.from({ length: 10 }, (_, i) => createRecord(ctx, 'force_use', force(`B-CHAIN-one-${i}`), ADMIN)),
      dbOf().transaction((tx) => appendAuditEntries(tx, [], new Date(NOW))),
    ]);
    const verified = await verifyAudit(dbOf());
    expect(verified).toMatchObject({ ok: true });
    expect(verified.checked).toBe(await n(auditLog));
    // Within a batch, the entries follow the bodies.
    const rows = await dbOf().select({ id: forceUses.id, journalNumber: forceUses.journalNumber }).from(forceUses);
    const journalOf = new Map(rows.map((r) => [r.id, r.journalNumber]));
    const chain = (await dbOf().select({ entityId: auditLog.entityId }).from(auditLog).where(eq(auditLog.action, 'force_use.create')).orderBy(asc(auditLog.id))).map((e) => journalOf.get(e.entityId) ?? '');
    const batch2 = chain.filter((j) => j.startsWith('B-CHAIN-2-'));
    expect(batch2).toEqual(Array.from({ length: 50 }, (_, i) => `B-CHAIN-2-${i}`));
    const at = chain.indexOf('B-CHAIN-2-0');
    expect(chain.slice(at, at + 50)).toEqual(batch2);
  });

  it('an import with a planner plans every record it created before it returns', async () => {
    const settings = await loadWorkerSettings(dbOf());
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ institutionId: 'vestre', journalNumber: `B-PLAN-${i}`, kind: 'death', occurredAt: '2026-11-20T10:00:00+01:00' }));
    lines.push(JSON.stringify({ institutionId: 'vestre', journalNumber: 'B-PLAN-bad', kind: 'death', occurredAt: '2026-02-30' }));
    const calls: number[] = [];
    const summary = await importRows(ctx, jsonlSource((async function* () {
      yield `${lines.join('\n')}\n`;
    })()), {
      type: 'incident',
      batchSize: 10,
      planBatchSize: 7,
      actor: 'test-import',
      plan: async (refs) => {
        calls.push(refs.length);
        return planRecords(dbOf(), { closureDays: [], now: new Date(NOW), settings }, refs);
      },
    });
    expect(summary).toMatchObject({ read: 26, created: 25, rejected: 1, planning: true, planned: 25, planRefused: 0 });
    expect(summary.rowsPerSecond).toBeGreaterThan(0);
    expect(calls.reduce((a, b) => a + b, 0)).toBe(25);
    expect(Math.max(...calls)).toBeLessThanOrEqual(7);
    const ids = (await dbOf().select({ id: incidents.id }).from(incidents)).map((r) => r.id);
    expect(ids).toHaveLength(25);
    // Every created incident has its notifications (the area director's alert at least) when the import returns.
    const planned = new Set((await dbOf().select({ recordId: notifications.recordId }).from(notifications).where(inArray(notifications.recordId, ids))).map((r) => r.recordId));
    expect(planned.size).toBe(25);
  });

  it("selectRows reads rows exactly as drizzle's select does, Date for Date and null for null", async () => {
    for (const table of [deadlines, notifications, incidents, forceUses, auditLog] as const) {
      const ours = await selectRows(dbOf(), table, sql`true order by id`);
      const theirs = await dbOf().select().from(table as typeof deadlines).orderBy(asc((table as typeof deadlines).id));
      expect(ours.length).toBeGreaterThan(0);
      expect(ours).toEqual(theirs);
    }
    // updateJson's rows travel as a dollar-quoted literal: quotes, backslashes and the tag itself survive.
    const [n0] = await dbOf().select().from(notifications).limit(1);
    const odd = `it's \\ "quoted" $j$ $j0$ ünïcode`;
    expect(await updateJson(dbOf(), notifications, [{ id: n0!.id, lastError: odd }], { assign: ['lastError'] })).toEqual([n0!.id]);
    expect((await dbOf().select({ e: notifications.lastError }).from(notifications).where(eq(notifications.id, n0!.id)))[0]?.e).toBe(odd);
    expect(jsonLiteral('a $j$ b $j0$ c')).toBe('$j1$a $j$ b $j0$ c$j1$');
    // A subset of the columns, as the planner reads the outbox.
    const some = await selectRows(dbOf(), notifications, sql`true order by id`, ['id', 'plannedAt', 'status', 'version']);
    expect(some).toEqual(await dbOf().select({ id: notifications.id, plannedAt: notifications.plannedAt, status: notifications.status, version: notifications.version }).from(notifications).orderBy(asc(notifications.id)));
  });
});

describe('selectRows on PGlite', () => {
  it("reads rows exactly as drizzle's select does", async () => {
    const lite = await openTestDatabase('pglite');
    try {
      const ctx: ServiceContext = { db: lite.database.db, clock: () => new Date(NOW), closureDays: [] };
      await createArea(ctx, { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Direktør', directorEmail: 'direktor@kf.test' }, ADMIN);
      await createInstitution(ctx, { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt.vestre@kf.test' }, ADMIN);
      await createRecord(ctx, 'force_use', force('L-1', { reportFiledAt: '2026-11-04T09:00:00+01:00' }), ADMIN);
      for (const table of [deadlines, forceUses, auditLog] as const) {
        const ours = await selectRows(lite.database.db, table, sql`true order by id`);
        expect(ours.length).toBeGreaterThan(0);
        expect(ours).toEqual(await lite.database.db.select().from(table as typeof deadlines).orderBy(asc((table as typeof deadlines).id)));
      }
    } finally {
      await lite.drop();
    }
  });
});

