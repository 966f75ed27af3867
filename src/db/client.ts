/**
 * Two drivers, one schema: postgres.js when DATABASE_URL is set, PGlite (embedded Postgres in
 * WebAssembly) under FRISTVAGT_DATA_DIR otherwise. Same migrations, same repositories.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { packageRoot } from '../paths.js';
import { lockDataDir } from './data-dir-lock.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- both drivers' HKTs differ; repositories use the common surface.
export type Db = PgDatabase<PgQueryResultHKT, Schema> & { $client?: any };
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  driver: 'postgres' | 'pglite';
  /**
   * LISTEN on a channel; returns the function that stops listening. When the listening connection
   * was dropped, the driver reconnects and listens again, and then calls `onResubscribed`: the
   * notifications sent meanwhile are lost, so the caller catches up from the table.
   */
  listen(channel: string, onPayload: (payload: string) => void, onResubscribed?: () => void): Promise<() => Promise<void>>;
  /** Postgres: queries still running get `timeoutMs` (default 5 s), then the connections are destroyed. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

export class DatabaseError extends Error {
  readonly code: string;
  constructor(code: string, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'DatabaseError';
    this.code = code;
  }
}

export const MIGRATIONS_DIR = join(packageRoot(), 'src/db/migrations');

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** PGlite directory; `memory://` for a throw-away in-memory database (tests). */
  dataDir?: string;
  /** Postgres schema to use (tests give each file its own). */
  searchPath?: string;
  maxConnections?: number;
  /**
   * Take the data directory's lock (data-dir-lock.ts) also on Postgres, because the caller keeps
   * other state there (`start`'s private redis-server). PGlite on a directory always takes it.
   */
  lockDataDir?: boolean;
}

/**
 * Reconnecting after dropped connections. postgres.js counts failed reconnects pool-wide and waits
 * up to 20 s by default (3^n / 100 s): one restart that drops ten pooled connections at once would
 * hold every request for 10–20 s after the server is back. Here the wait doubles from 50 ms up to
 * 2 s (jittered), and a connection attempt gives up after 10 s instead of 30 (the request then
 * answers 503 rather than hanging).
 */
const RECONNECT = {
  backoff: (retries: number): number => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 2),
  connect_timeout: 10,
};

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const dataDir = opts.dataDir ?? './data';
  const onDisk = !opts.databaseUrl && !dataDir.startsWith('memory://');
  // Before anything touches the directory: a second process is refused here, at once.
  const lock = onDisk || (opts.databaseUrl && opts.lockDataDir) ? await lockDataDir(dataDir) : undefined;
  try {
    const database = opts.databaseUrl ? openPostgres(opts.databaseUrl, opts) : await openPglite(onDisk ? resolve(dataDir, 'pglite') : dataDir);
    if (!lock) return database;
    return {
      ...database,
      async close(o) {
        try {
          await database.close(o);
        } finally {
          await lock.release();
        }
      },
    };
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

function openPostgres(url: string, opts: OpenOptions): Database {
  assertDriverPatched();
  const connection: Record<string, string> = {};
  if (opts.searchPath) connection['search_path'] = opts.searchPath;
  const client = postgres(url, {
    max: opts.maxConnections ?? 10,
    onnotice: () => undefined,
    connection,
    ...RECONNECT,
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    db,
    driver: 'postgres',
    async listen(channel, onPayload, onResubscribed) {
      // postgres.js calls onlisten on the first LISTEN and again after each reconnect.
      let first = true;
      const sub = await client.listen(channel, onPayload, () => {
        if (first) first = false;
        else onResubscribed?.();
      });
      return () => sub.unlisten();
    },
    close: (o) => client.end({ timeout: (o?.timeoutMs ?? 5_000) / 1_000 }),
  };
}

async function openPglite(target: string): Promise<Database> {
  if (!target.startsWith('memory://')) mkdirSync(target, { recursive: true });
  const client = yielding(await PGlite.create(target));
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    driver: 'pglite',
    async listen(channel, onPayload) {
      return client.listen(channel, onPayload);
    },
    close: () => client.close(),
  };
}

/**
 * PGlite runs Postgres in WebAssembly on this thread, and a query resolves without the event loop
 * ever getting a turn (no real I/O in between). A loop of queries (the first sweep planning every
 * record, the demo seed) therefore starved timers, sockets and signals for as long as it ran: 17 s for
 * 300 demo records, long enough for fastify's plugin timeout to fail `start` and for SIGTERM to wait.
 * Each query and transaction here first lets the event loop take one turn.
 */
function yielding(client: PGlite): PGlite {
  const target = client as unknown as Record<'query' | 'exec' | 'transaction', (...args: unknown[]) => Promise<unknown>>;
  for (const name of ['query', 'exec', 'transaction'] as const) {
    const original = target[name].bind(client);
    target[name] = async (...args: unknown[]) => {
      await setImmediate();
      return original(...args);
    };
  }
  return client;
}

/**
 * postgres.js 3.4.9 crashes the process when a connection drops at the wrong moment; the install
 * patches it (scripts/patch-postgres.mjs, README "Postgres driver patch"). An install that skipped
 * the patch (`npm ci --ignore-scripts`) must not run against Postgres: it would crash under load.
 */
let driverChecked = false;
function assertDriverPatched(): void {
  if (driverChecked) return;
  // The package's CommonJS entry (cjs/src/index.js); the ESM build that is imported sits in src/.
  const root = resolve(dirname(createRequire(import.meta.url).resolve('postgres')), '../..');
  for (const file of ['src/connection.js', 'src/index.js', 'cjs/src/connection.js', 'cjs/src/index.js'].map((f) => join(root, f))) {
    if (!readFileSync(file, 'utf8').includes('fristvagt-patch')) {
      throw new DatabaseError('DRIVER_UNPATCHED', `the postgres driver at ${file} is not patched against crashes on dropped connections: run \`node scripts/patch-postgres.mjs\` (npm ci runs it unless --ignore-scripts)`);
    }
  }
  driverChecked = true;
}

const MIGRATION_LOCK = 7_347_001;

/** Applies the committed migrations. Serialised with an advisory lock so that several processes can start at once. */
export async function migrate(database: Database, opts: OpenOptions = {}): Promise<void> {
  if (database.driver === 'pglite') {
    await migratePglite(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  if (!opts.databaseUrl) throw new DatabaseError('MIGRATE_NEEDS_URL', 'migrate: databaseUrl is required for the postgres driver');
  // One dedicated connection: an advisory lock belongs to a session, and a pool may switch sessions.
  const connection: Record<string, string> = {};
  if (opts.searchPath) connection['search_path'] = opts.searchPath;
  const client = postgres(opts.databaseUrl, { max: 1, onnotice: () => undefined, connection });
  try {
    await client`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder: MIGRATIONS_DIR, ...(opts.searchPath ? { migrationsSchema: opts.searchPath } : {}) });
  } finally {
    await client`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => undefined);
    await client.end({ timeout: 5 });
  }
}

/** The rows of a raw `db.execute`: postgres.js answers with an array, PGlite with `{ rows }`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

export async function ping(db: Db): Promise<void> {
  await db.execute(sql`SELECT 1`);
}
