/**
 * Postgres connections dropped under load (`pg_terminate_backend` on every backend of the
 * process's database, once a second, while 20 clients write through the API). The process must
 * survive, answer every request 201 or a 503 in the documented error shape, lose no record whose
 * 201 it sent, serve again once the drops stop, and (with the worker) resume its change feed on its
 * own: every record it accepted gets its immediate mail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../support/app.js';
import { CLI, ROOT } from '../support/cli.js';
import { ADMIN_URL, openTestDatabase, type TestDatabase } from '../support/db.js';
import { freePort, startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const CLIENTS = 20;
const DROP_ROUNDS = 10;
const NAME = 'Drophild Testesen';
const FREE_TEXT = 'Fundet i cellen under nattevagtens runde';

interface Child {
  proc: ChildProcess;
  output: string[];
  exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

function spawnCli(args: string[], env: Record<string, string>): Child {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const output: string[] = [];
  const listeners = new Set<() => void>();
  const onData = (d: string): void => {
    output.push(d);
    for (const l of listeners) l();
  };
  proc.stdout?.setEncoding('utf8').on('data', onData);
  proc.stderr?.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    output,
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(output.join(''))) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output.join('').slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then((code) => {
          if (!listeners.has(check)) return;
          listeners.delete(check);
          clearTimeout(timer);
          reject(new Error(`exited (${code}) before ${pattern}; output:\n${output.join('').slice(-3000)}`));
        });
        check();
      });
    },
  };
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

async function post(base: string, path: string, body: unknown): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // kept as text: it will fail the shape check below
    }
    return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
  } catch (err) {
    // No answer at all (refused, reset, timed out): status 0.
    return { status: 0, body: String((err as Error).message), retryAfter: null };
  }
}

function incidentBody(tag: string, n: number): Record<string, unknown> {
  return { institutionId: 'vestre', journalNumber: `DROP-${tag}-${n}`, kind: 'death', occurredAt: new Date(Date.now() - 3600_000).toISOString(), inmateName: NAME, description: FREE_TEXT };
}

async function seedMasterData(base: string): Promise<void> {
  const area = await post(base, '/api/areas', { id: 'hovedstaden', name: 'Kriminalforsorgen Hovedstaden', officeEmail: 'omraade@kf.test', directorName: 'Områdedirektør', directorEmail: 'direktor@kf.test' });
  expect(area.status, JSON.stringify(area.body)).toBe(201);
  const inst = await post(base, '/api/institutions', { id: 'vestre', areaId: 'hovedstaden', name: 'Fængsel Vestre', kind: 'prison', dutyManagerEmail: 'vagt@kf.test' });
  expect(inst.status, JSON.stringify(inst.body)).toBe(201);
}

interface Tally {
  total: number;
  created: Map<string, string>;
  unavailable: Answer[];
  other: Answer[];
  lastKillAt: number;
  killed: number;
  /** The longest a request waited for its answer (ms). */
  slowest: number;
}

/** 20 clients create incidents while every backend of the database is terminated once a second. */
async function writeWhileDropping(base: string, dbName: string, tag: string): Promise<Tally> {
  const tally: Tally = { total: 0, created: new Map(), unavailable: [], other: [], lastKillAt: 0, killed: 0, slowest: 0 };
  let dropping = true;
  let seq = 0;
  const client = async (c: number): Promise<void> => {
    while (dropping) {
      const n = seq++;
      const t0 = Date.now();
      const a = await post(base, '/api/incidents', incidentBody(`${tag}${c}`, n));
      tally.slowest = Math.max(tally.slowest, Date.now() - t0);
      tally.total++;
      if (a.status === 201) tally.created.set((a.body as { id: string }).id, `DROP-${tag}${c}-${n}`);
      else if (a.status === 503) tally.unavailable.push(a);
      else tally.other.push(a);
    }
  };
  const killer = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  try {
    for (let round = 0; round < DROP_ROUNDS; round++) {
      // The pace of the fault, not a synchronisation: one drop a second.
      await new Promise((r) => setTimeout(r, 1_000));
      const rows = await killer<{ t: boolean }[]>`SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = ${dbName} AND pid <> pg_backend_pid()`;
      tally.killed += rows.filter((r) => r.t).length;
      tally.lastKillAt = Date.now();
    }
  } finally {
    dropping = false;
    await Promise.all(clients);
    await killer.end();
  }
  return tally;
}

