/**
 * Sending one notification: the row is claimed (scheduled → sending) before the SMTP conversation
 * and marked sent with its Message-ID right after the server's 250. Whoever loses the claim sends
 * nothing; a crash between claim and mark is recovered by the sweep, which can repeat a mail only
 * if the server took it in the moments before the crash (README: delivery guarantee). Failures
 * follow delivery.ts: transient ones wait and retry, permanent ones end `failed` with a report.
 */
import { and, eq, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import { computeDeadlinesForRecord, formatDanishDate, localDayOfInstant, parseIsoDate, parseRecord, scrubCpr, weekdayName, longDate, type Deadline } from '../domain/index.js';
import type { Db } from '../db/client.js';
import { areas, institutions, notifications } from '../db/schema.js';
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import { MailError, type Mailer } from '../mail/transport.js';
import { safeText } from '../safe-error.js';
import { circuitWait, classifyFault, deferWhileCircuitOpen, isFinal, notBefore, retryDbWrite, SendDeferred } from './delivery.js';
import { loadRulesInForce, type RulesInForce } from '../records/calendar.js';
import { KINDS, type AnyRow, type RecordTypeName } from '../records/kinds.js';
import type { WorkerSettings } from './settings.js';

export interface SendDeps {
  db: Db;
  mailer: Mailer;
  clock: () => Date;
  closureDays: readonly string[];
  settings: () => Promise<WorkerSettings>;
  /** Calendar and policy in force; the worker passes a briefly cached loader (one query less per mail). */
  rulesInForce?: () => Promise<RulesInForce>;
  from: string;
  publicUrl: string;
  logger: Logger;
  /**
   * A `sending` row older than this belongs to a worker that died mid-send; the job that finds it
   * (BullMQ hands a dead worker's job to another after the stalled check) takes it over instead of
   * waiting for the sweep. Unset: only `scheduled` rows are claimed.
   */
  staleSendingMs?: number;
  /** First wait after a transient failure (FRISTVAGT's backoff base; doubles per attempt, see delivery.ts). */
  retryDelayMs?: number;
}

export const DEFAULT_RETRY_DELAY_MS = 2_000;

export type SendOutcome = 'sent' | 'not-due' | 'not-claimable' | 'cancelled' | 'failed';

const KIND_DA: Record<string, string> = {
  death: 'dødsfald',
  suicide: 'selvmord',
  qualified_suicide_attempt: 'kvalificeret selvmordsforsøg',
  qualified_self_harm: 'kvalificeret selvbeskadigende handling',
  other_self_harm_behaviour: 'anden selvmords- eller selvbeskadigelsesadfærd',
};
const KIND_EN: Record<string, string> = {
  death: 'death',
  suicide: 'suicide',
  qualified_suicide_attempt: 'qualified suicide attempt',
  qualified_self_harm: 'qualified self-harm',
  other_self_harm_behaviour: 'other self-harm behaviour',
};
const TODO: Record<string, [string, string]> = {
  'incident.preliminary-notice': ['Send foreløbig underretning til områdekontoret, Folketingets Ombudsmand og direktoratet.', 'Send the preliminary notice to the area office, the Ombudsman and the directorate.'],
  'incident.final-report': ['Send endelig indberetning i selvmordsmodulet, eller orienter områdekontoret om forsinkelse før fristen.', 'Submit the final report, or tell the area office of a delay before the deadline.'],
  'incident.inmate-conversation': ['Hold samtale med den indsatte om motiv og sindstilstand.', 'Hold the conversation with the inmate on motive and state of mind.'],
  'incident.closing-letter': ['Send områdekontorets samlede vurdering til institutionen og Ombudsmanden.', "Send the area office's assessment to the institution and the Ombudsman."],
  'incident.closing-letter-copy': ['Send kopi af den afsluttende skrivelse til Klientsager i Center for Straffuldbyrdelse.', "Send a copy of the closing letter to the directorate's client-case office (Klientsager)."],
  'incident.chapter5-closing': ['Skriv notat om, hvorfor hændelsen ikke er indberetningspligtig, og afslut sagen i selvmordsmodulet.', 'Write the note on why the incident is not reportable and close the case in the suicide module.'],
  'cell.case-review': ['Gennemgå sikringscellesagen (ledelse og jurister), og registrér gennemgangen i fristvagt.', 'Review the security-cell case (management and lawyers) and record the review in fristvagt.'],
  'cell.follow-up-conversation': ['Tilbyd den opfølgende samtale og hold den (eller registrér, at den indsatte afslog), og noter den i sikringscellemodulet.', 'Offer the follow-up conversation and hold it (or record that the inmate declined), and note it in the security-cell module.'],
  'force.report': ['Udfærdig rapport i magtanvendelsesmodulet med notat om klagevejledning.', 'Write the report in the use-of-force module, noting the complaint guidance.'],
};

function todo(rule: string): [string, string] {
  return TODO[rule] ?? ['Registrér handlingen i fristvagt, når den er udført.', 'Record the action in fristvagt when it is done.'];
}

export function messageIdFor(notificationId: string, from: string): string {
  const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'fristvagt.invalid';
  return `<notification-${notificationId}@${domain}>`;
}

async function context(deps: SendDeps, type: RecordTypeName, recordId: string) {
  const kind = KINDS[type];
  const [row] = (await kind.load(deps.db, [recordId])) as AnyRow[];
  if (!row) return undefined;
  const [joined] = await deps.db.select({ inst: institutions, area: areas }).from(institutions).innerJoin(areas, eq(areas.id, institutions.areaId)).where(eq(institutions.id, (row as { institutionId: string }).institutionId));
  if (!joined) return undefined;
  const { inst, area } = joined;
  const rules = await (deps.rulesInForce ?? (() => loadRulesInForce(deps.db, deps.closureDays)))();
  const record = parseRecord(kind.toEngine(row));
  const now = deps.clock().getTime();
  // Staff mails quote no text a person typed into the record (README: which mails quote which fields).
  const policy = rules.policyFor(area.id);
  const da = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy, lang: 'da', quoteFreeText: false });
  const en = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy, lang: 'en', quoteFreeText: false });
  return { row, inst, area, da, en, link: `${deps.publicUrl.replace(/\/$/, '')}/records/${kind.collection}/${recordId}` };
}

