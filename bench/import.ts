/**
 * Import benchmark: generates a CSV of 100,000 records, imports it into a fresh Postgres database
 * with `importFile` (the path behind `fristvagt import`) and plans what it created as
 * `fristvagt import` does (planRecords in batches, the worker's settings), imports it again (every
 * row unchanged), and times createRecord — the API's one-record path — on a sample for
 * comparison. Writes the `import` section of bench/RESULTS.md.
 *
 * Run: npm run build && node dist/bench/import.js [--rows N] [--type TYPE] [--per-record-sample N] [--no-plan]
 * Postgres: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow
 * CREATE DATABASE; the benchmark database is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { sql } from 'drizzle-orm';
import { verifyAudit } from '../src/db/audit.js';
import { migrate, openDatabase } from '../src/db/client.js';
import { CLIENT_CATEGORIES, formatIsoDate, formatLocalInstant, INCIDENT_KINDS, localDayOfInstant } from '../src/domain/index.js';
import { packageRoot } from '../src/paths.js';
import { importFile, isRecordType } from '../src/records/import.js';
import type { RecordTypeName } from '../src/records/kinds.js';
import { createArea, createInstitution } from '../src/records/masterdata.js';
import { createRecord, type Actor, type ServiceContext } from '../src/records/service.js';
import { planRecords, type RecordRef } from '../src/worker/planner.js';
import { loadWorkerSettings } from '../src/worker/settings.js';
import { Prng } from './generate.js';
import { machineDescription, markdownTable, writeSection } from './results.js';

const SEED = 20_261_123;
const DAY = 86_400_000;
const ADMIN: Actor = { id: 'bench', name: 'bench', role: 'admin' };
export const BENCH_INSTITUTIONS = ['bench-vest', 'bench-oest', 'bench-nord', 'bench-syd'] as const;

/** Areas and institutions the generated rows refer to. */
export async function seedBenchMasterData(ctx: ServiceContext): Promise<void> {
  for (const [id, name] of [['bench-a', 'Bench Område A'], ['bench-b', 'Bench Område B']] as const) {
    await createArea(ctx, { id, name, officeEmail: `${id}@bench.invalid`, directorName: `Direktør ${name}`, directorEmail: `${id}.dir@bench.invalid` }, ADMIN);
  }
  for (const [i, id] of BENCH_INSTITUTIONS.entries()) {
    await createInstitution(ctx, { id, areaId: i < 2 ? 'bench-a' : 'bench-b', name: `Bench ${id}`, kind: 'prison', dutyManagerEmail: `${id}@bench.invalid` }, ADMIN);
  }
}

/**
 * Deterministic, valid create bodies for one record type, all events before `nowMs`. Names are
 * invented and CPR numbers carry the serial 0000, which is never issued. Some descriptions hold
 * commas, quotes and line breaks, so the CSV has to quote them.
 */
