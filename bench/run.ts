/**
 * Deadline-engine benchmark and differential test (`npm run bench`).
 *
 * Measures validation, the engine with a fresh and with a warm calendar, and the end-to-end
 * contract on 100,000 generated records, against a naive luxon + date-holidays reference. The
 * reference must produce exactly the engine's due dates; any difference fails the run.
 *
 * Options: --records N (default 100000), --reference-sample N (default 10000),
 * --full-reference (run the reference on every record, however long it takes).
 */
import { join } from 'node:path';
import {
  computeDeadlines,
  computeDeadlinesForRecord,
  createCalendar,
  formatIsoDate,
  parseRecord,
  parseWhen,
  recordSchema,
  type Calendar,
  type FristRecord,
} from '../src/domain/index.js';
import { packageRoot } from '../src/paths.js';
import { FROM, generateRecords, NOW, NOW_TEXT, SEED, type RawRecord } from './generate.js';
import { referenceDueDates, referenceNow, type ReferenceDue } from './reference.js';
import { machineDescription, markdownTable, writeSection } from './results.js';

const RUNS = 3;
const REFERENCE_BUDGET_MS = 60_000;
const TARGET_SPEEDUP = 20;
const TARGET_ENGINE_MS = 1_000;

interface Options {
  records: number;
  referenceSample: number;
  fullReference: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { records: 100_000, referenceSample: 10_000, fullReference: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): number => {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--records') opts.records = value();
    else if (arg === '--reference-sample') opts.referenceSample = value();
    else if (arg === '--full-reference') opts.fullReference = true;
    else throw new Error(`unknown option ${arg ?? ''}`);
  }
  return opts;
}

function elapsedMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

interface Measurement {
  label: string;
  records: number;
  deadlines: number;
  runsMs: number[];
  /** Per-record figure projected to the full record count (the reference on a sample). */
  projectedMs: number;
  note?: string;
}

/** Runs a pass `RUNS` times and keeps every timing; `pass` returns the number of deadlines produced. */
function measure(label: string, records: number, pass: () => number): Measurement {
  const runsMs: number[] = [];
  let deadlines = 0;
  for (let i = 0; i < RUNS; i++) runsMs.push(elapsedMs(() => (deadlines = pass())));
  return { label, records, deadlines, runsMs, projectedMs: median(runsMs) };
}

function validateAll(raw: readonly RawRecord[]): FristRecord[] {
  return raw.map((r, i) => {
    try {
      return parseRecord(r, NOW);
    } catch (err) {
      // A generator bug, not an engine result: the figures would be meaningless.
      console.error(`generated record ${i} is invalid: ${(err as Error).message}\n${JSON.stringify(r)}`);
      process.exit(1);
    }
  });
}

/** Same keys in the same order, same values: what a caller of parseRecord could ever observe. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return Object.getPrototypeOf(a) === Object.getPrototypeOf(b) && ka.join() === kb.join() && ka.every((k) => sameValue(ra[k], rb[k]));
  }
  return Object.is(a, b);
}

/** parseRecord reads valid records without zod; it must build exactly the records zod builds. */
function validationMismatches(raw: readonly RawRecord[], records: readonly FristRecord[]): number[] {
  const bad: number[] = [];
  raw.forEach((r, i) => {
    if (!sameValue(records[i], recordSchema.parse(r))) bad.push(i);
  });
  return bad;
}

function engineDeadlines(records: readonly FristRecord[], calendar: Calendar): number {
  let n = 0;
  for (const r of records) n += computeDeadlinesForRecord(r, { now: NOW, calendar }).deadlines.length;
  return n;
}

function endToEndDeadlines(raw: readonly RawRecord[]): number {
  let n = 0;
  for (const r of raw) n += computeDeadlines(r, { now: NOW }).deadlines.length;
  return n;
}

/** Deterministic, evenly spread sample: every k-th record, so every record type and year is represented. */
function sampleIndices(total: number, size: number): number[] {
  if (size >= total) return Array.from({ length: total }, (_, i) => i);
  const step = total / size;
  return Array.from({ length: size }, (_, i) => Math.floor(i * step));
}

interface Mismatch {
  index: number;
  key: string;
  engine: string | undefined;
  reference: string | undefined;
}

function compare(indices: readonly number[], reference: readonly ReferenceDue[], records: readonly FristRecord[], calendar: Calendar): { checked: number; mismatches: Mismatch[] } {
  const mismatches: Mismatch[] = [];
  let checked = 0;
  indices.forEach((index, i) => {
    const ref = reference[i] as ReferenceDue;
    const engine = new Map(computeDeadlinesForRecord(records[index] as FristRecord, { now: NOW, calendar }).deadlines.map((d) => [d.key, d.dueDate]));
    for (const key of new Set([...engine.keys(), ...ref.keys()])) {
      checked++;
      if (engine.get(key) !== ref.get(key)) mismatches.push({ index, key, engine: engine.get(key), reference: ref.get(key) });
    }
  });
  return { checked, mismatches };
}

