/**
 * `fristvagt import <file>`: bulk import of one record type from CSV or JSON Lines, through the
 * record service's batched create; the created records are planned in batches (planRecords) as
 * the import goes, and the command ends once they are (`--no-plan` leaves planning to the worker).
 * `--historical` loads closed history for statistics: every row must be closed, nothing is mailed.
 */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { config } from './config.js';
import { formatFromPath, importFile, ImportFileError, isRecordType, RECORD_TYPES, type ImportProgress, type Rejection } from '../records/import.js';
import { openConfiguredDatabase, serviceContext } from '../runtime.js';
import { planRecords, type RecordRef } from '../worker/planner.js';
import { loadWorkerSettings } from '../worker/settings.js';
import { UsageError } from './io.js';

export interface ProgressOutput {
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  write(text: string): unknown;
}

/**
 * A bar redrawn in place on a terminal (at most ten times a second); on anything else a plain line
 * at every tenth of the file, which reads well in a CI log. Rejections go to the same stream. With
 * `planning`, the bar also counts the records planned, and once the file is written a second bar
 * (or a line per tenth) follows the planning to its end.
 */
export function progressReporter(out: ProgressOutput, totalBytes: number, opts: { planning?: boolean } = {}): { progress(p: ImportProgress): void; reject(r: Rejection): void; done(p: ImportProgress): void } {
  const tty = out.isTTY === true;
  const planning = opts.planning === true;
  let lastDraw = 0;
  let lastTenth = 0;
  let lastPlanTenth = 0;
  let drawn = false;
  const started = Date.now();
  let planStarted: number | undefined;
  const n = (x: number): string => x.toLocaleString('en');
  const pct = (bytes: number): number => (totalBytes > 0 ? Math.min(100, Math.floor((bytes / totalBytes) * 100)) : 100);
  const planPct = (p: ImportProgress): number => (p.created > 0 ? Math.min(100, Math.floor(((p.planned ?? 0) / p.created) * 100)) : 100);
  const counts = (p: ImportProgress): string => `${n(p.read)} rows read, ${n(p.created)} created, ${n(p.unchanged)} unchanged, ${n(p.rejected)} rejected${planning ? `, ${n(p.planned ?? 0)} planned` : ''}`;
  const rateSince = (from: number, count: number): number => {
    const secs = (Date.now() - from) / 1000;
    return secs > 0 ? Math.round(count / secs) : 0;
  };
  const fit = (line: string): string => {
    // A pseudo-terminal may report 0 columns.
    const columns = out.columns !== undefined && out.columns > 0 ? out.columns : 120;
    return line.slice(0, Math.max(20, columns - 1));
  };
  const gauge = (percent: number): string => {
    const width = 24;
    const filled = Math.round((percent / 100) * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}%`;
  };
  const bar = (p: ImportProgress): string => fit(`${gauge(pct(p.bytes))} ${counts(p)} (${n(rateSince(started, p.read))} rows/s)`);
  const planBar = (p: ImportProgress): string => fit(`planning ${gauge(planPct(p))} ${n(p.planned ?? 0)} of ${n(p.created)} created records planned (${n(rateSince(planStarted ?? started, p.planned ?? 0))} records/s)`);
  const clear = (): void => {
    if (tty && drawn) out.write('\r\x1b[K');
    drawn = false;
  };
  const enterPlanning = (p: ImportProgress): void => {
    if (planStarted !== undefined) return;
    planStarted = Date.now();
    // The file is written: its bar stays as the line above the planning's.
    if (tty) {
      clear();
      out.write(`${bar({ ...p, bytes: totalBytes })}\n`);
    } else {
      out.write(`import: 100% of the file, ${counts(p)}\n`);
    }
  };
  return {
    progress(p) {
      const inPlanning = planning && p.phase === 'planning';
      if (inPlanning) enterPlanning(p);
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100) return;
        lastDraw = now;
        out.write(`\r\x1b[K${inPlanning ? planBar(p) : bar(p)}`);
        drawn = true;
        return;
      }
      if (inPlanning) {
        const tenth = Math.floor(planPct(p) / 10);
        if (tenth > lastPlanTenth && tenth < 10) {
          lastPlanTenth = tenth;
          out.write(`import: planned ${tenth * 10}% of the created records (${n(p.planned ?? 0)} of ${n(p.created)})\n`);
        }
        return;
      }
      const tenth = Math.floor(pct(p.bytes) / 10);
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        out.write(`import: ${tenth * 10}% of the file, ${counts(p)}\n`);
      }
    },
    reject(r) {
      clear();
      const what = r.issues.map((i) => (i.field ? `${i.field}: ${i.reason}` : i.reason)).join('; ');
      out.write(`line ${r.line}: ${what}\n`);
    },
    done(p) {
      if (planning) {
        enterPlanning(p);
        clear();
        out.write(tty ? `${planBar(p)}\n` : `import: ${n(p.planned ?? 0)} of ${n(p.created)} created records planned\n`);
        return;
      }
      if (tty) {
        clear();
        out.write(`${bar({ ...p, bytes: totalBytes })}\n`);
      } else {
        out.write(`import: 100% of the file, ${counts(p)}\n`);
      }
    },
  };
}

export async function importCommand(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { type: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' }, 'no-plan': { type: 'boolean' }, historical: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const { values, positionals } = parsed;
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('import: give exactly one file (import <file.csv|file.jsonl> [--type TYPE] [--dry-run] [--no-plan] [--historical])');
  const type = values['type'];
  if (type !== undefined && !isRecordType(type)) throw new UsageError(`--type: must be one of ${RECORD_TYPES.join(', ')}`);
  const format = formatFromPath(file);
  if (!format) throw new UsageError(`${file}: unknown format; the file name must end in .csv, .jsonl or .ndjson`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file}: no such file`);
  const batchSize = values['batch-size'] === undefined ? 500 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) throw new UsageError('--batch-size: a whole number from 1 to 5000');

  const cfg = config();
  const database = await openConfiguredDatabase(cfg);
  const dryRun = values['dry-run'] === true;
  const planning = !dryRun && values['no-plan'] !== true;
  const reporter = progressReporter(process.stderr, statSync(file).size, { planning });
  try {
    const ctx = serviceContext(database, cfg);
    // The import plans what it created, in batches, and returns once all of it is planned.
    const settings = planning ? await loadWorkerSettings(database.db) : undefined;
    const plan = settings ? (refs: RecordRef[]) => planRecords(database.db, { closureDays: ctx.closureDays, now: ctx.clock(), settings }, refs) : undefined;
    const summary = await importFile(ctx, file, {
      format,
      type,
      dryRun,
      historical: values['historical'] === true,
      batchSize,
      plan,
      actor: 'cli-import',
      onProgress: reporter.progress,
      onReject: reporter.reject,
    });
    reporter.done(summary);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (summary.rejected > 0) throw new UsageError(`${summary.rejected} of ${summary.read} rows rejected (listed above); the other rows were ${summary.dryRun ? 'checked, nothing was written (--dry-run)' : 'imported'}`);
    return '';
  } catch (err) {
    if (err instanceof ImportFileError) throw new UsageError(`${file}: ${err.message}; nothing was imported`, { cause: err });
    throw err;
  } finally {
    await database.close();
  }
}
