/**
 * Worker benchmark (issue 4; `node dist/bench/worker.js` after `npm run build`).
 *
 * Measures, on a fresh Postgres database, a private BullMQ prefix on the local Redis and an SMTP
 * sink on its own thread:
 * - planning throughput: records → deadlines → notification rows → delayed jobs (planAndEnqueue,
 *   and the sweep's change-feed catch-up);
 * - firing lateness: N notifications due at the same instant T, sent by the real worker (real
 *   clock) through a pooled nodemailer transport; lateness = arrival at the sink − T;
 * - Redis bytes per scheduled notification (MEMORY USAGE of every key under the prefix);
 * and, in the same run, bare BullMQ as the reference: addBulk / add of the same jobs, and a bare
 * Worker draining N jobs due at once with a no-op processor and with one mail per job.
 *
 * Everything it creates (databases fristvagt_bench_worker_*, Redis keys fv-bench-worker-*) is
 * removed at the end, also on failure and on Ctrl-C. Writes the `worker` section of
 * bench/RESULTS.md.
 *
 * Options: --records N (planning, default 2000), --fire N (notifications due at once, default
 * 10000), --profile <dir> (a CPU profile per sending run), --concurrency 5,20 (worker concurrencies; 5 is FRISTVAGT_WORKER_CONCURRENCY's default),
 * --no-write (print only). BENCH_DATABASE_URL and BENCH_REDIS_URL override the servers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import inspector from 'node:inspector/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { Worker as Thread } from 'node:worker_threads';
import { Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import { asc, count, eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { migrate, openDatabase, type Database } from '../src/db/client.js';
import { actionPlans, forceUses, incidents, notifications, securityCellPlacements } from '../src/db/schema.js';
import { createLogger } from '../src/logger.js';
import type { RenderedMail } from '../src/mail/render.js';
import { createSmtpMailer, type Mailer } from '../src/mail/transport.js';
import { packageRoot } from '../src/paths.js';
import { createRedis } from '../src/queue/connection.js';
import { sendJobOptions, sendPriority } from '../src/queue/job-options.js';
import { enqueue, QUEUE_NAME } from '../src/queue/registry.js';
import { seedDemo } from '../src/records/demo.js';
import type { RecordTypeName } from '../src/records/kinds.js';
import type { ServiceContext } from '../src/records/service.js';
import { startWorker, type RunningWorker } from '../src/worker/runtime.js';
import { allDue } from '../src/worker/enqueue-due.js';
import { composeNotification, messageIdFor } from '../src/worker/send.js';
import { loadWorkerSettings } from '../src/worker/settings.js';
import { machineDescription, markdownTable, writeSection } from './results.js';
import type { SinkCommand, SinkReady, SinkReply } from './worker-sink.js';

const ADMIN_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** FRISTVAGT_WORKER_CONCURRENCY's default (src/config.ts). */
const DEFAULT_CONCURRENCY = 5;
const FROM = 'fristvagt <fristvagt@kriminalforsorgen.bench.invalid>';
const PUBLIC_URL = 'https://fristvagt.bench.invalid';
const STAGE = 'force.report:reminder-0';
/** The options fristvagt gives every notification.send job (src/worker/runtime.ts enqueueDue). */
const SEND_OPTS = { attempts: 10, backoff: { type: 'exponential', delay: 2_000, jitter: 0.5 }, removeOnComplete: true, removeOnFail: 1000 } as const;

interface Options {
  records: number;
  fire: number;
  concurrency: number[];
  write: boolean;
  /** Only the sending part: bare BullMQ + nodemailer, fristvagt's outbox (and the baseline), the alert behind the burst. */
  sendOnly: boolean;
  /** A build of an earlier commit (its package root) whose worker is measured in the same run, as the baseline. */
  baseline?: string | undefined;
  /** Writes a V8 CPU profile of each sending run (from T to the last delivery) into this directory. */
  profile?: string | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { records: 2000, fire: 10_000, concurrency: [DEFAULT_CONCURRENCY, 20], write: true, sendOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const int = (text: string | undefined): number => {
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--records') opts.records = int(argv[++i]);
    else if (arg === '--fire') opts.fire = int(argv[++i]);
    else if (arg === '--concurrency') opts.concurrency = (argv[++i] ?? '').split(',').map(int);
    else if (arg === '--no-write') opts.write = false;
    else if (arg === '--send-only') opts.sendOnly = true;
    else if (arg === '--baseline') opts.baseline = argv[++i] ?? '';
    else if (arg === '--profile') profileDir = opts.profile = argv[++i] ?? '';
    else throw new Error(`unknown option ${arg ?? ''}`);
  }
  return opts;
}

// ---------------------------------------------------------------- small helpers

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => console.log(line);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Logs go to a sink that discards them, at the production level (info): serialising them is part of the cost. */
const logger = createLogger({ level: 'info', destination: new Writable({ write(_c, _e, cb) { cb(); } }) });

// ---------------------------------------------------------------- cleanup

const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
/** Registers a clean-up step (run in reverse order at exit) and returns it, to be run earlier at most once. */
function onCleanup(what: string, run: () => Promise<unknown>): () => Promise<void> {
  let done = false;
  const once = async (): Promise<void> => {
    if (done) return;
    done = true;
    await run();
  };
  cleanups.push({ what, run: once });
  return once;
}
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop() as (typeof cleanups)[number];
    try {
      await c.run();
    } catch (err) {
      console.error(`cleanup (${c.what}) failed: ${(err as Error).message}`);
    }
  }
}

// ---------------------------------------------------------------- Postgres

const STAMP = `${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(3).toString('hex')}`;

