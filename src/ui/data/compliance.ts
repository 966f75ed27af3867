/**
 * Compliance figures: per area, institution, rule and month (the calendar month of the local due
 * date, Europe/Copenhagen), how many duties were met on time, met late, breached or are still open —
 * judged as of now, like the API's deadline list. The inmate's complaint window is a right, not a
 * duty, and is left out.
 *
 * One SQL expression (`outcomeOf`) sorts a deadline into its outcome, and one set of conditions
 * (`complianceConditions`: period, rule, the actor's scope) selects the deadlines: the figures, the
 * list of cases behind a figure and the monthly trend all use both, so a list always holds exactly
 * the deadlines its number counts.
 */
import { and, asc, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { civilFromDays, daysInMonth, localDayOfInstant, percentOf, type Lang } from '../../domain/index.js';
import { deadlines } from '../../db/schema.js';
import type { FieldIssue } from '../../records/errors.js';
import type { RecordTypeName } from '../../records/kinds.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import { scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';
import { COMPLIANCE_RULE_IDS } from '../../records/settings.js';
import { parseFormMonth, ruleTitle } from '../format.js';
import { recordInfo } from './records.js';

export interface ComplianceFilter {
  area?: string | undefined;
  institution?: string | undefined;
  rule?: string | undefined;
  from: string;
  to: string;
}

export interface Counts {
  met: number;
  metLate: number;
  breached: number;
  open: number;
}

export type Segment = keyof Counts;
export const SEGMENTS: readonly Segment[] = ['met', 'metLate', 'breached', 'open'];

/** The outcomes as the API's deadline statuses name them (and the drill-through's `outcome` parameter). */
export const OUTCOMES = ['met', 'met_late', 'breached', 'open'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const OUTCOME_OF: Record<Segment, Outcome> = { met: 'met', metLate: 'met_late', breached: 'breached', open: 'open' };

export interface ComplianceRow extends Counts {
  areaId: string;
  areaName: string;
  institutionId: string;
  institutionName: string;
  ruleId: string;
  ruleTitle: string;
  month: string;
}

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function currentMonth(now: Date): string {
  const c = civilFromDays(localDayOfInstant(now.getTime()));
  return `${c.year}-${String(c.month).padStart(2, '0')}`;
}

function shiftMonth(month: string, n: number): string {
  const m = MONTH.exec(month);
  if (!m) return month;
  const idx = Number(m[1]) * 12 + Number(m[2]) - 1 + n;
  return `${Math.floor(idx / 12)}-${String((idx % 12) + 1).padStart(2, '0')}`;
}

/** Every month from `from` to `to`, both included (at most 10 years). */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let m = from; m <= to && out.length < 120; m = shiftMonth(m, 1)) out.push(m);
  return out;
}

/** Query → filter; bad values are named (the default range is the last 12 months). */
export function parseComplianceFilter(q: Record<string, string>, now: Date): { filter: ComplianceFilter; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  // The form shows months the Danish way (mm.åååå); links and the CSV carry YYYY-MM.
  const month = (v: string | undefined): string | undefined => (v === undefined ? undefined : (parseFormMonth(v) ?? v));
  const to = month(q['to']) ?? currentMonth(now);
  const from = month(q['from']) ?? shiftMonth(to, -11);
  if (!MONTH.test(from)) issues.push({ path: 'from', message: 'not a month (YYYY-MM)' });
  if (!MONTH.test(to)) issues.push({ path: 'to', message: 'not a month (YYYY-MM)' });
  if (MONTH.test(from) && MONTH.test(to) && from > to) issues.push({ path: 'from', message: 'is after to' });
  if (MONTH.test(from) && MONTH.test(to) && monthsBetween(from, to).at(-1) !== to) issues.push({ path: 'from', message: 'the period is longer than 10 years' });
  for (const k of ['area', 'institution'] as const) if (q[k] !== undefined && !SLUG.test(q[k])) issues.push({ path: k, message: 'must be lower-case letters, digits and dashes' });
  if (q['rule'] !== undefined && !COMPLIANCE_RULE_IDS.includes(q['rule'])) issues.push({ path: 'rule', message: 'unknown rule id (or not a duty with a deadline)' });
  return { filter: { area: q['area'], institution: q['institution'], rule: q['rule'], from, to }, issues };
}

/**
 * A deadline's outcome as of `now`: completed (on time or late, as the engine judged the met date
 * against the due date), breached (not done, not postponed, due instant passed) or open. NULL for
 * a completed deadline with neither completed status, which no figure counts.
 */