export function generateImportBodies(type: RecordTypeName, rows: number, opts: { seed?: number; nowMs?: number; prefix?: string } = {}): Array<Record<string, unknown>> {
  const rnd = new Prng(opts.seed ?? SEED);
  const nowMs = opts.nowMs ?? Date.parse('2026-11-22T12:00:00+01:00');
  const from = nowMs - 10 * 365 * DAY;
  const prefix = opts.prefix ?? `BENCH-${type.slice(0, 3).toUpperCase()}`;
  const later = (ms: number, maxDays: number): number | undefined => {
    const t = ms + rnd.int(1, maxDays * 24) * 3_600_000;
    return t < nowMs - DAY ? t : undefined;
  };
  const out: Array<Record<string, unknown>> = [];
  for (let n = 1; n <= rows; n++) {
    const start = from + Math.floor(rnd.next() * (nowMs - from - 30 * DAY));
    const birth = Date.UTC(1950 + rnd.int(0, 50), rnd.int(0, 11), rnd.int(1, 28));
    const [y, m, d] = new Date(birth).toISOString().slice(0, 10).split('-') as [string, string, string];
    const body: Record<string, unknown> = {
      institutionId: BENCH_INSTITUTIONS[rnd.int(0, BENCH_INSTITUTIONS.length - 1)],
      journalNumber: `${prefix}-${String(n).padStart(7, '0')}`,
      inmateName: `Bench Person ${n}`,
      cpr: `${d}${m}${y.slice(2)}-0000`,
    };
    const startText = formatLocalInstant(start);
    if (type === 'incident') {
      const kind = INCIDENT_KINDS[rnd.int(0, INCIDENT_KINDS.length - 1)] as string;
      Object.assign(body, { kind, occurredAt: startText, mediaAttention: rnd.chance(0.05) });
      if (rnd.chance(0.3)) body['description'] = rnd.chance(0.5) ? `Fundet i celle ${n}, "tilkaldt" læge` : `Første linje\nanden linje, ${n}`;
      const notice = later(start, 5);
      if (notice !== undefined && rnd.chance(0.9)) body['preliminaryNoticeSentAt'] = formatLocalInstant(notice);
      const report = later(start, 40);
      if (report !== undefined && rnd.chance(0.8)) body['finalReportSubmittedAt'] = formatLocalInstant(report);
      const talk = later(start, 4);
      if (talk !== undefined && rnd.chance(0.7)) body['inmateConversationHeldAt'] = formatLocalInstant(talk);
    } else if (type === 'security_cell_placement') {
      Object.assign(body, { placedAt: startText, mechanicalRestraint: rnd.chance(0.3) });
      const ended = later(start, 3);
      if (ended !== undefined) {
        body['endedAt'] = formatLocalInstant(ended);
        const held = later(ended, 8);
        if (held !== undefined && rnd.chance(0.85)) body['followUpHeldAt'] = formatLocalInstant(held);
        else if (rnd.chance(0.3)) {
          // A postponement carries the time it was decided (000: only one decided by the due day counts).
          const decided = later(ended, 9);
          if (decided !== undefined) Object.assign(body, { followUpPostponedReason: 'Indsatte ønskede ikke samtale, "senere"', followUpPostponedAt: formatLocalInstant(decided) });
        }
      }
    } else if (type === 'force_use') {
      body['occurredAt'] = startText;
      if (rnd.chance(0.3)) body['description'] = `Fastholdelse, ${n}`;
      const report = later(start, 3);
      if (report !== undefined && rnd.chance(0.9)) body['reportFiledAt'] = formatLocalInstant(report);
      const complaint = later(start, 60);
      if (complaint !== undefined && rnd.chance(0.1)) body['complaintReceivedAt'] = formatLocalInstant(complaint);
    } else {
      const category = CLIENT_CATEGORIES[rnd.int(0, CLIENT_CATEGORIES.length - 1)] as string;
      body['clientCategory'] = category;
      body[category === 'supervision' ? 'supervisionEstablishedAt' : 'admittedAt'] = startText;
      if (category === 'convicted_from_liberty') {
        const day = localDayOfInstant(start);
        body['sentenceStartDate'] = formatIsoDate(day);
        body['possibleParoleDate'] = formatIsoDate(day + rnd.int(100, 700));
        body['expectedReleaseDate'] = formatIsoDate(day + rnd.int(701, 1500));
      }
      const created = later(start, 12);
      if (created !== undefined) {
        body['planCreatedAt'] = formatLocalInstant(created);
        const elaborated = later(created, 30);
        if (elaborated !== undefined) {
          body['elaboratedAt'] = formatLocalInstant(elaborated);
          const evaluations: string[] = [];
          let last = elaborated;
          for (let k = 0; k < 4; k++) {
            const next = later(last, 120);
            if (next === undefined) break;
            evaluations.push(formatLocalInstant(next));
            last = next;
          }
          if (evaluations.length > 0) body['evaluations'] = evaluations;
        }
      }
    }
    out.push(body);
  }
  return out;
}

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = Array.isArray(v) ? (v.every((x) => typeof x === 'string') ? v.join(';') : JSON.stringify(v)) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180: CRLF line ends, fields quoted when they need it, quotes doubled. */
export function toCsv(bodies: Array<Record<string, unknown>>): string {
  const columns = [...new Set(bodies.flatMap((b) => Object.keys(b)))];
  const lines = [columns.join(','), ...bodies.map((b) => columns.map((c) => csvCell(b[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

export function toJsonl(bodies: Array<Record<string, unknown>>, type?: string): string {
  return bodies.map((b) => JSON.stringify(type ? { type, ...b } : b)).join('\n') + '\n';
}

interface Options {
  rows: number;
  type: RecordTypeName;
  perRecordSample: number;
  plan: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { rows: 100_000, type: 'incident', perRecordSample: 2_000, plan: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--no-plan') {
      o.plan = false;
      continue;
    }
    const next = argv[++i] ?? '';
    if (arg === '--rows' || arg === '--per-record-sample') {
      const n = Number(next);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${arg} needs a positive integer`);
      if (arg === '--rows') o.rows = n;
      else o.perRecordSample = n;
    } else if (arg === '--type') {
      if (!isRecordType(next)) throw new Error('--type: incident, security_cell_placement, force_use or action_plan');
      o.type = next;
    } else {
      throw new Error(`unknown option ${arg ?? ''}`);
    }
  }
  return o;
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function count(db: ServiceContext['db'], table: string): Promise<number> {
  const res = (await db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`))) as unknown;
  const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>;
  return rows[0]?.n ?? 0;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const adminUrl = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `fristvagt_bench_import_${randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const dir = mkdtempSync(join(tmpdir(), 'fristvagt-bench-import-'));
  const database = await openDatabase({ databaseUrl: url.toString(), maxConnections: 4 });
  try {
    await migrate(database, { databaseUrl: url.toString() });
    const ctx: ServiceContext = { db: database.db, clock: () => new Date(), closureDays: [] };
    await seedBenchMasterData(ctx);
    const nowMs = Date.now();
    const file = join(dir, `${o.type}-bench.csv`);
    let t = performance.now();
    writeFileSync(file, toCsv(generateImportBodies(o.type, o.rows, { nowMs })));
    const genMs = performance.now() - t;
    const bytes = statSync(file).size;
    process.stderr.write(`generated ${fmt(o.rows)} ${o.type} rows (${fmt(bytes / 1024 ** 2, 1)} MiB) in ${fmt(genMs)} ms; importing…\n`);

    const load = os.loadavg().map((l) => l.toFixed(1)).join(' / ');
    // As `fristvagt import` plans (src/cli/import.ts): planRecords with the worker's settings.
    const settings = await loadWorkerSettings(ctx.db);
    const plan = o.plan ? (refs: RecordRef[]) => planRecords(ctx.db, { closureDays: ctx.closureDays, now: ctx.clock(), settings }, refs) : undefined;
    const cpu0 = process.cpuUsage();
    t = performance.now();
    let lastReport = 0;
    const first = await importFile(ctx, file, {
      actor: 'bench',
      plan,
      onProgress: (p) => {
        if (performance.now() - lastReport < 5_000) return;
        lastReport = performance.now();
        process.stderr.write(`  ${fmt((performance.now() - t) / 1000, 1)} s: ${p.phase ?? 'writing'}, ${fmt(p.created)} created, ${fmt(p.planned ?? 0)} planned\n`);
      },
    });
    const importMs = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (first.created !== o.rows || first.rejected !== 0) throw new Error(`import: expected ${o.rows} created, got ${JSON.stringify({ created: first.created, rejected: first.rejected, sample: first.rejections.slice(0, 3) })}`);
    if (o.plan && first.planned !== o.rows) throw new Error(`import: expected ${o.rows} planned, got ${first.planned}`);
    const notificationRows = await count(ctx.db, 'notifications');
    process.stderr.write(`imported in ${fmt(importMs)} ms (writing ${fmt(first.writeMs)} ms); re-importing…\n`);

    t = performance.now();
    const again = await importFile(ctx, file, { actor: 'bench' });
    const reimportMs = performance.now() - t;
    if (again.unchanged !== o.rows || again.created !== 0) throw new Error(`re-import changed something: ${JSON.stringify({ created: again.created, unchanged: again.unchanged, rejected: again.rejected })}`);

    const records = await count(ctx.db, o.type === 'incident' ? 'incidents' : o.type === 'security_cell_placement' ? 'security_cell_placements' : o.type === 'force_use' ? 'force_uses' : 'action_plans');
    const deadlineRows = await count(ctx.db, 'deadlines');
    t = performance.now();
    const audit = await verifyAudit(ctx.db);
    const verifyMs = performance.now() - t;
    if (!audit.ok) throw new Error(`audit chain broken at ${JSON.stringify(audit.brokenAt)}`);

    process.stderr.write(`per-record path (createRecord) on ${fmt(o.perRecordSample)} rows…\n`);
    const sample = generateImportBodies(o.type, o.perRecordSample, { nowMs, seed: SEED + 1, prefix: 'BENCH-ONE' });
    t = performance.now();
    for (const body of sample) await createRecord(ctx, o.type, body, ADMIN);
    const perRecordMs = performance.now() - t;
    const perRecordRate = o.perRecordSample / (perRecordMs / 1000);

    const rate = o.rows / (importMs / 1000);
    const planned = o.plan ? [[`… of which writing (read, validate, write; planning overlapping)`, fmt(o.rows), fmt(first.writeMs), fmt(o.rows / (first.writeMs / 1000)), fmt((first.writeMs * 1000) / o.rows, 1)], [`… of which planning left after the last write`, fmt(o.rows), fmt(first.planTailMs), '–', '–']] : [];
    const table = markdownTable(
      ['phase', 'rows', 'total ms', 'rows/s', 'µs/row'],
      [
        [`\`importFile\`, batches of 500, fresh database${o.plan ? ', **imported and planned** (planRecords in batches of 1,000)' : ', writing only (`--no-plan`)'}`, fmt(o.rows), fmt(importMs), fmt(rate), fmt((importMs * 1000) / o.rows, 1)],
        ...planned,
        ['Re-import of the same file (every row `unchanged`)', fmt(o.rows), fmt(reimportMs), fmt(o.rows / (reimportMs / 1000)), fmt((reimportMs * 1000) / o.rows, 1)],
        [`\`createRecord\` per row (the API path), sample extrapolated to ${fmt(o.rows)}`, fmt(o.perRecordSample), `${fmt(perRecordMs)} → ${fmt((perRecordMs / o.perRecordSample) * o.rows)}`, fmt(perRecordRate), fmt((perRecordMs * 1000) / o.perRecordSample, 1)],
        ['`verifyAudit` over the whole chain afterwards', fmt(audit.checked), fmt(verifyMs), fmt(audit.checked / (verifyMs / 1000)), '–'],
      ],
    );
    const body = [
      '## Bulk import',
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${machineDescription()}`,
      `- File: ${fmt(o.rows)} \`${o.type}\` rows, CSV with CRLF line ends, ${fmt(bytes / 1024 ** 2, 1)} MiB (quoted fields with commas, quotes and line breaks in part of the descriptions)`,
      `- Result: ${fmt(records)} records, ${fmt(deadlineRows)} materialised deadlines, ${fmt(notificationRows)} notification rows planned, ${fmt(audit.checked)} audit entries (one per record, chain verified)`,
      '',
      table,
      '',
      o.plan
        ? `- ${fmt(o.rows)} rows imported and planned in ${fmt(importMs / 1000, 1)} s end to end (target < 60 s) — ${importMs < 60_000 ? 'met' : 'NOT met'}.`
        : `- ${fmt(o.rows)} rows written in ${fmt(importMs / 1000, 1)} s, not planned (\`--no-plan\`; the target, < 60 s, is for imported and planned).`,
      `- CPU time of the importing Node process: ${fmt(cpuMs / 1000, 1)} s; the rest is Postgres (same machine). Load average when the import started: ${load} (other work on the machine included).`,
      `- The batched path is ${fmt(perRecordMs / o.perRecordSample / (importMs / o.rows), 1)}× faster per row than createRecord.`,
      '',
      `Method: rows generated with a seeded PRNG (seed ${SEED}), written to a temporary file, imported in-process with \`importFile\` (the code behind \`fristvagt import\`: streaming CSV parser, then the record service's \`createRecords\` per batch of 500 — zod create schema, engine validation, one transaction with multi-row inserts of records, deadlines and audit entries — two batches in flight on two connections${o.plan ? ', and the created records planned by `planRecords` in batches of 1,000 on a third connection while the writing goes on' : ''}) into a freshly created and migrated Postgres database on the same machine; timed with performance.now(), a single run each. The createRecord sample (${fmt(o.perRecordSample)} other rows, same database) goes through the full per-record service path.`,
    ].join('\n');
    writeSection(join(packageRoot(), 'bench/RESULTS.md'), 'import', body);
    process.stdout.write(`${body}\n`);
  } finally {
    await database.close();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/import: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