function urlFor(database: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(text: string): Promise<Array<Record<string, unknown>>> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    return [...(await admin.unsafe(text))] as Array<Record<string, unknown>>;
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** A fresh, migrated database; dropped (WITH FORCE) on clean-up or by `drop()`, whichever comes first. */
async function benchDatabase(label: string): Promise<{ database: Database; drop(): Promise<void> }> {
  const name = `fristvagt_bench_worker_${STAMP}_${label}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const opened: { database?: Database } = {};
  const drop = onCleanup(`database ${name}`, async () => {
    await opened.database?.close().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  const url = urlFor(name);
  // The pool size production uses (openConfiguredDatabase passes none: postgres.js max 10).
  const database = await openDatabase({ databaseUrl: url });
  opened.database = database;
  await migrate(database, { databaseUrl: url });
  return { database, drop };
}

// ---------------------------------------------------------------- Redis

const PREFIX = `fv-bench-worker-${randomBytes(4).toString('hex')}`;

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  const keys = await scanKeys(redis, pattern);
  for (let i = 0; i < keys.length; i += 1000) await redis.unlink(...keys.slice(i, i + 1000));
  return keys.length;
}

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? Number.NaN);
}

interface Footprint {
  keys: number;
  jobs: number;
  total: number;
  jobHashes: number;
  delayed: number;
  events: number;
  other: number;
}

/** MEMORY USAGE (SAMPLES 0: every element counted) of every key under a prefix, split by role. */
async function footprint(redis: Redis, prefix: string): Promise<Footprint> {
  const keys = await scanKeys(redis, `${prefix}:*`);
  const out: Footprint = { keys: keys.length, jobs: 0, total: 0, jobHashes: 0, delayed: 0, events: 0, other: 0 };
  for (let i = 0; i < keys.length; i += 2000) {
    const slice = keys.slice(i, i + 2000);
    const p = redis.pipeline();
    for (const k of slice) p.call('MEMORY', 'USAGE', k, 'SAMPLES', '0');
    const res = (await p.exec()) ?? [];
    slice.forEach((k, j) => {
      const bytes = Number(res[j]?.[1] ?? 0);
      const role = k.slice(`${prefix}:${QUEUE_NAME}:`.length);
      out.total += bytes;
      if (role.startsWith('send-')) {
        out.jobHashes += bytes;
        out.jobs++;
      } else if (role === 'delayed') out.delayed += bytes;
      else if (role === 'events') out.events += bytes;
      else out.other += bytes;
    });
  }
  return out;
}

// ---------------------------------------------------------------- SMTP sink (own thread)

interface Sink {
  url: string;
  count(): Promise<number>;
  collect(): Promise<{ ids: string[]; at: number[]; bytes: number }>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const thread = new Thread(new URL('./worker-sink.js', import.meta.url));
  let seq = 0;
  const pending = new Map<number, (r: SinkReply) => void>();
  const ready = new Promise<number>((resolve, reject) => {
    thread.once('error', reject);
    thread.on('message', (m: SinkReady | SinkReply) => {
      if ('type' in m) resolve(m.port);
      else {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      }
    });
  });
  const ask = (cmd: SinkCommand): Promise<SinkReply> => new Promise((resolve) => {
    const id = ++seq;
    pending.set(id, resolve);
    thread.postMessage({ id, cmd });
  });
  const port = await ready;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.race([ask('close'), sleep(3000)]);
    await thread.terminate();
  };
  onCleanup('SMTP sink', close);
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: async () => (await ask('count')).count,
    collect: async () => {
      const r = await ask('collect');
      return { ids: r.ids ?? [], at: r.at ?? [], bytes: r.bytes };
    },
    reset: async () => void (await ask('reset')),
    close,
  };
}

// ---------------------------------------------------------------- measurements

interface Lateness {
  label: string;
  concurrency: number;
  n: number;
  /** Sorted lateness values in ms. */
  sorted: number[];
  drainMs: number;
  /** Event-loop utilisation of the main thread (the worker's) from T to the last delivery. */
  elu: number;
  note?: string;
}

let profileDir: string | undefined;

/**
 * Sleeps until the instant T and starts measuring the main thread's event-loop utilisation (and,
 * with --profile, its CPU profile, written as `<name>.cpuprofile` when the measurement ends).
 */
async function atInstant(planned: number, name: string): Promise<() => Promise<number>> {
  await sleep(Math.max(0, planned - Date.now()));
  const session = profileDir ? new inspector.Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const start = performance.eventLoopUtilization();
  return async () => {
    const utilisation = performance.eventLoopUtilization(start).utilization;
    if (session && profileDir) {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(profileDir, { recursive: true });
      await writeFile(join(profileDir, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.cpuprofile`), JSON.stringify(profile));
      session.disconnect();
    }
    return utilisation;
  };
}

function lateness(label: string, concurrency: number, planned: number, arrivals: readonly number[], elu: number, note?: string): Lateness {
  const sorted = arrivals.map((a) => a - planned).sort((a, b) => a - b);
  const r: Lateness = { label, concurrency, n: sorted.length, sorted, drainMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN, elu };
  if (note !== undefined) r.note = note;
  return r;
}

function describeLateness(l: Lateness): string {
  return `${l.label} (c=${l.concurrency}): ${fmt(l.n)} in ${fmt(l.drainMs / 1000, 2)} s, p50 ${fmt(percentile(l.sorted, 50))} ms, p99 ${fmt(percentile(l.sorted, 99))} ms, max ${fmt(l.drainMs)} ms, ${fmt(l.n / (l.drainMs / 1000))}/s, main-thread ELU ${fmt(l.elu * 100)} %`;
}

interface EnqueueFigure {
  label: string;
  jobs: number;
  ms: number;
  fp?: Footprint;
  infoDelta?: number;
}

interface PlanFigure {
  label: string;
  records: number;
  /** Undefined for the row that only gives scale (creating the records). */
  rows?: number;
  jobs?: number;
  ms: number;
  note?: string;
}

const sendJobOpts = (notificationId: string, version: number, delay: number): JobsOptions => ({ jobId: `send-${notificationId}-${version}`, delay, ...SEND_OPTS });

/** Bare BullMQ enqueueing of k delayed notification.send jobs: addBulk, then add one at a time. */
async function bareEnqueue(redis: Redis, k: number): Promise<EnqueueFigure[]> {
  const out: EnqueueFigure[] = [];
  for (const mode of ['addBulk', 'add'] as const) {
    const prefix = `${PREFIX}-bare-${mode}`;
    const connection = createRedis(REDIS_URL);
    const queue = new Queue(QUEUE_NAME, { connection, prefix });
    await queue.waitUntilReady();
    const ids = Array.from({ length: k }, () => randomUUID());
    const before = await usedMemory(redis);
    const t0 = performance.now();
    if (mode === 'addBulk') {
      await queue.addBulk(ids.map((id) => ({ name: 'notification.send', data: { notificationId: id }, opts: sendJobOpts(id, 1, 3_600_000) })));
    } else {
      for (const id of ids) await queue.add('notification.send', { notificationId: id }, sendJobOpts(id, 1, 3_600_000));
    }
    const ms = performance.now() - t0;
    const infoDelta = (await usedMemory(redis)) - before;
    const fp = await footprint(redis, prefix);
    out.push({ label: mode === 'addBulk' ? 'BullMQ `Queue.addBulk` (one call)' : 'BullMQ `Queue.add`, one awaited at a time', jobs: k, ms, fp, infoDelta });
    log(`  bare ${mode}: ${fmt(k)} delayed jobs in ${fmt(ms)} ms (${fmt(k / (ms / 1000))}/s), ${fmt(fp.total / k)} B/job`);
    await queue.close();
    connection.disconnect();
    await deleteKeys(redis, `${prefix}:*`);
  }
  return out;
}

