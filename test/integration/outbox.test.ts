/**
 * The outbox (src/worker/outbox.ts) against real Postgres, Redis and an SMTP server: one claim
 * takes many due rows; racing claims never send a row twice; a permanent refusal fails only its
 * row; a transient one keeps the row's own backoff; alerts go before routine reminders, in the
 * queue (BullMQ priority) and in a batch. Time is the injected clock; each step waits on mails or
 * queue events, never on a timer.
 */
import { QueueEvents } from 'bullmq';
import { and, eq, inArray, notInArray, type SQL } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/client.js';
import { notifications } from '../../src/db/schema.js';
import type { Mailer } from '../../src/mail/transport.js';
import { sendJobOptions, sendPriority } from '../../src/queue/job-options.js';
import { enqueue, QUEUE_NAME } from '../../src/queue/registry.js';
import { createInstitution } from '../../src/records/masterdata.js';
import { createRecord } from '../../src/records/service.js';
import { retryDelayMs } from '../../src/worker/delivery.js';
import { BATCH_SIZE } from '../../src/worker/outbox.js';
import { planRecord } from '../../src/worker/planner.js';
import type { RunningWorker } from '../../src/worker/runtime.js';
import { messageIdFor, sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { holdLock } from '../support/db.js';
import { ADMIN, deleteQueueKeys, REDIS_URL, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

type Row = typeof notifications.$inferSelect;
const at = (iso: string): Date => new Date(iso);

describe('outbox', () => {
  let h: WorkerHarness;
  let w: RunningWorker;
  let day = 2;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-11-02T09:00:00+01:00');
    // A second institution whose duty manager the SMTP server can refuse on its own.
    await createInstitution(h.ctx, { id: 'horsens', areaId: 'hovedstaden', name: 'Fængsel Horsens', kind: 'prison', dutyManagerEmail: 'vagt.horsens@kf.test' }, ADMIN);
    w = await h.start();
  });
  afterAll(async () => h?.close());

  const rows = async (ids: string[]): Promise<Row[]> => h.db.database.db.select().from(notifications).where(inArray(notifications.id, ids));
  const byId = (all: Row[], id: string): Row => all.find((r) => r.id === id) as Row;

  /**
   * Uses of force on a fresh day (one test, one day: nothing of an earlier test falls due), each
   * planned but not enqueued; returns their report reminders (reminder-0), all due at one instant,
   * with the clock set to it.
   */
  async function dueReminders(spec: Array<{ journal: string; institutionId?: string }>, keep: string[] = []): Promise<Row[]> {
    day += 7;
    // Whatever earlier tests left due (their records' later stages) is not this test's business.
    await h.db.database.db.update(notifications).set({ status: 'cancelled' }).where(and(eq(notifications.status, 'scheduled'), notInArray(notifications.id, [...keep, '00000000-0000-0000-0000-000000000000'])));
    const occurred = new Date(Date.UTC(2026, 10, 2) + day * 86_400_000 + 7 * 3_600_000);
    h.clock.now = new Date(occurred.getTime() + 3_600_000);
    const settings = await loadWorkerSettings(h.db.database.db);
    const out: Row[] = [];
    for (const s of spec) {
      const f = await createRecord(h.ctx, 'force_use', { institutionId: s.institutionId ?? 'vestre', journalNumber: s.journal, occurredAt: occurred.toISOString() }, ADMIN);
      await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings }, 'force_use', f.id);
      const [r0] = (await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, f.id))).filter((n) => n.stage === 'force.report:reminder-0');
      out.push(r0 as Row);
    }
    h.clock.now = (out[0] as Row).plannedAt;
    for (const r of out) expect(r.plannedAt.getTime()).toBe(h.clock.now.getTime());
    return out;
  }
  const mailsOf = (due: Row[]) => h.sink.received.filter((m) => due.some((r) => m.messageId === messageIdFor(r.id, 'x@kriminalforsorgen.test')));

  it('sends many due rows from one claim, and their own jobs then finish without a round trip', async () => {
    const due = await dueReminders(Array.from({ length: 12 }, (_, i) => ({ journal: `O-A${i}` })));
    const [first, second] = due as [Row, Row];
    expect(await sendNotification(w.deps.send, first.id)).toBe('sent');
    // One job, one claim: every due row went out, each with its own Message-ID, and is marked sent.
    expect(mailsOf(due).map((m) => m.messageId).sort()).toEqual(due.map((r) => messageIdFor(r.id, 'x@kriminalforsorgen.test')).sort());
    expect((await rows(due.map((r) => r.id))).every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    // Each row keeps the SMTP server's own acceptance reply: the evidence pack's proof of hand-over.
    expect((await rows(due.map((r) => r.id))).map((r) => r.smtpResponse)).toEqual(due.map(() => expect.stringMatching(/^250 /)));
    // The job of a row the batch sent reports the batch's outcome from memory: no database at all.
    const realDb = w.deps.send.db;
    w.deps.send.db = new Proxy(realDb, { get: () => { throw new Error('a round trip to Postgres'); } });
    try {
      expect(await sendNotification(w.deps.send, second.id, second.version)).toBe('sent');
      expect(await sendNotification(w.deps.send, second.id, second.version)).toBe('not-claimable');
    } finally {
      w.deps.send.db = realDb;
    }
    // A job of another version of the row (a re-plan) is not answered from that memory.
    expect(await sendNotification(w.deps.send, second.id, second.version + 1)).toBe('not-claimable');
    expect(mailsOf(due)).toHaveLength(12);
  });

  it("ends a lane's next mail only once the previous mail is marked: never more mails accepted and unrecorded than lanes", async () => {
    const due = await dueReminders(Array.from({ length: 8 }, (_, i) => ({ journal: `O-L${i}` })));
    const real = w.deps.send.mailer;
    const accepted: string[] = [];
    const unrecordedAtEnd: number[] = [];
    // Where the transport would end a mail's data (the moment the server stores it): how many mails
    // the server has taken that Postgres does not yet hold as sent.
    const checking: Mailer = {
      ...real,
      async send(mail) {
        const { endAfter, ...rest } = mail;
        expect(endAfter).toBeInstanceOf(Promise);
        await endAfter;
        const ids = due.filter((r) => accepted.includes(messageIdFor(r.id, 'x@kriminalforsorgen.test'))).map((r) => r.id);
        unrecordedAtEnd.push(ids.length === 0 ? 0 : (await rows(ids)).filter((r) => r.status !== 'sent').length);
        const res = await real.send(rest);
        accepted.push(mail.messageId);
        return res;
      },
    };
    expect(await sendNotification({ ...w.deps.send, mailer: checking, sendLanes: 1 }, (due[0] as Row).id)).toBe('sent');
    expect(mailsOf(due)).toHaveLength(8);
    expect(unrecordedAtEnd).toEqual(due.map(() => 0));
    expect((await rows(due.map((r) => r.id))).every((r) => r.status === 'sent')).toBe(true);
  });

  it('never sends a row twice when two workers claim batches of the same rows at once', async () => {
    const due = await dueReminders(Array.from({ length: 30 }, (_, i) => ({ journal: `O-R${i}` })));
    const w2 = await h.start();
    // Small batches, so that the claims overlap many times; every row's job runs on both workers.
    w.deps.send.batchSize = 4;
    w2.deps.send.batchSize = 4;
    try {
      const outcomes = await Promise.all(due.flatMap((r) => [sendNotification(w.deps.send, r.id), sendNotification(w2.deps.send, r.id)]));
      // Each job either sent (its own claim or a batch of its worker), or found its row in or done by a batch.
      expect(outcomes.every((o) => o === 'sent' || o === 'batched' || o === 'not-claimable')).toBe(true);
    } finally {
      w.deps.send.batchSize = BATCH_SIZE;
    }
    const mails = mailsOf(due);
    expect(mails).toHaveLength(30);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(30);
    expect((await rows(due.map((r) => r.id))).every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
    await w2.stop(5000);
    h.workers.splice(h.workers.indexOf(w2), 1);
  });

  /**
   * The database as a claim sees it when its connection drops: `commits` the claim's UPDATE runs
   * and its answer is lost; otherwise it is lost before it ran. Only the first claim; every other
   * statement is the real one.
   */
  function losingFirstClaim(db: Db, commits: boolean): { db: Db; lost: () => number } {
    let lost = 0;
    const dropped = (): Error => Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
    const wrapped = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'update') return Reflect.get(target, prop, receiver) as unknown;
        return (table: typeof notifications) => ({
          set: (values: Record<string, unknown>) => ({
            where: (cond: SQL) => {
              const real = target.update(table).set(values as never).where(cond);
              if (lost > 0 || !('claimToken' in values)) return real;
              return {
                returning: async () => {
                  lost++;
                  if (commits) await real.returning();
                  throw dropped();
                },
              };
            },
          }),
        });
      },
    });
    return { db: wrapped, lost: () => lost };
  }

  it('carries on with the rows of a claim whose answer was lost with its connection, and sends each once', async () => {
    const due = await dueReminders([{ journal: 'O-LOST-1' }, { journal: 'O-LOST-2' }, { journal: 'O-LOST-3' }]);
    const lossy = losingFirstClaim(w.deps.send.db, true);
    expect(await sendNotification({ ...w.deps.send, db: lossy.db }, (due[0] as Row).id)).toBe('sent');
    expect(lossy.lost()).toBe(1);
    // Not left `sending` until FRISTVAGT_STALE_SENDING_MS: every row of the lost claim went out, once.
    expect((await rows(due.map((r) => r.id))).map((r) => [r.status, r.attempts])).toEqual(due.map(() => ['sent', 1]));
    expect(mailsOf(due)).toHaveLength(3);
  });

  it('leaves the rows to their jobs when the claim was lost before it ran', async () => {
    const due = await dueReminders([{ journal: 'O-NOCLAIM-1' }, { journal: 'O-NOCLAIM-2' }]);
    const lossy = losingFirstClaim(w.deps.send.db, false);
    await expect(sendNotification({ ...w.deps.send, db: lossy.db }, (due[0] as Row).id)).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect((await rows(due.map((r) => r.id))).map((r) => [r.status, r.attempts])).toEqual(due.map(() => ['scheduled', 0]));
    // The job's retry claims them as if nothing had happened.
    expect(await sendNotification(w.deps.send, (due[0] as Row).id)).toBe('sent');
    expect(mailsOf(due)).toHaveLength(2);
  });

  /**
   * The database as a batch sees it when it goes away right after the claim committed: every
   * statement fails (compose's reads, the settling write's retries) until `up()`. `loseAnswer`:
   * the claim's answer is lost with it too, so the claimant does not know it holds the rows.
   */
  function downAfterClaim(db: Db, loseAnswer = false): { db: Db; up(): void; failed: () => number } {
    let down = false;
    let failed = 0;
    const dropped = (): Error => Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
    const wrapped = new Proxy(db, {
      get(target, prop, receiver) {
        const real = Reflect.get(target, prop, receiver) as unknown;
        if (down && typeof real === 'function') {
          return () => {
            failed++;
            throw dropped();
          };
        }
        if (prop !== 'update') return real;
        return (table: typeof notifications) => ({
          set: (values: Record<string, unknown>) => ({
            where: (cond: SQL) => {
              const q = target.update(table).set(values as never).where(cond);
              if (!('claimToken' in values)) return q;
              return {
                returning: async () => {
                  const claimed = await q.returning();
                  down = true;
                  if (loseAnswer) throw dropped();
                  return claimed;
                },
              };
            },
          }),
        });
      },
    });
    return { db: wrapped, up: () => (down = false), failed: () => failed };
  }

  /**
   * Resolves once every row's send job has completed: the job whose batch sent them returns only
   * after their marks are written, so the rows can be read then (the SMTP sink has the mail a
   * moment before its mark).
   */
  async function jobsCompleted(due: Row[]): Promise<{ done: Promise<void>; close(): Promise<void> }> {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: h.prefix });
    await events.waitUntilReady();
    const want = new Set(due.map((r) => `send-${r.id}-${r.version}`));
    const done = new Promise<void>((resolve) =>
      events.on('completed', ({ jobId }) => {
        want.delete(jobId);
        if (want.size === 0) resolve();
      }),
    );
    // A connection passed in stays open after close(): it is this helper's to end.
    return { done, close: async () => (await events.close(), connection.disconnect()) };
  }

  /**
   * After a send through `flaky` failed with the database away: nothing went out and the rows are
   * still this process's claim; once the database is back they go back to `scheduled` and their
   * jobs into the queue, without waiting for the stale-sending recovery (no sweep runs here), and
   * each mail goes out once, on the second attempt.
   */
  async function expectHandedBack(due: Row[], flaky: { up(): void }): Promise<void> {
    expect(mailsOf(due)).toHaveLength(0);
    expect((await rows(due.map((r) => r.id))).map((r) => [r.status, r.attempts])).toEqual(due.map(() => ['sending', 1]));
    const completed = await jobsCompleted(due);
    flaky.up();
    await completed.done.finally(() => completed.close());
    expect((await rows(due.map((r) => r.id))).map((r) => [r.status, r.attempts])).toEqual(due.map(() => ['sent', 2]));
    expect(new Set(mailsOf(due).map((m) => m.messageId)).size).toBe(due.length);
  }

  it('hands back the rows of a batch it could not settle as soon as the database answers, and sends each once', async () => {
    const due = await dueReminders([{ journal: 'O-DOWN-1' }, { journal: 'O-DOWN-2' }, { journal: 'O-DOWN-3' }]);
    const flaky = downAfterClaim(w.deps.send.db);
    const deps = { ...w.deps.send, db: flaky.db };
    await expect(sendNotification(deps, (due[0] as Row).id)).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    // The settling write was retried.
    expect(flaky.failed()).toBeGreaterThan(7);
    await expectHandedBack(due, flaky);
  }, 60_000);

  it('hands back the rows of a claim whose answer and token lookup were both lost, once the database answers', async () => {
    const due = await dueReminders([{ journal: 'O-TOKEN-1' }, { journal: 'O-TOKEN-2' }]);
    const flaky = downAfterClaim(w.deps.send.db, true);
    await expect(sendNotification({ ...w.deps.send, db: flaky.db }, (due[0] as Row).id)).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    // The token lookup was retried.
    expect(flaky.failed()).toBeGreaterThan(6);
    await expectHandedBack(due, flaky);
  }, 60_000);

  it('gives up a claim that goes unanswered, hands back what it and the claim before it took, and sends each once', async () => {
    const due = await dueReminders([{ journal: 'O-STALL-1' }, { journal: 'O-STALL-2' }]);
    const [own, other] = due as [Row, Row];
    // Another session holds the job's own row: the first claim skips it and takes the other row,
    // the second waits for the lock and, as a statement on a connection gone quiet would, does
    // not answer.
    const unlock = await holdLock(h.db.url ?? '', (sql) => sql`SELECT id FROM notifications WHERE id = ${own.id} FOR UPDATE`);
    const completed = await jobsCompleted(due);
    try {
      await expect(sendNotification({ ...w.deps.send, stallMs: 500 }, own.id)).rejects.toMatchObject({ code: 'OUTBOX_STALLED' });
      expect(mailsOf(due)).toHaveLength(0);
      // The lock goes: the waiting claim commits after all, and what it took is handed back too.
      await unlock();
      await completed.done;
    } finally {
      await unlock();
      await completed.close();
    }
    expect((await rows(due.map((r) => r.id))).map((r) => [r.id, r.status, r.attempts])).toEqual(expect.arrayContaining([[own.id, 'sent', 2], [other.id, 'sent', 2]]));
    expect(mailsOf(due)).toHaveLength(2);
    expect(new Set(mailsOf(due).map((m) => m.messageId)).size).toBe(2);
  }, 60_000);

  it('fails only the row the server refuses for good, and sends the rest of the batch', async () => {
    const due = await dueReminders([{ journal: 'O-P1' }, { journal: 'O-P2', institutionId: 'horsens' }, { journal: 'O-P3' }, { journal: 'O-P4' }]);
    const refused = due[1] as Row;
    h.sink.refuseRcpt = (addr) => (addr === 'vagt.horsens@kf.test' ? 550 : undefined);
    try {
      expect(await sendNotification(w.deps.send, (due[0] as Row).id)).toBe('sent');
    } finally {
      h.sink.refuseRcpt = undefined;
    }
    const after = await rows(due.map((r) => r.id));
    expect(byId(after, refused.id)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byId(after, refused.id).lastError).toMatch(/SMTP 550/);
    expect(after.filter((r) => r.id !== refused.id).every((r) => r.status === 'sent')).toBe(true);
    expect(mailsOf(due)).toHaveLength(3);
    // The administrators' report of the refused row is written with the failure.
    const reports = await h.db.database.db.select().from(notifications).where(eq(notifications.stage, `failure:${refused.id}`));
    expect(reports.map((r) => r.recipient)).toEqual(['drift@kf.test']);
  });

  it("keeps a row's own backoff after a transient failure in another job's batch", async () => {
    // A long backoff, so that the requeued job is still waiting when it is inspected.
    const slow = await h.start({ retryDelayMs: 60_000 });
    const due = await dueReminders([{ journal: 'O-B1' }, { journal: 'O-B2', institutionId: 'horsens' }, { journal: 'O-B3' }]);
    const greylisted = due[1] as Row;
    let refusals = 0;
    h.sink.refuseRcpt = (addr) => (addr === 'vagt.horsens@kf.test' && refusals++ === 0 ? 451 : undefined);
    try {
      expect(await sendNotification(slow.deps.send, (due[0] as Row).id)).toBe('sent');
      const [row] = await rows([greylisted.id]);
      expect(row).toMatchObject({ status: 'scheduled', attempts: 1 });
      expect(row?.lastError).toMatch(/SMTP 451/);
      // Its job is back in the queue, delayed by the row's own backoff (delivery.ts), as the sweep would add it.
      const job = await slow.queue.getJob(`send-${greylisted.id}-${greylisted.version}`);
      expect(await job?.getState()).toBe('delayed');
      expect(job?.opts.delay).toBe(retryDelayMs(greylisted.id, 1, 60_000));
      // Another job's claim leaves a row that failed to its own job.
      const more = await dueReminders([{ journal: 'O-B4' }], [greylisted.id]);
      h.clock.now = greylisted.plannedAt.getTime() > (more[0] as Row).plannedAt.getTime() ? greylisted.plannedAt : (more[0] as Row).plannedAt;
      expect(await sendNotification(slow.deps.send, (more[0] as Row).id)).toBe('sent');
      expect((await rows([greylisted.id]))[0]).toMatchObject({ status: 'scheduled', attempts: 1 });
      // When its backoff is over, its job sends it: promoted here instead of waited for, and taken
      // by the other worker (the one whose batch failed remembers the backoff and would wait it out).
      await slow.stop(5000);
      h.workers.splice(h.workers.indexOf(slow), 1);
      await (await w.queue.getJob(`send-${greylisted.id}-${greylisted.version}`))?.promote();
      await h.sink.waitFor(() => mailsOf([greylisted]).length === 1);
    } finally {
      h.sink.refuseRcpt = undefined;
      if (h.workers.includes(slow)) {
        await slow.stop(5000);
        h.workers.splice(h.workers.indexOf(slow), 1);
      }
    }
    expect(refusals).toBe(2);
  });

  it('sends an alert queued after a burst of reminders before them: first in the queue, first in a batch', async () => {
    const due = await dueReminders(Array.from({ length: 15 }, (_, i) => ({ journal: `O-Q${i}` })));
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'O-Q-ALERT', kind: 'death', occurredAt: new Date(h.clock.now.getTime() - 3_600_000).toISOString() }, ADMIN);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(h.db.database.db) }, 'incident', inc.id);
    const [alert] = (await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, inc.id))).filter((n) => n.stage === 'alert:area-director');
    expect(alert).toBeDefined();
    // One job at a time and one row per claim: the order is the queue's.
    // Its own queue: the other workers of this file do not take these jobs.
    const one = await h.start({ concurrency: 1, prefix: `${h.prefix}-q` });
    one.deps.send.batchSize = 1;
    await one.queue.pause();
    const events = new QueueEvents(QUEUE_NAME, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: `${h.prefix}-q` });
    await events.waitUntilReady();
    const order: string[] = [];
    events.on('completed', ({ jobId }) => order.push(jobId));
    try {
      for (const r of due) await enqueue(one.queue, 'notification.send', { notificationId: r.id }, sendJobOptions(`send-${r.id}-${r.version}`, 0, 50, sendPriority(r.stage)));
      await enqueue(one.queue, 'notification.send', { notificationId: alert!.id }, sendJobOptions(`send-${alert!.id}-${alert!.version}`, 0, 50, sendPriority(alert!.stage)));
      await one.queue.resume();
      await h.sink.waitFor(() => mailsOf([...due, alert!]).length === 16);
    } finally {
      await events.close();
    }
    await one.stop(5000);
    h.workers.splice(h.workers.indexOf(one), 1);
    await deleteQueueKeys(`${h.prefix}-q`);
    const mails = mailsOf([...due, alert!]);
    expect(mails[0]?.messageId).toBe(messageIdFor(alert!.id, 'x@kriminalforsorgen.test'));
    expect(order[0]).toBe(`send-${alert!.id}-${alert!.version}`);

    // In a batch claimed by a reminder's job, the alert goes first too (one SMTP lane: sent in order).
    const burst = await dueReminders(Array.from({ length: 8 }, (_, i) => ({ journal: `O-S${i}` })));
    const inc2 = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'O-S-ALERT', kind: 'suicide', occurredAt: new Date(h.clock.now.getTime() - 3_600_000).toISOString() }, ADMIN);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(h.db.database.db) }, 'incident', inc2.id);
    const [alert2] = (await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, inc2.id))).filter((n) => n.stage === 'alert:area-director');
    const lane = await h.start({ concurrency: 1 });
    const before = h.sink.received.length;
    expect(await sendNotification(lane.deps.send, (burst[3] as Row).id)).toBe('sent');
    const batch = h.sink.received.slice(before).map((m) => m.messageId);
    expect(batch[0]).toBe(messageIdFor(alert2!.id, 'x@kriminalforsorgen.test'));
    // Then the job's own row, then the others.
    expect(batch[1]).toBe(messageIdFor((burst[3] as Row).id, 'x@kriminalforsorgen.test'));
    expect(batch).toEqual(expect.arrayContaining([...burst, alert2!].map((r) => messageIdFor(r.id, 'x@kriminalforsorgen.test'))));
    await lane.stop(5000);
    h.workers.splice(h.workers.indexOf(lane), 1);
  });

  it('sends the § 22 annual overview through the same outbox, once, whichever of two workers runs its job', async () => {
    h.clock.now = at('2027-01-05T10:00:00+01:00');
    const first = await w.sweep();
    expect(first.annualPlanned).toBe(1);
    h.clock.now = at('2027-01-28T08:00:00+01:00');
    const w2 = await h.start();
    await Promise.all([w.sweep(), w2.sweep()]);
    const mail = (await h.sink.waitFor((all) => all.some((m) => m.subject.startsWith('Årlig oversigt 2026')))).find((m) => m.subject.startsWith('Årlig oversigt 2026'));
    expect(mail!.messageId).toMatch(/^<annual-overview-[0-9a-f-]{36}@kriminalforsorgen\.test>$/);
    await Promise.all([w.sweep(), w2.sweep()]);
    expect(h.sink.received.filter((m) => m.subject.startsWith('Årlig oversigt 2026'))).toHaveLength(1);
    await w2.stop(5000);
    h.workers.splice(h.workers.indexOf(w2), 1);
  });
});
