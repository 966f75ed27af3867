/**
 * The preliminary notice of § 6 stk. 2–3 / § 13: composed from the record, edited and previewed by
 * a person, and sent only on a confirmation that carries the hash of exactly what was previewed,
 * to the area office, the Ombudsman and the directorate, over a connection where TLS is required.
 * The CPR number goes in the body only. Each message is built once (composeMime), sent as those
 * bytes, and archived with its sha256 (notice_archive; the hash also in the audit log). Sending
 * meets the deadline with the send time.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { formatCpr, formatLocalInstant, incidentChapter, longDate, noticeTiming, parseIsoDate, scrubCpr, type FinalReportWording } from '../domain/index.js';
import { appendAudit, canonicalJson } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { areas, institutions, noticeArchive, notifications } from '../db/schema.js';
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import { composeMime, type Mailer } from '../mail/transport.js';
import { loadRulesInForce } from '../records/calendar.js';
import { ServiceError, validationError, type FieldIssue } from '../records/errors.js';
import { KINDS } from '../records/kinds.js';
import { canWrite, computeForRecord, getRecord, loadOne, mayseeCpr, recordEvent, type Actor, type ServiceContext } from '../records/service.js';
import { classifyFault, retryDbWrite } from './delivery.js';
import { messageIdFor, retryWrite } from './send.js';
import { loadWorkerSettings } from './settings.js';

const KIND_DA: Record<string, string> = {
  death: 'Dødsfald',
  suicide: 'Selvmord',
  qualified_suicide_attempt: 'Kvalificeret selvmordsforsøg',
  qualified_self_harm: 'Anden kvalificeret selvbeskadigende handling',
};

/** The parts of the notice a person writes or may rephrase, with their limits (characters). */
export const NOTICE_FIELDS = {
  /** When it happened (§ 6 stk. 3 "hvornår"); prefilled from the record's time. */
  occurredAt: { min: 1, max: 200, multiline: false },
  /** How it happened (§ 6 stk. 3 "hvordan"); prefilled from the record's description. */
  description: { min: 10, max: 4000, multiline: true },
  remarks: { min: 0, max: 2000, multiline: true },
  /** Why the notice is late (only used when it is). */
  lateReason: { min: 0, max: 1000, multiline: true },
  senderName: { min: 1, max: 120, multiline: false },
  senderTitle: { min: 1, max: 120, multiline: false },
} as const;
export type NoticeFieldName = keyof typeof NOTICE_FIELDS;
export type NoticeFields = Record<NoticeFieldName, string>;
export const NOTICE_FIELD_NAMES = Object.keys(NOTICE_FIELDS) as NoticeFieldName[];

/** The fields as a JSON schema source (the OpenAPI document): the same limits parseNoticeFields applies. */
export function noticeFieldsSchema(withHash: boolean): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const name of NOTICE_FIELD_NAMES) {
    const spec = NOTICE_FIELDS[name];
    const s = z.string().min(spec.min).max(spec.max);
    shape[name] = spec.min > 0 ? s : s.optional();
  }
  if (withHash) shape['previewHash'] = z.string().regex(/^[0-9a-f]{64}$/).describe('`hash` of the preview whose text is confirmed');
  return z.strictObject(shape);
}

/** A field's problem, with a rule the UI words in Danish and the API in English. */
export interface NoticeIssue extends FieldIssue {
  rule: 'required' | 'too_short' | 'too_long' | 'not_text' | 'unknown' | 'control';
  limit?: number;
}

const ISSUE_TEXT: Record<NoticeIssue['rule'], (limit?: number) => string> = {
  required: () => 'is required',
  too_short: (n) => `must be at least ${n} characters`,
  too_long: (n) => `must be at most ${n} characters`,
  not_text: () => 'must be a string',
  unknown: () => 'unknown field',
  control: () => 'must not contain control characters',
};

function issue(path: string, rule: NoticeIssue['rule'], limit?: number): NoticeIssue {
  return limit === undefined ? { path, rule, message: ISSUE_TEXT[rule]() } : { path, rule, limit, message: ISSUE_TEXT[rule](limit) };
}

/**
 * Reads the fields from a form or a JSON body (`extra` names the keys allowed besides them): line
 * ends made LF, single-line fields with their whitespace collapsed, everything trimmed.
 */