/** A mailer that accepts everything at once: the planning phase measures planning, not mail. */
const nullMailer: Mailer = {
  kind: 'catcher',
  send: async (m) => ({ messageId: m.messageId, accepted: [...m.to], rejected: [], response: '250 null mailer' }),
  verify: async () => undefined,
  close: () => undefined,
};

async function recordIds(database: Database): Promise<Array<{ type: RecordTypeName; id: string; seq: number }>> {
  const db = database.db;
  const tables = [['incident', incidents], ['security_cell_placement', securityCellPlacements], ['force_use', forceUses], ['action_plan', actionPlans]] as const;
  const all: Array<{ type: RecordTypeName; id: string; seq: number }> = [];
  for (const [type, table] of tables) {
    for (const r of await db.select({ id: table.id, seq: table.changeSeq }).from(table).orderBy(asc(table.changeSeq))) all.push({ type, id: r.id, seq: r.seq });
  }
  return all.sort((a, b) => a.seq - b.seq);
}

async function notificationRows(database: Database): Promise<number> {
  const [r] = await database.db.select({ n: count() }).from(notifications);
  return r?.n ?? 0;
}

async function queuedJobs(queue: Queue): Promise<number> {
  const c = await queue.getJobCounts('wait', 'delayed', 'prioritized', 'active', 'waiting-children');
  return Object.values(c).reduce((s, n) => s + n, 0);
}

/** Planning throughput on demo records of all four kinds (the real write path creates them). */
async function planning(redis: Redis, records: number): Promise<{ figures: PlanFigure[]; mix: string }> {
  const { database, drop } = await benchDatabase('plan');
  const ctx: ServiceContext = { db: database.db, clock: () => new Date(), closureDays: [] };
  const figures: PlanFigure[] = [];
  const t0 = performance.now();
  const seeded = await seedDemo(ctx, { seed: 4_2026, records });
  const seedMs = performance.now() - t0;
  const mix = (['incident', 'security_cell_placement', 'force_use', 'action_plan'] as const).map((t) => `${t} ${fmt(seeded.records[t])}`).join(', ');
  figures.push({ label: 'Creating the records through `createRecord` (validation, deadlines, audit; for scale, not planning)', records, ms: seedMs });
  log(`  seeded ${fmt(records)} demo records (${mix}) in ${fmt(seedMs / 1000, 1)} s`);

  const prefix = `${PREFIX}-plan`;
  const worker = await startWorker({ database, redisUrl: REDIS_URL, prefix, mailer: nullMailer, clock: () => new Date(), closureDays: [], from: FROM, publicUrl: PUBLIC_URL, logger, schedule: false });
  const stopWorker = onCleanup('planning worker', () => worker.stop(2000));
  // Paused: jobs due at once stay queued, so that sending never competes with the planning being timed.
  await worker.queue.pause();
  const ids = await recordIds(database);

  const step = async (label: string, list: typeof ids, concurrency: number): Promise<void> => {
    const rows0 = await notificationRows(database);
    const jobs0 = await queuedJobs(worker.queue);
    const t = performance.now();
    let scheduled = 0;
    await pool(list, concurrency, async (r) => {
      const res = await worker.deps.planAndEnqueue(r.type, r.id);
      scheduled += res?.scheduled ?? 0;
    });
    const ms = performance.now() - t;
    const rows = (await notificationRows(database)) - rows0;
    const jobs = (await queuedJobs(worker.queue)) - jobs0;
    figures.push({ label, records: list.length, rows, jobs, ms });
    log(`  ${label}: ${fmt(list.length)} records in ${fmt(ms)} ms (${fmt(list.length / (ms / 1000))}/s), ${fmt(rows)} rows (${fmt(scheduled)} scheduled), ${fmt(jobs)} jobs`);
  };
  // What the worker does with a burst of record.plan jobs: planAndEnqueue, as many at a time as its concurrency.
  await step(`\`planAndEnqueue\` per record (a batch of one), first plan, ${DEFAULT_CONCURRENCY} at a time: what single-record plan jobs would cost; the change feed coalesces bursts into batches (see the planning section)`, ids, DEFAULT_CONCURRENCY);
  // The sweep's catch-up (watermark 0 here, as after a change of settings): every record re-planned, one at a time.
  const rows0 = await notificationRows(database);
  const jobs0 = await queuedJobs(worker.queue);
  const t = performance.now();
  const swept = await worker.sweep();
  const ms = performance.now() - t;
  const label = 'Sweep catch-up: every record re-planned, nothing changed, in the catch-up\'s batches (after a settings change or with an old watermark)';
  figures.push({ label, records: swept.planned, rows: (await notificationRows(database)) - rows0, jobs: (await queuedJobs(worker.queue)) - jobs0, ms });
  log(`  sweep re-planned ${fmt(swept.planned)} records in ${fmt(ms)} ms (${fmt(swept.planned / (ms / 1000))}/s)`);
  await stopWorker();
  await deleteKeys(redis, `${prefix}:*`);
  await drop();
  return { figures, mix };
}

interface FireSetup {
  database: Database;
  ids: string[];
  mail: RenderedMail;
  /** The alert row (a death in custody: `alert:area-director`) queued behind the burst. */
  alertId: string;
}

const DEMO_INSTITUTIONS = ['demo-fengsel-oest', 'demo-arrest-oest', 'demo-fengsel-vest', 'demo-kif-vest', 'demo-arrest-nord', 'demo-pension-nord'];
const ALERT_STAGE = 'alert:area-director';
/** When the alert is queued: this long after T, while the burst of reminders is being sent. */
const ALERT_AFTER_MS = 500;

