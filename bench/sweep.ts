/**
 * Sweep benchmark (issue 11; `node dist/bench/sweep.js` after `npm run build`).
 *
 * On a fresh Postgres database and a private BullMQ prefix on the local Redis: N notification rows
 * (default 100,000) scheduled within the 24 h horizon, nothing due yet, no record changed. A
 * worker (the real `startWorker`, real clock, scheduler off) sweeps: the first sweep adds every
 * job; then idle sweeps, which should cost what is missing (nothing) rather than what exists; then
 * the prefix's keys are deleted (what FLUSHALL does to this run) and the next sweep adds all again.
 *
 * Before/after in the same run: unless --no-baseline, the same file is also compiled and run
 * against the source tree of a baseline commit (--baseline REV, default the commit before issue
 * 11's sweep, c7c3542), extracted with `git archive` under node_modules/.cache, and its figures are
 * put beside this tree's. Everything created (databases fristvagt_bench_sweep_*, Redis keys
 * fv-bench-sweep-*) is removed at the end. Writes the `sweep` section of bench/RESULTS.md unless
 * --no-write; --json prints the figures only (what the baseline run does).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { migrate, openDatabase } from '../src/db/client.js';
import { createLogger } from '../src/logger.js';
import { createSmtpMailer } from '../src/mail/transport.js';
import { packageRoot } from '../src/paths.js';
import { startWorker } from '../src/worker/runtime.js';
import { machineDescription, markdownTable, writeSection } from './results.js';

const ADMIN_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const DEFAULT_BASELINE = 'c7c3542';

interface Options {
  rows: number;
  idle: number;
  baseline: string | null;
  write: boolean;
  json: boolean;
}

interface Figures {
  rows: number;
  firstMs: number;
  firstEnqueued: number;
  idleMs: number[];
  idleEnqueued: number;
  wipedMs: number;
  wipedEnqueued: number;
  jobsAfterWipe: number;
}

function parseArgs(argv: string[]): Options {
  const { values } = parseNodeArgs({
    args: argv,
    options: { rows: { type: 'string' }, idle: { type: 'string' }, baseline: { type: 'string' }, 'no-baseline': { type: 'boolean' }, 'no-write': { type: 'boolean' }, json: { type: 'boolean' } },
    strict: true,
  });
  const count = (name: string, text: string | undefined, fallback: number): number => {
    const n = text === undefined ? fallback : Number(text);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} needs a positive integer`);
    return n;
  };
  const json = values.json === true;
  return {
    rows: count('rows', values.rows, 100_000),
    idle: count('idle', values.idle, 5),
    // The baseline run itself measures only its own tree.
    baseline: json || values['no-baseline'] ? null : (values.baseline ?? DEFAULT_BASELINE),
    write: !json && !values['no-write'],
    json,
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const fmt = (n: number): string => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { maximumFractionDigits: 1 }));

/** This tree's sweep, measured. */
async function measure(o: Options): Promise<Figures> {
  const stamp = `${Math.floor(Date.now() / 1000)}_${process.pid}_${randomBytes(3).toString('hex')}`;
  const name = `fristvagt_bench_sweep_${stamp}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  const prefix = `fv-bench-sweep-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString() });
  const mailer = createSmtpMailer({ url: 'smtp://127.0.0.1:9', requireTls: false, rejectUnauthorized: false });
  const jobCount = async (): Promise<number> => (await redis.zcard(`${prefix}:fristvagt:delayed`)) + (await redis.llen(`${prefix}:fristvagt:wait`));
  try {
    await migrate(database, { databaseUrl: url.toString() });
    // Rows only (no records, so the catch-up has nothing to plan): spread over the next 1–23 hours.
    await database.db.execute(sql.raw(`
      INSERT INTO notifications (record_type, record_id, stage, kind, template, recipient, planned_at, status)
      SELECT 'force_use', gen_random_uuid(), 'force.report:reminder-0', 'reminder', 'reminder', 'vagt@kf.bench.invalid',
             now() + interval '1 hour' + (g % 79200) * interval '1 second', 'scheduled'
      FROM generate_series(1, ${o.rows}) AS g`));
    await database.db.execute(sql.raw('ANALYZE notifications'));
    const logger = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
    const worker = await startWorker({ database, redisUrl: REDIS_URL, prefix, mailer, clock: () => new Date(), closureDays: [], from: 'fristvagt <fristvagt@kf.bench.invalid>', publicUrl: 'https://fristvagt.bench.invalid', logger, schedule: false });
    try {
      const timed = async (): Promise<{ ms: number; enqueued: number }> => {
        const t = performance.now();
        const r = await worker.sweep();
        return { ms: performance.now() - t, enqueued: r.enqueued };
      };
      const first = await timed();
      const idle: Array<{ ms: number; enqueued: number }> = [];
      for (let i = 0; i < o.idle; i++) idle.push(await timed());
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
      const wiped = await timed();
      return {
        rows: o.rows,
        firstMs: first.ms,
        firstEnqueued: first.enqueued,
        idleMs: idle.map((r) => r.ms),
        idleEnqueued: Math.max(...idle.map((r) => r.enqueued)),
        wipedMs: wiped.ms,
        wipedEnqueued: wiped.enqueued,
        jobsAfterWipe: await jobCount(),
      };
    } finally {
      await worker.stop(5_000);
    }
  } finally {
    mailer.close();
    await database.close().catch(() => undefined);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end({ timeout: 5 });
    const keys = await redis.keys(`${prefix}:*`);
    for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    redis.disconnect();
  }
}

