import { auditHead } from '../src/db/audit.js';
import { parsePayload } from '../src/queue/registry.js';
import { anonymiseExpired } from '../src/records/retention.js';
import type { Processor } from './types.js';

/** The daily retention run: ids and counts only in the job's result, never a name. */
export const retentionRun: Processor = async (job, deps) => {
  parsePayload('retention.run', job.data);
  const result = await anonymiseExpired(deps.send.db, { now: deps.send.clock(), years: deps.retentionYears, actor: 'worker' });
  // The chain's head in the log, once a day: whoever keeps the logs elsewhere can later tell a
  // rewritten chain (someone with the database owner's rights recomputing every hash) from this one.
  const head = await auditHead(deps.send.db);
  deps.send.logger.info({ anonymised: result.records.length, cutoff: result.cutoff.toISOString(), auditHeadId: head?.id ?? 0, auditHeadHash: head?.hash ?? null }, 'retention run');
  return { anonymised: result.records.length, cutoff: result.cutoff.toISOString(), ids: result.records.map((r) => r.id), auditHead: head };
};