export function parseNoticeFields(input: unknown, extra: readonly string[] = []): { fields: NoticeFields; issues: NoticeIssue[] } {
  const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const issues: NoticeIssue[] = [];
  const fields = {} as NoticeFields;
  for (const key of Object.keys(body)) if (!(key in NOTICE_FIELDS) && !extra.includes(key)) issues.push(issue(key, 'unknown'));
  for (const name of NOTICE_FIELD_NAMES) {
    const spec = NOTICE_FIELDS[name];
    const raw = body[name] ?? '';
    if (typeof raw !== 'string') {
      issues.push(issue(name, 'not_text'));
      fields[name] = '';
      continue;
    }
    let v = raw.replace(/\r\n?/g, '\n').trim();
    if (!spec.multiline) v = v.replace(/\s+/g, ' ');
    fields[name] = v;
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point.
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(v)) issues.push(issue(name, 'control'));
    else if (v.length === 0 && spec.min > 0) issues.push(issue(name, 'required'));
    else if (v.length < spec.min) issues.push(issue(name, 'too_short', spec.min));
    else if (v.length > spec.max) issues.push(issue(name, 'too_long', spec.max));
  }
  return { fields, issues };
}

export type RecipientRole = 'area_office' | 'ombudsman' | 'directorate';

export interface NoticeDraft {
  recordId: string;
  journalNumber: string;
  /** The three recipients of § 6 stk. 2, in order; an address is null while an administrator has not set it. */
  recipients: Array<{ role: RecipientRole; address: string | null }>;
  /** `recipients.<role>` of each unset address: sending is refused while any is unset. */
  unset: string[];
  /** Record fields a lawful notice needs and the record lacks; sending is refused while any is missing. */
  missing: string[];
  alreadySentAt: string | null;
  /** Sent now, the notice is late (after `noticeDueDate`). */
  late: boolean;
  noticeDueDate: string | null;
  finalReport: FinalReportWording | null;
  /** The fields as given (or prefilled from the record), normalised. */
  fields: NoticeFields;
  issues: NoticeIssue[];
  /** The text as it would be sent; null while anything above stands in the way of rendering it. */
  mail: RenderedMail | null;
  /** sha256 of recipients and text: the confirmation must carry it. Null when there is no text. */
  hash: string | null;
}

type IncidentRow = Awaited<ReturnType<typeof loadOne>> & { kind: string; inmateName: string | null; cpr: string | null; description: string | null; occurredAt: Date; journalNumber: string; institutionId: string; preliminaryNoticeSentAt: Date | null };

function dayDa(iso: string): string {
  return longDate(parseIsoDate(iso) as number, 'da');
}

/** The text that fills `{{occurredAt}}` before anyone edits it. */
function occurredText(at: Date): string {
  const local = formatLocalInstant(at.getTime());
  return `${dayDa(local.slice(0, 10))} kl. ${local.slice(11, 16)}`;
}

export function noticeHash(recordId: string, recipients: readonly string[], mail: RenderedMail): string {
  return createHash('sha256').update(canonicalJson({ recordId, recipients, subject: mail.subject, text: mail.text, html: mail.html })).digest('hex');
}

