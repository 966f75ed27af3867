/**
 * Reads through the app's own database client (src/db/client.ts, postgres.js as patched by
 * scripts/patch-postgres.mjs) while every backend of the database is terminated every 100–300 ms.
 * A read either returns exactly the row that is there or rejects with an error that
 * isDatabaseUnavailable recognises (the API's 503): never no row (the API told a client that
 * institution "vestre" does not exist), never another statement's row, and it never hangs.
 *
 * What it guards (scripts/patch-postgres.mjs, changes 4–6; docs/OPERATIONS.md, "Postgres
 * connections dropped"): postgres.js 3.4.9 carried a dead session's state into the connection's
 * next session. A statement cut short by the drop (rows sent, then FATAL 57P01) left its rows
 * counter and its error behind: the next session's first statement failed with that old error and
 * the one after it resolved with its first rows missing (here: dozens of reads a run). Statements
 * the pool handed a connection between its socket's 'error' and 'close' stayed queued on it and
 * were answered by the next session with another statement's result, or never. The mix below (the
 * API's parameterised selects, slow reads that the drops cut short, transactions, parameterless
 * statements that postgres.js pipelines on one connection) reaches the first every run and the
 * second now and then; test/integration/driver-patch.test.ts shows each case deterministically.
 */
import { isDeepStrictEqual } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, rowsOf, type Database } from '../../src/db/client.js';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { areas, institutions } from '../../src/db/schema.js';
import { ADMIN_URL, openTestDatabase, type TestDatabase } from '../support/db.js';

/** How long the drops go on; the whole test stays well under 30 s. */
const DROPPING_MS = 12_000;
/** After the drops: every loop's statement in flight must settle within this. */
const SETTLE_MS = 8_000;
const READERS = 14;
const PIPELINED = 8;
const WRITERS = 6;
const LISTERS = 4;
/** Rows of a slow read (1 ms each). */
const LONG = 100;

