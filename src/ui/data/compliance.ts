/**
 * Compliance figures: per area, institution, rule and month (the month a deadline falls due), how
 * many duties were met on time, met late, breached or are still open — judged as of now, like the
 * API's deadline list. The inmate's complaint window is a right, not a duty, and is left out.
 */
import { and, eq, gte, inArray, lte, sql, type SQL } from 'drizzle-orm';
import { civilFromDays, daysInMonth, localDayOfInstant, type Lang } from '../../domain/index.js';
import { deadlines } from '../../db/schema.js';
import type { FieldIssue } from '../../records/errors.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import { scopedInstitutions, type Actor, type ServiceContext } from '../../records/service.js';
import { parseFormMonth, ruleTitle } from '../format.js';

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
  for (const k of ['area', 'institution'] as const) if (q[k] !== undefined && !SLUG.test(q[k])) issues.push({ path: k, message: 'must be lower-case letters, digits and dashes' });
  if (q['rule'] !== undefined && !/^[a-z.-]{1,80}$/.test(q['rule'])) issues.push({ path: 'rule', message: 'unknown rule id' });
  return { filter: { area: q['area'], institution: q['institution'], rule: q['rule'], from, to }, issues };
}

export async function loadCompliance(ctx: ServiceContext, actor: Actor, f: ComplianceFilter, lang: Lang): Promise<ComplianceRow[]> {
  const now = ctx.clock();
  const at = sql`${now.toISOString()}::timestamptz`;
  const [ty, tm] = f.to.split('-').map(Number) as [number, number];
  const where: SQL[] = [eq(deadlines.active, true), eq(deadlines.obligation, 'duty'), gte(deadlines.dueDate, `${f.from}-01`), lte(deadlines.dueDate, `${f.to}-${String(daysInMonth(ty, tm)).padStart(2, '0')}`)];
  const allowed = await scopedInstitutions(ctx.db, actor, { areaId: f.area, institutionId: f.institution });
  if (allowed) where.push(allowed.length > 0 ? inArray(deadlines.institutionId, allowed) : sql`false`);
  if (f.rule) where.push(eq(deadlines.ruleId, f.rule));
  const month = sql<string>`to_char(${deadlines.dueDate}, 'YYYY-MM')`;
  const rows = await ctx.db
    .select({
      areaId: deadlines.areaId,
      institutionId: deadlines.institutionId,
      ruleId: deadlines.ruleId,
      month,
      met: sql<number>`(count(*) FILTER (WHERE ${deadlines.completedAt} IS NOT NULL AND ${deadlines.status} = 'met'))::int`,
      metLate: sql<number>`(count(*) FILTER (WHERE ${deadlines.completedAt} IS NOT NULL AND ${deadlines.status} = 'met_late'))::int`,
      breached: sql<number>`(count(*) FILTER (WHERE ${deadlines.completedAt} IS NULL AND NOT ${deadlines.suspended} AND ${deadlines.dueAt} < ${at}))::int`,
      open: sql<number>`(count(*) FILTER (WHERE ${deadlines.completedAt} IS NULL AND (${deadlines.suspended} OR ${deadlines.dueAt} >= ${at})))::int`,
    })
    .from(deadlines)
    .where(and(...where))
    .groupBy(deadlines.areaId, deadlines.institutionId, deadlines.ruleId, month);
  const areas = new Map((await listAreas(ctx)).map((a) => [a.id, a.name]));
  const insts = new Map((await listInstitutions(ctx, { ...actor, role: 'reader' })).map((i) => [i.id, i.name]));
  return rows
    .map((r) => ({ ...r, areaName: areas.get(r.areaId) ?? r.areaId, institutionName: insts.get(r.institutionId) ?? r.institutionId, ruleTitle: ruleTitle(r.ruleId, lang) }))
    .sort((a, b) => a.areaName.localeCompare(b.areaName, 'da') || a.institutionName.localeCompare(b.institutionName, 'da') || a.ruleTitle.localeCompare(b.ruleTitle, 'da') || a.month.localeCompare(b.month));
}

export function totalOf(c: Counts): number {
  return c.met + c.metLate + c.breached + c.open;
}

export function aggregate(rows: ComplianceRow[], key: (r: ComplianceRow) => string, label: (r: ComplianceRow) => string): Array<Counts & { key: string; label: string }> {
  const out = new Map<string, Counts & { key: string; label: string }>();
  for (const r of rows) {
    const k = key(r);
    const a = out.get(k) ?? { key: k, label: label(r), met: 0, metLate: 0, breached: 0, open: 0 };
    a.met += r.met;
    a.metLate += r.metLate;
    a.breached += r.breached;
    a.open += r.open;
    out.set(k, a);
  }
  return [...out.values()];
}

function share(n: number, total: number): string {
  return total === 0 ? '0.0' : ((100 * n) / total).toFixed(1);
}

/** RFC 4180 quoting; a leading = + - @ is defused so a spreadsheet never runs a cell as a formula. */
function csvCell(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = ['area_id', 'area', 'institution_id', 'institution', 'rule_id', 'rule', 'month', 'total', 'met_on_time', 'met_late', 'breached', 'open', 'pct_met_on_time', 'pct_met_late', 'pct_breached', 'pct_open'];

export function toCsv(rows: ComplianceRow[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const r of rows) {
    const total = totalOf(r);
    lines.push([r.areaId, r.areaName, r.institutionId, r.institutionName, r.ruleId, r.ruleTitle, r.month, total, r.met, r.metLate, r.breached, r.open, share(r.met, total), share(r.metLate, total), share(r.breached, total), share(r.open, total)].map(csvCell).join(','));
  }
  // The byte-order mark makes spreadsheet programs read the file as UTF-8 (æ, ø, å in names).
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

