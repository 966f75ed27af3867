/**
 * Bulk registration from the work queue (issue 13): several duties recorded as done at one time,
 * each through `recordEvent` (the one write path: validation, the engine, re-materialised
 * deadlines, audit), all in one transaction: one refusal and nothing is written, and the error
 * names the case.
 *
 * Only where it is safe (docs/ARCHITECTURE.md "The work queue"): a duty whose completion is a
 * date and nothing else, one event per deadline, that neither closes nor reclassifies the case
 * nor changes who is told. Steps with a reason or a choice (a delay, a postponement, a review, an
 * owner, the § 8 note), documents of their own (the preliminary notice, the final report, the
 * closing letter, the use-of-force report, the plan itself) and closing a case stay one case at a time.
 */
import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db/client.js';
import { deadlines } from '../db/schema.js';
import { ServiceError, validationError, type FieldIssue } from './errors.js';
import { journalNumbersOf } from './escalations.js';
import type { RecordTypeName } from './kinds.js';
import { parseBody, recordEvent, type Actor, type ServiceContext } from './service.js';
import { whenString } from './values.js';

/** Rule → the completion event that records its duty done, for the rules bulk registration offers. */
export const BULK_SAFE: Readonly<Record<string, string>> = {
  'cell.follow-up-conversation': 'follow_up_held',
  'incident.inmate-conversation': 'inmate_conversation_held',
  'incident.closing-letter-copy': 'closing_letter_copy_sent',
  'plan.elaborate': 'elaborated',
  'plan.evaluate': 'evaluated',
  'plan.municipality-coordination': 'municipality_contacted',
};

export const BULK_MAX = 100;

export const bulkCompleteBody = z.strictObject({
  deadlineIds: z.array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a deadline id')).min(1, 'choose at least one deadline').max(BULK_MAX),
  at: whenString.optional(),
});

/** A refusal of one case in the batch: which case, and the service's own issues. */
export interface BulkIssue extends FieldIssue {
  journalNumber: string;
  rule: string;
  /** Why: not a deadline, not a step registered in bulk, already done, or refused by the record's own checks. */
  reason: 'unknown' | 'not_bulk' | 'done' | 'refused';
  /** The record's field the refusal names ('' when none), and the service's message about it. */
  field: string;
  detail: string;
}

export class BulkRefused extends ServiceError {
  readonly cases: BulkIssue[];
  constructor(cases: BulkIssue[], cause: ServiceError) {
    const first = cases[0];
    super(cause.code, `${first?.journalNumber ?? '?'}: ${cause.message}`, { issues: cases.map((c) => ({ path: c.path, message: `${c.journalNumber}: ${c.message}` })), cause });
    this.name = 'BulkRefused';
    this.cases = cases;
  }
}

/**
 * Records the selected deadlines as done at `at` (default now): every case or none. Returns the
 * records written (for re-planning).
 */
export async function completeInBulk(ctx: ServiceContext, actor: Actor, body: unknown): Promise<Array<{ type: RecordTypeName; id: string }>> {
  if (actor.role === 'reader') throw new ServiceError('FORBIDDEN', 'reader tokens may not write');
  const input = parseBody(bulkCompleteBody, body);
  const ids = [...new Set(input.deadlineIds)];
  const rows = await ctx.db.select({ id: deadlines.id, recordType: deadlines.recordType, recordId: deadlines.recordId, rule: deadlines.ruleId, completedAt: deadlines.completedAt, endedBy: deadlines.endedBy, active: deadlines.active }).from(deadlines).where(inArray(deadlines.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const journals = await journalNumbersOf(ctx.db, rows);
  const refused: BulkIssue[] = [];
  ids.forEach((id, i) => {
    const r = byId.get(id);
    const path = `deadlineIds.${i}`;
    const refuse = (journalNumber: string, rule: string, reason: BulkIssue['reason'], detail: string): number => refused.push({ path, journalNumber, rule, reason, field: '', detail, message: detail });
    if (!r) refuse('?', '', 'unknown', `no deadline ${id}`);
    else if (!Object.hasOwn(BULK_SAFE, r.rule)) refuse(journals.get(r.recordId) ?? '?', r.rule, 'not_bulk', `${r.rule} is not registered in bulk; open the case`);
    else if (!r.active || r.completedAt || r.endedBy) refuse(journals.get(r.recordId) ?? '?', r.rule, 'done', 'is already done');
  });
  if (refused.length > 0) throw new BulkRefused(refused, validationError(refused));
  const items = ids.map((id) => byId.get(id) as (typeof rows)[number]);
  await ctx.db.transaction(async (tx) => {
    const inTx: ServiceContext = { ...ctx, db: tx as Db };
    for (const [i, r] of items.entries()) {
      try {
        await recordEvent(inTx, r.recordType, r.recordId, { type: BULK_SAFE[r.rule], ...(input.at ? { at: input.at } : {}) }, actor, { requestTarget: 'bulk' });
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        const journalNumber = journals.get(r.recordId) ?? '?';
        const issues = err.issues.length > 0 ? err.issues : [{ path: '', message: err.message }];
        throw new BulkRefused(issues.map((x) => ({ path: `deadlineIds.${i}${x.path ? `.${x.path}` : ''}`, journalNumber, rule: r.rule, reason: 'refused', field: x.path, detail: x.message, message: x.path ? `${x.path}: ${x.message}` : x.message })), err);
      }
    }
  });
  const seen = new Set<string>();
  return items.filter((r) => !seen.has(r.recordId) && seen.add(r.recordId)).map((r) => ({ type: r.recordType, id: r.recordId }));
}