/** How the generated dates are written, to show that the tricky spellings are really exercised. */
function dateSpellings(raw: readonly RawRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(visit);
    else if (typeof v === 'string') {
      const w = parseWhen(v);
      if (!w) return;
      if (w.ms === null) return count('bare dates');
      const zulu = v.endsWith('Z');
      count(zulu ? 'Z instants' : 'offset instants');
      if (formatIsoDate(w.day) !== v.slice(0, 10)) count(zulu ? 'Z instants on the next local day' : 'offset instants on another local day');
    }
  };
  raw.forEach(visit);
  return counts;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const total = opts.records;
  console.log(`Generating ${fmt(total)} records (seed ${SEED}, now ${NOW_TEXT}) …`);
  const raw = generateRecords(total, SEED, FROM, NOW);
  const mix = new Map<string, number>();
  for (const r of raw) mix.set(String(r['type']), (mix.get(String(r['type'])) ?? 0) + 1);
  console.log(`  mix: ${[...mix].map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}`);
  const spellings = [...dateSpellings(raw)].map(([t, n]) => `${t} ${fmt(n)}`).join(', ');
  console.log(`  dates: ${spellings}`);

  // Warm-up: JIT, plus the process-wide caches (date-holidays per year, zone offsets) every
  // long-running process has filled after its first sweep.
  // The first pass of a fresh process is timed too, but only reported: it is mostly JIT.
  console.log('Warm-up pass …');
  const firstRecords = validateAll(raw);
  let firstDeadlines = 0;
  const firstMs = elapsedMs(() => (firstDeadlines = engineDeadlines(firstRecords, createCalendar())));
  endToEndDeadlines(raw);
  const first: Measurement = { label: 'Engine, first pass of the process (JIT, every cache cold; not a target)', records: total, deadlines: firstDeadlines, runsMs: [firstMs], projectedMs: firstMs };

  let records: FristRecord[] = [];
  const validation = measure('Validation `parseRecord(raw, now)`', total, () => {
    records = validateAll(raw);
    return 0;
  });
  const cold = measure('Engine, fresh `createCalendar()` (cold tables)', total, () => engineDeadlines(records, createCalendar()));
  const warmCalendar = createCalendar();
  engineDeadlines(records, warmCalendar);
  const warm = measure('Engine, warm calendar', total, () => engineDeadlines(records, warmCalendar));
  const e2e = measure('End-to-end `computeDeadlines(raw, {now})`', total, () => endToEndDeadlines(raw));
  for (const m of [first, validation, cold, warm, e2e]) {
    console.log(`  ${m.label}: ${m.runsMs.map((ms) => fmt(ms, 1)).join(' / ')} ms`);
  }
  const badValidation = validationMismatches(raw, records);

  // The reference is orders of magnitude slower: time it once on a sample, and on everything only
  // when that fits the budget (or when asked).
  const now = referenceNow(NOW);
  for (const r of raw.slice(0, 200)) referenceDueDates(r, now);
  let indices = sampleIndices(total, opts.fullReference ? total : opts.referenceSample);
  const runReference = (idx: readonly number[]): { due: ReferenceDue[]; ms: number } => {
    let due: ReferenceDue[] = [];
    const ms = elapsedMs(() => (due = idx.map((i) => referenceDueDates(raw[i] as RawRecord, now))));
    return { due, ms };
  };
  console.log(`Naive reference on ${fmt(indices.length)} records …`);
  let ref = runReference(indices);
  const projectedFull = (ref.ms / indices.length) * total;
  if (indices.length < total && projectedFull <= REFERENCE_BUDGET_MS) {
    console.log(`Naive reference on all ${fmt(total)} records (projected ${fmt(projectedFull / 1000, 1)} s) …`);
    indices = sampleIndices(total, total);
    ref = runReference(indices);
  }
  const refDeadlines = ref.due.reduce((s, m) => s + m.size, 0);
  const sampled = indices.length < total;
  const reference: Measurement = {
    label: 'Naive reference (luxon + date-holidays `isHoliday` per day)',
    records: indices.length,
    deadlines: refDeadlines,
    runsMs: [ref.ms],
    projectedMs: (ref.ms / indices.length) * total,
  };
  if (sampled) reference.note = `sample of ${fmt(indices.length)}, extrapolated to ${fmt(total)}`;

  const { checked, mismatches } = compare(indices, ref.due, records, warmCalendar);

  const perRecordUs = (m: Measurement): number => (m.projectedMs * 1000) / total;
  const speedup = (m: Measurement): number => reference.projectedMs / m.projectedMs;
  const rows = [validation, first, cold, warm, e2e, reference].map((m) => [
    m.label + (m.note ? ` (${m.note})` : ''),
    fmt(m.records),
    m.deadlines > 0 ? fmt(m.deadlines) : '–',
    m.runsMs.length > 1 ? `${fmt(m.projectedMs, 1)} (${m.runsMs.map((ms) => fmt(ms, 0)).join(' / ')})` : `${fmt(m.runsMs[0] as number, 1)}${sampled && m === reference ? ` → ${fmt(m.projectedMs, 0)} for ${fmt(total)}` : ''}`,
    fmt((total / m.projectedMs) * 1000),
    fmt(perRecordUs(m), 2),
    m === reference || m === validation ? '–' : `${fmt(speedup(m), 0)}×`,
  ]);
  const table = markdownTable(['phase', 'records', 'deadlines', 'total ms, median (runs)', 'records/s', 'µs/record', 'speed-up vs reference'], rows);

  const engineMs = Math.max(cold.projectedMs, warm.projectedMs);
  const engineSpeedup = Math.min(speedup(cold), speedup(warm));
  const verdicts = [
    `- Engine on ${fmt(total)} records: ${fmt(engineMs, 0)} ms (target < ${fmt(TARGET_ENGINE_MS)} ms) — ${engineMs < TARGET_ENGINE_MS ? 'met' : 'MISSED'}.`,
    `- Speed-up of the engine over the naive reference: ${fmt(engineSpeedup, 0)}× (target ≥ ${TARGET_SPEEDUP}×) — ${engineSpeedup >= TARGET_SPEEDUP ? 'met' : 'MISSED'}.`,
    `- Differential check: ${fmt(checked)} deadlines of ${fmt(indices.length)} records compared, ${fmt(mismatches.length)} due-date mismatches${sampled ? ' (`--full-reference` compares every record)' : ''}.`,
    `- Validation without zod for valid records: ${fmt(total - badValidation.length)} of ${fmt(total)} records identical to zod's (keys, key order, values).`,
  ];
  const method =
    `Method: ${fmt(total)} records generated with a seeded PRNG (seed ${SEED}, all record types, dates 2016–2026 as bare dates and ISO instants with offsets), ` +
    `now = ${NOW_TEXT}; each engine phase is timed with process.hrtime.bigint() after a warm-up pass and reported as the median of ${RUNS} runs ` +
    `(the "cold" runs get a new Calendar each run, so its per-year holiday tables and its memo of working-day counts are rebuilt inside the timing, while the process-wide caches, date-holidays, time-zone offsets and per-day date texts, are warm; ` +
    `the first pass of the process, after one validation pass, is timed once and reported without a target); ` +
    `the naive reference (luxon DateTime in Europe/Copenhagen, \`new Holidays('DK').isHoliday(date)\` filtered to type public for every weekday considered) is timed once` +
    `${sampled ? ` on a deterministic every-k-th sample of ${fmt(indices.length)} records and extrapolated per record` : ''}, and must reproduce the engine's dueDate for every deadline.`;

  const section = [
    '## Deadline engine',
    '',
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machineDescription()}`,
    `- Records: ${[...mix].map(([t, n]) => `${t} ${fmt(n)}`).join(', ')}; dates: ${spellings}`,
    '',
    table,
    '',
    ...verdicts,
    '',
    method,
  ].join('\n');

  console.log(`\n${table}\n\n${verdicts.join('\n')}\n`);
  const resultsFile = join(packageRoot(), 'bench', 'RESULTS.md');
  writeSection(resultsFile, 'deadline-engine', section);
  console.log(`Written to ${resultsFile}`);

  if (badValidation.length > 0) {
    console.error(`\n${fmt(badValidation.length)} records validated differently from zod. First examples:`);
    for (const i of badValidation.slice(0, 5)) console.error(`  record ${i}: ${JSON.stringify(raw[i])}`);
    process.exitCode = 1;
  }
  if (mismatches.length > 0) {
    console.error(`\n${fmt(mismatches.length)} MISMATCHES between the engine and the naive reference. First examples:`);
    const shown = new Set<number>();
    for (const m of mismatches) {
      if (shown.size >= 10) break;
      if (shown.has(m.index)) continue;
      shown.add(m.index);
      console.error(`  record ${m.index}, ${m.key}: engine ${m.engine ?? '(none)'}, reference ${m.reference ?? '(none)'}\n    ${JSON.stringify(raw[m.index])}`);
    }
    process.exitCode = 1;
  }
}

main();
