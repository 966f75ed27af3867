/**
 * Faults in the send path against real components: a lock timeout and a killed connection while
 * a mail is rendered (Postgres), an SMTP server answering 451 or refusing connections for a
 * while, a 550, a relay that would take the password in clear. What must hold: a transient fault
 * never fails a mail; an outage costs a handful of attempts and one warning; a permanent refusal
 * fails the mail and reports it; no staff mail quotes a reason typed into a record.
 */
import { Writable } from 'node:stream';
import { eq, inArray, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { notifications } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createSmtpMailer, type Mailer, type MailerStats } from '../../src/mail/transport.js';
import { createRecord } from '../../src/records/service.js';
import type { RunningWorker } from '../../src/worker/runtime.js';
import { planRecord } from '../../src/worker/planner.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { holdLock } from '../support/db.js';
import { startSmtpSink } from '../support/smtp.js';
import { ADMIN, FROM, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const at = (iso: string): Date => new Date(iso);
type Row = typeof notifications.$inferSelect;

/** Re-checks a condition after each round trip (or every 20 ms for in-memory state); gives up after `ms`. */
async function until(cond: () => Promise<boolean> | boolean, ms = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function rowsOf(h: WorkerHarness, ids: string[]): Promise<Row[]> {
  return h.db.database.db.select().from(notifications).where(inArray(notifications.id, ids));
}

/** `n` uses of force whose report reminders (reminder-0) all fall due at one instant; planned, not enqueued. */
async function dueReminders(h: WorkerHarness, n: number, journal: string): Promise<Row[]> {
  h.clock.now = at('2026-11-02T09:00:00+01:00');
  const settings = await loadWorkerSettings(h.db.database.db);
  const out: Row[] = [];
  for (let i = 0; i < n; i++) {
    const f = await createRecord(h.ctx, 'force_use', { institutionId: 'vestre', journalNumber: `${journal}-${i}`, occurredAt: '2026-11-02T08:00:00+01:00' }, ADMIN);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings }, 'force_use', f.id);
    const [r0] = await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, f.id)).then((all) => all.filter((x) => x.stage === 'force.report:reminder-0'));
    out.push(r0!);
  }
  return out;
}

/** What the sweep does for a due row: its deterministic job (the sweep is not scheduled in these tests). */
async function enqueueNow(w: RunningWorker, r: Row): Promise<void> {
  await w.queue.add('notification.send', { notificationId: r.id }, { jobId: `send-${r.id}-${r.version}`, attempts: 10, backoff: { type: 'exponential', delay: 50, jitter: 0.5 }, removeOnComplete: true, removeOnFail: 1000 });
}

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, cb) { lines.push(c.toString()); cb(); } }) }) };
}
const levelOf = (line: string): number => (JSON.parse(line) as { level: number }).level;