/**
 * n force_use records (report not filed), written straight into the table as an integration with the
 * client system may, each with the row the planner writes for its `force.report:reminder-0` stage
 * (same stage, kind, template and recipient: the institution's duty manager). The send path reads
 * only that row and the record (it recomputes the deadline), so the firing runs measure exactly what
 * production does at 08:00 on a day with n such reminders. Plus one death in custody with its
 * `alert:area-director` row, armed and queued only while the burst is under way.
 */
async function fireSetup(n: number): Promise<FireSetup> {
  const { database } = await benchDatabase('fire');
  const ctx: ServiceContext = { db: database.db, clock: () => new Date(), closureDays: [] };
  await seedDemo(ctx, { records: 0 });
  const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
  const institutionList = sql.raw(`ARRAY[${DEMO_INSTITUTIONS.map((i) => `'${i}'`).join(',')}]`);
  await database.db.execute(sql`
    INSERT INTO force_uses (institution_id, journal_number, description, occurred_at)
    SELECT (${institutionList})[1 + g % ${DEMO_INSTITUTIONS.length}], 'BENCH-F-' || lpad(g::text, 6, '0'), 'Benchmark (opdigtet).', ${occurredAt}::timestamptz
    FROM generate_series(1, ${n}) AS g`);
  // planned_at far ahead: nothing is due until a firing run moves the rows to its T.
  await database.db.execute(sql`
    INSERT INTO notifications (record_type, record_id, stage, kind, template, recipient, planned_at, status)
    SELECT 'force_use', f.id, ${STAGE}, 'reminder', 'reminder', i.duty_manager_email, now() + interval '30 days', 'scheduled'
    FROM force_uses f JOIN institutions i ON i.id = f.institution_id`);
  await database.db.execute(sql`INSERT INTO incidents (institution_id, journal_number, kind, occurred_at) VALUES (${DEMO_INSTITUTIONS[0]}, 'BENCH-A-1', 'death', ${occurredAt}::timestamptz)`);
  await database.db.execute(sql`
    INSERT INTO notifications (record_type, record_id, stage, kind, template, recipient, planned_at, status)
    SELECT 'incident', x.id, ${ALERT_STAGE}, 'alert', 'alert-area-director', a.director_email, now() + interval '30 days', 'scheduled'
    FROM incidents x JOIN institutions i ON i.id = x.institution_id JOIN areas a ON a.id = i.area_id WHERE x.journal_number = 'BENCH-A-1'`);
  const due = await database.db.select({ id: notifications.id }).from(notifications).where(sql`${notifications.stage} = ${STAGE}`);
  if (due.length !== n) throw new Error(`expected ${n} ${STAGE} rows, found ${due.length}`);
  const [alert] = await database.db.select().from(notifications).where(sql`${notifications.stage} = ${ALERT_STAGE}`);
  if (!alert) throw new Error('no alert row');
  // One real rendered reminder: the bare reference sends the same subject and body.
  const [row] = await database.db.select().from(notifications).where(eq(notifications.id, (due[0] as { id: string }).id));
  const send = { db: database.db, mailer: nullMailer, clock: () => new Date(), closureDays: [], settings: () => loadWorkerSettings(database.db), from: FROM, publicUrl: PUBLIC_URL, logger };
  for (const r of [row, alert]) {
    const composed = await composeNotification(send, r as typeof notifications.$inferSelect);
    if (!('mail' in composed)) throw new Error(`could not compose ${r?.stage ?? '?'}: ${composed.cancel}`);
  }
  const composed = await composeNotification(send, row as typeof notifications.$inferSelect);
  if (!('mail' in composed)) throw new Error(`could not compose a reminder: ${composed.cancel}`);
  log(`  ${fmt(n)} force_use records and their ${STAGE} rows written, and one ${ALERT_STAGE} row`);
  return { database, ids: due.map((d) => d.id), mail: composed.mail, alertId: alert.id };
}

/** The worker under test: this tree's, or the baseline build's (an earlier commit, same run). */
interface Implementation {
  label: string;
  startWorker: typeof startWorker;
  /** The sweep's job options for a row (the baseline gives no priority). */
  options(r: { id: string; version: number; stage: string }, delayMs: number): JobsOptions;
}

const CURRENT: Implementation = {
  label: 'fristvagt worker (outbox: batched claim, group-commit marks, lanes free at the 250)',
  startWorker,
  options: (r, delayMs) => sendJobOptions(`send-${r.id}-${r.version}`, delayMs, 2_000, sendPriority(r.stage)),
};

async function baselineImplementation(root: string): Promise<Implementation> {
  const runtime = (await import(pathToFileURL(join(root, 'dist/src/worker/runtime.js')).href)) as { startWorker: typeof startWorker };
  const rev = existsSync(join(root, 'REVISION')) ? readFileSync(join(root, 'REVISION'), 'utf8').trim() : root;
  // The baseline's own outbox with this tree's mail transport (the bench passes the mailer in).
  return { label: `baseline worker (${rev}, its own outbox)`, startWorker: runtime.startWorker, options: (r, delayMs) => sendJobOpts(r.id, r.version, delayMs) };
}

/**
 * What the sweep's enqueueDue does for rows due within the horizon (src/worker/runtime.ts; not
 * exported): the same query, and one awaited registry \`enqueue\` per row with the same job id and
 * options. (Calling sweep() itself would re-plan the records first and move the rows back to 08:00.)
 */
async function enqueueLikeTheSweep(database: Database, queue: Queue, impl: Implementation): Promise<number> {
  const now = Date.now();
  const rows = await allDue(database.db, new Date(now + 24 * 3_600_000));
  for (const r of rows) await enqueue(queue, 'notification.send', { notificationId: r.id }, impl.options(r, Math.max(0, r.plannedAt.getTime() - now)));
  return rows.length;
}

interface AlertFigure {
  label: string;
  /** Queued (armed and enqueued) → arrival at the sink, ms. */
  ms: number;
  /** Reminders still to be delivered when the alert arrived. */
  behind: number;
}

/**
 * One firing run of fristvagt: the n reminder rows are (re)armed for T (version + 1, as a re-plan
 * that moves a stage does), enqueued as the sweep would, and a fresh worker with the real clock
 * does the rest. ALERT_AFTER_MS after T, while the burst is being sent, the alert row is armed and
 * queued as the change feed's planning would (due now, the sweep's job options).
 */
