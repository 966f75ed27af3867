/**
 * Listing materialised deadlines. The status is judged at query time (a stored `open` becomes
 * `breached` when its day is over, without waiting for the next recomputation).
 */
import { and, asc, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { formatLocalInstant, RULE_IDS, scrubCpr } from '../domain/index.js';
import { deadlines } from '../db/schema.js';
import { validationError } from './errors.js';
import { dateString, slug } from './values.js';
import { mayseeCpr, scopedInstitutions, zodIssues, type Actor, type ServiceContext } from './service.js';

export const deadlineQuery = z.strictObject({
  area: slug.optional(),
  institution: slug.optional(),
  rule: z.string().refine((r) => RULE_IDS.includes(r), 'unknown rule id').optional(),
  status: z.enum(['open', 'met', 'met_late', 'breached']).optional(),
  recordType: z.enum(['incident', 'security_cell_placement', 'force_use', 'action_plan']).optional(),
  dueBefore: dateString.optional(),
  dueAfter: dateString.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type DeadlineQuery = z.output<typeof deadlineQuery>;

/** Status as of `now`: completion, or the end by a reclassification, decides; otherwise the due instant, except for rights and suspended deadlines. */
export function effectiveStatus(now: Date): SQL<string> {
  // An explicit cast: postgres.js sends a JS Date as text and Postgres cannot infer it inside CASE.
  const at = sql`${now.toISOString()}::timestamptz`;
  return sql<string>`(CASE
    WHEN ${deadlines.completedAt} IS NOT NULL OR ${deadlines.endedBy} IS NOT NULL THEN ${deadlines.status}::text
    WHEN ${deadlines.suspended} THEN 'open'
    WHEN ${deadlines.dueAt} < ${at} AND ${deadlines.obligation} = 'right' THEN 'met'
    WHEN ${deadlines.dueAt} < ${at} THEN 'breached'
    ELSE 'open' END)`;
}

export async function listDeadlines(ctx: ServiceContext, actor: Actor, rawQuery: unknown) {
  const parsed = deadlineQuery.safeParse(rawQuery ?? {});
  if (!parsed.success) throw validationError(zodIssues(parsed.error));
  const q = parsed.data;
  const now = ctx.clock();
  const status = effectiveStatus(now);
  const where: SQL[] = [eq(deadlines.active, true)];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: q.area, institutionId: q.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  if (q.rule) where.push(eq(deadlines.ruleId, q.rule));
  if (q.recordType) where.push(eq(deadlines.recordType, q.recordType));
  if (q.dueBefore) where.push(lte(deadlines.dueDate, q.dueBefore));
  if (q.dueAfter) where.push(gte(deadlines.dueDate, q.dueAfter));
  if (q.status) where.push(sql`${status} = ${q.status}`);
  const cond = and(...where);
  const [count] = await ctx.db.select({ n: sql<number>`count(*)::int` }).from(deadlines).where(cond);
  const rows = await ctx.db
    .select({
      id: deadlines.id, rule: deadlines.ruleId, key: deadlines.key, recordType: deadlines.recordType, recordId: deadlines.recordId,
      institutionId: deadlines.institutionId, areaId: deadlines.areaId, basis: deadlines.basis, obligation: deadlines.obligation,
      citation: deadlines.citation, explanation: deadlines.explanation, startDate: deadlines.startDate, dueDate: deadlines.dueDate, dueAt: deadlines.dueAt,
      originalDueDate: deadlines.originalDueDate, suspended: deadlines.suspended, completedAt: deadlines.completedAt, endedBy: deadlines.endedBy, endedAt: deadlines.endedAt, status,
    })
    .from(deadlines)
    .where(cond)
    .orderBy(asc(deadlines.dueAt), asc(deadlines.id))
    .limit(q.limit)
    .offset(q.offset);
  // A stored explanation quotes the record's free text (a postponement's reason).
  const explain = mayseeCpr(actor) ? (s: string) => s : scrubCpr;
  return {
    items: rows.map((r) => ({ ...r, explanation: explain(r.explanation), dueAt: formatLocalInstant(r.dueAt.getTime()), completedAt: r.completedAt ? formatLocalInstant(r.completedAt.getTime()) : null, endedAt: r.endedAt ? formatLocalInstant(r.endedAt.getTime()) : null })),
    total: count?.n ?? 0,
    limit: q.limit,
    offset: q.offset,
  };
}
