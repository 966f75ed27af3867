/**
 * The `fristvagt` command as whole processes (`npm run bench`; issue 11, item 7): how long
 * `fristvagt --help` and `fristvagt deadlines` on one incident take from spawn to exit, and
 * `fristvagt deadlines` on 10,000 incidents against the naive per-day reference (bench/reference.ts)
 * on the same incidents in the same run. The command's output doubles as a differential test: every
 * due date must be the reference's.
 *
 * Options: --incidents N (default 10000), --runs N (runs of each command, default 9),
 * --reference-runs N (default 3), --baseline <path/to/cli.js> (another build of the command, e.g.
 * an older commit's, timed alternately with this one; its output must be byte-identical) and
 * --baseline-label TEXT (what the section calls it, e.g. "commit c7c3542").
 *
 * A baseline build of an older commit, inside this checkout so that it finds node_modules:
 *   mkdir -p dist/.baseline && git archive <commit> package.json tsconfig.json tsconfig.build.json src jobs templates bench | tar -x -C dist/.baseline
 *   (cd dist/.baseline && ../../node_modules/.bin/tsc -p tsconfig.build.json)
 *   node dist/bench/cli.js --baseline dist/.baseline/dist/src/cli.js --baseline-label "commit <commit>"
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/paths.js';
// The engine bench's generator, seed and dates, incidents only.
import { FROM, NOW, NOW_TEXT, RecordGenerator, SEED, type RawRecord } from './generate.js';
import { referenceDueDates, referenceNow, type ReferenceDue } from './reference.js';
import { machineDescription, markdownTable, writeSection } from './results.js';

const TARGET_HELP_MS = 150;
const TARGET_SPEEDUP = 20;

interface Options {
  incidents: number;
  runs: number;
  referenceRuns: number;
  baseline: string | undefined;
  baselineLabel: string;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { incidents: 10_000, runs: 9, referenceRuns: 3, baseline: undefined, baselineLabel: 'baseline' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const positive = (): number => {
      const n = Number(next());
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--incidents') o.incidents = positive();
    else if (arg === '--runs') o.runs = positive();
    else if (arg === '--reference-runs') o.referenceRuns = positive();
    else if (arg === '--baseline') o.baseline = resolve(next());
    else if (arg === '--baseline-label') o.baselineLabel = next();
    else throw new Error(`unknown option ${arg ?? ''}`);
  }
  return o;
}

function incidents(count: number): RawRecord[] {
  const gen = new RecordGenerator(SEED, FROM, NOW);
  const out: RawRecord[] = [];
  for (let i = 0; out.length < count; i++) {
    const r = gen.record(i);
    if (r['type'] === 'incident') out.push(r);
  }
  return out;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Spawn to exit of one process, stdin from a file (or nothing), stdout to a file; throws unless it exits 0. */
function timeProcess(args: readonly string[], stdinFile: string | undefined, stdoutFile: string): Promise<number> {
  const input = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
  const output = openSync(stdoutFile, 'w');
  return new Promise<number>((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: [input, output, 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      if (code === 0) resolvePromise(ms);
      else reject(new Error(`node ${args.join(' ')} exited ${String(code)}: ${stderr.trim()}`));
    });
  }).finally(() => {
    if (typeof input === 'number') closeSync(input);
    closeSync(output);
  });
}

interface Case {
  label: string;
  args: (cli: string) => string[];
  stdin: string | undefined;
}

interface Variant {
  name: string;
  cli: string;
}