async function fireFristvagt(redis: Redis, sink: Sink, setup: FireSetup, impl: Implementation, concurrency: number, leadMs: number, measureMemory: boolean): Promise<{ late: Lateness; enqueue: EnqueueFigure; ok: boolean; alert: AlertFigure }> {
  const db = setup.database.db;
  const n = setup.ids.length;
  const prefix = `${PREFIX}-fire-c${concurrency}-${randomBytes(2).toString('hex')}`;
  await sink.reset();
  const planned = new Date(Math.ceil((Date.now() + leadMs) / 1000) * 1000);
  await db.execute(sql`UPDATE notifications SET status = 'scheduled', planned_at = ${planned.toISOString()}::timestamptz, version = version + 1, message_id = NULL, sent_at = NULL, claimed_at = NULL, last_error = NULL, attempts = 0, updated_at = now() WHERE stage = ${STAGE}`);
  await db.execute(sql`UPDATE notifications SET status = 'scheduled', planned_at = now() + interval '30 days', version = version + 1, message_id = NULL, sent_at = NULL, claimed_at = NULL, last_error = NULL, attempts = 0, updated_at = now() WHERE id = ${setup.alertId}`);
  // Production's mailer: pooled nodemailer, maxConnections 5 (mailerFor passes none).
  const mailer = createSmtpMailer({ url: sink.url, requireTls: false });
  const memBefore = await usedMemory(redis);
  const worker: RunningWorker = await impl.startWorker({ database: setup.database, redisUrl: REDIS_URL, prefix, mailer, clock: () => new Date(), closureDays: [], from: FROM, publicUrl: PUBLIC_URL, logger, schedule: false, concurrency });
  const stopWorker = onCleanup(`worker c=${concurrency}`, async () => {
    await worker.stop(5000);
    mailer.close();
  });
  const t0 = performance.now();
  const enqueued = await enqueueLikeTheSweep(setup.database, worker.queue, impl);
  const enqueueMs = performance.now() - t0;
  const enqueueFigure: EnqueueFigure = { label: 'fristvagt, as the sweep\'s `enqueueDue`: due-rows query, then registry `enqueue` (zod parse + `Queue.add`) one awaited at a time', jobs: enqueued, ms: enqueueMs };
  if (measureMemory) {
    enqueueFigure.infoDelta = (await usedMemory(redis)) - memBefore;
    enqueueFigure.fp = await footprint(redis, prefix);
  }
  const early = await sink.count();
  const ok = Date.now() < planned.getTime() && early === 0;
  log(`  ${impl.label} c=${concurrency}: enqueued ${fmt(enqueued)} jobs in ${fmt(enqueueMs)} ms; T in ${fmt(planned.getTime() - Date.now())} ms${ok ? '' : ' — TOO LATE'}`);
  const elu = await atInstant(planned.getTime(), `fristvagt-${impl.label.slice(0, 20)}-c${concurrency}`);
  // The alert, queued behind the burst: armed due now and enqueued as the change feed's planning would.
  await sleep(ALERT_AFTER_MS);
  const [alertRow] = await db.update(notifications).set({ plannedAt: new Date(), updatedAt: new Date() }).where(eq(notifications.id, setup.alertId)).returning();
  const alertQueuedAt = Date.now();
  await enqueue(worker.queue, 'notification.send', { notificationId: setup.alertId }, impl.options(alertRow as typeof notifications.$inferSelect, 0));
  await until(`${n} mails`, async () => (await sink.count()) >= n + 1, Math.max(300_000, leadMs + 60_000), 50);
  const utilisation = await elu();
  const got = await sink.collect();
  const at = new Map(got.ids.map((id, i) => [id, got.at[i] as number]));
  const arrivals: number[] = [];
  for (const id of setup.ids) {
    const a = at.get(messageIdFor(id, FROM));
    if (a !== undefined) arrivals.push(a);
  }
  const alertAt = at.get(messageIdFor(setup.alertId, FROM)) ?? Number.NaN;
  const alert: AlertFigure = { label: impl.label, ms: alertAt - alertQueuedAt, behind: arrivals.filter((a) => a > alertAt).length };
  // A mail reaches the sink just before its row is marked sent: give the last UPDATEs a moment.
  const sentRows = async (): Promise<number> => (await db.select({ n: count() }).from(notifications).where(sql`${notifications.stage} = ${STAGE} AND ${notifications.status} = 'sent'`))[0]?.n ?? 0;
  await until('rows marked sent', async () => (await sentRows()) >= n, 10_000, 50).catch(() => undefined);
  const sent = { n: await sentRows() };
  const [retried] = await db.select({ n: count() }).from(notifications).where(sql`${notifications.stage} = ${STAGE} AND ${notifications.attempts} > 1`);
  const notes = [];
  if (sent.n !== n) notes.push(`${fmt(sent.n)} rows marked sent`);
  if ((retried?.n ?? 0) > 0) notes.push(`${fmt(retried?.n ?? 0)} retried`);
  if (got.ids.length !== n + 1) notes.push(`${fmt(got.ids.length)} mails at the sink`);
  const distinct = new Set(got.ids).size;
  if (distinct !== got.ids.length) notes.push(`${fmt(got.ids.length - distinct)} duplicate mails`);
  const late = lateness(`${impl.label} → pooled nodemailer (5 connections) → sink`, concurrency, planned.getTime(), arrivals, utilisation, notes.length > 0 ? notes.join(', ') : undefined);
  log(`  ${describeLateness(late)} (${fmt(got.bytes / Math.max(1, got.ids.length))} B/mail); alert queued ${ALERT_AFTER_MS} ms after T arrived after ${fmt(alert.ms)} ms, ${fmt(alert.behind)} reminders after it`);
  await stopWorker();
  await deleteKeys(redis, `${prefix}:*`);
  return { late, enqueue: enqueueFigure, ok, alert };
}