function expectUnavailableShape(a: Answer): void {
  expect(a.body).toEqual({ error: { code: 'UNAVAILABLE', message: expect.any(String), issues: [] } });
  expect(a.retryAfter).toMatch(/^\d+$/);
  const text = JSON.stringify(a.body);
  expect(text).not.toContain(NAME);
  expect(text).not.toContain(FREE_TEXT);
}

/** Time from the last drop to the first 201 (the API serves again). */
async function recovery(base: string, tag: string, since: number): Promise<{ ms: number; id: string; n: number }> {
  for (let n = 0; ; n++) {
    const a = await post(base, '/api/incidents', incidentBody(`${tag}-after`, n));
    if (a.status === 201) return { ms: Date.now() - since, id: (a.body as { id: string }).id, n };
    if (a.status !== 503) throw new Error(`after the drops: ${a.status} ${JSON.stringify(a.body)}`);
    if (Date.now() - since > 60_000) throw new Error('the API did not serve again within 60 s of the last drop');
    expectUnavailableShape(a);
  }
}

function dbNameOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

const figures: Record<string, unknown>[] = [];

describe('Postgres connections dropped under load', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    // The fault table (docs/OPERATIONS.md) is filled from these.
    console.log(`postgres-drop figures:\n${figures.map((f) => JSON.stringify(f)).join('\n')}`);
  });

  async function ownDatabase(): Promise<TestDatabase & { url: string }> {
    const db = await openTestDatabase('postgres');
    // The test's own pool stays idle during the drops: only the child's connections matter.
    await db.database.close();
    cleanups.push(() => db.drop());
    return db as TestDatabase & { url: string };
  }

  async function recordsThatExist(url: string, ids: string[]): Promise<Set<string>> {
    const sql = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      const rows = await sql<{ id: string }[]>`SELECT id::text AS id FROM incidents WHERE id = ANY(${ids}::uuid[])`;
      return new Set(rows.map((r) => r.id));
    } finally {
      await sql.end();
    }
  }

  it('`fristvagt api` survives, answers 201 or 503, loses nothing and serves again', async () => {
    const db = await ownDatabase();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawnCli(['api'], { DATABASE_URL: db.url, FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', FRISTVAGT_MIGRATE_ON_START: 'false' });
    cleanups.push(async () => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    });
    await child.waitForOutput(/fristvagt API listening/);
    await seedMasterData(base);

    const tally = await writeWhileDropping(base, dbNameOf(db.url), 'a');
    const died = child.proc.exitCode !== null || child.proc.signalCode !== null;
    expect(died, `the API process died:\n${child.output.join('').slice(-3000)}`).toBe(false);
    expect(tally.killed).toBeGreaterThan(0);
    expect(tally.other.map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)).toEqual([]);
    for (const a of tally.unavailable) expectUnavailableShape(a);

    const back = await recovery(base, 'a', tally.lastKillAt);
    const ids = [...tally.created.keys()];
    const exist = await recordsThatExist(db.url, [...ids, back.id]);
    const lost = ids.filter((id) => !exist.has(id));
    expect(lost).toEqual([]);
    expect(exist.has(back.id)).toBe(true);
    // Nothing personal in the process's log lines, whatever failed.
    const out = child.output.join('');
    expect(out).not.toContain(NAME);
    expect(out).not.toContain(FREE_TEXT);
    expect(out).not.toContain('params:');
    figures.push({ process: 'api', drops: DROP_ROUNDS, backendsTerminated: tally.killed, requests: tally.total, created: tally.created.size, unavailable: tally.unavailable.length, other: tally.other.length, slowestMs: tally.slowest, recordsLost: lost.length, recoveryMs: back.ms });

    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 240_000);

  it('`fristvagt start`: the worker resumes its change feed on its own and every accepted record gets its mail', async () => {
    const db = await ownDatabase();
    const redis: OwnRedis = await startOwnRedis();
    cleanups.push(() => redis.stop());
    const sink: SmtpSink = await startSmtpSink();
    cleanups.push(() => sink.close());
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawnCli(['start'], {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      SMTP_URL: sink.url,
      SMTP_TLS_REJECT_UNAUTHORIZED: 'false',
      MAIL_FROM: 'fristvagt <fristvagt@kriminalforsorgen.test>',
      FRISTVAGT_QUEUE_PREFIX: `fv-drop-${randomBytes(4).toString('hex')}`,
      FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN,
      FRISTVAGT_MIGRATE_ON_START: 'false',
      // Far beyond the test: mails must come through the change feed, not the periodic sweep.
      FRISTVAGT_SWEEP_EVERY_MS: '3600000',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    cleanups.push(async () => {
      if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
    });
    await child.waitForOutput(/fristvagt started/);
    await seedMasterData(base);
    // The feed works before the drops: one alert arrives.
    const before = await post(base, '/api/incidents', incidentBody('s-before', 0));
    expect(before.status).toBe(201);
    await sink.waitFor((all) => all.length >= 1, 60_000);

    const tally = await writeWhileDropping(base, dbNameOf(db.url), 's');
    const died = child.proc.exitCode !== null || child.proc.signalCode !== null;
    expect(died, `the start process died:\n${child.output.join('').slice(-3000)}`).toBe(false);
    expect(tally.other.map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 200)}`)).toEqual([]);
    for (const a of tally.unavailable) expectUnavailableShape(a);

    const back = await recovery(base, 's', tally.lastKillAt);
    // Every accepted death incident alerts the area director once (its subject names the journal
    // number): the one before the drops, the drops' 201s, the one after.
    const journals = ['DROP-s-before-0', ...tally.created.values(), `DROP-s-after-${back.n}`];
    const alertsFor = (j: string) => sink.received.filter((m) => m.subject.startsWith('Ny hændelse') && m.subject.includes(`j.nr. ${j},`));
    const warnings = (): string =>
      child.output
        .join('')
        .split('\n')
        .filter((l) => !l.includes('"level":30'))
        .slice(-40)
        .join('\n');
    await sink.waitFor(() => journals.every((j) => alertsFor(j).length > 0), 120_000).catch(async (err: unknown) => {
      const missing = journals.filter((j) => alertsFor(j).length === 0);
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      const rows = await sql`SELECT i.journal_number, n.stage, n.status, n.attempts, n.last_error, n.version FROM incidents i LEFT JOIN notifications n ON n.record_id = i.id WHERE i.journal_number = ANY(${missing})`.finally(() => sql.end());
      throw new Error(`${(err as Error).message.slice(0, 200)}\nno alert for: ${JSON.stringify(rows)}\nwarnings:\n${warnings()}`);
    });
    const allMailsMs = Date.now() - tally.lastKillAt;
    const exist = await recordsThatExist(db.url, [...tally.created.keys(), back.id]);
    expect([...tally.created.keys()].filter((id) => !exist.has(id))).toEqual([]);
    // A repeat would be the same notification delivered twice (same Message-ID).
    const duplicated = journals.filter((j) => alertsFor(j).length > 1);
    expect(duplicated).toEqual([]);
    const lost = journals.filter((j) => alertsFor(j).length === 0);
    const out = child.output.join('');
    expect(out).not.toContain(NAME);
    expect(out).not.toContain(FREE_TEXT);
    expect(out).not.toContain('params:');
    figures.push({
      process: 'start',
      drops: DROP_ROUNDS,
      backendsTerminated: tally.killed,
      requests: tally.total,
      created: tally.created.size,
      unavailable: tally.unavailable.length,
      other: tally.other.length,
      slowestMs: tally.slowest,
      mailsExpected: journals.length,
      delivered: journals.length - lost.length,
      duplicated: duplicated.length,
      lost: lost.length,
      apiRecoveryMs: back.ms,
      allMailsMs,
      // How often the outbox gave up a statement that neither answered nor failed, and handed rows back.
      stalled: (out.match(/unanswered; given up/g) ?? []).length,
      handedBack: (out.match(/handed back after the database was unavailable/g) ?? []).length,
    });

    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 300_000);
});
