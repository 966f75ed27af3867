/**
 * The § 22 annual overview: planned by the sweep leader in January (one row per area and year in
 * `annual_overviews`), then sent once, with the same claim protocol as notifications
 * (scheduled → sending → sent with a deterministic Message-ID). The counting is in the domain.
 */
import { and, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
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
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import { MailError } from '../mail/transport.js';
import { loadRulesInForce } from '../records/calendar.js';
import { safeText } from '../safe-error.js';
import { circuitWait, classifyFault, deferWhileCircuitOpen, isFinal, notBefore, retryDbWrite, SendDeferred } from './delivery.js';
import { DEFAULT_RETRY_DELAY_MS, retryWrite, type SendDeps, type SendOutcome } from './send.js';

/** Creates the overview rows of the year before for every area (idempotent); returns how many are new. */
export async function planAnnualOverviews(deps: SendDeps, now: Date): Promise<number> {
  const rules = await loadRulesInForce(deps.db, deps.closureDays);
  const { schedule, recipients } = await deps.settings();
  const areaRows = await deps.db.select({ id: areas.id }).from(areas);
  // Each area under its own policy (policyByArea may move its due date).
  const values = areaRows.flatMap((a) => {
    const plan = annualOverviewPlan(now.getTime(), rules.calendar, schedule.window, rules.policyFor(a.id));
    return plan ? [{ areaId: a.id, year: plan.year, recipient: recipients.directorate, plannedAt: new Date(plan.plannedAt) }] : [];
  });
  if (values.length === 0) return 0;
  const inserted = await deps.db.insert(annualOverviews).values(values).onConflictDoNothing().returning({ id: annualOverviews.id });
  return inserted.length;
}

/** Overviews due by `until` that still wait to be sent: the sweep puts them into the queue. */
export async function dueAnnualOverviews(db: Db, until: Date): Promise<Array<{ id: string; plannedAt: Date; attempts: number; lastError: string | null; updatedAt: Date }>> {
  return db.select({ id: annualOverviews.id, plannedAt: annualOverviews.plannedAt, attempts: annualOverviews.attempts, lastError: annualOverviews.lastError, updatedAt: annualOverviews.updatedAt }).from(annualOverviews).where(and(eq(annualOverviews.status, 'scheduled'), lte(annualOverviews.plannedAt, until)));
}

/** Hands back overviews whose sender crashed between claim and mark. */
export async function recoverAnnualOverviews(db: Db, now: Date, staleMs: number): Promise<number> {
  const rows = await db
    .update(annualOverviews)
    .set({ status: 'scheduled', lastError: 'recovered after an interrupted send', updatedAt: now })
    .where(and(eq(annualOverviews.status, 'sending'), lt(annualOverviews.claimedAt, new Date(now.getTime() - staleMs))))
    .returning({ id: annualOverviews.id });
  return rows.length;
}

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
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'fristvagt.invalid';
  return `<annual-overview-${id}@${domain}>`;
}