async function compose(ctx: ServiceContext, id: string, actor: Actor, given: { fields: NoticeFields; issues: NoticeIssue[] } | undefined): Promise<NoticeDraft> {
  const row = (await loadOne(ctx.db, KINDS.incident, id)) as IncidentRow;
  const [inst] = await ctx.db.select().from(institutions).where(eq(institutions.id, row.institutionId));
  const [area] = inst ? await ctx.db.select().from(areas).where(eq(areas.id, inst.areaId)) : [];
  if (!inst || !area) throw new ServiceError('NOT_FOUND', `no institution for incident ${id}`);
  // The notice carries the CPR number: only the roles that file it may see or send it.
  if (!mayseeCpr(actor) || !canWrite(actor, { institutionId: inst.id, areaId: area.id })) {
    throw new ServiceError('FORBIDDEN', 'only area and institution tokens in scope may preview or send the preliminary notice');
  }
  if (incidentChapter(row.kind as never) === 5) throw validationError([{ path: 'kind', message: 'chapter 5 incidents have no reporting duty (§ 17)' }]);
  const { recipients } = await loadWorkerSettings(ctx.db);
  // The external addresses are settings an administrator must set (null until then).
  const to: NoticeDraft['recipients'] = [
    { role: 'area_office', address: area.officeEmail },
    { role: 'ombudsman', address: recipients.ombudsman },
    { role: 'directorate', address: recipients.directorate },
  ];
  const unset = to.filter((r) => !r.address).map((r) => `recipients.${r.role}`);
  const missing: string[] = [];
  if (!row.inmateName) missing.push('inmateName');
  if (!row.cpr) missing.push('cpr');
  if (!row.description || row.description.trim().length < 10) missing.push('description');
  const now = ctx.clock();
  const set = computeForRecord(KINDS.incident, row, area.id, await loadRulesInForce(ctx.db, ctx.closureDays), now);
  const notice = set.deadlines.find((d) => d.rule === 'incident.preliminary-notice');
  const final = set.deadlines.find((d) => d.rule === 'incident.final-report');
  const timing = notice ? noticeTiming(formatLocalInstant(now.getTime()).slice(0, 10), notice, final) : null;
  const prefilled = parseNoticeFields({ occurredAt: occurredText(row.occurredAt), description: row.description ?? '' });
  const { fields, issues } = signedBy(actor, given ?? { fields: prefilled.fields, issues: [] });
  const draft: NoticeDraft = {
    recordId: id,
    journalNumber: row.journalNumber,
    recipients: to,
    unset,
    missing,
    alreadySentAt: row.preliminaryNoticeSentAt ? formatLocalInstant(row.preliminaryNoticeSentAt.getTime()) : null,
    late: timing?.late ?? false,
    noticeDueDate: timing?.noticeDueDate ?? null,
    finalReport: timing?.finalReport ?? null,
    fields,
    issues,
    mail: null,
    hash: null,
  };
  if (!given || issues.length > 0 || missing.length > 0 || !notice || !timing) return draft;
  const fr = timing.finalReport;
  const mail = renderTemplate('preliminary-notice', {
    citation: notice.citation,
    areaName: area.name,
    institutionName: inst.name,
    inmateName: row.inmateName as string,
    cpr: formatCpr(row.cpr as string),
    kindDa: KIND_DA[row.kind] ?? row.kind,
    occurredAt: fields.occurredAt,
    description: fields.description,
    journalNumber: row.journalNumber,
    remarks: fields.remarks,
    noticeLate: timing.late ? dayDa(timing.noticeDueDate) : '',
    lateReason: timing.late ? fields.lateReason : '',
    finalDue: fr?.kind === 'due' ? dayDa(fr.date) : '',
    finalDelayed: fr?.kind === 'delayed' ? dayDa(fr.date) : '',
    finalOverdue: fr?.kind === 'overdue' ? dayDa(fr.date) : '',
    finalSubmitted: fr?.kind === 'submitted' ? dayDa(fr.date) : '',
    senderName: fields.senderName,
    senderTitle: fields.senderTitle,
  });
  return { ...draft, mail, hash: unset.length > 0 ? null : noticeHash(id, to.map((r) => r.address as string), mail) };
}

/**
 * A person signs with their own name and title (their user account's); what the form says is
 * overridden, so a notice never goes out under somebody else's name. A machine token (the API)
 * gives the sender in the request.
 */
export function signedBy(actor: Actor, draft: { fields: NoticeFields; issues: NoticeIssue[] }): { fields: NoticeFields; issues: NoticeIssue[] } {
  const person = actor.kind === 'user' ? actor.person : undefined;
  if (!person) return draft;
  const own: NoticeFieldName[] = person.title ? ['senderName', 'senderTitle'] : ['senderName'];
  return {
    fields: { ...draft.fields, senderName: person.name, ...(person.title ? { senderTitle: person.title } : {}) },
    issues: draft.issues.filter((i) => !own.includes(i.path as NoticeFieldName)),
  };
}

/** The form as prefilled from the record (and, for a person, their name and title as the sender). */
export async function startPreliminaryNotice(ctx: ServiceContext, id: string, actor: Actor): Promise<NoticeDraft> {
  return compose(ctx, id, actor, undefined);
}

/** The notice with the given fields: the text that would be sent and its hash, or the fields' issues. */
export async function previewPreliminaryNotice(ctx: ServiceContext, id: string, actor: Actor, input: unknown): Promise<NoticeDraft> {
  return compose(ctx, id, actor, parseNoticeFields(input));
}

const UNSET_TEXT: Record<string, string> = {
  'recipients.ombudsman': "is not set: an administrator must set the Ombudsman's address (settings › recipients) before the notice can be sent",
  'recipients.directorate': "is not set: an administrator must set the directorate's address (settings › recipients) before the notice can be sent",
};

