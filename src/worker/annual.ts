/**
 * The § 22 annual overview: planned by the sweep leader in January (one row per area and year in
 * `annual_overviews`), then sent once through the outbox like a notification (outbox.ts:
 * scheduled → sending → sent with a deterministic Message-ID). The counting is in the domain.
 */
import { and, eq, gte, inArray, lt } from 'drizzle-orm';
import {
  annualOverviewCsv,
  annualOverviewPlan,
  formatRate,
  KIND_LABEL_DA,
  REPORTABLE_KINDS,
  summariseAnnualOverview,
  type DeadlineOutcome,
  type OverviewIncident,
} from '../domain/annual-overview.js';
import { instantOfLocal, longDate, parseIsoDate, formatDanishDate, weekdayName, daysFromCivil } from '../domain/index.js';
import type { Db } from '../db/client.js';
import { annualOverviews, areas, deadlines, incidents, institutions } from '../db/schema.js';
import { renderTemplate } from '../mail/render.js';
import { MailError } from '../mail/transport.js';
import { loadRulesInForce } from '../records/calendar.js';
import { messageIdFor, sendFromOutbox, type OutboxKind, type SendDeps, type SendOutcome } from './outbox.js';
import { dueRows, ownRowClaim, recoverStale } from './outbox-table.js';

/** Creates the overview rows of the year before for every area (idempotent); returns how many are new. */
export async function planAnnualOverviews(deps: SendDeps, now: Date): Promise<number> {
  const rules = await loadRulesInForce(deps.db, deps.closureDays);
  const { schedule, recipients } = await deps.settings();
  const directorate = recipients.directorate;
  const areaRows = await deps.db.select({ id: areas.id }).from(areas);
  // Each area under its own policy (policyByArea may move its due date).
  const values = areaRows.flatMap((a) => {
    const plan = annualOverviewPlan(now.getTime(), rules.calendar, schedule.window, rules.policyFor(a.id));
    return plan ? [{ areaId: a.id, year: plan.year, plannedAt: new Date(plan.plannedAt) }] : [];
  });
  if (values.length === 0) return 0;
  if (directorate === null) {
    // Nobody to send it to: planned once the directorate's address is set (config check and /readyz report it unset).
    deps.logger.warn({ overviews: values.length }, "annual overview not planned: the directorate's address (setting recipients.directorate) is not set");
    return 0;
  }
  const inserted = await deps.db.insert(annualOverviews).values(values.map((v) => ({ ...v, recipient: directorate }))).onConflictDoNothing().returning({ id: annualOverviews.id });
  return inserted.length;
}

/** Overviews due by `until` that still wait to be sent: the sweep puts them into the queue. */
export const dueAnnualOverviews = (db: Db, until: Date) => dueRows(db, annualOverviews, until);

/** Hands back overviews whose sender crashed between claim and mark. */
export const recoverAnnualOverviews = (db: Db, now: Date, staleMs: number) => recoverStale(db, annualOverviews, now, staleMs);

function outcome(status: string | undefined, completedAt: Date | null | undefined, dueAt: Date | undefined, now: Date): DeadlineOutcome {
  if (status === undefined || dueAt === undefined) return 'none';
  if (completedAt) return status === 'met_late' ? 'met_late' : status === 'breached' ? 'breached' : 'met';
  return dueAt.getTime() < now.getTime() ? 'breached' : 'open';
}

/** Loads the area's incidents of the year with their notice and report deadlines, as of `now`. */
export async function loadOverviewIncidents(db: Db, areaId: string, year: number, now: Date): Promise<OverviewIncident[]> {
  // Local-date bounds: an incident at 00:30 on 1 January (local) belongs to the new year.
  const from = new Date(instantOfLocal(daysFromCivil(year, 1, 1), 0));
  const to = new Date(instantOfLocal(daysFromCivil(year + 1, 1, 1), 0));
  const rows = await db
    .select({ id: incidents.id, kind: incidents.kind, occurredAt: incidents.occurredAt, institutionName: institutions.name })
    .from(incidents)
    .innerJoin(institutions, eq(institutions.id, incidents.institutionId))
    .where(and(eq(institutions.areaId, areaId), gte(incidents.occurredAt, from), lt(incidents.occurredAt, to), inArray(incidents.kind, [...REPORTABLE_KINDS])));
  if (rows.length === 0) return [];
  const dls = await db
    .select({ recordId: deadlines.recordId, ruleId: deadlines.ruleId, status: deadlines.status, completedAt: deadlines.completedAt, dueAt: deadlines.dueAt })
    .from(deadlines)
    .where(and(eq(deadlines.recordType, 'incident'), eq(deadlines.active, true), inArray(deadlines.ruleId, ['incident.preliminary-notice', 'incident.final-report']), inArray(deadlines.recordId, rows.map((r) => r.id))));
  const byRecord = new Map<string, typeof dls>();
  for (const d of dls) byRecord.set(d.recordId, [...(byRecord.get(d.recordId) ?? []), d]);
  return rows.map((r) => {
    const mine = byRecord.get(r.id) ?? [];
    const notice = mine.find((d) => d.ruleId === 'incident.preliminary-notice');
    const report = mine.find((d) => d.ruleId === 'incident.final-report');
    return {
      institutionName: r.institutionName,
      kind: r.kind,
      occurredAtMs: r.occurredAt.getTime(),
      notice: outcome(notice?.status, notice?.completedAt, notice?.dueAt, now),
      report: outcome(report?.status, report?.completedAt, report?.dueAt, now),
    };
  });
}