export async function sendAnnualOverview(deps: SendDeps, overviewId: string): Promise<SendOutcome> {
  deferWhileCircuitOpen(deps.mailer, overviewId);
  const now = deps.clock();
  const [claimed] = await deps.db
    .update(annualOverviews)
    .set({ status: 'sending', claimedAt: now, attempts: sql`${annualOverviews.attempts} + 1`, updatedAt: now })
    .where(and(eq(annualOverviews.id, overviewId), eq(annualOverviews.status, 'scheduled'), lte(annualOverviews.plannedAt, now)))
    .returning();
  if (!claimed) {
    const [row] = await deps.db.select({ status: annualOverviews.status }).from(annualOverviews).where(eq(annualOverviews.id, overviewId));
    return row?.status === 'scheduled' ? 'not-due' : 'not-claimable';
  }
  const mine = and(eq(annualOverviews.id, claimed.id), eq(annualOverviews.status, 'sending'), eq(annualOverviews.attempts, claimed.attempts));
  let officeCopySentAt: Date | null = claimed.officeCopySentAt;
  /** Permanent: failed (logged as an error); otherwise back to `scheduled`, remembering an office copy that did go out, and the job waits. */
  const settle = async (err: unknown): Promise<SendOutcome> => {
    const fault = classifyFault(err);
    const at = deps.clock();
    if (fault.kind === 'unavailable') {
      await retryDbWrite(() => deps.db.update(annualOverviews).set({ status: 'scheduled', attempts: sql`greatest(${annualOverviews.attempts} - 1, 0)`, officeCopySentAt, updatedAt: at }).where(mine));
      throw new SendDeferred(circuitWait(fault.retryAt ?? Date.now(), claimed.id), fault.reason);
    }
    if (isFinal(fault, claimed.attempts)) {
      await retryDbWrite(() => deps.db.update(annualOverviews).set({ status: 'failed', lastError: fault.reason, officeCopySentAt, updatedAt: at }).where(mine));
      deps.logger.error({ overviewId: claimed.id, areaId: claimed.areaId, reason: safeText(fault.reason) }, 'annual overview failed for good');
      return 'failed';
    }
    await retryDbWrite(() => deps.db.update(annualOverviews).set({ status: 'scheduled', lastError: fault.reason, officeCopySentAt, updatedAt: at }).where(mine));
    const delayMs = notBefore({ id: claimed.id, plannedAt: claimed.plannedAt, attempts: claimed.attempts, lastError: fault.reason, updatedAt: at }, deps.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) - at.getTime();
    deps.logger.info({ overviewId: claimed.id, areaId: claimed.areaId, reason: safeText(fault.reason), retryInMs: delayMs }, 'annual overview deferred after a transient failure');
    throw new SendDeferred(delayMs, fault.reason);
  };

  let composed: { area: typeof areas.$inferSelect; mail: RenderedMail; csvName: string; csv: string; due: number; total: number };
  try {
    const [area] = await deps.db.select().from(areas).where(eq(areas.id, claimed.areaId));
    if (!area) {
      await retryDbWrite(() => deps.db.update(annualOverviews).set({ status: 'failed', lastError: 'area gone', updatedAt: deps.clock() }).where(mine));
      return 'failed';
    }
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
    composed = { area, mail, csvName, csv: annualOverviewCsv(summary), due, total: summary.total };
  } catch (err) {
    return settle(err);
  }
  const { area, mail, csvName, due } = composed;
  const messageId = overviewMessageId(claimed.id, deps.from);
  // The area office gets a copy: it owns the duty, fristvagt only composes and sends the overview
  // for it. Once the office has accepted its copy, a retry for the directorate leaves it out.
  const copyOffice = claimed.officeCopySentAt === null && area.officeEmail !== claimed.recipient;
  const to = copyOffice ? [claimed.recipient, area.officeEmail] : [claimed.recipient];
  try {
    const res = await deps.mailer.send({ messageId, from: deps.from, to, ...mail, attachments: [{ filename: csvName, content: composed.csv, contentType: 'text/csv; charset=utf-8' }] });
    if (copyOffice && res.accepted.includes(area.officeEmail)) officeCopySentAt = deps.clock();
    else if (copyOffice) deps.logger.warn({ overviewId: claimed.id, areaId: area.id }, "the area office's copy of the annual overview was refused");
    if (!res.accepted.includes(claimed.recipient)) {
      // nodemailer does not throw when only some recipients are refused: the directorate's own reply code decides.
      const code = res.rejectedCodes?.[claimed.recipient];
      const kind = code !== undefined && code < 500 ? 'MAIL_TRANSIENT' : 'MAIL_PERMANENT';
      throw new MailError(kind, `rejected${code === undefined ? '' : ` (SMTP ${code})`}: ${claimed.recipient}`, { responseCode: code });
    }
  } catch (err) {
    return settle(err);
  }
  // Accepted: a failure to record it must not send the overview again (same reasoning as markSent).
  await retryWrite(() => deps.db.update(annualOverviews).set({ status: 'sent', messageId, sentAt: deps.clock(), officeCopySentAt, lastError: null, updatedAt: deps.clock() }).where(mine), `annual overview ${messageId} was accepted by the SMTP server but could not be recorded as sent`);
  deps.logger.info({ overviewId: claimed.id, areaId: area.id, year: claimed.year, incidents: composed.total, on: longDate(due, 'en') }, 'annual overview sent');
  return 'sent';
}
