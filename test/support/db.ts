/**
 * A database per test file: a fresh PGlite in memory, or a Postgres database cloned from a
 * migrated template (the graphile-worker way: migrations run once, each file gets its own copy).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrate, openDatabase, type Database } from '../../src/db/client.js';

export type Driver = 'pglite' | 'postgres';

export const ADMIN_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * Per run (set by the global setup): several test runs may share one Postgres server (CI and a
 * developer, or parallel sessions), so a run only ever creates and drops databases with its own stamp.
 */
export const RUN_STAMP = process.env['FRISTVAGT_TEST_RUN'] ?? `${Math.floor(Date.now() / 1000)}_${process.pid}`;
export const TEMPLATE_DB = process.env['FRISTVAGT_TEST_TEMPLATE'] ?? `fristvagt_tpl_${RUN_STAMP}`;

export function urlFor(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  database: Database;
  url?: string;
  drop(): Promise<void>;
}

export async function openTestDatabase(driver: Driver): Promise<TestDatabase> {
  if (driver === 'pglite') {
    const database = await openDatabase({ dataDir: 'memory://' });
    await migrate(database);
    return { database, drop: () => database.close() };
  }
  const name = `fristvagt_t_${RUN_STAMP}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(name);
  const database = await openDatabase({ databaseUrl: url, maxConnections: 5 });
  return {
    database,
    url,
    async drop() {
      await database.close();
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * Takes a lock in a transaction of its own session (`take`, e.g. `LOCK TABLE …` or `SELECT … FOR
 * UPDATE`) and holds it until the returned release is called, which commits and closes the session.
 */
export async function holdLock(url: string, take: (sql: postgres.TransactionSql) => Promise<unknown>): Promise<() => Promise<void>> {
  const locker = postgres(url, { max: 1, onnotice: () => undefined });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const tx = locker.begin(async (sql) => {
    await take(sql);
    locked();
    await held;
  });
  await Promise.race([isLocked, tx]);
  // Once, however often it is called (a test's own step, then its finally).
  let ended: Promise<void> | undefined;
  return () =>
    (ended ??= (async () => {
      release();
      await tx;
      await locker.end();
    })());
}