function compare(raw: readonly RawRecord[], reference: readonly ReferenceDue[], outputFile: string): { deadlines: number; checked: number; mismatches: string[] } {
  const out = JSON.parse(readFileSync(outputFile, 'utf8')) as Array<{ deadlines: Array<{ key: string; dueDate: string }> }>;
  if (out.length !== raw.length) throw new Error(`the command printed ${out.length} results for ${raw.length} records`);
  const mismatches: string[] = [];
  let deadlines = 0;
  let checked = 0;
  out.forEach((set, i) => {
    deadlines += set.deadlines.length;
    const engine = new Map(set.deadlines.map((d) => [d.key, d.dueDate]));
    const ref = reference[i] as ReferenceDue;
    for (const key of new Set([...engine.keys(), ...ref.keys()])) {
      checked++;
      if (engine.get(key) !== ref.get(key)) mismatches.push(`record ${i}, ${key}: command ${engine.get(key) ?? '(none)'}, reference ${ref.get(key) ?? '(none)'}`);
    }
  });
  return { deadlines, checked, mismatches };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const root = packageRoot();
  const variants: Variant[] = [{ name: 'this build', cli: join(root, 'dist/src/cli.js') }];
  if (o.baseline) variants.push({ name: o.baselineLabel, cli: o.baseline });
  const dir = mkdtempSync(join(os.tmpdir(), 'fristvagt-bench-cli-'));
  try {
    const raw = incidents(o.incidents);
    const many = join(dir, 'incidents.json');
    const one = join(dir, 'incident.json');
    writeFileSync(many, JSON.stringify(raw));
    writeFileSync(one, JSON.stringify(raw[0]));
    const inputMiB = statSync(many).size / 1024 ** 2;
    process.stderr.write(`${fmt(raw.length)} incidents (${fmt(inputMiB, 1)} MiB); ${o.runs} runs of each command, ${o.referenceRuns} of the reference …\n`);

    const cases: Case[] = [
      { label: 'empty Node.js process (`node -e ""`, the floor)', args: () => ['-e', ''], stdin: undefined },
      { label: '`fristvagt --help`', args: (cli) => [cli, '--help'], stdin: undefined },
      { label: '`fristvagt deadlines`, 1 incident', args: (cli) => [cli, 'deadlines', '--now', NOW_TEXT], stdin: one },
      { label: `\`fristvagt deadlines\`, ${fmt(raw.length)} incidents`, args: (cli) => [cli, 'deadlines', '--now', NOW_TEXT], stdin: many },
    ];
    const outFile = (v: number, c: number): string => join(dir, `out-${v}-${c}.json`);
    const times = new Map<string, number[]>();
    const record = (key: string, ms: number): void => void times.set(key, [...(times.get(key) ?? []), ms]);

    // The reference runs in this process, like the engine bench's; warmed up on 200 records first.
    const now = referenceNow(NOW);
    for (const r of raw.slice(0, 200)) referenceDueDates(r, now);
    let reference: ReferenceDue[] = [];
    const referenceMs: number[] = [];
    const runReference = (): void => {
      const t0 = performance.now();
      reference = raw.map((r) => referenceDueDates(r, now));
      referenceMs.push(performance.now() - t0);
    };

    const loadStart = os.loadavg();
    // Commands and reference alternate, so that a change in the machine's load hits them alike.
    const referenceEvery = Math.max(1, Math.floor(o.runs / o.referenceRuns));
    for (let run = 0; run < o.runs; run++) {
      if (run % referenceEvery === 0 && referenceMs.length < o.referenceRuns) runReference();
      for (const [c, kase] of cases.entries()) {
        for (const [v, variant] of variants.entries()) {
          if (c === 0 && v > 0) continue; // the floor is the same for every build
          record(`${v}:${c}`, await timeProcess(kase.args(variant.cli), kase.stdin, outFile(v, c)));
        }
      }
      process.stderr.write(`  run ${run + 1}/${o.runs} done\n`);
    }
    while (referenceMs.length < o.referenceRuns) runReference();
    const loadEnd = os.loadavg();

    const manyCase = cases.length - 1;
    const check = compare(raw, reference, outFile(0, manyCase));
    const outputMiB = statSync(outFile(0, manyCase)).size / 1024 ** 2;
    const sameAsBaseline = o.baseline ? readFileSync(outFile(0, manyCase)).equals(readFileSync(outFile(1, manyCase))) && readFileSync(outFile(0, 2)).equals(readFileSync(outFile(1, 2))) : undefined;

    const refMedian = median(referenceMs);
    const row = (label: string, runs: readonly number[], vsReference: boolean): string[] => [
      label,
      String(runs.length),
      fmt(median(runs), 1),
      `${fmt(Math.min(...runs), 0)} – ${fmt(Math.max(...runs), 0)}`,
      vsReference ? `${fmt(refMedian / median(runs), 1)}×` : '–',
    ];
    const rows: string[][] = [];
    for (const [c, kase] of cases.entries()) {
      for (const [v, variant] of variants.entries()) {
        const runs = times.get(`${v}:${c}`);
        if (!runs) continue;
        rows.push(row(variants.length > 1 && c > 0 ? `${kase.label} (${variant.name})` : kase.label, runs, c === manyCase));
      }
    }
    rows.push(row(`Naive reference in-process (luxon + date-holidays \`isHoliday\` per day), ${fmt(raw.length)} incidents`, referenceMs, false));
    const table = markdownTable(['process', 'runs', 'median ms', 'min – max ms', 'reference ÷ this'], rows);

    const helpMs = median(times.get(`0:1`) ?? []);
    const manyMs = median(times.get(`0:${manyCase}`) ?? []);
    const speedup = refMedian / manyMs;
    const verdicts = [
      `- \`fristvagt --help\`: ${fmt(helpMs, 1)} ms median (target < ${TARGET_HELP_MS} ms) — ${helpMs < TARGET_HELP_MS ? 'met' : 'MISSED'}.`,
      `- \`fristvagt deadlines\` on ${fmt(raw.length)} incidents, whole process: ${fmt(manyMs, 0)} ms median; the reference ${fmt(refMedian, 0)} ms: ${fmt(speedup, 1)}× (target ≥ ${TARGET_SPEEDUP}×) — ${speedup >= TARGET_SPEEDUP ? 'met' : 'MISSED'}.`,
      `- Differential check: ${fmt(check.checked)} due dates of ${fmt(raw.length)} incidents compared with the reference, ${fmt(check.mismatches.length)} mismatches.`,
      ...(sameAsBaseline === undefined ? [] : [`- Output of this build and ${o.baselineLabel} (1 and ${fmt(raw.length)} incidents): ${sameAsBaseline ? 'byte-identical' : 'DIFFERENT'}.`]),
    ];
    const method =
      `Method: ${fmt(raw.length)} incidents from the engine bench's generator (seed ${SEED}, other record types skipped), ${fmt(inputMiB, 1)} MiB of JSON in a file; ` +
      `each process is spawned with \`${process.execPath.split('/').pop() ?? 'node'} dist/src/cli.js …\`, stdin from the file and stdout to a file (${fmt(outputMiB, 1)} MiB, ${fmt(check.deadlines)} deadlines for ${fmt(raw.length)} incidents), ` +
      `and timed from spawn to exit with performance.now(); medians of ${o.runs} runs, commands${o.baseline ? ', builds' : ''} and the reference alternating. ` +
      `The reference (bench/reference.ts, warmed up on 200 records) computes only the due dates, in this process; the command also validates, explains and prints every deadline.` +
      (o.baseline ? ` Baseline (${o.baselineLabel}): the same command built from that commit, run the same way.` : '');
    const body = [
      '## CLI start-up and `fristvagt deadlines` as a whole process',
      '',
      `- Date: ${new Date().toISOString()}`,
      `- Machine: ${machineDescription()}`,
      `- Load average (1 / 5 / 15 min) at start: ${loadStart.map((l) => fmt(l, 1)).join(' / ')}; at end: ${loadEnd.map((l) => fmt(l, 1)).join(' / ')}`,
      '',
      table,
      '',
      ...verdicts,
      '',
      method,
    ].join('\n');
    writeSection(join(root, 'bench/RESULTS.md'), 'cli', body);
    process.stdout.write(`${body}\n`);
    if (check.mismatches.length > 0) {
      process.stderr.write(`\n${fmt(check.mismatches.length)} MISMATCHES, first ones:\n${check.mismatches.slice(0, 10).join('\n')}\n`);
      process.exitCode = 1;
    }
    if (sameAsBaseline === false) {
      process.stderr.write('\nthe output differs from the baseline build\n');
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench/cli: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