describe('database faults while a mail is rendered', () => {
  let h: WorkerHarness;
  const extra: Database[] = [];
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-11-02T09:00:00+01:00');
  });
  afterAll(async () => {
    for (const w of h.workers.splice(0)) await w.stop(5000);
    for (const d of extra) await d.close();
    await h?.close();
  });

  /** Holds an ACCESS EXCLUSIVE lock on institutions (what a migration or a VACUUM FULL takes) until released. */
  const lockInstitutions = (): Promise<() => Promise<void>> => holdLock(h.db.url ?? '', (t) => t`LOCK TABLE institutions IN ACCESS EXCLUSIVE MODE`);

  it('retries a mail whose rendering hit a lock timeout, and sends it once the lock is gone', async () => {
    // New connections of this database give up on a lock after 200 ms; the worker gets a pool of its own.
    const name = new URL(h.db.url ?? '').pathname.slice(1);
    await h.db.database.db.execute(sql.raw(`ALTER DATABASE ${name} SET lock_timeout = '200ms'`));
    const db = await openDatabase({ databaseUrl: h.db.url, maxConnections: 5 });
    extra.push(db);
    const w = await h.start({ database: db });
    const [r0] = await dueReminders(h, 1, 'F-L');
    const unlock = await lockInstitutions();
    try {
      h.clock.now = r0!.plannedAt;
      await enqueueNow(w, r0!);
      // The first attempt has ended one way or the other while the lock is still held. The row is
      // judged as that read found it: a second read could find the retry (50 ms later) under way.
      let during: Awaited<ReturnType<typeof rowsOf>>[number] | undefined;
      await until(async () => {
        const [r] = await rowsOf(h, [r0!.id]);
        if (r!.attempts >= 1 && r!.status !== 'sending') during = r;
        return during !== undefined;
      }, 30_000, 'a first attempt');
      expect(during!.status).toBe('scheduled');
      expect(during!.lastError).toMatch(/55P03/);
    } finally {
      await unlock();
    }
    await h.sink.waitFor((all) => all.some((m) => m.subject.includes('F-L-0')), 30_000);
    await until(async () => (await rowsOf(h, [r0!.id]))[0]!.status === 'sent', 10_000, 'the row marked sent');
    expect(h.sink.received.filter((m) => m.subject.includes('F-L-0'))).toHaveLength(1);
    expect(h.logs.filter((l) => levelOf(l) >= 50)).toEqual([]);
    await w.stop(5000);
    h.workers.splice(h.workers.indexOf(w), 1);
    await h.db.database.db.execute(sql.raw(`ALTER DATABASE ${name} RESET lock_timeout`));
  });

  it('retries a mail whose database connection was terminated while it was rendered', async () => {
    const db = await openDatabase({ databaseUrl: h.db.url, maxConnections: 5 });
    extra.push(db);
    const w = await h.start({ database: db });
    const [r0] = await dueReminders(h, 1, 'F-T');
    const unlock = await lockInstitutions();
    let terminated = 0;
    try {
      h.clock.now = r0!.plannedAt;
      await enqueueNow(w, r0!);
      // The render waits on the lock; the administrator (or a failover) kills its connection.
      const admin = postgres(h.db.url ?? '', { max: 1, onnotice: () => undefined });
      try {
        await until(async () => {
          const killed = await admin<{ t: boolean }[]>`SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`;
          terminated += killed.length;
          return terminated > 0;
        }, 30_000, 'a render waiting on the lock');
      } finally {
        await admin.end();
      }
      await until(async () => {
        const [r] = await rowsOf(h, [r0!.id]);
        return r!.status !== 'sending' && r!.lastError !== null;
      }, 30_000, 'the interrupted attempt settled');
      const [during] = await rowsOf(h, [r0!.id]);
      expect(during!.status).toBe('scheduled');
      expect(during!.lastError).toMatch(/57P01|CONNECTION|ECONNRESET/);
    } finally {
      await unlock();
    }
    await h.sink.waitFor((all) => all.some((m) => m.subject.includes('F-T-0')), 30_000);
    await until(async () => (await rowsOf(h, [r0!.id]))[0]!.status === 'sent', 10_000, 'the row marked sent');
    expect(h.sink.received.filter((m) => m.subject.includes('F-T-0'))).toHaveLength(1);
    await w.stop(5000);
    h.workers.splice(h.workers.indexOf(w), 1);
  });
});

