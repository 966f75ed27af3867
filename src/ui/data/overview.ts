/**
 * The overview's figures: per area and institution, how many duties are breached, due today and
 * due within the next 3 working days (by the engine's calendar in force), and the list of
 * deadlines not yet done (through the API's own listDeadlines).
 */
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { formatIsoDate, localDayOfInstant, type Lang } from '../../domain/index.js';
import { deadlines } from '../../db/schema.js';
import { loadRulesInForce } from '../../records/calendar.js';
import { listDeadlines } from '../../records/deadline-list.js';
import type { RecordTypeName } from '../../records/kinds.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import { scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';
import { ruleResponsible, ruleTitle } from '../format.js';
import { recordInfo } from './records.js';

export const SOON_WORKING_DAYS = 3;

export interface OverviewFilter {
  area?: string | undefined;
  institution?: string | undefined;
  rule?: string | undefined;
  recordType?: string | undefined;
  /** uncompleted (default) | breached | open | today | soon */
  status?: string | undefined;
  sort?: string | undefined;
  dir?: string | undefined;
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

export interface OpenDeadline {
  id: string;
  rule: string;
  ruleTitle: string;
  key: string;
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionId: string;
  institutionName: string;
  responsible: string;
  dueDate: string;
  status: string;
  suspended: boolean;
  basis: string;
  citation: string;
}

export interface Overview {
  today: string;
  soonUntil: string;
  counts: CountRow[];
  items: OpenDeadline[];
  total: number;
}

export const SORTS = ['due', 'rule', 'journal', 'responsible', 'status', 'institution'] as const;
const STATUS_ORDER: Record<string, number> = { breached: 0, open: 1, met_late: 2, met: 3 };

export async function loadOverview(ctx: ServiceContext, actor: Actor, f: OverviewFilter, lang: Lang): Promise<Overview> {
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

  // The list: deadlines not yet done, through the API's listDeadlines (same scope and status rules).
  const base: Record<string, unknown> = { limit: 500 };
  if (f.area) base['area'] = f.area;
  if (f.institution) base['institution'] = f.institution;
  if (f.rule) base['rule'] = f.rule;
  if (f.recordType) base['recordType'] = f.recordType;
  const queries: Array<Record<string, unknown>> = [];
  switch (f.status) {
    case 'breached': queries.push({ ...base, status: 'breached' }); break;
    case 'open': queries.push({ ...base, status: 'open' }); break;
    case 'today': queries.push({ ...base, status: 'open', dueAfter: today, dueBefore: today }); break;
    case 'soon': queries.push({ ...base, status: 'open', dueAfter: formatIsoDate(todayDay + 1), dueBefore: soonUntil }); break;
    default: queries.push({ ...base, status: 'breached' }, { ...base, status: 'open' });
  }
  let total = 0;
  const raw: Array<Awaited<ReturnType<typeof listDeadlines>>['items'][number]> = [];
  for (const q of queries) {
    const res = await listDeadlines(ctx, actor, q);
    total += res.total;
    raw.push(...res.items);
  }
  // Rights (the inmate's complaint window) are not something staff must do, nor is a deadline a reclassification ended.
  const duties = raw.filter((d) => d.obligation === 'duty' && !d.endedBy && (f.status !== 'today' && f.status !== 'soon' ? true : !d.suspended));
  const info = await recordInfo(ctx.db, duties.map((d) => ({ recordType: d.recordType, recordId: d.recordId })));
  const instName = new Map(insts.map((i) => [i.id, i.name]));
  const items: OpenDeadline[] = duties.map((d) => {
    const r = info.get(d.recordId);
    return {
      id: d.id,
      rule: d.rule,
      ruleTitle: ruleTitle(d.rule, lang),
      key: d.key,
      recordType: d.recordType,
      recordId: d.recordId,
      journalNumber: r?.journalNumber ?? '?',
      institutionId: d.institutionId,
      institutionName: instName.get(d.institutionId) ?? d.institutionId,
      responsible: r?.ownerName ?? ruleResponsible(d.rule, lang),
      dueDate: d.dueDate,
      status: d.status,
      suspended: d.suspended,
      basis: d.basis,
      citation: d.citation,
    };
  });
  total -= raw.length - duties.length;
  sortItems(items, f.sort, f.dir);
  return { today, soonUntil, counts, items, total };
}

export function sortItems(items: OpenDeadline[], sort: string | undefined, dir: string | undefined): void {
  const sign = dir === 'desc' ? -1 : 1;
  const key = (SORTS as readonly string[]).includes(sort ?? '') ? sort : 'due';
  const cmp = (a: OpenDeadline, b: OpenDeadline): number => {
    switch (key) {
      case 'rule': return a.ruleTitle.localeCompare(b.ruleTitle, 'da');
      case 'journal': return a.journalNumber.localeCompare(b.journalNumber, 'da', { numeric: true });
      case 'responsible': return a.responsible.localeCompare(b.responsible, 'da');
      case 'status': return (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9);
      case 'institution': return a.institutionName.localeCompare(b.institutionName, 'da');
      default: return 0;
    }
  };
  items.sort((a, b) => sign * cmp(a, b) || sign * a.dueDate.localeCompare(b.dueDate) || a.journalNumber.localeCompare(b.journalNumber, 'da', { numeric: true }));
}
