/** `fristvagt retention [--dry-run]`: anonymise closed records past the retention period (FRISTVAGT_RETENTION_YEARS). */
import { parseArgs } from 'node:util';
import { config } from './config.js';
import { anonymiseExpired } from '../records/retention.js';
import { formatIsoDate, localDayOfInstant } from '../domain/index.js';
import { openConfiguredDatabase } from '../runtime.js';
import { UsageError } from './io.js';

export async function retentionCommand(argv: string[]): Promise<string> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean' } }, strict: true }));
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
  const cfg = config();
  const database = await openConfiguredDatabase(cfg);
  try {
    const now = new Date();
    const dryRun = values['dry-run'] === true;
    const result = await anonymiseExpired(database.db, { now, years: cfg.FRISTVAGT_RETENTION_YEARS, actor: 'cli', dryRun });
    // Ids, journal numbers and dates only: the listing must not become a list of names.
    return JSON.stringify({
      dryRun,
      years: cfg.FRISTVAGT_RETENTION_YEARS,
      closedBefore: result.cutoff.toISOString(),
      [dryRun ? 'wouldAnonymise' : 'anonymised']: result.records.length,
      records: result.records.map((r) => ({ type: r.type, id: r.id, journalNumber: r.journalNumber, closedOn: formatIsoDate(localDayOfInstant(r.closedAt.getTime())) })),
    }, null, 2);
  } finally {
    await database.close();
  }
}