describe('SMTP outages', () => {
  let h: WorkerHarness;
  let mailer: Mailer;
  let w: RunningWorker;
  const mailLog = capture();
  const stats = (): MailerStats => (mailer.stats as () => MailerStats)();
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-11-02T09:00:00+01:00');
    // Probes after ½ s, then up to 2 s apart (production: 5 s, up to 60 s).
    mailer = createSmtpMailer({ url: h.sink.url, requireTls: false, rejectUnauthorized: false, maxConnections: 2, probeDelayMs: 500, maxProbeDelayMs: 2_000, logger: mailLog.logger });
    w = await h.start({ mailer });
  });
  afterAll(async () => {
    for (const x of h.workers.splice(0)) await x.stop(5000);
    mailer?.close();
    await h?.close();
  });

  /** Runs `n` due mails through an outage of `outageMs` (the fault's length, not an assertion). */
  async function outage(n: number, journal: string, outageMs: number, begin: () => Promise<void> | void, end: () => Promise<void> | void) {
    const due = await dueReminders(h, n, journal);
    const logsBefore = { worker: h.logs.length, mail: mailLog.lines.length };
    const rcptBefore = h.sink.attempts;
    const before = mailer.stats ? stats() : undefined;
    await begin();
    // The clock runs from the mails' due time, and the sweep runs every ½ s as in production
    // (there every minute): it re-adds what it finds due, so its backoff must agree with the jobs'.
    const base = due[0]!.plannedAt.getTime();
    const t0 = Date.now();
    Object.defineProperty(h.clock, 'now', { configurable: true, get: () => new Date(base + Date.now() - t0) });
    const sweeping = setInterval(() => void w.sweep().catch(() => undefined), 500);
    let recoveryMs: number;
    try {
      for (const r of due) await enqueueNow(w, r);
      // The outage's length is the fault itself (the brief's 20 s), not something the test waits out.
      await new Promise((r) => setTimeout(r, outageMs));
      await end();
      const recovering = Date.now();
      await h.sink.waitFor((all) => all.filter((m) => m.subject.includes(`${journal}-`)).length >= n, 60_000);
      recoveryMs = Date.now() - recovering;
      await until(async () => (await rowsOf(h, due.map((r) => r.id))).every((r) => r.status === 'sent'), 20_000, 'every row marked sent');
    } finally {
      clearInterval(sweeping);
      await w.sweep().catch(() => undefined);
      Object.defineProperty(h.clock, 'now', { configurable: true, writable: true, value: new Date(base + Date.now() - t0) });
    }
    const rows = await rowsOf(h, due.map((r) => r.id));
    const warnings = [...h.logs.slice(logsBefore.worker), ...mailLog.lines.slice(logsBefore.mail)].filter((l) => levelOf(l) >= 40);
    const after = mailer.stats ? stats() : undefined;
    const figures = {
      mails: n,
      delivered: new Set(h.sink.received.filter((m) => m.subject.includes(`${journal}-`)).map((m) => m.messageId)).size,
      duplicated: h.sink.received.filter((m) => m.subject.includes(`${journal}-`)).length - n,
      smtpRcpt: h.sink.attempts - rcptBefore,
      mailerAttempts: after && before ? after.attempts - before.attempts : undefined,
      maxRowAttempts: Math.max(...rows.map((r) => r.attempts)),
      warnings: warnings.length,
      outageMs,
      recoveryMs,
      circuitOpened: after && before ? after.opened - before.opened : undefined,
    };
    console.log(JSON.stringify({ fault: journal, ...figures }));
    return { rows, warnings, figures };
  }

  it('costs a handful of attempts and one warning when the server answers 451 to everything for a while', async () => {
    const { rows, warnings, figures } = await outage(60, 'F-G', 20_000, () => { h.sink.refuseRcpt = () => 451; }, () => { h.sink.refuseRcpt = undefined; });
    expect(figures.delivered).toBe(60);
    expect(figures.duplicated).toBe(0);
    // 60 deliveries, plus the failures that opened the circuit and one probe per ½–2 s of outage.
    expect(figures.smtpRcpt - 60).toBeLessThanOrEqual(30);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(figures.maxRowAttempts).toBeLessThanOrEqual(3);
    expect(warnings.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([expect.stringMatching(/^SMTP server unavailable/)]);
    expect(mailLog.lines.filter((l) => /SMTP server answers again/.test(l))).toHaveLength(1);
    // No job used up BullMQ's retries: waiting is not failing.
    expect(await w.queue.getFailedCount()).toBe(0);
  });

  it('costs a handful of connection attempts and one warning when the server is down for a while', async () => {
    const { rows, warnings, figures } = await outage(30, 'F-D', 20_000, () => h.sink.down(), () => h.sink.up());
    expect(figures.delivered).toBe(30);
    expect(figures.duplicated).toBe(0);
    expect((figures.mailerAttempts ?? Infinity) - 30).toBeLessThanOrEqual(30);
    expect(figures.maxRowAttempts).toBeLessThanOrEqual(3);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(warnings.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual([expect.stringMatching(/^SMTP server unavailable/)]);
  });

  it('fails a mail the server refuses with 550 and reports it, without taking the server for down', async () => {
    const before = stats();
    const due = await dueReminders(h, 6, 'F-P');
    h.sink.refuseRcpt = (addr) => (addr === 'vagt@kf.test' ? 550 : undefined);
    try {
      h.clock.now = due[0]!.plannedAt;
      for (const r of due) await enqueueNow(w, r);
      await until(async () => (await rowsOf(h, due.map((r) => r.id))).every((r) => r.status === 'failed'), 30_000, 'six failed rows');
      // The reports are rows of their own: the sweep queues them, and they reach the administrators.
      await w.sweep();
      await h.sink.waitFor((all) => all.filter((m) => m.to.includes('drift@kf.test') && /kunne ikke afleveres/.test(m.subject)).length >= 6, 30_000);
    } finally {
      h.sink.refuseRcpt = undefined;
    }
    const rows = await rowsOf(h, due.map((r) => r.id));
    expect(rows.every((r) => /SMTP 550/.test(r.lastError ?? ''))).toBe(true);
    expect(stats().opened).toBe(before.opened);
  });
});

