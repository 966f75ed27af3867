/**
 * Planning benchmark: the batched planner against the planner it replaced, in one run on the same
 * database. Writes the `planning` section of bench/RESULTS.md.
 *
 * 1. Records are generated (bench/import.ts's generator, all four types, every record open) and
 *    stored through the importer; then their deadlines and notifications are deleted, so that
 *    every planning run starts from records that were never planned.
 * 2. First plan, alternated: the previous planner (commit BASELINE_COMMIT, built in a git worktree
 *    in the temp directory and run as a child process: `planRecord` per record, 5 at a time as the
 *    worker's record.plan jobs ran) on a sample, then `planRecords` on every record; three rounds,
 *    the state reset before each run; medians.
 * 3. A settings change (the first reminder a working day earlier) re-plans every open record.
 * 4. Re-planning with nothing changed (what a repeated change notification costs): nothing written.
 *
 * Run: npm run build && node dist/bench/plan.js [--records N] [--baseline-sample N] [--rounds N] [--no-baseline]
 * Postgres: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { migrate, openDatabase, rowsOf } from '../src/db/client.js';
import { settings as settingsTable } from '../src/db/schema.js';
import { packageRoot } from '../src/paths.js';
import { importRows, jsonlSource } from '../src/records/import.js';
import type { RecordTypeName } from '../src/records/kinds.js';
import type { ServiceContext } from '../src/records/service.js';
import { planRecords, type RecordRef } from '../src/worker/planner.js';
import { loadWorkerSettings } from '../src/worker/settings.js';
import { generateImportBodies, seedBenchMasterData } from './import.js';
import { machineDescription, markdownTable, writeSection } from './results.js';

/** The last commit with the per-record planner (issue 10's final state). */
export const BASELINE_COMMIT = '6d41f1f';
const NOW = new Date('2026-11-22T12:00:00+01:00');
const TYPES: RecordTypeName[] = ['incident', 'security_cell_placement', 'force_use', 'action_plan'];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** The baseline's code, built once per commit in the temp directory (git worktree + npm ci, which builds). */
function baselineDir(): string {
  const dir = join(tmpdir(), `fristvagt-bench-baseline-${BASELINE_COMMIT}`);
  if (existsSync(join(dir, 'dist/src/worker/planner.js'))) return dir;
  const root = packageRoot();
  rmSync(dir, { recursive: true, force: true });
  execFileSync('git', ['-C', root, 'worktree', 'prune'], { stdio: 'inherit' });
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, BASELINE_COMMIT], { stdio: 'inherit' });
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
  return dir;
}

/** The baseline planner as the worker ran it: planRecord per record, `concurrency` at a time. Returns ms. */
async function runBaseline(dir: string, url: string, refs: RecordRef[], concurrency: number): Promise<number> {
  const script = join(mkdtempSync(join(tmpdir(), 'fristvagt-plan-')), 'baseline.mjs');
  writeFileSync(
    script,
    `const base = ${JSON.stringify(pathToFileURL(dir).href)};
const { openDatabase } = await import(base + '/dist/src/db/client.js');
const { planRecord } = await import(base + '/dist/src/worker/planner.js');
const { loadWorkerSettings } = await import(base + '/dist/src/worker/settings.js');
const refs = ${JSON.stringify(refs)};
const database = await openDatabase({ databaseUrl: ${JSON.stringify(url)}, maxConnections: ${concurrency + 1} });
const settings = await loadWorkerSettings(database.db);
const now = new Date(${NOW.getTime()});
let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: ${concurrency} }, async () => {
  while (next < refs.length) { const r = refs[next++]; await planRecord(database.db, { closureDays: [], now, settings }, r.type, r.id); }
}));
const ms = performance.now() - started;
await database.close();
process.stdout.write(JSON.stringify({ ms }));
`,
  );
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (b: Buffer) => (text += b.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`baseline exited ${code}`))));
  });
  return (JSON.parse(out) as { ms: number }).ms;
}

