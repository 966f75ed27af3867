/**
 * The worker as an operator runs it: a separate `fristvagt worker` process, killed with SIGKILL
 * in the middle of a burst, then replaced. Nothing may be lost; a mail can only be repeated if
 * its SMTP conversation was cut by the kill, and then with the same Message-ID.
 */
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createRecord } from '../../src/records/service.js';
import { ADMIN } from '../support/worker.js';
import { startProcessFixture, type ProcessFixture, type WorkerProcess } from '../support/worker-process.js';

describe('worker process', () => {
  let f: ProcessFixture;
  const spawnWorker = (): WorkerProcess => f.spawn({ FRISTVAGT_STALE_SENDING_MS: '1500', FRISTVAGT_SWEEP_EVERY_MS: '1000', FRISTVAGT_WORKER_CONCURRENCY: '4' });
  /** The workers' own output, shown when a wait times out. */
  const output = (): string => f.workers.map((w) => w.output.join('')).join('\n');

  beforeAll(async () => {
    f = await startProcessFixture('proc');
  });
  afterAll(async () => f?.close());

  it('loses nothing and repeats nothing when a worker is SIGKILLed during a burst', async () => {
    const first = spawnWorker();
    f.sink.acceptDelayMs = 40;
    // Each new incident alerts its area director at once: a burst of 30 mails.
    const ids: string[] = [];
    const now = Date.now();
    for (let i = 0; i < 30; i++) {
      const r = await createRecord(f.ctx, 'incident', { institutionId: 'horsens', journalNumber: `K-${i}`, kind: 'death', occurredAt: new Date(now - 3600_000).toISOString() }, ADMIN);
      ids.push(r.id);
    }
    await f.sink.waitFor((all) => all.length >= 6, 30_000).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nworker output:\n${output()}`);
    });
    await first.kill();
    const inFlight = await f.db.database.db.select({ id: notifications.id }).from(notifications).where(eq(notifications.status, 'sending'));
    f.sink.acceptDelayMs = 0;

    const second = spawnWorker();
    await f.sink.waitFor((all) => new Set(all.map((m) => m.messageId)).size >= 30, 60_000);
    const rows = await f.db.database.db.select().from(notifications).where(inArray(notifications.recordId, ids));
    const alerts = rows.filter((n) => n.stage === 'alert:area-director');
    expect(alerts).toHaveLength(30);
    // Every alert went out, each with its deterministic Message-ID.
    const received = f.sink.received.map((m) => m.messageId);
    for (const n of alerts) expect(received).toContain(`<notification-${n.id}@kriminalforsorgen.test>`);
    // Repeats are possible only for the few mails whose SMTP conversation the kill cut short.
    const counts = new Map<string, number>();
    for (const id of received) counts.set(id, (counts.get(id) ?? 0) + 1);
    const repeated = [...counts].filter(([, c]) => c > 1).map(([id]) => id);
    const cut = new Set(inFlight.map((r) => `<notification-${r.id}@kriminalforsorgen.test>`));
    expect(repeated.every((id) => cut.has(id))).toBe(true);
    expect(repeated.length).toBeLessThanOrEqual(4);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