describe('free text in staff mails', () => {
  let h: WorkerHarness;
  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-06-01T09:00:00+02:00');
    await h.start();
  });
  afterAll(async () => h?.close());

  it('quotes no postponement reason in reminders and escalations to area leadership', async () => {
    const w = h.workers[0]!;
    const reason = 'Jens Hansen er indlagt på psykiatrisk afdeling med en psykose';
    const p = await createRecord(h.ctx, 'security_cell_placement', { institutionId: 'vestre', journalNumber: 'F-X1', placedAt: '2026-05-30T10:00:00+02:00', endedAt: '2026-06-01T08:00:00+02:00', followUpPostponedReason: reason, followUpPostponedAt: '2026-06-01T08:30:00+02:00', followUpRescheduledTo: '2026-06-12' }, ADMIN);
    const settings = await loadWorkerSettings(h.db.database.db);
    await planRecord(h.db.database.db, { closureDays: [], now: h.clock.now, settings }, 'security_cell_placement', p.id);
    const planned = (await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, p.id))).filter((n) => n.status === 'scheduled').sort((a, b) => a.plannedAt.getTime() - b.plannedAt.getTime());
    expect(planned.some((n) => n.kind === 'escalation' && n.recipient === 'ledelse@kf.test')).toBe(true);
    // Every stage in turn, at its own time: reminders, then the escalations up the ladder.
    for (const n of planned) {
      h.clock.now = n.plannedAt;
      expect(await sendNotification(w.deps.send, n.id)).toBe('sent');
    }
    const mails = h.sink.received.filter((m) => m.subject.includes('F-X1'));
    expect(mails.length).toBe(planned.length);
    expect(mails.some((m) => m.to.includes('ledelse@kf.test'))).toBe(true);
    for (const m of mails) {
      for (const part of [m.subject, m.text, m.html]) {
        expect(part).not.toContain('Jens Hansen');
        expect(part).not.toContain('psyk');
      }
    }
    // The sentence stays, pointing to the case instead of quoting it.
    expect(mails.some((m) => m.text.includes('Samtalen er udsat (begrundelsen står i sagen)'))).toBe(true);
  });
});

describe('SMTP credentials without TLS', () => {
  it('refuses to send the password to a server that offers no STARTTLS, unless explicitly allowed', async () => {
    const sink = await startSmtpSink({ auth: true });
    const url = sink.url.replace('smtp://', 'smtp://relay:hemmeligt-kodeord@');
    const mail = { messageId: '<auth-test-1@kriminalforsorgen.test>', from: FROM, to: ['vagt@kf.test'], subject: 'test', text: 'test', html: '<p>test</p>' };
    const strict = createSmtpMailer({ url, requireTls: false, breakAfter: 100 });
    const open = createSmtpMailer({ url, requireTls: false, allowInsecureAuth: true });
    try {
      await expect(strict.send(mail)).rejects.toThrow(/SMTP_ALLOW_INSECURE_AUTH/);
      await expect(strict.verify()).rejects.toThrow(/SMTP_ALLOW_INSECURE_AUTH/);
      expect(sink.authCalls).toBe(0);
      expect(sink.received).toHaveLength(0);
      // The operator's explicit choice for a relay on a trusted network.
      await open.send(mail);
      expect(sink.authCalls).toBe(1);
      expect(sink.received).toHaveLength(1);
    } finally {
      strict.close();
      open.close();
      await sink.close();
    }
  });
});
