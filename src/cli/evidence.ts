/**
 * `fristvagt evidence verify <pack.zip>`: the offline check of an evidence pack (exit 0 ok, 1 broken,
 * naming each file or audit entry and what differs); loads no database library.
 * `fristvagt evidence export <type> <id> [--out file]`: writes a record's pack as an operator
 * (actor `cli`, role admin), audited like a download.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { PackReport } from '../evidence/verify.js';
import { EXIT_FAILURE, UsageError } from './io.js';

function args(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}

async function verify(argv: string[]): Promise<string> {
  const { values, positionals } = args(argv, { database: { type: 'boolean' } });
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('evidence verify: give one pack file (evidence verify <pack.zip> [--database])');
  let zip: Buffer;
  try {
    zip = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read the pack file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  const { formatReport, verifyPack } = await import('../evidence/verify.js');
  const report = await verifyPack(zip);
  if (!report.ok) process.exitCode = EXIT_FAILURE;
  if (!report.ok || values['database'] !== true) return formatReport(report);
  return `${formatReport(report)}\n${await againstDatabase(report)}`;
}

/** --database: the whole chain verifies, and the pack's entries are the log's (only then is the database opened). */
async function againstDatabase(report: PackReport): Promise<string> {
  const [{ config }, { openConfiguredDatabase }, { checkPackAgainstDatabase }] = await Promise.all([import('./config.js'), import('../runtime.js'), import('../evidence/verify-db.js')]);
  const db = await openConfiguredDatabase(config());
  try {
    const res = await checkPackAgainstDatabase(db.db, report, report.hashes);
    if (!res.ok) {
      process.exitCode = EXIT_FAILURE;
      return `database: the pack does NOT match this database:\n${res.problems.map((p) => `  - ${p}`).join('\n')}`;
    }
    return `database: audit chain ok (${res.checked} entries); the export entry #${report.head?.id ?? '?'} and ${report.entries.length} audit entries of the pack are in the log with the same hashes`;
  } finally {
    await db.close();
  }
}

async function exportPack(argv: string[]): Promise<string> {
  const { values, positionals } = args(argv, { out: { type: 'string' } });
  const [typeArg, id, ...extra] = positionals;
  if (!typeArg || !id || extra.length > 0) throw new UsageError('evidence export: give the record type and id (evidence export <type> <id> [--out file])');
  const [{ KINDS, KIND_BY_COLLECTION }, { config }, { openConfiguredDatabase, serviceContext }, { ServiceError }] = await Promise.all([
    import('../records/kinds.js'),
    import('./config.js'),
    import('../runtime.js'),
    import('../records/errors.js'),
  ]);
  const kind = (Object.hasOwn(KINDS, typeArg) ? KINDS[typeArg as keyof typeof KINDS] : undefined) ?? (Object.hasOwn(KIND_BY_COLLECTION, typeArg) ? KIND_BY_COLLECTION[typeArg] : undefined);
  if (!kind) throw new UsageError(`type: one of ${Object.keys(KINDS).join(', ')}`);
  const cfg = config();
  const db = await openConfiguredDatabase(cfg);
  try {
    const { exportEvidence } = await import('../evidence/pack.js');
    const pack = await exportEvidence(serviceContext(db, cfg), kind.type, id, { id: 'cli', name: 'cli', role: 'admin' }).catch((err: unknown) => {
      if (err instanceof ServiceError && err.code === 'NOT_FOUND') throw new UsageError(`id: no ${kind.type} with this id`, { cause: err });
      throw err;
    });
    const out = typeof values['out'] === 'string' ? values['out'] : pack.fileName;
    await writeFile(out, pack.zip);
    return `wrote ${out} (${pack.zip.length} bytes); export entry #${pack.exportEntry.id}, chain head ${pack.exportEntry.hash}; SHA256SUMS sha256 ${pack.manifestSha256}`;
  } finally {
    await db.close();
  }
}

export async function evidenceCommand(argv: string[]): Promise<string> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verify(rest);
  if (sub === 'export') return exportPack(rest);
  throw new UsageError('evidence: use "evidence verify <pack.zip>" or "evidence export <type> <id> [--out file]"');
}