/**
 * Staff mails refuse anything CPR-shaped (templates/schemas.ts). Their explanations quote no
 * free text (context() asks the engine for the variant without it); the scrub stays as a second
 * line for rule text and journal numbers: journal numbers are refused at input, older rows are
 * masked (composeNotification), and a masked number must not cost the reminder.
 */
function deadlineVars(d: Deadline, en: Deadline | undefined, journalNumber: string, institutionName: string, recipientName: string, link: string) {
  const due = parseIsoDate(d.dueDate) as number;
  const [whatToDo, whatToDoEn] = todo(d.rule);
  return {
    recipientName,
    title: d.title,
    titleEn: en?.title ?? d.title,
    dueDate: formatDanishDate(due),
    dueWeekday: weekdayName(due, 'da'),
    dueWeekdayEn: weekdayName(due, 'en'),
    journalNumber,
    institutionName,
    whatToDo,
    whatToDoEn,
    explanation: scrubCpr(d.explanation),
    explanationEn: scrubCpr(en?.explanation ?? d.explanation),
    citation: d.citation,
    basisDa: d.basis === 'law' ? ('lov' as const) : ('praksis fastsat af administrator' as const),
    basisEn: d.basis === 'law' ? ('law' as const) : ('policy set by an administrator' as const),
    link,
  };
}

type NotificationRow = typeof notifications.$inferSelect;

