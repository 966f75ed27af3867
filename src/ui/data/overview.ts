/**
 * The overview's figures: per area and institution, how many duties are breached, due today and
 * due within the next 3 working days (by the engine's calendar in force). The list of duties not
 * yet done is the work queue (queue.ts).
 */
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { formatIsoDate, localDayOfInstant } from '../../domain/index.js';
import { deadlines } from '../../db/schema.js';
import { loadRulesInForce } from '../../records/calendar.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import { scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';

export const SOON_WORKING_DAYS = 3;

export interface OverviewFilter {
  area?: string | undefined;
  institution?: string | undefined;
}

export interface CountRow {
  areaId: string;
  areaName: string;
  institutionId: string;
  institutionName: string;
  breached: number;
  dueToday: number;
  dueSoon: number;
}

export interface Overview {
  today: string;
  soonUntil: string;
  counts: CountRow[];
}

export async function loadOverview(ctx: ServiceContext, actor: Actor, f: OverviewFilter): Promise<Overview> {
  const now = ctx.clock();
  const rules = await loadRulesInForce(ctx.db, ctx.closureDays);
  const todayDay = localDayOfInstant(now.getTime());
  const today = formatIsoDate(todayDay);
  const soonUntil = formatIsoDate(rules.calendar.addWorkingDaysEpoch(todayDay, SOON_WORKING_DAYS));

  // The same "status as of now" as listDeadlines: a stored `open` whose day is over is breached.
  // A deadline ended by a reclassification is history (compliance counts it), nothing anyone can still do.
  const at = sql`${now.toISOString()}::timestamptz`;
  const pending = sql`${deadlines.completedAt} IS NULL AND NOT ${deadlines.suspended} AND ${deadlines.endedBy} IS NULL`;
  const where: SQL[] = [eq(deadlines.active, true), eq(deadlines.obligation, 'duty')];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: f.area, institutionId: f.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  const grouped = await ctx.db
    .select({
      areaId: deadlines.areaId,
      institutionId: deadlines.institutionId,
      breached: sql<number>`(count(*) FILTER (WHERE ${pending} AND ${deadlines.dueAt} < ${at}))::int`,
      dueToday: sql<number>`(count(*) FILTER (WHERE ${pending} AND ${deadlines.dueDate} = ${today} AND ${deadlines.dueAt} >= ${at}))::int`,
      dueSoon: sql<number>`(count(*) FILTER (WHERE ${pending} AND ${deadlines.dueDate} > ${today} AND ${deadlines.dueDate} <= ${soonUntil}))::int`,
    })
    .from(deadlines)
    .where(and(...where))
    .groupBy(deadlines.areaId, deadlines.institutionId);

  const areaRows = await listAreas(ctx);
  const areaName = new Map(areaRows.map((a) => [a.id, a.name]));
  const insts = await listInstitutions(ctx, actor);
  const byInst = new Map(grouped.map((g) => [g.institutionId, g]));
  const counts: CountRow[] = insts
    .filter((i) => (!f.area || i.areaId === f.area) && (!f.institution || i.id === f.institution))
    .map((i) => {
      const g = byInst.get(i.id);
      return { areaId: i.areaId, areaName: areaName.get(i.areaId) ?? i.areaId, institutionId: i.id, institutionName: i.name, breached: g?.breached ?? 0, dueToday: g?.dueToday ?? 0, dueSoon: g?.dueSoon ?? 0 };
    })
    .sort((a, b) => a.areaName.localeCompare(b.areaName, 'da') || a.institutionName.localeCompare(b.institutionName, 'da'));

  return { today, soonUntil, counts };
}
