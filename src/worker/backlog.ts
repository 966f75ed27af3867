/**
 * The backlog (README "Go-live"): deadlines already breached when their record arrived, and
 * immediate alerts too old to send then. The planner lists them in `backlog_items` (src/domain/plan.ts
 * decides, src/worker/planner.ts writes) and plans one `backlog_summaries` row per area office and
 * listing day; the summary is sent once through the outbox like the § 22 overview (outbox.ts:
 * scheduled → sending → sent with a deterministic Message-ID). The UI's /backlog page reads the
 * same list (`loadBacklog`).
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { formatDanishDate, localDayOfInstant, longDate, parseIsoDate, ruleById } from '../domain/index.js';
import type { Db, Executor } from '../db/client.js';
import { areas, backlogItems, backlogSummaries, deadlines } from '../db/schema.js';
import { renderTemplate } from '../mail/render.js';
import { MailError } from '../mail/transport.js';
import { KINDS, type RecordTypeName } from '../records/kinds.js';
import { messageIdFor, sendFromOutbox, type OutboxKind, type SendDeps, type SendOutcome } from './outbox.js';
import { dueRows, ownRowClaim, recoverStale } from './outbox-table.js';

export interface BacklogEntry {
  recordType: RecordTypeName;
  recordId: string;
  collection: string;
  journalNumber: string;
  kind: 'deadline' | 'alert';
  rule: string;
  areaId: string;
  institutionId: string;
  dueDate: string;
  /** Whole days from the due day (an alert: its trigger's day) to today, Copenhagen time. */
  daysOverdue: number;
  listedDay: string;
  /** The deadline's status now (open, breached, met, met_late); null for an alert. */
  status: string | null;
  /** Met since it was listed (or the deadline no longer applies): nothing left to do. */
  done: boolean;
}

/** The backlog of some areas (undefined: all), newest listing first, then by due date; `listedDay` narrows it to one day's summary. */
export async function loadBacklog(db: Executor, filter: { areaIds?: readonly string[] | undefined; institutionIds?: readonly string[] | undefined; listedDay?: string; limit?: number }, now: Date): Promise<BacklogEntry[]> {
  if (filter.areaIds?.length === 0 || filter.institutionIds?.length === 0) return [];
  const conditions = [
    filter.areaIds === undefined ? undefined : inArray(backlogItems.areaId, [...filter.areaIds]),
    filter.institutionIds === undefined ? undefined : inArray(backlogItems.institutionId, [...filter.institutionIds]),
    filter.listedDay === undefined ? undefined : eq(backlogItems.listedDay, filter.listedDay),
  ].filter((c) => c !== undefined);
  const rows = await db
    .select({ item: backlogItems, status: deadlines.status, completedAt: deadlines.completedAt, active: deadlines.active })
    .from(backlogItems)
    .leftJoin(deadlines, and(eq(deadlines.recordType, backlogItems.recordType), eq(deadlines.recordId, backlogItems.recordId), eq(deadlines.key, backlogItems.itemKey)))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(sql`${backlogItems.listedDay} desc`, asc(backlogItems.dueDate), asc(backlogItems.journalNumber))
    .limit(filter.limit ?? 100_000);
  const today = localDayOfInstant(now.getTime());
  return rows.map(({ item, status, completedAt, active }) => ({
    recordType: item.recordType,
    recordId: item.recordId,
    collection: KINDS[item.recordType].collection,
    journalNumber: item.journalNumber,
    kind: item.kind as 'deadline' | 'alert',
    rule: item.ruleId,
    areaId: item.areaId,
    institutionId: item.institutionId,
    dueDate: item.dueDate,
    daysOverdue: Math.max(0, today - (parseIsoDate(item.dueDate) as number)),
    listedDay: item.listedDay,
    status: item.kind === 'alert' ? null : status,
    done: item.kind === 'deadline' && (completedAt !== null || active === false || status === null),
  }));
}

/** Lines of the summary's table at most; the rest is counted and left to the UI's list. */
export const SUMMARY_LINES = 150;

/** The summary's table: journal number, rule, due date, days overdue (no names, no CPR: journal numbers are never CPR-shaped). */
export function summaryTable(entries: readonly BacklogEntry[]): string {
  const head = ['Journalnr.', 'Frist / varsel', 'Forfald', 'Dage over'];
  const body = entries.slice(0, SUMMARY_LINES).map((e) => [e.journalNumber, `${ruleById(e.rule)?.title.da ?? e.rule}${e.kind === 'alert' ? ' (ikke sendt)' : ''}`, formatDanishDate(parseIsoDate(e.dueDate) as number), String(e.daysOverdue)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const lines = [head, ...body].map((cols) => cols.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  if (entries.length > SUMMARY_LINES) lines.push(`… og ${entries.length - SUMMARY_LINES} flere: se restancelisten i fristvagt.`);
  return lines.join('\n');
}

/** Summaries due by `until` that still wait to be sent: the sweep puts them into the queue. */
export const dueBacklogSummaries = (db: Db, until: Date) => dueRows(db, backlogSummaries, until);

/** Hands back summaries whose sender crashed between claim and mark. */
export const recoverBacklogSummaries = (db: Db, now: Date, staleMs: number) => recoverStale(db, backlogSummaries, now, staleMs);

export function backlogSummaryMessageId(id: string, from: string): string {
  return messageIdFor('backlog-summary', id, from);
}

type SummaryRow = typeof backlogSummaries.$inferSelect;

/** The summary as a kind of the outbox: one row per claim, one mail per area office and day. */
const summaryKind: OutboxKind<SummaryRow> = {
  table: backlogSummaries,
  label: 'backlog summary',
  logKey: 'summaryId',
  ...ownRowClaim(backlogSummaries),
  async compose(deps, [claimed], now) {
    if (!claimed) return [];
    const [area] = await deps.db.select().from(areas).where(eq(areas.id, claimed.areaId));
    if (!area) return [{ fault: [claimed], lead: claimed, err: new MailError('MAIL_PERMANENT', 'area gone') }];
    // What is still to be done: an item met since it was listed is left out; nothing left, no mail.
    const open = (await loadBacklog(deps.db, { areaIds: [area.id], listedDay: claimed.listedDay }, now)).filter((e) => !e.done);
    if (open.length === 0) return [{ cancel: [claimed], reason: 'nothing of the backlog is left to do' }];
    const day = parseIsoDate(claimed.listedDay) as number;
    const mail = renderTemplate('backlog-summary', {
      areaName: area.name,
      count: String(open.length),
      dayDa: longDate(day, 'da'),
      table: summaryTable(open),
      recencyDays: String((await deps.settings()).recency.workingDays),
      link: `${deps.publicUrl.replace(/\/$/, '')}/backlog`,
    });
    deps.logger.info({ summaryId: claimed.id, areaId: area.id, items: open.length }, 'backlog summary composed');
    return [{ send: { rows: [claimed], lead: claimed, mail, to: [claimed.recipient], messageId: backlogSummaryMessageId(claimed.id, deps.from) } }];
  },
};

/** Sends summary `summaryId` through the outbox; returns what became of it, or throws SendDeferred when it has to wait. */
export async function sendBacklogSummary(deps: SendDeps, summaryId: string): Promise<SendOutcome> {
  return sendFromOutbox(summaryKind, deps, summaryId);
}
