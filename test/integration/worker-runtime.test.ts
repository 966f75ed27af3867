/**
 * Issue 11, the worker's runtime: the change feed plans bursts in batches, the sweep costs what
 * Redis is missing (nothing when idle, everything after a wipe), a settings change re-plans only
 * open records, and migration 0008 moves the worker's state out of the settings table. Real
 * Postgres, real Redis (this file's own prefix), a real SMTP sink; time by the injected clock.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS_DIR, openDatabase, rowsOf } from '../../src/db/client.js';
import { forceUses, notifications, settings, workerState } from '../../src/db/schema.js';
import { KINDS } from '../../src/records/kinds.js';
import { putSetting } from '../../src/records/settings.js';
import { createRecord } from '../../src/records/service.js';
import { replanScope, settingsStamp } from '../../src/worker/worker-state.js';
import { ADMIN, deleteQueueKeys, REDIS_URL, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const at = (iso: string): Date => new Date(iso);

/** Re-checks a condition after each round trip (no timers); gives up after 20 s. */
async function until(cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
  }
}

/** `n` uses of force written in one statement, as an integration writing the table does; their ids. */
/** Written straight into the table, as an integration would; created_at (the arrival) is the test's clock. */
async function insertForceUses(h: WorkerHarness, n: number, prefix: string, occurredAt: string): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await h.db.database.db.execute(sql`
      INSERT INTO force_uses (institution_id, journal_number, occurred_at, created_at)
      SELECT 'vestre', ${prefix} || '-' || g, ${occurredAt}::timestamptz, ${h.clock.now.toISOString()}::timestamptz FROM generate_series(1, ${n}) AS g RETURNING id`),
  );
  return rows.map((r) => r.id);
}

describe('the change feed', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-05-04T09:00:00+02:00');
  });
  afterAll(async () => h?.close());

  it('plans a burst of changes in a few batches, and every record of it', async () => {
    await h.start({ schedule: false, listen: true, feedWindowMs: 300 });
    const n = 120;
    const ids = await insertForceUses(h, n, 'F-C', '2026-05-04T08:00:00+02:00');
    const planned = async (): Promise<number> => {
      const [r] = await h.db.database.db.select({ n: sql<number>`count(DISTINCT ${notifications.recordId})::int` }).from(notifications).where(inArray(notifications.recordId, ids));
      return r?.n ?? 0;
    };
    const batches = (): Array<{ records: number }> => h.logs.map((l) => JSON.parse(l) as { msg: string; records: number }).filter((l) => l.msg === 'planned a batch of changed records');
    // (A database round trip each time: the wait must let the feed's timers run.)
    await until(async () => (await planned()) === n && batches().reduce((a, b) => a + b.records, 0) >= n);
    // One notification per record arrived; far fewer planning jobs ran, and between them every record.
    expect(batches().length).toBeLessThanOrEqual(3);
    expect(batches().reduce((a, b) => a + b.records, 0)).toBe(n);
    expect(await planned()).toBe(n);
  });
});