function outcomeOf(now: Date): SQL<string | null> {
  const at = sql`${now.toISOString()}::timestamptz`;
  return sql<string | null>`(CASE
    WHEN ${deadlines.completedAt} IS NOT NULL AND ${deadlines.status} = 'met' THEN 'met'
    WHEN ${deadlines.completedAt} IS NOT NULL AND ${deadlines.status} = 'met_late' THEN 'met_late'
    WHEN ${deadlines.completedAt} IS NOT NULL THEN NULL
    WHEN NOT ${deadlines.suspended} AND ${deadlines.dueAt} < ${at} THEN 'breached'
    ELSE 'open' END)`;
}

/** The deadlines a figure counts: active duties due in the period, of the rule, in the actor's scope (and the filter's area/institution). */
async function complianceConditions(ctx: ServiceContext, actor: Actor, f: ComplianceFilter, outcome: SQL): Promise<SQL[]> {
  const [ty, tm] = f.to.split('-').map(Number) as [number, number];
  const where: SQL[] = [eq(deadlines.active, true), eq(deadlines.obligation, 'duty'), gte(deadlines.dueDate, `${f.from}-01`), lte(deadlines.dueDate, `${f.to}-${String(daysInMonth(ty, tm)).padStart(2, '0')}`), sql`${outcome} IS NOT NULL`];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: f.area, institutionId: f.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  if (f.rule) where.push(eq(deadlines.ruleId, f.rule));
  return where;
}

function countColumns(outcome: SQL) {
  const n = (o: Outcome) => sql<number>`(count(*) FILTER (WHERE ${outcome} = ${o}))::int`;
  return { met: n('met'), metLate: n('met_late'), breached: n('breached'), open: n('open') };
}

async function names(ctx: ServiceContext, actor: Actor): Promise<{ areas: Map<string, string>; insts: Map<string, string> }> {
  const areas = new Map((await listAreas(ctx)).map((a) => [a.id, a.name]));
  const insts = new Map((await listInstitutions(ctx, { ...actor, role: 'reader' })).map((i) => [i.id, i.name]));
  return { areas, insts };
}

export async function loadCompliance(ctx: ServiceContext, actor: Actor, f: ComplianceFilter, lang: Lang): Promise<ComplianceRow[]> {
  const outcome = outcomeOf(ctx.clock());
  const month = sql<string>`to_char(${deadlines.dueDate}, 'YYYY-MM')`;
  const rows = await ctx.db
    .select({ areaId: deadlines.areaId, institutionId: deadlines.institutionId, ruleId: deadlines.ruleId, month, ...countColumns(outcome) })
    .from(deadlines)
    .where(and(...(await complianceConditions(ctx, actor, f, outcome))))
    .groupBy(deadlines.areaId, deadlines.institutionId, deadlines.ruleId, month);
  const { areas, insts } = await names(ctx, actor);
  return rows
    .map((r) => ({ ...r, areaName: areas.get(r.areaId) ?? r.areaId, institutionName: insts.get(r.institutionId) ?? r.institutionId, ruleTitle: ruleTitle(r.ruleId, lang) }))
    .sort((a, b) => a.areaName.localeCompare(b.areaName, 'da') || a.institutionName.localeCompare(b.institutionName, 'da') || a.ruleTitle.localeCompare(b.ruleTitle, 'da') || a.month.localeCompare(b.month));
}

export interface ComplianceCase {
  id: string;
  ruleId: string;
  ruleTitle: string;
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionName: string;
  dueDate: string;
  completedAt: Date | null;
  suspended: boolean;
  outcome: Outcome;
}

export interface ComplianceCases {
  /** How many deadlines of each outcome the selection holds (the figures' numbers). */
  counts: Counts;
  /** How many the chosen outcome (or all outcomes) holds: the length of the whole list. */
  total: number;
  items: ComplianceCase[];
}

/** A drill-through's choice: one outcome, the decided ones (all but open: the trend's denominator), or all (undefined). */
export type CaseChoice = Outcome | 'decided';
export const CASE_CHOICES: readonly CaseChoice[] = [...OUTCOMES, 'decided'];

