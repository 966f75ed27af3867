/**
 * The worker as an operator runs it: a separate `fristvagt worker` process, killed with SIGKILL
 * in the middle of a burst, then replaced. Nothing may be lost; a mail can only be repeated if
 * its SMTP conversation was cut by the kill, and then with the same Message-ID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { createRecord, type ServiceContext } from '../../src/records/service.js';
import { CLI, ROOT } from '../support/cli.js';
import { openTestDatabase, type TestDatabase } from '../support/db.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { ADMIN, REDIS_URL } from '../support/worker.js';

describe('worker process', () => {
  let db: TestDatabase;
  let sink: SmtpSink;
  let ctx: ServiceContext;
  const prefix = `fv-proc-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  /** The workers' own output, shown when a wait times out. */
  const output: string[] = [];

  function spawnWorker(): ChildProcess {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: db.url ?? '',
        REDIS_URL,
        SMTP_URL: sink.url,
        // smtp-server's built-in STARTTLS certificate is self-signed (and expired).
        SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
        MAIL_FROM: 'fristvagt <fristvagt@kriminalforsorgen.test>',
        FRISTVAGT_QUEUE_PREFIX: prefix,
        FRISTVAGT_STALE_SENDING_MS: '1500',
        FRISTVAGT_SWEEP_EVERY_MS: '1000',
        FRISTVAGT_WORKER_CONCURRENCY: '4',
        LOG_LEVEL: 'warn',
      },
    });
    children.push(child);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => output.push(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => output.push(d));
    return child;
  }

  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    sink = await startSmtpSink();
    ctx = { db: db.database.db, clock: () => new Date(), closureDays: [] };
    await createArea(ctx, { id: 'syd', name: 'Kriminalforsorgen Syd', officeEmail: 'syd@kf.test', directorName: 'Direktør', directorEmail: 'direktor.syd@kf.test' }, ADMIN);
    await createInstitution(ctx, { id: 'horsens', areaId: 'syd', name: 'Fængsel Horsens', kind: 'prison', dutyManagerEmail: 'vagt.horsens@kf.test' }, ADMIN);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await sink?.close();
    await db?.drop();
  });

  it('loses nothing and repeats nothing when a worker is SIGKILLed during a burst', async () => {
    const first = spawnWorker();
    sink.acceptDelayMs = 40;
    // Each new incident alerts its area director at once: a burst of 30 mails.
    const ids: string[] = [];
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      const r = await createRecord(ctx, 'incident', { institutionId: 'horsens', journalNumber: `K-${i}`, kind: 'death', occurredAt: new Date(now - 3600_000).toISOString() }, ADMIN);
      ids.push(r.id);
    }
    await sink.waitFor((all) => all.length >= 6, 30_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nworker output:\n${output.join('')}`);
    });
    const killed = new Promise((resolve) => first.on('exit', resolve));
    first.kill('SIGKILL');
    await killed;
    const inFlight = await db.database.db.select({ id: notifications.id }).from(notifications).where(eq(notifications.status, 'sending'));
    sink.acceptDelayMs = 0;

    const second = spawnWorker();
    await sink.waitFor((all) => new Set(all.map((m) => m.messageId)).size >= 30, 60_000);
    const rows = await db.database.db.select().from(notifications).where(inArray(notifications.recordId, ids));
    const alerts = rows.filter((n) => n.stage === 'alert:area-director');
    expect(alerts).toHaveLength(30);
    // Every alert went out, each with its deterministic Message-ID.
    const received = sink.received.map((m) => m.messageId);
    for (const n of alerts) expect(received).toContain(`<notification-${n.id}@kriminalforsorgen.test>`);
    // Repeats are possible only for the few mails whose SMTP conversation the kill cut short.
    const counts = new Map<string, number>();
    for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const repeated = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    const cut = new Set(inFlight.map((r) => `<notification-${r.id}@kriminalforsorgen.test>`));
    expect(repeated.every((id) => cut.has(id))).toBe(true);
    expect(repeated.length).toBeLessThanOrEqual(4);

    const stopped = new Promise<number | null>((resolve) => second.on('exit', (code) => resolve(code)));
    second.kill('SIGTERM');
    expect(await stopped).toBe(0);
  }, 120_000);
});
