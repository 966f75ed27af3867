/**
 * The preliminary notice of § 6 stk. 3 / § 13 stk. 2: composed from the record, previewed, sent on
 * approval to the area office, the Ombudsman and the directorate, over a connection where TLS is
 * required. The CPR number goes in the body only. Sending meets the deadline with the send time.
 */
import { and, eq, sql } from 'drizzle-orm';
import { formatCpr, formatLocalInstant, incidentChapter, longDate, parseIsoDate, scrubCpr } from '../domain/index.js';
import type { Db } from '../db/client.js';
import { areas, institutions, notifications } from '../db/schema.js';
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import type { Mailer } from '../mail/transport.js';
import { loadRulesInForce } from '../records/calendar.js';
import { ServiceError, validationError } from '../records/errors.js';
import { KINDS } from '../records/kinds.js';
import { canWrite, computeForRecord, loadOne, recordEvent, type Actor, type ServiceContext } from '../records/service.js';
import { classifyFault, retryDbWrite } from './delivery.js';
import { messageIdFor, retryWrite } from './send.js';
import { loadWorkerSettings } from './settings.js';

const KIND_DA: Record<string, string> = {
  death: 'Dødsfald',
  suicide: 'Selvmord',
  qualified_suicide_attempt: 'Kvalificeret selvmordsforsøg',
  qualified_self_harm: 'Anden kvalificeret selvbeskadigende handling',
};

export interface NoticePreview {
  recipients: string[];
  mail: RenderedMail | null;
  /** Fields the record lacks for a lawful notice; sending is refused while any is missing. */
  missing: string[];
  alreadySentAt: string | null;
}

type IncidentRow = Awaited<ReturnType<typeof loadOne>> & { kind: string; inmateName: string | null; cpr: string | null; description: string | null; occurredAt: Date; journalNumber: string; institutionId: string; preliminaryNoticeSentAt: Date | null };

async function compose(ctx: ServiceContext, id: string, actor: Actor, senderName: string): Promise<NoticePreview & { row: IncidentRow }> {
  const row = (await loadOne(ctx.db, KINDS.incident, id)) as IncidentRow;
  const [inst] = await ctx.db.select().from(institutions).where(eq(institutions.id, row.institutionId));
  const [area] = inst ? await ctx.db.select().from(areas).where(eq(areas.id, inst.areaId)) : [];
  if (!inst || !area) throw new ServiceError('NOT_FOUND', `no institution for incident ${id}`);
  // The notice carries the CPR number: only the roles that file it may see or send it.
  if (!(actor.role === 'area' || actor.role === 'institution') || !canWrite(actor, { institutionId: inst.id, areaId: area.id })) {
    throw new ServiceError('FORBIDDEN', 'only area and institution tokens in scope may preview or send the preliminary notice');
  }
  if (incidentChapter(row.kind as never) === 5) throw validationError([{ path: 'kind', message: 'chapter 5 incidents have no reporting duty (§ 17)' }]);
  const { recipients } = await loadWorkerSettings(ctx.db);
  const to = [area.officeEmail, recipients.ombudsman, recipients.directorate].filter((r): r is string => r !== null);
  const missing: string[] = [];
  // The external recipients are settings an administrator must set: no notice goes without them.
  if (recipients.ombudsman === null) missing.push('recipients.ombudsman');
  if (recipients.directorate === null) missing.push('recipients.directorate');
  if (!row.inmateName) missing.push('inmateName');
  if (!row.cpr) missing.push('cpr');
  if (!row.description || row.description.trim().length < 10) missing.push('description');
  const set = computeForRecord(KINDS.incident, row, area.id, await loadRulesInForce(ctx.db, ctx.closureDays), ctx.clock());
  const notice = set.deadlines.find((d) => d.rule === 'incident.preliminary-notice');
  const final = set.deadlines.find((d) => d.rule === 'incident.final-report');
  const base = { recipients: to, missing, alreadySentAt: row.preliminaryNoticeSentAt ? formatLocalInstant(row.preliminaryNoticeSentAt.getTime()) : null, row };
  if (missing.length > 0 || !notice) return { ...base, mail: null };
  const occurred = formatLocalInstant(row.occurredAt.getTime());
  const mail = renderTemplate('preliminary-notice', {
    citation: notice.citation,
    areaName: area.name,
    institutionName: inst.name,
    inmateName: row.inmateName as string,
    cpr: formatCpr(row.cpr as string),
    kindDa: KIND_DA[row.kind] ?? row.kind,
    occurredAt: `${longDate(parseIsoDate(occurred.slice(0, 10)) as number, 'da')} kl. ${occurred.slice(11, 16)}`,
    description: row.description as string,
    journalNumber: row.journalNumber,
    finalReportDue: final ? longDate(parseIsoDate(final.dueDate) as number, 'da') : '-',
    senderName,
  });
  return { ...base, mail };
}

