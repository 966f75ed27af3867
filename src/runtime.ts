/** Wiring shared by the commands: configuration → database (migrated) → service context. */
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { migrate, openDatabase, type Database } from './db/client.js';
import { createCatcherMailer, createSmtpMailer, type Mailer } from './mail/transport.js';
import type { ServiceContext } from './records/service.js';

/**
 * On PGlite this takes FRISTVAGT_DATA_DIR's lock (src/db/data-dir-lock.ts) and throws
 * DataDirInUseError when another process holds it; `lockDataDir` takes it on Postgres too.
 */
export async function openConfiguredDatabase(config: Config, opts: { migrate?: boolean; lockDataDir?: boolean; maxConnections?: number } = {}): Promise<Database> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.FRISTVAGT_DATA_DIR, lockDataDir: opts.lockDataDir ?? false, ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}) });
  if (opts.migrate ?? config.FRISTVAGT_MIGRATE_ON_START) {
    try {
      await migrate(database, { databaseUrl: config.DATABASE_URL });
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return database;
}

/**
 * Database connections for a process that runs the worker: one per job slot and a few for the
 * sweep, the heartbeat and the API, so that a send's mark-as-sent right after the SMTP server's
 * 250 never queues behind other jobs' queries (that wait is the window in which a crash repeats
 * a mail).
 */
export function workerConnections(config: Config): number {
  return Math.max(10, config.FRISTVAGT_WORKER_CONCURRENCY + 5);
}

export function serviceContext(database: Database, config: Config, clock: () => Date = () => new Date()): ServiceContext {
  return { db: database.db, clock, closureDays: config.FRISTVAGT_CLOSURE_DAYS };
}

/** SMTP when SMTP_URL is set; otherwise the built-in catcher, which stores mails for the UI's mail log. */
export function mailerFor(cfg: Config, database: Database, logger?: Logger): Mailer {
  return cfg.SMTP_URL
    ? createSmtpMailer({ url: cfg.SMTP_URL, requireTls: cfg.SMTP_REQUIRE_TLS, rejectUnauthorized: cfg.SMTP_TLS_REJECT_UNAUTHORIZED, allowInsecureAuth: cfg.SMTP_ALLOW_INSECURE_AUTH, ...(logger ? { logger } : {}) })
    : createCatcherMailer(database.db);
}