/** Renders a notification, or says why it should not be sent any more (its deadline was met meanwhile). */
export async function composeNotification(deps: SendDeps, n: NotificationRow): Promise<{ mail: RenderedMail } | { cancel: string }> {
  const c = await context(deps, n.recordType, n.recordId);
  if (!c) return { cancel: 'record gone' };
  const journalNumber = scrubCpr((c.row as { journalNumber: string }).journalNumber);
  const recipientName = n.recipient;
  if (n.template === 'reminder' || n.template === 'escalation') {
    const key = n.stage.split(':')[0] ?? '';
    const d = c.da.deadlines.find((x) => x.key === key);
    if (!d) return { cancel: 'deadline no longer applies' };
    if (d.status === 'met' || d.status === 'met_late' || d.suspended) return { cancel: `deadline ${d.status}` };
    if (d.endedBy) return { cancel: `deadline ended by ${d.endedBy}` };
    const en = c.en.deadlines.find((x) => x.key === key);
    const vars = deadlineVars(d, en, journalNumber, c.inst.name, recipientName, c.link);
    if (n.stage.endsWith(':no-owner')) {
      vars.whatToDo = `Handleplanen har ingen handleplansansvarlig til stede (pkt. 10): udpeg en ansvarlig eller stedfortræder. ${vars.whatToDo}`;
      vars.whatToDoEn = `The plan has no owner available (item 10): assign an owner or a substitute. ${vars.whatToDoEn}`;
    }
    if (n.template === 'reminder') return { mail: renderTemplate('reminder', vars) };
    const second = n.stage.includes('escalation-2');
    return {
      mail: renderTemplate('escalation', {
        ...vars,
        responsible: d.responsible,
        levelDa: second ? 'anden rykker' : 'første rykker til områdekontoret',
        levelEn: second ? 'the second escalation' : 'the first escalation to the area office',
      }),
    };
  }
  if (n.template === 'alert-area-director' || n.template === 'alert-directorate-phone') {
    const inc = c.row as { kind: string; occurredAt: Date };
    const occurredAt = `${longDate(localDayOfInstant(inc.occurredAt.getTime()), 'da')}`;
    const alert = c.da.immediate.find((i) => (n.template === 'alert-area-director' ? i.rule === 'incident.area-director-alert' : i.rule === 'incident.directorate-phone'));
    const citation = alert?.citation ?? '';
    if (n.template === 'alert-directorate-phone') {
      return { mail: renderTemplate('alert-directorate-phone', { kindDa: KIND_DA[inc.kind] ?? inc.kind, journalNumber, institutionName: c.inst.name, occurredAt, citation, link: c.link }) };
    }
    const lines = c.da.deadlines.map((d) => `- ${d.title}: ${longDate(parseIsoDate(d.dueDate) as number, 'da')} (${d.citation})`).join('\n');
    return { mail: renderTemplate('alert-area-director', { recipientName, kindDa: KIND_DA[inc.kind] ?? inc.kind, kindEn: KIND_EN[inc.kind] ?? inc.kind, journalNumber, institutionName: c.inst.name, occurredAt, citation, deadlineLines: lines || '-', link: c.link }) };
  }
  if (n.template === 'failure-report') {
    const failedId = n.stage.replace(/^failure:/, '');
    const [failed] = await deps.db.select().from(notifications).where(eq(notifications.id, failedId));
    return { mail: renderTemplate('failure-report', { notificationId: failedId, journalNumber, stage: failed?.stage ?? '?', recipient: failed?.recipient ?? '?', error: scrubCpr(failed?.lastError ?? 'unknown') }) };
  }
  return { cancel: `unknown template ${n.template}` };
}

function digestEligible(n: Pick<NotificationRow, 'template' | 'recordType' | 'stage'>): boolean {
  return n.template === 'reminder' && n.recordType === 'action_plan' && !n.stage.endsWith(':no-owner');
}

/** Rows left `sending` longer than `staleMs`: their worker died mid-send (the sweep's recovery and a re-delivered job's claim both use this). */
export function staleSending(now: Date, staleMs: number): SQL {
  return and(eq(notifications.status, 'sending'), lt(notifications.claimedAt, new Date(now.getTime() - staleMs))) as SQL;
}

function claimableStatus(deps: Pick<SendDeps, 'staleSendingMs'>, now: Date): SQL {
  const scheduled = eq(notifications.status, 'scheduled');
  if (deps.staleSendingMs === undefined) return scheduled;
  return or(scheduled, staleSending(now, deps.staleSendingMs)) as SQL;
}