/** Bare BullMQ: n jobs due at T via addBulk, a bare Worker with a no-op processor or one mail per job; with mail, one more job queued ALERT_AFTER_MS after T. */
async function fireBare(redis: Redis, sink: Sink, n: number, concurrency: number, mode: 'noop' | 'mail', mail: RenderedMail, leadMs: number): Promise<{ late: Lateness; alert?: AlertFigure }> {
  const prefix = `${PREFIX}-bare-${mode}-c${concurrency}`;
  await sink.reset();
  const queueConnection = createRedis(REDIS_URL);
  const workerConnection = createRedis(REDIS_URL);
  const queue = new Queue(QUEUE_NAME, { connection: queueConnection, prefix });
  await queue.waitUntilReady();
  const mailer = createSmtpMailer({ url: sink.url, requireTls: false });
  const ids = Array.from({ length: n }, () => randomUUID());
  const planned = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
  await queue.addBulk(ids.map((id) => ({ name: 'notification.send', data: { notificationId: id }, opts: sendJobOpts(id, 1, planned - Date.now()) })));
  const started: number[] = [];
  let done = 0;
  const processor = mode === 'noop'
    ? async () => {
        started.push(Date.now());
      }
    : async (job: Job) => {
        const id = (job.data as { notificationId: string }).notificationId;
        await mailer.send({ messageId: `<bare-${id}@bench.invalid>`, from: FROM, to: ['demo-fengsel-oest.vagthavende@demo.fristvagt.invalid'], ...mail });
      };
  const worker = new Worker(QUEUE_NAME, processor, { connection: workerConnection, prefix, concurrency, autorun: true });
  worker.on('completed', () => void done++);
  const stopWorker = onCleanup(`bare worker ${prefix}`, async () => {
    await worker.close();
    await queue.close();
    queueConnection.disconnect();
    workerConnection.disconnect();
    mailer.close();
  });
  const ok = Date.now() < planned;
  const elu = await atInstant(planned, `bare-${mode}-c${concurrency}`);
  let alertQueuedAt = Number.NaN;
  const alertId = randomUUID();
  if (mode === 'mail') {
    await sleep(ALERT_AFTER_MS);
    alertQueuedAt = Date.now();
    await queue.add('notification.send', { notificationId: alertId }, sendJobOpts(alertId, 1, 0));
  }
  const total = mode === 'mail' ? n + 1 : n;
  await until(`${n} bare jobs`, async () => done >= total, 300_000, 20);
  const utilisation = await elu();
  let late: Lateness;
  let alert: AlertFigure | undefined;
  if (mode === 'noop') {
    late = lateness('bare BullMQ Worker, no-op processor (job start)', concurrency, planned, started, utilisation, ok ? undefined : 'addBulk ended after T');
  } else {
    const got = await sink.collect();
    const alertIdx = got.ids.indexOf(`<bare-${alertId}@bench.invalid>`);
    const alertAt = alertIdx >= 0 ? (got.at[alertIdx] as number) : Number.NaN;
    const others = got.at.filter((_, i) => i !== alertIdx);
    alert = { label: 'bare BullMQ Worker (one queue, no priority)', ms: alertAt - alertQueuedAt, behind: others.filter((a) => a > alertAt).length };
    late = lateness('bare BullMQ Worker → pooled nodemailer (5 connections) → sink', concurrency, planned, others, utilisation, ok ? undefined : 'addBulk ended after T');
  }
  log(`  ${describeLateness(late)}${alert ? `; a job queued ${ALERT_AFTER_MS} ms after T arrived after ${fmt(alert.ms)} ms` : ''}`);
  await stopWorker();
  await deleteKeys(redis, `${prefix}:*`);
  return alert ? { late, alert } : { late };
}

// ---------------------------------------------------------------- report

function section(o: Options, env: { redis: string; postgres: string; load: string }, plan: PlanFigure[], mix: string, enq: EnqueueFigure[], fire: Lateness[], mailBytes: number): string {
  const perSec = (n: number, ms: number): string => fmt(n / (ms / 1000));
  const planTable = markdownTable(
    ['step', 'records', 'notification rows created', 'jobs added', 'total ms', 'records/s'],
    plan.map((p) => [p.label, fmt(p.records), p.rows === undefined ? '–' : fmt(p.rows), p.jobs === undefined ? '–' : fmt(p.jobs), fmt(p.ms), perSec(p.records, p.ms)]),
  );
  const perJob = (v: number | undefined, jobs: number): string => (v === undefined ? '–' : fmt(v / jobs));
  const enqTable = markdownTable(
    ['path', 'jobs', 'total ms', 'jobs/s', 'Redis B/job (MEMORY USAGE)', 'job hash', 'delayed zset', 'events stream', 'rest', 'INFO used_memory Δ/job'],
    enq.map((e) => [e.label, fmt(e.jobs), fmt(e.ms), perSec(e.jobs, e.ms), perJob(e.fp?.total, e.jobs), perJob(e.fp?.jobHashes, e.jobs), perJob(e.fp?.delayed, e.jobs), perJob(e.fp?.events, e.jobs), perJob(e.fp?.other, e.jobs), perJob(e.infoDelta, e.jobs)]),
  );
  const fireTable = markdownTable(
    ['path', 'concurrency', 'delivered', 'lateness p50 ms', 'p99 ms', 'max ms (= drain)', 'per second', 'main-thread ELU'],
    fire.map((l) => [`${l.label}${l.note ? ` (${l.note})` : ''}`, String(l.concurrency), fmt(l.n), fmt(percentile(l.sorted, 50)), fmt(percentile(l.sorted, 99)), fmt(l.drainMs), perSec(l.n, l.drainMs), `${fmt(l.elu * 100)} %`]),
  );
  const body = [
    '## Worker (issue 4)',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machineDescription()}; Redis ${env.redis}, PostgreSQL ${env.postgres} (both local, on the same machine, default configuration: synchronous_commit on); 1-minute load average at start / end: ${env.load}`,
    `- Planning records: ${fmt(o.records)} demo records (${mix}); firing: ${fmt(o.fire)} notifications due at one instant; worker concurrency ${o.concurrency.join(' and ')} (${DEFAULT_CONCURRENCY} is the default of FRISTVAGT_WORKER_CONCURRENCY)`,
    '',
    '### Planning throughput',
    '',
    planTable,
    '',
    '### Enqueueing and Redis memory per scheduled notification',
    '',
    enqTable,
    '',
    `### Firing lateness: ${fmt(o.fire)} notifications due at the same instant`,
    '',
    fire.length > 0 ? fireTable : 'In the section "Worker: sending" below (written by the same run).',
    '',
    `Mails are about ${fmt(mailBytes)} characters (one rendered force.report reminder, text and HTML); the bare reference sends the same subject and bodies.`,
    '',
    'Method: `node dist/bench/worker.js` creates a fresh database per phase (CREATE DATABASE on the local server, migrated with `migrate`, dropped at the end), ' +
      'a private BullMQ prefix on the local Redis (its keys deleted at the end) and an SMTP sink (`smtp-server`, plain SMTP on 127.0.0.1, no AUTH/STARTTLS, like a local relay) on a worker thread of its own, so that receiving never competes with the worker under test; ' +
      'the sink notes the Message-ID and the arrival instant (`Date.now()` when DATA ends) of every message. ' +
      `*Planning*: ${fmt(o.records)} demo records of all four kinds (\`seedDemo\`, dated relative to now) are planned by the worker's own \`planAndEnqueue\` (deadlines materialised and notification rows written in one transaction, then every row due within the 24 h horizon added as a delayed job), ${DEFAULT_CONCURRENCY} at a time, one record per call (the batched path is measured in the planning section); then the worker's \`sweep()\` re-plans them all from the change feed in its catch-up batches, as it does after a settings change. ` +
      'Real clock; the queue is paused so that nothing is sent meanwhile; "jobs added" are the jobs in the queue afterwards (only rows due within 24 h get one; stages already past when a record dated weeks back is first planned get no row). ' +
      `*Firing*: ${fmt(o.fire)} force_use records (report not filed) are written straight into the table, as an integration with the client system may, each with the notification row the planner writes for its \`force.report:reminder-0\` stage (same stage, kind, template and recipient). ` +
      'The rows are inserted rather than planned because the planner puts stages at schedule times on working days (08:00 on the due day), which cannot be made to fall on a chosen second with the real clock; the send path reads only the row and the record (it recomputes the deadline itself), so nothing downstream differs. ' +
      'Each run arms every row for one instant T a few seconds ahead (one UPDATE: status scheduled, version + 1, as a re-plan that moves a stage does), enqueues them exactly as the sweep\'s `enqueueDue` does (same due-rows query, same deterministic job id `send-<id>-<version>`, delay T − now, same options, one awaited `enqueue` per row; `enqueueDue` itself is not exported, and `sweep()` would re-plan first), ' +
      'and starts a fresh worker (`startWorker`: real clock, the production mail transport — pooled nodemailer, 5 connections —, logs at info level into a discarding stream). From there it is the production path: BullMQ promotes the jobs at T, each job claims its row in Postgres, loads the record, computes its deadlines in Danish and English, renders, sends, and marks the row sent. ' +
      'Lateness is arrival at the sink − T per mail; "max" is the drain time (T to the last mail) and "per second" is delivered ÷ drain time; every row is checked to end `sent`, with one mail each. ' +
      '"Main-thread ELU" is the event-loop utilisation of the process running the worker from T to the last delivery (near 100 %: the worker is CPU-bound in Node, or waiting for a CPU on a loaded machine; low: it waits on Postgres, Redis or SMTP). ' +
      '*Reference*, same run, same Redis: bare BullMQ `addBulk` and one-at-a-time `add` of the same number of delayed jobs with the same payload (`{notificationId: uuid}`) and the same job options (deterministic id, attempts, backoff, removeOnComplete/removeOnFail), and a bare `Worker` draining the same number of jobs due at once with a no-op processor (lateness = processor start − T) and with a processor that sends the same rendered mail through the same pooled transport (lateness = arrival − T). ' +
      'Redis bytes are `MEMORY USAGE key SAMPLES 0` summed over every key under the prefix right after enqueueing (split into the job hashes, the delayed sorted set, the events stream and the rest), divided by the number of jobs; `INFO memory used_memory` before/after is shown as a cross-check (it includes allocator overhead and anything else using the same Redis at that moment). ' +
      'The gap between the bare-mail row and the fristvagt row at the same concurrency is what the Postgres claim, the record load, the deadline computation and the rendering add per mail. ' +
      'The machine is shared: the load average above says how busy it was, and figures from a loaded machine are lower bounds.',
  ];
  return body.join('\n');
}

