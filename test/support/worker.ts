/** A worker on a per-file Postgres database, real Redis (unique prefix) and a real SMTP sink. */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/logger.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { putSetting } from '../../src/records/settings.js';
import type { Actor, ServiceContext } from '../../src/records/service.js';
import { startWorker, type RunningWorker, type WorkerOptions } from '../../src/worker/runtime.js';
import { openTestDatabase, type Driver, type TestDatabase } from './db.js';
import { startSmtpSink, type SmtpSink } from './smtp.js';

export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const ADMIN: Actor = { id: 'test', name: 'test', role: 'admin' };
export const FROM = 'fristvagt <fristvagt@kriminalforsorgen.test>';

export interface WorkerHarness {
  db: TestDatabase;
  sink: SmtpSink;
  clock: { now: Date };
  ctx: ServiceContext;
  prefix: string;
  logs: string[];
  workers: RunningWorker[];
  mailer: Mailer;
  start(extra?: Partial<WorkerOptions>): Promise<RunningWorker>;
  close(): Promise<void>;
}

/** Only this run's keys: other test files use other prefixes on the same Redis. */
export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

export async function startWorkerHarness(driver: Driver, now: string): Promise<WorkerHarness> {
  const db = await openTestDatabase(driver);
  const sink = await startSmtpSink();
  const clock = { now: new Date(now) };
  const ctx: ServiceContext = { db: db.database.db, clock: () => clock.now, closureDays: [] };
  const prefix = `fv-test-${randomBytes(4).toString('hex')}`;
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb(); } }) });
  const mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false, maxConnections: 2 });
  await createArea(ctx, { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Områdedirektør', directorEmail: 'direktor@kf.test', leadershipEmail: 'ledelse@kf.test' }, ADMIN);
  await createInstitution(ctx, { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt@kf.test' }, ADMIN);
  await putSetting(ctx, 'recipients', { value: { ombudsman: 'ombudsmand@ombud.test', directorate: 'direktorat@kf.test', admins: ['drift@kf.test'] } }, ADMIN);
  const workers: RunningWorker[] = [];
  const h: WorkerHarness = {
    db, sink, clock, ctx, prefix, logs, workers, mailer,
    async start(extra = {}) {
      const w = await startWorker({ database: db.database, redisUrl: REDIS_URL, prefix, mailer, clock: () => clock.now, closureDays: [], from: FROM, publicUrl: 'https://fristvagt.kf.test', logger, schedule: false, retryDelayMs: 50, ...extra });
      workers.push(w);
      return w;
    },
    async close() {
      for (const w of workers) await w.stop(5000);
      mailer.close();
      await deleteQueueKeys(prefix);
      await sink.close();
      await db.drop();
    },
  };
  return h;
}