const AREA = { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Områdedirektør', directorEmail: 'direktor@kf.test' };
const INSTITUTION = { id: 'vestre', areaId: AREA.id, name: 'Fængsel Vestre', kind: 'prison' as const, dutyManagerEmail: 'vagt@kf.test' };

/** An answer, short: a sparse array shows where its first row is. */
function shown(got: unknown): string {
  if (!Array.isArray(got)) return JSON.stringify(got);
  if (got.length === 0) return 'no row';
  const first = got.findIndex((r) => r !== undefined);
  return `${got.length} row(s), the first at index ${first}: ${JSON.stringify(got[first])}`;
}

interface Tally {
  answered: number;
  unavailable: number;
  /** Resolved, but not with the row that is there: the bug. */
  wrong: string[];
  /** Rejected with something the API would answer 500 to. */
  unexpected: string[];
}

describe('reads while Postgres connections are dropped', () => {
  let test: TestDatabase & { url: string };
  let database: Database;

  beforeAll(async () => {
    test = (await openTestDatabase('postgres')) as TestDatabase & { url: string };
    await test.database.db.insert(areas).values(AREA);
    await test.database.db.insert(institutions).values(INSTITUTION);
    // Only the client under test holds connections during the drops.
    await test.database.close();
    // As the API opens it (src/db/client.ts: pool of 10, the reconnect backoff, the patch check).
    database = await openDatabase({ databaseUrl: test.url, maxConnections: 10 });
  });
  afterAll(async () => {
    await database?.close({ timeoutMs: 1_000 });
    await test?.drop();
  });

  it('a read returns its row or answers unavailable, never no row and never another statement\'s', async () => {
    const { db } = database;
    const tally: Tally = { answered: 0, unavailable: 0, wrong: [], unexpected: [] };
    const inFlight = new Set<Promise<unknown>>();
    let dropping = true;

    /** One statement, classified; `expected` is what a correct answer is. */
    async function check(what: string, run: () => Promise<unknown>, expected: unknown): Promise<void> {
      const p = run();
      inFlight.add(p);
      try {
        const got = await p;
        tally.answered++;
        if (!isDeepStrictEqual(got, expected)) tally.wrong.push(`${what} resolved with ${shown(got)}`);
      } catch (err) {
        if (isDatabaseUnavailable(err)) tally.unavailable++;
        else if (tally.unexpected.length < 10) tally.unexpected.push(`${what}: ${(err as Error).message}`);
      } finally {
        inFlight.delete(p);
      }
    }

    // The read of src/records/service.ts institutionScope, parameterised as drizzle sends it.
    const reader = async (): Promise<void> => {
      while (dropping) {
        await check('institution read', () => db.select({ areaId: institutions.areaId, kind: institutions.kind }).from(institutions).where(eq(institutions.id, INSTITUTION.id)), [{ areaId: AREA.id, kind: 'prison' }]);
      }
    };
    // Statements without parameters (src/db/client.ts ping and the like): postgres.js pipelines them,
    // several on one connection, which is what keeps connections "busy" for the pool.
    const pipelined = async (): Promise<void> => {
      while (dropping) {
        await check('parameterless read', async () => Array.from(rowsOf(await db.execute(sql`SELECT area_id, kind FROM institutions WHERE id = 'vestre'`))), [{ area_id: AREA.id, kind: 'prison' }]);
      }
    };
    // Answers whose rows take a while (a long list, a report): a drop lands between their rows, and
    // the server sends the rows it has, then its FATAL 57P01, and no CommandComplete.
    const lister = async (): Promise<void> => {
      while (dropping) {
        await check('long read', async () => {
          const rows = rowsOf<{ g: number }>(await db.execute(sql`SELECT g FROM generate_series(1, ${LONG}::int) AS g WHERE pg_sleep(0.001) IS NOT NULL`));
          return { n: rows.length, first: rows[0]?.g, last: rows[rows.length - 1]?.g };
        }, { n: LONG, first: 1, last: LONG });
      }
    };
    // Transactions as the API's writes run them: BEGIN through the pool, statements on its connection.
    const writer = async (): Promise<void> => {
      while (dropping) {
        await check(
          'transaction',
          () =>
            db.transaction(async (tx) => {
              const none = await tx.select({ id: areas.id }).from(areas).where(eq(areas.id, 'nowhere'));
              const [area] = await tx.select({ name: areas.name }).from(areas).where(eq(areas.id, AREA.id));
              return { none, area };
            }),
          { none: [], area: { name: AREA.name } },
        );
      }
    };

    const killer = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
    const dbName = new URL(test.url).pathname.slice(1);
    let killed = 0;
    const loops = [...Array.from({ length: READERS }, reader), ...Array.from({ length: PIPELINED }, pipelined), ...Array.from({ length: WRITERS }, writer), ...Array.from({ length: LISTERS }, lister)];
    try {
      const until = Date.now() + DROPPING_MS;
      while (Date.now() < until) {
        // The pace of the fault, not a synchronisation.
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
        const [row] = await killer<{ n: number }[]>`SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${dbName} AND pid <> pg_backend_pid()) t`;
        killed += row?.n ?? 0;
      }
    } finally {
      dropping = false;
      await killer.end();
    }
    // Every statement still in flight settles: a statement left on a dead session would wait forever.
    const settled = await Promise.race([Promise.all(loops).then(() => true), new Promise<false>((r) => setTimeout(r, SETTLE_MS, false))]);
    const hung = inFlight.size;

    console.log(`postgres-drop-reads: ${JSON.stringify({ killed, answered: tally.answered, unavailable: tally.unavailable, wrong: tally.wrong.length, unexpected: tally.unexpected.length, hung })}`);
    expect(killed).toBeGreaterThan(0);
    expect(tally.answered).toBeGreaterThan(0);
    expect(tally.wrong.slice(0, 10), `${tally.wrong.length} wrong answer(s)`).toEqual([]);
    expect(tally.unexpected).toEqual([]);
    expect(settled, `${hung} statement(s) never settled after the drops stopped`).toBe(true);
    // And the pool serves again.
    await expect(db.select({ kind: institutions.kind }).from(institutions).where(eq(institutions.id, INSTITUTION.id))).resolves.toEqual([{ kind: 'prison' }]);
  }, 30_000);
});