async function main(): Promise<void> {
  const records = arg('records', 100_000);
  const sample = arg('baseline-sample', 2_000);
  const rounds = arg('rounds', 3);
  const withBaseline = !process.argv.includes('--no-baseline');
  const load1 = os.loadavg();
  const adminUrl = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `fristvagt_bench_plan_${process.pid}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const base = withBaseline ? baselineDir() : undefined;
  const database = await openDatabase({ databaseUrl: url.toString(), maxConnections: 4 });
  try {
    await migrate(database, { databaseUrl: url.toString() });
    const db = database.db;
    const ctx: ServiceContext = { db, clock: () => NOW, closureDays: [] };
    await seedBenchMasterData(ctx);
    const perType = Math.ceil(records / TYPES.length);
    for (const type of TYPES) {
      const text = generateImportBodies(type, perType, { seed: 20_261_128, nowMs: NOW.getTime() }).map((b) => JSON.stringify({ type, ...b })).join('\n');
      await importRows(ctx, jsonlSource((async function* () {
        yield text;
      })()), { type, actor: 'bench' });
    }
    const refs: RecordRef[] = [];
    for (const type of TYPES) {
      for (const r of rowsOf<{ id: string }>(await db.execute(sql.raw(`SELECT id FROM ${type === 'incident' ? 'incidents' : type === 'security_cell_placement' ? 'security_cell_placements' : type === 'force_use' ? 'force_uses' : 'action_plans'} ORDER BY journal_number`)))) refs.push({ type, id: r.id });
    }
    // As if each record had been in fristvagt since it happened: arrival (created_at) before its
    // deadlines, so that planning writes their reminders and escalations as the previous planner
    // does, instead of listing the already-breached ones as go-live backlog (README "Go-live").
    await db.execute(sql`UPDATE incidents SET created_at = occurred_at`);
    await db.execute(sql`UPDATE security_cell_placements SET created_at = placed_at`);
    await db.execute(sql`UPDATE force_uses SET created_at = occurred_at`);
    await db.execute(sql`UPDATE action_plans SET created_at = LEAST(created_at, COALESCE(admitted_at, supervision_established_at, plan_created_at, created_at))`);
    const step = Math.max(1, Math.floor(refs.length / sample));
    const sampleRefs = refs.filter((_, i) => i % step === 0).slice(0, sample);
    const reset = async (): Promise<void> => {
      await db.execute(sql`TRUNCATE notifications, deadlines, backlog_items, backlog_summaries CASCADE`);
      await db.execute(sql`VACUUM ANALYZE deadlines`);
      await db.execute(sql`VACUUM ANALYZE notifications`);
    };
    const settings = await loadWorkerSettings(db);
    const baseMs: number[] = [];
    const newMs: number[] = [];
    let first = { records: 0, deadlines: 0, scheduled: 0 };
    for (let round = 0; round < rounds; round++) {
      if (base) {
        await reset();
        baseMs.push(await runBaseline(base, url.toString(), sampleRefs, 5));
      }
      await reset();
      const t0 = performance.now();
      const r = await planRecords(db, { closureDays: [], now: NOW, settings }, refs);
      newMs.push(performance.now() - t0);
      first = { records: r.records, deadlines: r.deadlines, scheduled: r.scheduled };
      process.stderr.write(`round ${round + 1}: baseline ${fmt(baseMs.at(-1) ?? 0)} ms / ${fmt(sampleRefs.length)}, batched ${fmt(newMs.at(-1) ?? 0)} ms / ${fmt(refs.length)}\n`);
    }
    const [{ n: rows }] = rowsOf<{ n: number }>(await db.execute(sql`SELECT count(*)::int AS n FROM notifications`)) as [{ n: number }];

    // A settings change: the first reminder a working day earlier, for every rule.
    const schedule = { ...settings.schedule, stages: settings.schedule.stages.map((s) => (s.id === 'reminder-2' ? { ...s, workingDays: 3 } : s)) };
    await db.insert(settingsTable).values({ key: 'schedule', value: schedule, updatedAt: NOW, updatedBy: 'bench' }).onConflictDoUpdate({ target: settingsTable.key, set: { value: schedule } });
    const changed = await loadWorkerSettings(db);
    const t1 = performance.now();
    const sc = await planRecords(db, { closureDays: [], now: NOW, settings: changed }, refs);
    const settingsMs = performance.now() - t1;
    const t2 = performance.now();
    const idle = await planRecords(db, { closureDays: [], now: NOW, settings: changed }, refs);
    const idleMs = performance.now() - t2;
    const load2 = os.loadavg();

    const baseRate = baseMs.length > 0 ? sampleRefs.length / (median(baseMs) / 1000) : NaN;
    const newRate = refs.length / (median(newMs) / 1000);
    const table = markdownTable(
      ['step', 'records', 'total ms, median (runs)', 'records/s', 'vs previous planner'],
      [
        ...(base ? [[`Previous planner (${BASELINE_COMMIT}): \`planRecord\` per record, 5 at a time (the worker's record.plan jobs)`, fmt(sampleRefs.length), `${fmt(median(baseMs))} (${baseMs.map((x) => fmt(x)).join(' / ')})`, fmt(baseRate), '1×']] : []),
        ['`planRecords`, first plan (batches of 500, one transaction each)', fmt(refs.length), `${fmt(median(newMs))} (${newMs.map((x) => fmt(x)).join(' / ')})`, fmt(newRate), base ? `${fmt(newRate / baseRate, 1)}×` : '–'],
        ['Settings change (first reminder a working day earlier): every open record re-planned', fmt(refs.length), fmt(settingsMs), fmt(refs.length / (settingsMs / 1000)), '–'],
        ['Re-plan with nothing changed (nothing written)', fmt(refs.length), fmt(idleMs), fmt(refs.length / (idleMs / 1000)), '–'],
      ],
    );
    const body = [
      '## Planning (issue 11)',
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${machineDescription()}; PostgreSQL on the same machine; 1-minute load average at start / end: ${fmt(load1[0] ?? 0, 1)} / ${fmt(load2[0] ?? 0, 1)}`,
      `- Records: ${fmt(refs.length)} (${TYPES.join(', ')}, equal shares, all open), ${fmt(first.deadlines)} deadlines, ${fmt(rows)} notification rows after the first plan (${fmt(first.scheduled)} scheduled)`,
      '',
      table,
      '',
      `- Planning: ${fmt(newRate)} records/s (target ≥ 3,000) — ${newRate >= 3000 ? 'met' : 'NOT met'}${base ? `; ${fmt(newRate / baseRate, 1)}× the previous planner in the same run (target ≥ 20×) — ${newRate / baseRate >= 20 ? 'met' : 'NOT met'}` : ''}.`,
      `- Settings change over ${fmt(refs.length)} open records: ${fmt(settingsMs / 1000, 1)} s (target < 60 s) — ${settingsMs < 60_000 ? 'met' : 'NOT met'}; ${fmt(sc.moved)} waiting rows moved, ${fmt(sc.scheduled)} added, ${fmt(sc.cancelled)} superseded or cancelled.`,
      `- Nothing changed: ${fmt(idle.deadlinesWritten)} deadline rows and ${fmt(idle.scheduled + idle.moved + idle.cancelled)} notification rows written.`,
      '',
      `Method: the records are stored with the importer, with \`created_at\` then set to the event each record is about (as if it had been in fristvagt since then: its deadlines are planned as reminders and escalations, not listed as go-live backlog, so both planners write the same kind of rows), then \`TRUNCATE notifications, deadlines, backlog_items, backlog_summaries\` before each first-plan run, so both planners start from never-planned records (deadlines materialised, notification rows written). The previous planner is commit ${BASELINE_COMMIT} built in a git worktree and run as a child process against the same database, on an evenly spaced sample of ${fmt(sampleRefs.length)} records (it runs at ~100 records/s); runs alternate, ${rounds} rounds, medians. Planning only: enqueueing the due rows into Redis is the sweep's (see the worker section). now = ${NOW.toISOString()}.`,
    ].join('\n');
    writeSection(join(packageRoot(), 'bench/RESULTS.md'), 'planning', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await database.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
