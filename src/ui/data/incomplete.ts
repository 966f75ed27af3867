/**
 * The overview's "incomplete records": open records the engine reports as `incomplete` (data
 * missing, so a deadline cannot be computed or rests on an assumption). Kept cheap for a page
 * that refreshes every 30 s: SQL picks the few candidates, the engine decides for each.
 */
import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Lang, RecordFinding } from '../../domain/index.js';
import { actionPlans, institutions } from '../../db/schema.js';
import { loadRulesInForce } from '../../records/calendar.js';
import { KINDS, type RecordTypeName } from '../../records/kinds.js';
import { computeForRecord, scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';

export interface IncompleteRecord {
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionId: string;
  findings: RecordFinding[];
}

/** At most this many are listed; the count is always whole. */
export const INCOMPLETE_SHOWN = 50;

/**
 * Candidates: the engine's `incomplete` findings today come from action plans of convicted clients
 * only (plan.municipality-coordination without possibleParoleDate, plan.evaluate without
 * expectedReleaseDate). The filter may let through more than the engine reports, never less; the
 * UI tests hold it to the engine for every client category.
 */
export function incompleteCandidates(): SQL {
  return and(
    isNull(actionPlans.closedAt),
    sql`${actionPlans.clientCategory} = 'convicted_from_liberty'`,
    or(isNull(actionPlans.possibleParoleDate), isNull(actionPlans.expectedReleaseDate)),
  ) as SQL;
}

export async function loadIncomplete(ctx: ServiceContext, actor: Actor, filter: { area?: string | undefined; institution?: string | undefined }, lang: Lang): Promise<{ total: number; items: IncompleteRecord[] }> {
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: filter.area, institutionId: filter.institution });
  if (allowed !== undefined && allowed.length === 0) return { total: 0, items: [] };
  const where = allowed === undefined ? incompleteCandidates() : and(incompleteCandidates(), inArray(actionPlans.institutionId, allowed));
  const found = await ctx.db.select({ id: actionPlans.id, areaId: institutions.areaId }).from(actionPlans).innerJoin(institutions, eq(institutions.id, actionPlans.institutionId)).where(where);
  if (found.length === 0) return { total: 0, items: [] };
  const ids = found.map((r) => r.id);
  const areaOf = new Map(found.map((r) => [r.id, r.areaId]));
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  const kind = KINDS['action_plan'];
  const now = ctx.clock();
  const items: IncompleteRecord[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    for (const row of await kind.load(ctx.db, ids.slice(i, i + 500))) {
      let findings: RecordFinding[];
      try {
        findings = computeForRecord(kind, row, areaOf.get(row.id) ?? '', rules, now, lang).incomplete;
      } catch {
        continue; // a row the engine refuses has no deadlines to be incomplete about
      }
      const r = row as { id: string; journalNumber: string; institutionId: string };
      if (findings.length > 0) items.push({ recordType: 'action_plan', recordId: r.id, journalNumber: r.journalNumber, institutionId: r.institutionId, findings });
    }
  }
  items.sort((a, b) => a.journalNumber.localeCompare(b.journalNumber, 'da', { numeric: true }));
  return { total: items.length, items: items.slice(0, INCOMPLETE_SHOWN) };
}