function textTable(rows: ReturnType<typeof summariseAnnualOverview>['rows']): string {
  if (rows.length === 0) return 'Ingen indberetningspligtige hændelser i året.';
  const head = ['Institution', 'Art', 'Antal', 'Underretning rettidig/for sent/mangler', 'Indberetning rettidig/for sent/mangler'];
  const body = rows.map((r) => [r.institution, KIND_LABEL_DA[r.kind], String(r.incidents), `${r.noticeOnTime}/${r.noticeLate}/${r.noticeMissing}`, `${r.reportOnTime}/${r.reportLate}/${r.reportMissing}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function overviewMessageId(id: string, from: string): string {
  return messageIdFor('annual-overview', id, from);
}

type OverviewRow = typeof annualOverviews.$inferSelect;

/**
 * The overview as a kind of the outbox: one row per claim (no batch: one mail per area a year),
 * no report (the error log is the administrators' signal), and the area office's copy kept
 * through retries in officeCopySentAt.
 */
const overviewKind: OutboxKind<OverviewRow> = {
  table: annualOverviews,
  label: 'annual overview',
  logKey: 'overviewId',
  extraKey: 'officeCopySentAt',
  ...ownRowClaim(annualOverviews),
  async compose(deps, [claimed], now) {
    if (!claimed) return [];
    const [area] = await deps.db.select().from(areas).where(eq(areas.id, claimed.areaId));
    if (!area) return [{ fault: [claimed], lead: claimed, err: new MailError('MAIL_PERMANENT', 'area gone') }];
    const rules = await loadRulesInForce(deps.db, deps.closureDays);
    const plan = annualOverviewPlan(claimed.plannedAt.getTime(), rules.calendar, (await deps.settings()).schedule.window, rules.policyFor(area.id));
    const summary = summariseAnnualOverview(claimed.year, await loadOverviewIncidents(deps.db, area.id, claimed.year, now));
    const csvName = `aarsoversigt-${claimed.year}-${area.id}.csv`;
    const due = plan ? (parseIsoDate(plan.dueDate) as number) : daysFromCivil(claimed.year + 1, 1, 31);
    const mail = renderTemplate('annual-overview', {
      areaName: area.name,
      year: String(claimed.year),
      total: String(summary.total),
      noticeRate: formatRate(summary.noticeOnTimeRate),
      reportRate: formatRate(summary.reportOnTimeRate),
      table: textTable(summary.rows),
      csvName,
      dueWeekday: weekdayName(due, 'da'),
      dueDate: formatDanishDate(due),
      citation: plan?.citation ?? 'Cirkulære om dødsfald m.v. § 22',
      link: deps.publicUrl,
    });
    // The area office gets a copy: it owns the duty, fristvagt only composes and sends the overview
    // for it. Once the office has accepted its copy, a retry for the directorate leaves it out.
    const copyOffice = claimed.officeCopySentAt === null && area.officeEmail !== claimed.recipient;
    deps.logger.info({ overviewId: claimed.id, areaId: area.id, year: claimed.year, incidents: summary.total, on: longDate(due, 'en') }, 'annual overview composed');
    return [
      {
        send: {
          rows: [claimed],
          lead: claimed,
          mail: { ...mail, attachments: [{ filename: csvName, content: annualOverviewCsv(summary), contentType: 'text/csv; charset=utf-8' }] },
          to: copyOffice ? [claimed.recipient, area.officeEmail] : [claimed.recipient],
          messageId: overviewMessageId(claimed.id, deps.from),
          accept(res) {
            if (copyOffice && res.accepted.includes(area.officeEmail)) claimed.officeCopySentAt = deps.clock();
            else if (copyOffice) deps.logger.warn({ overviewId: claimed.id, areaId: area.id }, "the area office's copy of the annual overview was refused");
            if (res.accepted.includes(claimed.recipient)) return;
            // nodemailer does not throw when only some recipients are refused: the directorate's own reply code decides.
            const code = res.rejectedCodes?.[claimed.recipient];
            const kind = code !== undefined && code < 500 ? 'MAIL_TRANSIENT' : 'MAIL_PERMANENT';
            throw new MailError(kind, `rejected${code === undefined ? '' : ` (SMTP ${code})`}: ${claimed.recipient}`, { responseCode: code });
          },
        },
      },
    ];
  },
};

/** Sends overview `overviewId` through the outbox; returns what became of it, or throws SendDeferred when it has to wait. */
export async function sendAnnualOverview(deps: SendDeps, overviewId: string): Promise<SendOutcome> {
  return sendFromOutbox(overviewKind, deps, overviewId);
}
