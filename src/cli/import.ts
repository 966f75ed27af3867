/** `fristvagt import <file>`: bulk import of one record type from CSV or JSON Lines. */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { formatFromPath, importFile, ImportFileError, isRecordType, RECORD_TYPES, type ImportProgress, type Rejection } from '../records/import.js';
import { openConfiguredDatabase, serviceContext } from '../runtime.js';
import { UsageError } from './io.js';

function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

export interface ProgressOutput {
  isTTY?: boolean | undefined;
  columns?: number | undefined;
  write(text: string): unknown;
}

/**
 * A bar redrawn in place on a terminal (at most ten times a second); on anything else a plain line
 * at every tenth of the file, which reads well in a CI log. Rejections go to the same stream.
 */
export function progressReporter(out: ProgressOutput, totalBytes: number): { progress(p: ImportProgress): void; reject(r: Rejection): void; done(p: ImportProgress): void } {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  let lastTenth = 0;
  let drawn = false;
  const started = Date.now();
  const pct = (bytes: number): number => (totalBytes > 0 ? Math.min(100, Math.floor((bytes / totalBytes) * 100)) : 100);
  const counts = (p: ImportProgress): string => `${p.read.toLocaleString('en')} rows read, ${p.created.toLocaleString('en')} created, ${p.unchanged.toLocaleString('en')} unchanged, ${p.rejected.toLocaleString('en')} rejected`;
  const bar = (p: ImportProgress): string => {
    const percent = pct(p.bytes);
    const width = 24;
    const filled = Math.round((percent / 100) * width);
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(p.read / secs) : 0;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${counts(p)} (${rate.toLocaleString('en')} rows/s)`;
    // A pseudo-terminal may report 0 columns.
    const columns = out.columns !== undefined && out.columns > 0 ? out.columns : 120;
    return line.slice(0, Math.max(20, columns - 1));
  };
  const clear = (): void => {
    if (tty && drawn) out.write('\r\x1b[K');
    drawn = false;
  };
  return {
    progress(p) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 100) return;
        lastDraw = now;
        out.write(`\r\x1b[K${bar(p)}`);
        drawn = true;
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
    parsed = parseArgs({ args: argv, options: { type: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const { values, positionals } = parsed;
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('import: give exactly one file (import <file.csv|file.jsonl> [--type TYPE] [--dry-run])');
  const type = values['type'];
  if (type !== undefined && !isRecordType(type)) throw new UsageError(`--type: must be one of ${RECORD_TYPES.join(', ')}`);
  const format = formatFromPath(file);
  if (!format) throw new UsageError(`${file}: unknown format; the file name must end in .csv, .jsonl or .ndjson`);
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${file}: no such file`);
  const batchSize = values['batch-size'] === undefined ? 500 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) throw new UsageError('--batch-size: a whole number from 1 to 5000');

  const cfg = config();
  const database = await openConfiguredDatabase(cfg);
  const reporter = progressReporter(process.stderr, statSync(file).size);
  try {
    const summary = await importFile(serviceContext(database, cfg), file, {
      format,
      type,
      dryRun: values['dry-run'] === true,
      batchSize,
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
