/**
 * The § 22 annual overview (Cirkulære om dødsfald m.v.): per area, the reportable incidents of the
 * year before — counts by kind and institution, and how many preliminary notices and final reports
 * were on time — sent to the directorate in January. Pure: the worker loads rows and sends.
 */
import type { Calendar } from './calendar.js';
import { daysFromCivil, formatIsoDate, parseIsoDate, type EpochDay } from './dates.js';
import { computeDeadlinesForRecord, type PolicyOverrides } from './deadlines.js';
import { csvLines, formatPercent } from './figures.js';
import { parseRecord } from './records.js';
import { planStages, type SendWindow } from './schedule.js';
import { localDayOfInstant } from './zone.js';

/** Chapters 3 and 4 of the circular; chapter 5 (other self-harm behaviour) carries no reporting duty. */
export const REPORTABLE_KINDS = ['death', 'suicide', 'qualified_suicide_attempt', 'qualified_self_harm'] as const;
export type ReportableKind = (typeof REPORTABLE_KINDS)[number];

export const KIND_LABEL_DA: Record<ReportableKind, string> = {
  death: 'Dødsfald',
  suicide: 'Selvmord',
  qualified_suicide_attempt: 'Kvalificeret selvmordsforsøg',
  qualified_self_harm: 'Kvalificeret selvskade',
};

/** How early before the due date the overview goes out: late enough for January's reports, early enough to be on time. */
const WORKING_DAYS_BEFORE_DUE = 2;
/** A worker that was down through the whole of January still sends, up to this many days after the due date. */
const LATE_GRACE_DAYS = 31;

export interface AnnualOverviewPlan {
  year: number;
  dueDate: string;
  citation: string;
  /** When to send: 08:00 two working days before the due date, inside the send window. */
  plannedAt: number;
}

/**
 * The overview of which year is to be planned at `now`, and when it goes out; undefined outside
 * the planning period (a new installation in November does not send last year's overview).
 */
export function annualOverviewPlan(nowMs: number, calendar: Calendar, window: SendWindow, policy?: PolicyOverrides): AnnualOverviewPlan | undefined {
  const today = localDayOfInstant(nowMs);
  const year = civilYear(today) - 1;
  const set = computeDeadlinesForRecord(parseRecord({ type: 'annual_overview', year }, nowMs), { now: nowMs, calendar, ...(policy ? { policy } : {}) });
  const d = set.deadlines[0];
  if (!d) return undefined;
  const due = parseIsoDate(d.dueDate) as EpochDay;
  if (today > due + LATE_GRACE_DAYS) return undefined;
  const [stage] = planStages(
    { rule: d.rule, dueDate: d.dueDate, obligation: 'duty', status: 'open' },
    calendar,
    { stages: [{ id: 'send', kind: 'reminder', audience: 'responsible', workingDays: WORKING_DAYS_BEFORE_DUE, at: '08:00' }], window, noWaitRules: [] },
  );
  if (!stage) return undefined;
  return { year, dueDate: d.dueDate, citation: d.citation, plannedAt: stage.plannedAt };
}

function civilYear(day: EpochDay): number {
  return Number(formatIsoDate(day).slice(0, 4));
}

/** The local-time bounds of a calendar year, as instants: incidents are counted by their local date. */
export function yearBounds(year: number): { fromDay: EpochDay; toDay: EpochDay } {
  return { fromDay: daysFromCivil(year, 1, 1), toDay: daysFromCivil(year, 12, 31) };
}

export type DeadlineOutcome = 'met' | 'met_late' | 'breached' | 'open' | 'none';

export interface OverviewIncident {
  institutionName: string;
  kind: string;
  occurredAtMs: number;
  notice: DeadlineOutcome;
  report: DeadlineOutcome;
}

export interface OverviewRow {
  institution: string;
  kind: ReportableKind;
  incidents: number;
  noticeOnTime: number;
  noticeLate: number;
  noticeMissing: number;
  reportOnTime: number;
  reportLate: number;
  reportMissing: number;
}

export interface AnnualOverview {
  year: number;
  rows: OverviewRow[];
  total: number;
  /** Share (0–1) of preliminary notices made on time, of those due; undefined when none was due. */
  noticeOnTimeRate: number | undefined;
  reportOnTimeRate: number | undefined;
}

/** Counts per institution and kind; incidents outside the year or of a non-reportable kind are left out. */
export function summariseAnnualOverview(year: number, incidents: readonly OverviewIncident[]): AnnualOverview {
  const { fromDay, toDay } = yearBounds(year);
  const rows = new Map<string, OverviewRow>();
  let noticeDue = 0;
  let noticeOk = 0;
  let reportDue = 0;
  let reportOk = 0;
  let total = 0;
  for (const i of incidents) {
    const day = localDayOfInstant(i.occurredAtMs);
    if (day < fromDay || day > toDay) continue;
    if (!(REPORTABLE_KINDS as readonly string[]).includes(i.kind)) continue;
    const kind = i.kind as ReportableKind;
    const key = `${i.institutionName}\u0000${kind}`;
    let row = rows.get(key);
    if (!row) {
      row = { institution: i.institutionName, kind, incidents: 0, noticeOnTime: 0, noticeLate: 0, noticeMissing: 0, reportOnTime: 0, reportLate: 0, reportMissing: 0 };
      rows.set(key, row);
    }
    row.incidents++;
    total++;
    if (i.notice !== 'none') {
      noticeDue++;
      if (i.notice === 'met') {
        row.noticeOnTime++;
        noticeOk++;
      } else if (i.notice === 'met_late') row.noticeLate++;
      else row.noticeMissing++;
    }
    if (i.report !== 'none') {
      reportDue++;
      if (i.report === 'met') {
        row.reportOnTime++;
        reportOk++;
      } else if (i.report === 'met_late') row.reportLate++;
      else row.reportMissing++;
    }
  }
  const sorted = [...rows.values()].sort((a, b) => a.institution.localeCompare(b.institution, 'da') || REPORTABLE_KINDS.indexOf(a.kind) - REPORTABLE_KINDS.indexOf(b.kind));
  return { year, rows: sorted, total, noticeOnTimeRate: noticeDue > 0 ? noticeOk / noticeDue : undefined, reportOnTimeRate: reportDue > 0 ? reportOk / reportDue : undefined };
}

const CSV_HEADER = ['institution', 'kind', 'kind_da', 'incidents', 'notice_on_time', 'notice_late', 'notice_missing_or_open', 'report_on_time', 'report_late', 'report_missing_or_open'];

/** RFC 4180 CSV (CRLF), one row per institution and kind, as attached to the mail. */
export function annualOverviewCsv(o: AnnualOverview): string {
  return csvLines([CSV_HEADER, ...o.rows.map((r) => [r.institution, r.kind, KIND_LABEL_DA[r.kind], r.incidents, r.noticeOnTime, r.noticeLate, r.noticeMissing, r.reportOnTime, r.reportLate, r.reportMissing].map(String))], ',');
}

export function formatRate(rate: number | undefined): string {
  return rate === undefined ? 'ingen frister' : formatPercent(rate * 100, 'da');
}