describe('the sweep', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-06-01T09:00:00+02:00');
    await h.start();
  });
  afterAll(async () => h?.close());

  const delayedJobs = async (): Promise<number> => (await h.workers[0]!.queue.getJobCounts('delayed')).delayed ?? 0;
  const scheduledDue = async (until: Date): Promise<number> =>
    (await h.db.database.db.select({ n: count() }).from(notifications).where(sql`${notifications.status} = 'scheduled' AND ${notifications.plannedAt} <= ${until.toISOString()}::timestamptz`))[0]?.n ?? 0;

  it('adds nothing when idle, without a Redis call per row; after the keys are wiped, the next sweep adds everything again', async () => {
    const w = h.workers[0]!;
    // Due Tue 02.06: every record's reminder-0 at 08:00 tomorrow, within the 24 h horizon.
    await insertForceUses(h, 150, 'F-S', '2026-06-01T08:00:00+02:00');
    const first = await w.sweep();
    expect(first.planned).toBe(150);
    const due = await scheduledDue(new Date(h.clock.now.getTime() + 24 * 3600_000));
    expect(due).toBeGreaterThanOrEqual(150);
    expect(first.enqueued).toBe(due);
    expect(await delayedJobs()).toBe(due);

    // Every command this run's keys receive while the idle sweep runs (other files use other prefixes).
    const monitor = await new Redis(REDIS_URL, { maxRetriesPerRequest: null }).monitor();
    const commands: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.startsWith(`${h.prefix}:`))) commands.push(args);
    });
    const idle = await w.sweep();
    monitor.disconnect();
    expect(idle).toMatchObject({ leader: true, planned: 0, enqueued: 0 });
    expect(await delayedJobs()).toBe(due);
    // A constant handful (the epoch; BullMQ's own polling), none about a row's job.
    expect(commands.length, JSON.stringify(commands)).toBeLessThan(20);
    expect(commands.filter((c) => /^(exists|zscore)$/i.test(c[0] ?? '') || c.some((a) => a.includes(':send-')))).toEqual([]);

    // Redis loses everything (FLUSHALL, as far as this run's keys go): nothing is lost.
    await deleteQueueKeys(h.prefix);
    expect(await delayedJobs()).toBe(0);
    const after = await w.sweep();
    expect(after.enqueued).toBe(due);
    expect(await delayedJobs()).toBe(due);
    expect(h.logs.some((l) => l.includes('Redis lost its jobs'))).toBe(true);
    expect((await w.sweep()).enqueued).toBe(0);
  });

  it('re-plans only the open records after a settings change, every record after an upgrade of the rules', async () => {
    const w = h.workers[0]!;
    const db = h.db.database.db;
    const f = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: 'F-O1', occurredAt: '2026-06-01T07:00:00+02:00' }, ADMIN);
    const closed = await insertForceUses(h, 3, 'F-X', '2026-05-01T08:00:00+02:00');
    await db.update(forceUses).set({ closedAt: at('2026-05-20T10:00:00+02:00') }).where(inArray(forceUses.id, closed));
    await w.sweep();
    expect((await w.sweep()).planned).toBe(0);
    const records = async (open: boolean): Promise<number> => {
      let total = 0;
      for (const k of Object.values(KINDS)) total += (await db.select({ n: count() }).from(k.table).where(open ? isNull(k.table.closedAt) : sql`true`))[0]?.n ?? 0;
      return total;
    };
    const open = await records(true);
    expect(open).toBeLessThan(await records(false));

    // The directorate's address changes: the open records are re-planned, closed history is not.
    h.clock.now = new Date(h.clock.now.getTime() + 60_000);
    await putSetting(h.ctx, 'recipients', { value: { ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat2@kf.test', admins: ['drift@kf.test'] } }, ADMIN);
    expect((await w.sweep()).planned).toBe(open);
    expect((await w.sweep()).planned).toBe(0);
    expect((await db.select().from(notifications).where(eq(notifications.recordId, f.id))).length).toBeGreaterThan(0);

    // The stored stamp of an older rule catalogue: everything, closed records too.
    const [state] = await db.select().from(workerState);
    await db.update(workerState).set({ settingsStamp: `catalogue@0|${state!.settingsStamp!.split('|').slice(1).join('|')}` });
    expect((await w.sweep()).planned).toBe(await records(false));
  });
});

describe('migration 0008', () => {
  let dir: string;
  beforeAll(() => {
    // The migrations as the previous release shipped them: up to 0007.
    dir = mkdtempSync(join(tmpdir(), 'fristvagt-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const journal = JSON.parse(readFileSync(join(dir, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ idx: number }> };
    journal.entries = journal.entries.filter((e) => e.idx <= 7);
    writeFileSync(join(dir, 'meta/_journal.json'), JSON.stringify(journal));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("moves the worker's lease, watermark, settings stamp and pending reading out of the settings table", async () => {
    const database = await openDatabase({ dataDir: 'memory://' });
    try {
      const db = database.db;
      await migratePglite(db as never, { migrationsFolder: dir });
      const changed = at('2026-03-02T10:00:00Z');
      await db.insert(settings).values({ key: 'recipients', value: { directorate: 'direktorat@kf.test' }, updatedAt: changed, updatedBy: 'admin' });
      // The stamp as the previous release computed it: the settings other than its own worker.* keys.
      const oldStamp = settingsStamp([{ key: 'recipients', updatedAt: changed }]);
      const put = (key: string, value: unknown) => db.insert(settings).values({ key, value: value as object, updatedAt: changed, updatedBy: 'worker-old' });
      await put('worker.lease', { owner: 'worker-old', until: '2026-03-02T10:03:00.000Z' });
      await put('worker.watermark', 4711);
      await put('worker.settings-stamp', oldStamp);
      await put('worker.watermark-pending', { seq: 4800, xids: ['901', '902'], since: '2026-03-02T09:59:00.000Z' });

      await migrate(database);

      const [state] = await db.select().from(workerState);
      expect(state).toMatchObject({
        id: 1,
        leaseOwner: 'worker-old',
        leaseUntil: at('2026-03-02T10:03:00.000Z'),
        watermark: 4711,
        settingsStamp: oldStamp,
        pendingSeq: 4800,
        pendingXids: ['901', '902'],
        pendingSince: at('2026-03-02T09:59:00.000Z'),
        redisEpoch: null,
      });
      const left = await db.select({ key: settings.key, updatedAt: settings.updatedAt }).from(settings);
      expect(left.map((r) => r.key)).toEqual(['recipients']);
      // The first sweep after the upgrade finds the plans current: no re-plan.
      expect(replanScope(state!.settingsStamp, settingsStamp(left))).toBe('none');
    } finally {
      await database.close();
    }
  });
});