/** The same measurement on the baseline commit's tree, compiled with this tree's TypeScript. */
function measureBaseline(rev: string, o: Options): Figures {
  const root = packageRoot();
  const dir = join(root, 'node_modules', '.cache', `fristvagt-sweep-baseline-${rev}`);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git -C "${root}" archive "${rev}" | tar -x -C "${dir}"`], { stdio: 'inherit' });
  }
  // This file, unchanged: it uses only what both trees have (startWorker, sweep(), the schema's SQL).
  cpSync(join(root, 'bench', 'sweep.ts'), join(dir, 'bench', 'sweep.ts'));
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.build.json')], { stdio: 'inherit' });
  const out = execFileSync(process.execPath, [join(dir, 'dist', 'bench', 'sweep.js'), '--json', '--rows', String(o.rows), '--idle', String(o.idle)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Figures;
}

function section(after: Figures, before: Figures | undefined, rev: string | null): string {
  const col = (f: Figures | undefined, pick: (f: Figures) => string): string => (f ? pick(f) : '–');
  const rows: string[][] = [
    ['first sweep (adds every job), ms', col(before, (f) => fmt(Math.round(f.firstMs))), fmt(Math.round(after.firstMs))],
    [`idle sweep, median of ${after.idleMs.length}, ms`, col(before, (f) => fmt(Math.round(median(f.idleMs)))), fmt(Math.round(median(after.idleMs)))],
    ['idle sweep, slowest, ms', col(before, (f) => fmt(Math.round(Math.max(...f.idleMs)))), fmt(Math.round(Math.max(...after.idleMs)))],
    ['jobs an idle sweep adds (or re-adds)', col(before, (f) => fmt(f.idleEnqueued)), fmt(after.idleEnqueued)],
    ['sweep after the keys were wiped, ms', col(before, (f) => fmt(Math.round(f.wipedMs))), fmt(Math.round(after.wipedMs))],
    ['jobs in Redis after that sweep', col(before, (f) => fmt(f.jobsAfterWipe)), fmt(after.jobsAfterWipe)],
  ];
  const ratio = before ? `${fmt(median(before.idleMs) / median(after.idleMs))}×` : '–';
  return [
    '## Sweep (issue 11)',
    '',
    `${machineDescription()}; ${new Date().toISOString().slice(0, 10)}. \`node dist/bench/sweep.js\`.`,
    '',
    `${fmt(after.rows)} notification rows scheduled within the 24 h horizon (none due yet, no record changed), a private BullMQ prefix on the local Redis, the real \`startWorker\` with the real clock and \`sweep()\`. ` +
      `The "before" column is the same file run in the same invocation against the tree of commit ${rev ?? '–'} (the sweep that re-added every job due within 24 h each time, as \`reviveDue\` + \`addBulk\`); "after" is this tree (only rows whose \`enqueued_version\` differs from their version, read through a partial index; a Redis epoch detects a wipe). ` +
      '"Wiped" deletes every key under the prefix, which is what FLUSHALL does to this run.',
    '',
    markdownTable(['', 'before', 'after'], rows),
    '',
    `Idle sweep: ${ratio} faster (target: < 1,000 ms over 100,000 rows).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.json) {
    console.log(JSON.stringify(await measure(o)));
    return;
  }
  const before = o.baseline ? measureBaseline(o.baseline, o) : undefined;
  const after = await measure(o);
  const body = section(after, before, o.baseline);
  console.log(body);
  if (o.write) writeSection(join(packageRoot(), 'bench', 'RESULTS.md'), 'sweep', body);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