/** Why this draft may not be sent (nothing is written): the first reason found, as a ServiceError. */
export function refusal(d: NoticeDraft, previewHash: string | undefined): ServiceError | undefined {
  if (d.alreadySentAt) return new ServiceError('CONFLICT', `the preliminary notice was sent already (${d.alreadySentAt})`);
  if (d.missing.length > 0) return validationError(d.missing.map((f) => ({ path: f, message: 'is required for the preliminary notice (§ 6 stk. 3)' })));
  if (d.unset.length > 0) return validationError(d.unset.map((p) => ({ path: p, message: UNSET_TEXT[p] ?? 'is not set' })));
  if (d.issues.length > 0) return validationError(d.issues.map(({ path, message }) => ({ path, message })));
  if (!d.mail || !d.hash) return new ServiceError('CONFLICT', 'the preliminary notice cannot be composed for this record');
  if (!previewHash || !/^[0-9a-f]{64}$/.test(previewHash)) return validationError([{ path: 'previewHash', message: 'is required: the hash of the previewed notice (from the preview)' }]);
  if (previewHash !== d.hash) {
    return new ServiceError('CONFLICT', 'the notice is not what was previewed (the record, the recipients or the text changed since): preview it again; nothing was sent', { issues: [{ path: 'previewHash', message: 'does not match the notice as it stands now' }] });
  }
  return undefined;
}

export interface NoticeDeps {
  ctx: ServiceContext;
  db: Db;
  mailer: Mailer;
  from: string;
}

export interface ArchivedMessage {
  id: string;
  recipient: string;
  messageId: string;
  sha256: string;
  bytes: number;
  smtpResponse: string;
  sentAt: string;
  /** When retention erased the message itself (hash, Message-ID and reply stay). */
  erasedAt: string | null;
}

/**
 * Sends the notice with the given fields, if its hash is `previewHash` (what the person saw and
 * confirmed); anything else is refused before a row is written.
 */