export async function previewPreliminaryNotice(ctx: ServiceContext, id: string, actor: Actor): Promise<NoticePreview> {
  const { row: _row, ...preview } = await compose(ctx, id, actor, `${actor.name}`);
  return preview;
}

export interface NoticeDeps {
  ctx: ServiceContext;
  db: Db;
  mailer: Mailer;
  from: string;
}

export async function sendPreliminaryNotice(deps: NoticeDeps, id: string, actor: Actor): Promise<{ sentAt: string; messageIds: string[] }> {
  const p = await compose(deps.ctx, id, actor, actor.name);
  if (p.alreadySentAt) throw new ServiceError('CONFLICT', `the preliminary notice was sent already (${p.alreadySentAt})`);
  if (p.missing.length > 0 || !p.mail) {
    throw validationError(p.missing.map((f) => ({ path: f, message: 'is required for the preliminary notice (§ 6 stk. 3)' })));
  }
  // The SMTP server is known to be down (delivery.ts, the breaker in transport.ts): say so before
  // claiming anything, instead of trying and leaving a row behind.
  const until = deps.mailer.unavailableUntil?.();
  if (until !== undefined) throw new ServiceError('CONFLICT', `the SMTP server is unavailable at the moment; nothing was sent: try again in ${Math.ceil((until - Date.now()) / 1000)} s`);
  const now = deps.ctx.clock();
  // The rows are the claim: a second, concurrent approval finds them and sends nothing.
  const claimed = await deps.db.transaction(async (tx) => {
    // Serialises approvals of the same incident; the rows then say who still needs the notice.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`notice:${id}`}))`);
    const existing = await tx.select().from(notifications).where(and(eq(notifications.recordId, id), eq(notifications.stage, 'notice:preliminary')));
    if (existing.some((n) => n.status === 'sending')) return null;
    const rows = [];
    // After a partial failure, a retry sends only to the recipients who did not get it.
    for (const recipient of p.recipients.filter((r) => !existing.some((n) => n.recipient === r && n.status === 'sent'))) {
      const [row] = await tx
        .insert(notifications)
        .values({ recordType: 'incident', recordId: id, stage: 'notice:preliminary', kind: 'alert', template: 'preliminary-notice', recipient, plannedAt: now, status: 'sending', claimedAt: now, attempts: 1 })
        .onConflictDoUpdate({ target: [notifications.recordType, notifications.recordId, notifications.stage, notifications.recipient], set: { status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1` } })
        .returning();
      if (row) rows.push(row);
    }
    return rows;
  });
  if (!claimed) throw new ServiceError('CONFLICT', 'the preliminary notice is being sent already');
  const messageIds: string[] = [];
  for (const n of claimed) {
    const messageId = messageIdFor(n.id, deps.from);
    try {
      await deps.mailer.send({ messageId, from: deps.from, to: [n.recipient], notificationId: n.id, requireTls: true, ...p.mail });
    } catch (err) {
      // The notice is sent on a person's approval: whatever the fault, that person decides on the
      // retry; the shared rule only says whether trying again soon can help.
      const fault = classifyFault(err);
      const advice = fault.kind === 'permanent' ? 'refused for good: check the recipient address' : 'a transient fault: try again shortly';
      // Only the recipients not reached yet: the ones already sent stay sent, so a retry skips them.
      await retryDbWrite(() => deps.db.update(notifications).set({ status: 'failed', lastError: fault.reason }).where(and(eq(notifications.recordId, id), eq(notifications.stage, 'notice:preliminary'), eq(notifications.status, 'sending'))));
      throw new ServiceError('CONFLICT', `the preliminary notice could not be sent to every recipient (${scrubCpr(fault.reason)}; ${advice}); ${messageIds.length} of ${claimed.length} were sent — check the mail log before retrying`, { cause: err });
    }
    // Accepted: recording it is retried, never the send.
    await retryWrite(() => deps.db.update(notifications).set({ status: 'sent', messageId, sentAt: deps.ctx.clock(), updatedAt: deps.ctx.clock() }).where(eq(notifications.id, n.id)), `the preliminary notice to ${n.recipient} was accepted by the SMTP server but could not be recorded as sent`);
    messageIds.push(messageId);
  }
  await recordEvent(deps.ctx, 'incident', id, { type: 'preliminary_notice_sent', at: formatLocalInstant(now.getTime()) }, actor);
  return { sentAt: formatLocalInstant(now.getTime()), messageIds };
}