export async function sendNotification(deps: SendDeps, notificationId: string): Promise<SendOutcome> {
  deferWhileCircuitOpen(deps.mailer, notificationId);
  const now = deps.clock();
  const digest = (await deps.settings()).digest;
  // The common case in one round trip: claim unless the row belongs in a digest, which must be
  // claimed together with its siblings under the recipient's lock (sendDigest).
  const notDigest = digest ? sql`NOT (${notifications.template} = 'reminder' AND ${notifications.recordType} = 'action_plan' AND ${notifications.stage} NOT LIKE '%:no-owner')` : sql`true`;
  // The claim leaves `version` alone: the row's queue job (send-<id>-<version>) stays the one job
  // that retries it, instead of every claim adding another one beside it.
  const [claimed] = await deps.db
    .update(notifications)
    .set({ status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1`, updatedAt: now })
    .where(and(eq(notifications.id, notificationId), claimableStatus(deps, now), lte(notifications.plannedAt, now), notDigest))
    .returning();
  if (!claimed) {
    const [row] = await deps.db.select({ status: notifications.status, template: notifications.template, recordType: notifications.recordType, stage: notifications.stage, recipient: notifications.recipient }).from(notifications).where(eq(notifications.id, notificationId));
    if (!row) return 'not-claimable';
    if (digest && row.status === 'scheduled' && digestEligible(row)) return sendDigest(deps, notificationId, row.recipient, now);
    return row.status === 'scheduled' ? 'not-due' : 'not-claimable';
  }
  // Every later write is conditional on still owning the claim: a worker that was slower than
  // staleSendingMs has been taken over and must not undo the new owner's state.
  const mine = owned([claimed]);

  let composed: Awaited<ReturnType<typeof composeNotification>>;
  try {
    composed = await composeNotification(deps, claimed);
  } catch (err) {
    return settleFailure(deps, [claimed], claimed, err);
  }
  if ('cancel' in composed) {
    await retryDbWrite(() => deps.db.update(notifications).set({ status: 'cancelled', lastError: composed.cancel, updatedAt: deps.clock() }).where(mine));
    return 'cancelled';
  }
  const messageId = messageIdFor(claimed.id, deps.from);
  try {
    const res = await deps.mailer.send({ messageId, from: deps.from, to: [claimed.recipient], notificationId: claimed.id, ...composed.mail });
    if (res.accepted.length === 0) throw new MailError('MAIL_PERMANENT', `rejected: ${res.rejected.join(', ')}`);
  } catch (err) {
    return settleFailure(deps, [claimed], claimed, err);
  }
  // Accepted: from here on a failure must never lead to a retry of the send. Nothing runs between
  // the SMTP server's 250 and this write (a crash in between is what can repeat a mail).
  await markSent(deps, mine, messageId, [claimed.id]);
  deps.logger.info({ notificationId: claimed.id, stage: claimed.stage, template: claimed.template }, 'notification sent');
  return 'sent';
}

/**
 * A claimed mail (or digest) that could not be composed or sent. Permanent: the rows end `failed`
 * and the administrators get a report, in one transaction. Otherwise the rows go back to
 * `scheduled` and the job waits (SendDeferred): after the row's backoff, or, when the SMTP
 * server's circuit is open, until its probe, giving the attempt back. The settling write is
 * retried; if the database stays away, the rows stay `sending` and the sweep hands them back
 * after FRISTVAGT_STALE_SENDING_MS.
 */
async function settleFailure(deps: SendDeps, rows: NotificationRow[], lead: NotificationRow, err: unknown): Promise<SendOutcome> {
  const fault = classifyFault(err);
  const mine = owned(rows);
  const now = deps.clock();
  const log = { notificationId: lead.id, stage: lead.stage, grouped: rows.length > 1 ? rows.length : undefined, attempts: lead.attempts, reason: safeText(fault.reason) };
  if (fault.kind === 'unavailable') {
    await retryDbWrite(() => deps.db.update(notifications).set({ status: 'scheduled', attempts: sql`greatest(${notifications.attempts} - 1, 0)`, updatedAt: now }).where(mine));
    throw new SendDeferred(circuitWait(fault.retryAt ?? Date.now(), lead.id), fault.reason);
  }
  if (isFinal(fault, lead.attempts)) {
    await failAndReport(deps, mine, lead, fault.reason);
    deps.logger.error({ ...log, responseCode: (err as MailError).responseCode }, 'notification failed for good; the administrators get a report');
    return 'failed';
  }
  await retryDbWrite(() => deps.db.update(notifications).set({ status: 'scheduled', lastError: fault.reason, updatedAt: now }).where(mine));
  const delayMs = notBefore({ id: lead.id, plannedAt: lead.plannedAt, attempts: lead.attempts, lastError: fault.reason, updatedAt: now }, deps.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) - now.getTime();
  // Info, not a warning: during an outage the circuit breaker's one warning speaks for all of them.
  deps.logger.info({ ...log, retryInMs: delayMs }, 'notification deferred after a transient failure');
  throw new SendDeferred(delayMs, fault.reason);
}

/** Rows still held by the claim that returned them (same id, still sending, same attempt). */
function owned(rows: ReadonlyArray<Pick<NotificationRow, 'id' | 'attempts'>>): SQL {
  // `or()` of nothing is no condition at all: it would match every row that is sending.
  if (rows.length === 0) return sql`false`;
  return and(eq(notifications.status, 'sending'), or(...rows.map((r) => and(eq(notifications.id, r.id), eq(notifications.attempts, r.attempts))))) as SQL;
}

/**
 * The SMTP server accepted the mail and the row could not be marked `sent` (the database stalled,
 * say). Retrying the job would send the mail again at once, so the job is not retried; the row
 * stays `sending`, and only after FRISTVAGT_STALE_SENDING_MS does recovery send it again, with
 * the same Message-ID (a database down that long cannot record anything).
 */
export class MarkSentError extends Error {
  readonly code = 'MARK_SENT_FAILED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MarkSentError';
  }
}

/**
 * Marks accepted mail as sent, retrying the write for about 12 s: a database hiccup between the
 * SMTP acceptance and this update must not turn into a second mail.
 */
async function markSent(deps: SendDeps, where: SQL, messageId: string, ids: readonly string[]): Promise<void> {
  const marked = await retryWrite(
    () => deps.db.update(notifications).set({ status: 'sent', messageId, sentAt: deps.clock(), lastError: null, updatedAt: deps.clock() }).where(where).returning({ id: notifications.id }),
    `mail ${messageId} was accepted by the SMTP server but could not be recorded as sent`,
  );
  if (marked.length < ids.length) {
    deps.logger.warn({ notificationIds: ids, marked: marked.length }, 'mail accepted after the row was taken over by another worker (a send slower than FRISTVAGT_STALE_SENDING_MS); it may arrive twice, with the same Message-ID');
  }
}

/** Retries a database write for about 12 s (7 attempts), then gives up with a MarkSentError (never retried by the queue). */
export async function retryWrite<T>(write: () => Promise<T>, failure: string, attempts = 7): Promise<T> {
  try {
    return await retryDbWrite(write, attempts);
  } catch (err) {
    throw new MarkSentError(failure, { cause: err });
  }
}

/**
 * A permanent failure: the rows end `failed` and the administrators are told, in one transaction
 * (retried), so a database hiccup cannot record the failure and lose the report. The reports are
 * notifications of their own, sent once; a failed report is not reported again.
 */
async function failAndReport(deps: SendDeps, where: SQL, lead: NotificationRow, lastError: string): Promise<void> {
  const { recipients } = await deps.settings();
  await retryDbWrite(() =>
    deps.db.transaction(async (tx) => {
      const now = deps.clock();
      const failed = await tx.update(notifications).set({ status: 'failed', lastError, updatedAt: now }).where(where).returning({ id: notifications.id });
      if (failed.length === 0 || lead.template === 'failure-report') return;
      for (const admin of recipients.admins) {
        await tx
          .insert(notifications)
          .values({ recordType: lead.recordType, recordId: lead.recordId, stage: `failure:${lead.id}`, kind: 'alert', template: 'failure-report', recipient: admin, plannedAt: now })
          .onConflictDoNothing();
      }
    }),
  );
}

/**
 * Plan owners get one mail with all their plan reminders that are due, instead of one each: whichever
 * sibling job runs first claims every due reminder of that recipient and sends them together; the
 * others then find their row claimed and stop. The claim runs under a per-recipient advisory lock:
 * without it two jobs running at once (one worker's concurrency, or two workers) can each lock a
 * part of the rows in one UPDATE and send two half digests.
 */
async function sendDigest(deps: SendDeps, notificationId: string, recipient: string, now: Date): Promise<SendOutcome> {
  const all = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`fristvagt-digest:${recipient}`}))`);
    return tx
      .update(notifications)
      .set({ status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1`, updatedAt: now })
      .where(and(eq(notifications.status, 'scheduled'), eq(notifications.recordType, 'action_plan'), eq(notifications.template, 'reminder'), eq(notifications.recipient, recipient), lte(notifications.plannedAt, now), sql`${notifications.stage} NOT LIKE '%:no-owner'`))
      .returning();
  });
  if (all.length === 0) {
    const [row] = await deps.db.select({ status: notifications.status }).from(notifications).where(eq(notifications.id, notificationId));
    return row?.status === 'scheduled' ? 'not-due' : 'not-claimable';
  }
  // Listed by due time; the digest's Message-ID is its lowest row id, so the same set of
  // reminders sent again (after a crash) carries the same Message-ID whichever job sends it.
  all.sort((a, b) => a.plannedAt.getTime() - b.plannedAt.getTime() || a.id.localeCompare(b.id));
  const lines: string[] = [];
  const linesEn: string[] = [];
  const included: NotificationRow[] = [];
  const lead = all.find((n) => n.id === notificationId) ?? (all[0] as NotificationRow);
  try {
    for (const n of all) {
      try {
        const c = await context(deps, n.recordType, n.recordId);
        const key = n.stage.split(':')[0] ?? '';
        const d = c?.da.deadlines.find((x) => x.key === key);
        if (!c || !d || d.status === 'met' || d.status === 'met_late' || d.suspended) {
          await deps.db.update(notifications).set({ status: 'cancelled', lastError: 'deadline met before the digest', updatedAt: now }).where(owned([n]));
          continue;
        }
        const en = c.en.deadlines.find((x) => x.key === key);
        const due = parseIsoDate(d.dueDate) as number;
        const journal = scrubCpr((c.row as { journalNumber: string }).journalNumber);
        lines.push(`- ${d.title}, j.nr. ${journal}: frist ${longDate(due, 'da')} (${d.citation}) ${c.link}`);
        linesEn.push(`- ${en?.title ?? d.title}, case ${journal}: due ${longDate(due, 'en')}`);
        included.push(n);
      } catch (err) {
        // A transient fault defers the whole digest (below). A record that cannot be composed for
        // good fails alone, with its own report to the administrators; its siblings still go out.
        if (!isFinal(classifyFault(err), n.attempts)) throw err;
        await settleFailure(deps, [n], n, err);
      }
    }
  } catch (err) {
    // A database fault half-way through: every row still held goes back (cancelled ones stay cancelled).
    return settleFailure(deps, all, lead, err);
  }
  if (included.length === 0) return 'cancelled';
  const first = [...included].sort((a, b) => a.id.localeCompare(b.id))[0] as NotificationRow;
  let mail: RenderedMail;
  try {
    mail = renderTemplate('digest', {
      recipientName: first.recipient,
      count: String(included.length),
      dayDa: longDate(localDayOfInstant(now.getTime()), 'da'),
      items: lines.join('\n'),
      itemsEn: linesEn.join('\n'),
      link: deps.publicUrl,
    });
  } catch (err) {
    return settleFailure(deps, included, first, err);
  }
  const messageId = messageIdFor(first.id, deps.from);
  const ids = included.map((n) => n.id);
  const mine = owned(included);
  try {
    const res = await deps.mailer.send({ messageId, from: deps.from, to: [first.recipient], notificationId: first.id, ...mail });
    if (res.accepted.length === 0) throw new MailError('MAIL_PERMANENT', `rejected: ${res.rejected.join(', ')}`);
  } catch (err) {
    return settleFailure(deps, included, first, err);
  }
  await markSent(deps, mine, messageId, ids);
  deps.logger.info({ notificationId: first.id, grouped: ids.length }, 'digest sent');
  return 'sent';
}
