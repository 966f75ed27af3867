/**
 * The real server for the browser tests: buildServer + listen on a Postgres database of its own
 * (named like the other test databases, so an aborted run is cleaned up), migrated from scratch,
 * with the demo data, an injected clock, and optionally the worker's planner run and a few due mails
 * sent through the built-in catcher.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { and, eq, lte } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import postgres from 'postgres';
import { buildServer } from '../../src/api/server.js';
import { migrate, openDatabase, type Database } from '../../src/db/client.js';
import { notifications } from '../../src/db/schema.js';
import { createLogger } from '../../src/logger.js';
import { createCatcherMailer } from '../../src/mail/transport.js';
import { seedDemo } from '../../src/records/demo.js';
import { KINDS, type RecordTypeName } from '../../src/records/kinds.js';
import type { ServiceContext } from '../../src/records/service.js';
import { planRecord } from '../../src/worker/planner.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN_URL, RUN_STAMP, urlFor } from './db.js';

export interface DemoServer {
  base: string;
  database: Database;
  app: FastifyInstance;
  ctx: ServiceContext;
  close(): Promise<void>;
}

export async function startDemoServer(o: { now: string; adminToken: string; records: number; plan?: boolean; sendDue?: number }): Promise<DemoServer> {
  const dbName = `fristvagt_t_${RUN_STAMP}_br${randomBytes(3).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${dbName}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(dbName);
  const database = await openDatabase({ databaseUrl: url, maxConnections: 5 });
  let app: FastifyInstance | undefined;
  const close = async (): Promise<void> => {
    await app?.close();
    await database.close();
    const drop = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    try {
      await drop.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    } finally {
      await drop.end();
    }
  };
  try {
    await migrate(database, { databaseUrl: url });
    const clock = (): Date => new Date(o.now);
    const ctx: ServiceContext = { db: database.db, clock, closureDays: [] };
    await seedDemo(ctx, { records: o.records });
    const mailer = createCatcherMailer(database.db);
    if (o.plan) {
      // The worker's planner fills the outbox, and a few due mails go through the built-in catcher.
      const settings = await loadWorkerSettings(database.db);
      for (const [type, kind] of Object.entries(KINDS) as Array<[RecordTypeName, (typeof KINDS)[RecordTypeName]]>) {
        const rows = (await database.db.select({ id: kind.table.id }).from(kind.table)) as Array<{ id: string }>;
        for (const r of rows) await planRecord(database.db, { closureDays: [], now: clock(), settings }, type, r.id);
      }
      const silent = createLogger({ level: 'silent' });
      const due = await database.db.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.status, 'scheduled'), lte(notifications.plannedAt, clock()))).limit(o.sendDue ?? 0);
      for (const n of due) await sendNotification({ db: database.db, mailer, clock, closureDays: [], settings: () => loadWorkerSettings(database.db), from: 'fristvagt <fristvagt@demo.fristvagt.invalid>', publicUrl: 'http://127.0.0.1', logger: silent }, n.id);
    }
    app = await buildServer({
      database,
      config: { FRISTVAGT_ADMIN_TOKEN: o.adminToken, FRISTVAGT_BODY_LIMIT: 256 * 1024, FRISTVAGT_CLOSURE_DAYS: [] },
      clock,
      logger: createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) }),
      mailer,
      mailFrom: 'fristvagt <fristvagt@demo.fristvagt.invalid>',
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    return { base, database, app, ctx, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
