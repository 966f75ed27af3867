/** Wiring shared by the commands: configuration → database (migrated) → service context. */
import type { Config } from './config.js';
import { migrate, openDatabase, type Database } from './db/client.js';
import { createCatcherMailer, createSmtpMailer, type Mailer } from './mail/transport.js';
import type { ServiceContext } from './records/service.js';

/**
 * On PGlite this takes FRISTVAGT_DATA_DIR's lock (src/db/data-dir-lock.ts) and throws
 * DataDirInUseError when another process holds it; `lockDataDir` takes it on Postgres too.
 */
export async function openConfiguredDatabase(config: Config, opts: { migrate?: boolean; lockDataDir?: boolean } = {}): Promise<Database> {
  const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.FRISTVAGT_DATA_DIR, lockDataDir: opts.lockDataDir ?? false });
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

export function serviceContext(database: Database, config: Config, clock: () => Date = () => new Date()): ServiceContext {
  return { db: database.db, clock, closureDays: config.FRISTVAGT_CLOSURE_DAYS };
}

/** SMTP when SMTP_URL is set; otherwise the built-in catcher, which stores mails for the UI's mail log. */
export function mailerFor(cfg: Config, database: Database): Mailer {
  return cfg.SMTP_URL
    ? createSmtpMailer({ url: cfg.SMTP_URL, requireTls: cfg.SMTP_REQUIRE_TLS, rejectUnauthorized: cfg.SMTP_TLS_REJECT_UNAUTHORIZED })
    : createCatcherMailer(database.db);
}