interface SendingRun {
  concurrency: number;
  noop: Lateness;
  bare: Lateness;
  bareAlert: AlertFigure;
  impls: Array<{ late: Lateness; alert: AlertFigure }>;
}

/** The sending targets of issue 11, as ratios to bare BullMQ + nodemailer measured in the same run. */
function sendingSection(o: Options, env: { redis: string; postgres: string; load: string }, runs: SendingRun[], mailBytes: number): string {
  const perSec = (l: Lateness): number => l.n / (l.drainMs / 1000);
  const p99 = (l: Lateness): number => percentile(l.sorted, 99);
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const r of runs) {
    rows.push([r.bare.label, String(r.concurrency), fmt(r.bare.n), fmt(percentile(r.bare.sorted, 50)), fmt(p99(r.bare)), fmt(r.bare.drainMs), fmt(perSec(r.bare)), '100 %', '1.00×', `${fmt(r.bareAlert.ms)} ms (${fmt(r.bareAlert.behind)} after it)`, `${fmt(r.bare.elu * 100)} %`]);
    for (const { late, alert } of r.impls) {
      const rate = perSec(late) / perSec(r.bare);
      const lateRatio = p99(late) / p99(r.bare);
      rows.push([`${late.label}${late.note ? ` (${late.note})` : ''}`, String(r.concurrency), fmt(late.n), fmt(percentile(late.sorted, 50)), fmt(p99(late)), fmt(late.drainMs), fmt(perSec(late)), `${fmt(rate * 100)} %`, `${fmt(lateRatio, 2)}×`, `${fmt(alert.ms)} ms (${fmt(alert.behind)} after it)`, `${fmt(late.elu * 100)} %`]);
      if (late.label.startsWith(CURRENT.label)) {
        verdicts.push(`- c=${r.concurrency}: rate ${fmt(rate * 100)} % of bare (target ≥ 80 %) — ${rate >= 0.8 ? 'met' : 'NOT met'}; p99 lateness ${fmt(lateRatio, 2)}× bare's (target ≤ 1.5×) — ${lateRatio <= 1.5 ? 'met' : 'NOT met'}; the alert queued behind the burst went out after ${fmt(alert.ms)} ms (target ≤ 2,000 ms) — ${alert.ms <= 2_000 ? 'met' : 'NOT met'}.`);
      }
    }
    rows.push([r.noop.label, String(r.concurrency), fmt(r.noop.n), fmt(percentile(r.noop.sorted, 50)), fmt(p99(r.noop)), fmt(r.noop.drainMs), fmt(perSec(r.noop)), '–', '–', '–', `${fmt(r.noop.elu * 100)} %`]);
  }
  const table = markdownTable(['path', 'concurrency', 'delivered', 'lateness p50 ms', 'p99 ms', 'max ms (= drain)', 'mails/s', 'rate vs bare (same c)', 'p99 vs bare', 'alert queued 500 ms after T: queued → delivered', 'main-thread ELU'], rows);
  return [
    '## Worker: sending (issue 11, item 4)',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machineDescription()}; Redis ${env.redis}, PostgreSQL ${env.postgres} (both local); 1-minute load average at start / end: ${env.load}`,
    `- ${fmt(o.fire)} force.report reminders due at one instant T, sent to a local SMTP sink; one \`alert:area-director\` queued ${ALERT_AFTER_MS} ms after T, behind them. Concurrency ${o.concurrency.join(' and ')}. ${o.baseline ? 'The baseline is the worker of an earlier commit, built separately and run in the same process against the same database, Redis and sink.' : 'No baseline build was given (`--baseline`).'}`,
    '',
    table,
    '',
    ...verdicts,
    '',
    `Mails are about ${fmt(mailBytes)} characters of text and HTML (one rendered force.report reminder); the bare reference sends the same subject and bodies.`,
    '',
    'Method: `node dist/bench/worker.js --send-only [--baseline <root>]` (or the full run without `--send-only`). For each concurrency, in this order and in one process: bare BullMQ with a no-op processor, bare BullMQ + nodemailer (one mail per job, the same pooled transport, 5 connections), then fristvagt\'s worker, then the baseline worker if given. ' +
      'The fristvagt runs arm the same 10,000 rows for a new T (version + 1), enqueue them as the sweep does (the deterministic job ids and the job options of `src/queue/job-options.ts`, with `sendPriority` for this tree; without a priority for the baseline, whatever its own sweep did: only the alert\'s figure depends on it) and start a fresh worker with the real clock and the production transport. ' +
      `${ALERT_AFTER_MS} ms after T, while the burst is being sent, the alert row is armed (due now) and its job added as the change feed's planning adds it; "queued → delivered" is its arrival at the sink minus that instant, and "after it" counts the reminders delivered later. The bare reference adds one more plain job at the same moment. ` +
      'Rate is delivered ÷ (T → last reminder); the ratios compare with bare BullMQ + nodemailer at the same concurrency in the same run. The baseline\'s build: `git archive <commit> | tar -x -C node_modules/.fristvagt-baseline && (cd node_modules/.fristvagt-baseline && ../../node_modules/.bin/tsc -p tsconfig.build.json)`, with the commit written to its `REVISION` file. The machine is shared: compare figures within this section.',
  ].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const redis = createRedis(REDIS_URL);
  onCleanup('Redis keys', async () => {
    const n = await deleteKeys(redis, `${PREFIX}-*`);
    if (n > 0) log(`  removed ${fmt(n)} leftover Redis keys`);
    redis.disconnect();
  });
  const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
  const pgVersion = String((await adminQuery('SHOW server_version'))[0]?.['server_version'] ?? '?').split(' ')[0] ?? '?';
  const loadAtStart = os.loadavg()[0] ?? 0;
  log(`Worker benchmark: prefix ${PREFIX}, databases fristvagt_bench_worker_${STAMP}_*; Redis ${redisVersion}, PostgreSQL ${pgVersion}`);
  const sink = await startSink();

  const plan: PlanFigure[] = [];
  let mix = '';
  if (!o.sendOnly) {
    log(`Planning ${fmt(o.records)} demo records …`);
    const planned = await planning(redis, o.records);
    plan.push(...planned.figures);
    mix = planned.mix;
  }

  log(`Firing set-up: ${fmt(o.fire)} force_use records …`);
  const setup = await fireSetup(o.fire);

  // Right before the firing runs, so that the reference meets the same machine load as fristvagt's enqueueing.
  log(`Bare BullMQ enqueue of ${fmt(o.fire)} delayed jobs …`);
  const bareEnq = await bareEnqueue(redis, o.fire);
  const addBulkMs = (bareEnq[0] as EnqueueFigure).ms;
  const seqAddMs = (bareEnq[1] as EnqueueFigure).ms;
  const impls = [CURRENT, ...(o.baseline ? [await baselineImplementation(o.baseline)] : [])];

  const enq: EnqueueFigure[] = [...bareEnq];
  const bareLead = Math.max(3_000, 3 * addBulkMs + 2_000);
  const runs: SendingRun[] = [];
  for (const [i, c] of o.concurrency.entries()) {
    log(`Concurrency ${c}: bare BullMQ (no-op, then mail), then ${impls.map((m) => m.label).join(', then ')} …`);
    const noop = await fireBare(redis, sink, o.fire, c, 'noop', setup.mail, bareLead);
    const bare = await fireBare(redis, sink, o.fire, c, 'mail', setup.mail, bareLead);
    const run: SendingRun = { concurrency: c, noop: noop.late, bare: bare.late, bareAlert: bare.alert as AlertFigure, impls: [] };
    for (const impl of impls) {
      // T must lie after the sweep has enqueued everything: a generous multiple of the bare add time.
      let lead = Math.max(8_000, 3 * seqAddMs + 3_000);
      for (let attempt = 0; ; attempt++) {
        const r = await fireFristvagt(redis, sink, setup, impl, c, lead, i === 0 && impl === CURRENT);
        if (r.ok || attempt === 2) {
          if (!r.ok) r.late.note = `${r.late.note ? `${r.late.note}, ` : ''}enqueueing ended after T`;
          run.impls.push({ late: r.late, alert: r.alert });
          if (i === 0 && impl === CURRENT) enq.push(r.enqueue);
          break;
        }
        lead *= 2;
        log(`  the sweep ran past T; again with a lead of ${fmt(lead)} ms`);
      }
    }
    runs.push(run);
  }
  const mailBytes = setup.mail.text.length + setup.mail.html.length;

  const env = { redis: redisVersion, postgres: pgVersion, load: `${fmt(loadAtStart, 1)} / ${fmt(os.loadavg()[0] ?? 0, 1)}` };
  const bodies: Array<[string, string]> = [['worker-sending', sendingSection(o, env, runs, mailBytes)]];
  if (!o.sendOnly) bodies.unshift(['worker', section(o, env, plan, mix, enq, [], mailBytes)]);
  for (const [, body] of bodies) log(`\n${body}\n`);
  if (o.write) {
    const file = join(packageRoot(), 'bench/RESULTS.md');
    for (const [name, body] of bodies) writeSection(file, name, body);
    log(`Written to ${file}`);
  }
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`${signal}: cleaning up …`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (err) {
  console.error((err as Error).stack ?? String(err));
  process.exitCode = 1;
} finally {
  await cleanUp();
}