export async function sendPreliminaryNotice(deps: NoticeDeps, id: string, actor: Actor, input: unknown): Promise<{ sentAt: string; messages: ArchivedMessage[] }> {
  const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  const d = await compose(deps.ctx, id, actor, parseNoticeFields(body, ['previewHash']));
  const refused = refusal(d, typeof body['previewHash'] === 'string' ? body['previewHash'] : undefined);
  if (refused) throw refused;
  const mail = d.mail as RenderedMail;
  // The SMTP server is known to be down (delivery.ts, the breaker in transport.ts): say so before
  // claiming anything, instead of trying and leaving a row behind.
  const until = deps.mailer.unavailableUntil?.();
  if (until !== undefined) throw new ServiceError('CONFLICT', `the SMTP server is unavailable at the moment; nothing was sent: try again in ${Math.ceil((until - Date.now()) / 1000)} s`);
  const now = deps.ctx.clock();
  const addresses = d.recipients.map((r) => r.address as string);
  // The rows are the claim: a second, concurrent approval finds them and sends nothing.
  const claimed = await deps.db.transaction(async (tx) => {
    // Serialises approvals of the same incident; the rows then say who still needs the notice.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`notice:${id}`}))`);
    const existing = await tx.select().from(notifications).where(and(eq(notifications.recordId, id), eq(notifications.stage, 'notice:preliminary')));
    if (existing.some((n) => n.status === 'sending')) return null;
    const rows = [];
    // After a partial failure, a retry sends only to the recipients who did not get it.
    for (const recipient of addresses.filter((r) => !existing.some((n) => n.recipient === r && n.status === 'sent'))) {
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
  let sent = 0;
  for (const n of claimed) {
    const messageId = messageIdFor(n.id, deps.from);
    const outgoing = { messageId, from: deps.from, to: [n.recipient], notificationId: n.id, requireTls: true, ...mail };
    let raw: Buffer;
    let response: string;
    try {
      // Built once: these bytes are what is sent and what is archived.
      raw = await composeMime(outgoing, now);
      response = (await deps.mailer.send({ ...outgoing, raw })).response;
    } catch (err) {
      // The notice is sent on a person's approval: whatever the fault, that person decides on the
      // retry; the shared rule only says whether trying again soon can help.
      const fault = classifyFault(err);
      const advice = fault.kind === 'permanent' ? 'refused for good: check the recipient address' : 'a transient fault: try again shortly';
      // Only the recipients not reached yet: the ones already sent stay sent, so a retry skips them.
      await retryDbWrite(() => deps.db.update(notifications).set({ status: 'failed', lastError: fault.reason }).where(and(eq(notifications.recordId, id), eq(notifications.stage, 'notice:preliminary'), eq(notifications.status, 'sending'))));
      throw new ServiceError('CONFLICT', `the preliminary notice could not be sent to every recipient (${scrubCpr(fault.reason)}; ${advice}); ${sent} of ${claimed.length} were sent — check the mail log before retrying`, { cause: err });
    }
    const sha256 = createHash('sha256').update(raw).digest('hex');
    const sentAt = deps.ctx.clock();
    // Accepted: recording it (the row, the archived message and its audit entry, at once) is retried, never the send.
    await retryWrite(
      () =>
        deps.db.transaction(async (tx) => {
          await tx.update(notifications).set({ status: 'sent', messageId, smtpResponse: response, sentAt, lastError: null, updatedAt: sentAt }).where(eq(notifications.id, n.id));
          await tx.insert(noticeArchive).values({ notificationId: n.id, recordType: 'incident', recordId: id, recipient: n.recipient, messageId, mime: raw, sha256, bytes: raw.length, smtpResponse: response, sentAt }).onConflictDoNothing({ target: noticeArchive.messageId });
          await appendAudit(tx, { actor: actor.name, action: 'incident.preliminary_notice_archived', entityType: 'incident', entityId: id, before: null, after: { notificationId: n.id, recipient: n.recipient, messageId, sha256, bytes: raw.length, smtpResponse: response, senderName: d.fields.senderName, senderTitle: d.fields.senderTitle } }, sentAt);
        }),
      `the preliminary notice to ${n.recipient} was accepted by the SMTP server but could not be recorded as sent`,
    );
    sent++;
  }
  await recordEvent(deps.ctx, 'incident', id, { type: 'preliminary_notice_sent', at: formatLocalInstant(now.getTime()) }, actor);
  return { sentAt: formatLocalInstant(now.getTime()), messages: await listNoticeArchive(deps.ctx, id, actor) };
}

function archivedView(r: typeof noticeArchive.$inferSelect): ArchivedMessage {
  return { id: r.id, recipient: r.recipient, messageId: r.messageId, sha256: r.sha256, bytes: r.bytes, smtpResponse: r.smtpResponse, sentAt: formatLocalInstant(r.sentAt.getTime()), erasedAt: r.erasedAt ? formatLocalInstant(r.erasedAt.getTime()) : null };
}

/** The archived messages of an incident's notice (no personal data): for whoever may read the record. */
export async function listNoticeArchive(ctx: ServiceContext, id: string, actor: Actor): Promise<ArchivedMessage[]> {
  // Scope: the record's own check (404/403 as for the record itself).
  await getRecord(ctx, 'incident', id, actor);
  const rows = await ctx.db.select().from(noticeArchive).where(and(eq(noticeArchive.recordType, 'incident'), eq(noticeArchive.recordId, id))).orderBy(asc(noticeArchive.sentAt), asc(noticeArchive.recipient));
  return rows.map(archivedView);
}

/** One archived message as sent (it holds the CPR number): only for the roles that may see it. */
export async function readNoticeMessage(ctx: ServiceContext, id: string, messageRowId: string, actor: Actor): Promise<{ message: ArchivedMessage; mime: Buffer; filename: string }> {
  await getRecord(ctx, 'incident', id, actor);
  if (!mayseeCpr(actor)) throw new ServiceError('FORBIDDEN', 'the archived notice holds the CPR number: only area and institution roles may download it');
  if (!/^[0-9a-f-]{36}$/.test(messageRowId)) throw new ServiceError('NOT_FOUND', 'no such archived message');
  const [row] = await ctx.db.select().from(noticeArchive).where(and(eq(noticeArchive.id, messageRowId), eq(noticeArchive.recordId, id)));
  if (!row) throw new ServiceError('NOT_FOUND', 'no such archived message');
  if (!row.mime) throw new ServiceError('NOT_FOUND', `the archived message was erased by retention (${formatLocalInstant((row.erasedAt as Date).getTime())}); its sha256, Message-ID and the server's reply remain`);
  const journal = ((await loadOne(ctx.db, KINDS.incident, id)) as IncidentRow).journalNumber.replace(/[^A-Za-z0-9._-]/g, '_');
  return { message: archivedView(row), mime: row.mime, filename: `foreloebig-underretning-${journal}-${row.recipient.replace(/[^A-Za-z0-9._-]/g, '_')}.eml` };
}
