import { loadConfig } from '../src/config.js';
import { parsePayload } from '../src/queue/registry.js';
import { anonymiseExpired } from '../src/records/retention.js';
import type { Processor } from './types.js';

/** The daily retention run: ids and counts only in the job's result, never a name. */
export const retentionRun: Processor = async (job, deps) => {
  parsePayload('retention.run', job.data);
  // The worker validated the same environment at start-up, so this cannot fail here.
  const { FRISTVAGT_RETENTION_YEARS } = loadConfig();
  const result = await anonymiseExpired(deps.send.db, { now: deps.send.clock(), years: FRISTVAGT_RETENTION_YEARS, actor: 'worker' });
  deps.send.logger.info({ anonymised: result.records.length, cutoff: result.cutoff.toISOString() }, 'retention run');
  return { anonymised: result.records.length, cutoff: result.cutoff.toISOString(), ids: result.records.map((r) => r.id) };
};