/** The deadlines behind a figure: the same conditions and outcome as loadCompliance, one page of them by due date. */
export async function loadComplianceCases(ctx: ServiceContext, actor: Actor, f: ComplianceFilter, only: CaseChoice | undefined, lang: Lang, pageOf: { limit: number; offset: number }): Promise<ComplianceCases> {
  const outcome = outcomeOf(ctx.clock());
  const where = await complianceConditions(ctx, actor, f, outcome);
  const [counts = { met: 0, metLate: 0, breached: 0, open: 0 }] = await ctx.db.select(countColumns(outcome)).from(deadlines).where(and(...where));
  const cond = only === 'decided' ? and(...where, sql`${outcome} <> 'open'`) : only ? and(...where, sql`${outcome} = ${only}`) : and(...where);
  const rows = await ctx.db
    .select({ id: deadlines.id, ruleId: deadlines.ruleId, recordType: deadlines.recordType, recordId: deadlines.recordId, institutionId: deadlines.institutionId, dueDate: deadlines.dueDate, completedAt: deadlines.completedAt, suspended: deadlines.suspended, outcome })
    .from(deadlines)
    .where(cond)
    .orderBy(asc(deadlines.dueDate), asc(deadlines.dueAt), asc(deadlines.id))
    .limit(pageOf.limit)
    .offset(pageOf.offset);
  const info = await recordInfo(ctx.db, rows.map((r) => ({ recordType: r.recordType, recordId: r.recordId })));
  const { insts } = await names(ctx, actor);
  const items = rows.map((r) => ({
    id: r.id,
    ruleId: r.ruleId,
    ruleTitle: ruleTitle(r.ruleId, lang),
    recordType: r.recordType,
    recordId: r.recordId,
    journalNumber: info.get(r.recordId)?.journalNumber ?? '?',
    institutionName: insts.get(r.institutionId) ?? r.institutionId,
    dueDate: r.dueDate,
    completedAt: r.completedAt,
    suspended: r.suspended,
    outcome: r.outcome as Outcome,
  }));
  const total = only === 'decided' ? decidedOf(counts) : only ? counts[segmentOf(only)] : totalOf(counts);
  return { counts, total, items };
}

export function segmentOf(o: Outcome): Segment {
  return o === 'met_late' ? 'metLate' : o;
}

export function totalOf(c: Counts): number {
  return c.met + c.metLate + c.breached + c.open;
}

/** Deadlines whose outcome is settled (met on time, met late or breached): what an on-time share is taken of. */
export function decidedOf(c: Counts): number {
  return c.met + c.metLate + c.breached;
}

export function aggregate(rows: ComplianceRow[], key: (r: ComplianceRow) => string, label: (r: ComplianceRow) => string): Array<Counts & { key: string; label: string }> {
  const out = new Map<string, Counts & { key: string; label: string }>();
  for (const r of rows) {
    const k = key(r);
    const a = out.get(k) ?? { key: k, label: label(r), met: 0, metLate: 0, breached: 0, open: 0 };
    for (const s of SEGMENTS) a[s] += r[s];
    out.set(k, a);
  }
  return [...out.values()];
}

export type TrendBy = 'rule' | 'area' | 'institution';
export const TREND_BY: readonly TrendBy[] = ['rule', 'area', 'institution'];

export interface TrendPoint extends Counts {
  month: string;
  decided: number;
  /** Met on time, in percent of the decided deadlines (one decimal); undefined when none was decided. */
  share: number | undefined;
}

export interface TrendSeries {
  key: string;
  label: string;
  /** The rule's target (percent), when the series is one rule's and a target is set. */
  target: number | undefined;
  points: TrendPoint[];
}

/**
 * The monthly trend per rule, area or institution: for every month of the period, of the deadlines
 * due that month whose outcome is settled, the share met on time. The target is the rule's (per
 * rule, or for every series when the filter picks one rule).
 */
export function trendSeries(rows: ComplianceRow[], f: ComplianceFilter, by: TrendBy, targets: Readonly<Record<string, number>>): TrendSeries[] {
  const months = monthsBetween(f.from, f.to);
  const keyOf = (r: ComplianceRow) => (by === 'rule' ? r.ruleId : by === 'area' ? r.areaId : r.institutionId);
  const labelOf = (r: ComplianceRow) => (by === 'rule' ? r.ruleTitle : by === 'area' ? r.areaName : r.institutionName);
  const groups = new Map<string, { label: string; byMonth: Map<string, Counts> }>();
  for (const r of rows) {
    const g = groups.get(keyOf(r)) ?? { label: labelOf(r), byMonth: new Map<string, Counts>() };
    const c = g.byMonth.get(r.month) ?? { met: 0, metLate: 0, breached: 0, open: 0 };
    for (const s of SEGMENTS) c[s] += r[s];
    g.byMonth.set(r.month, c);
    groups.set(keyOf(r), g);
  }
  return [...groups.entries()]
    .map(([key, g]) => ({
      key,
      label: g.label,
      target: by === 'rule' ? targets[key] : f.rule ? targets[f.rule] : undefined,
      points: months.map((month) => {
        const c = g.byMonth.get(month) ?? { met: 0, metLate: 0, breached: 0, open: 0 };
        const decided = decidedOf(c);
        return { month, ...c, decided, share: decided > 0 ? percentOf(c.met, decided) : undefined };
      }),
    }))
    .sort((a, b) => a.label.localeCompare(b.label, 'da'));
}
