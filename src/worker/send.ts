/**
 * Sending one notification with an exactly-once effect: the row is claimed (scheduled → sending)
 * before the SMTP conversation and marked sent with its Message-ID after it. Whoever loses the
 * claim sends nothing; a crash between claim and mark is recovered by the sweep.
 */
import { and, eq, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import { computeDeadlinesForRecord, formatDanishDate, localDayOfInstant, parseIsoDate, parseRecord, scrubCpr, weekdayName, longDate, type Deadline } from '../domain/index.js';
import type { Db } from '../db/client.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { areas, institutions, notifications } from '../db/schema.js';
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import { MailError, type Mailer } from '../mail/transport.js';
import { loadRulesInForce, type RulesInForce } from '../records/calendar.js';
import { KINDS, type AnyRow, type RecordTypeName } from '../records/kinds.js';
import { safeError } from '../safe-error.js';
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
}

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
  'cell.follow-up-conversation': ['Tilbyd og hold den opfølgende samtale, og noter den i sikringscellemodulet.', 'Offer and hold the follow-up conversation and note it in the security-cell module.'],
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
  const da = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy: rules.policy, lang: 'da' });
  const en = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy: rules.policy, lang: 'en' });
  return { row, inst, area, da, en, link: `${deps.publicUrl.replace(/\/$/, '')}/records/${kind.collection}/${recordId}` };
}

/**
 * Staff mails refuse anything CPR-shaped (templates/schemas.ts), and an explanation quotes the
 * postponement or delay reason as typed: a CPR number typed there must cost a masked number, not
 * the reminder. Journal numbers are refused at input; older rows are masked (composeNotification).
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
  const now = deps.clock();
  const digest = (await deps.settings()).digest;
  // The common case in one round trip: claim unless the row belongs in a digest, which must be
  // claimed together with its siblings under the recipient's lock (sendDigest).
  const notDigest = digest ? sql`NOT (${notifications.template} = 'reminder' AND ${notifications.recordType} = 'action_plan' AND ${notifications.stage} NOT LIKE '%:no-owner')` : sql`true`;
  const [claimed] = await deps.db
    .update(notifications)
    .set({ status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1`, version: sql`${notifications.version} + 1`, updatedAt: now })
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
  const release = async (status: 'scheduled' | 'cancelled' | 'failed', lastError: string | null) =>
    deps.db.update(notifications).set({ status, lastError, updatedAt: deps.clock() }).where(mine);

  let composed: Awaited<ReturnType<typeof composeNotification>>;
  try {
    composed = await composeNotification(deps, claimed);
  } catch (err) {
    // A dropped database connection is no broken template: back to scheduled, the queue retries.
    await release(isDatabaseUnavailable(err) ? 'scheduled' : 'failed', `render: ${safeError(err).message}`);
    throw err;
  }
  if ('cancel' in composed) {
    await release('cancelled', composed.cancel);
    return 'cancelled';
  }
  const messageId = messageIdFor(claimed.id, deps.from);
  try {
    const res = await deps.mailer.send({ messageId, from: deps.from, to: [claimed.recipient], notificationId: claimed.id, ...composed.mail });
    if (res.accepted.length === 0) throw new MailError('MAIL_PERMANENT', `rejected: ${res.rejected.join(', ')}`);
  } catch (err) {
    const e = err instanceof MailError ? err : new MailError('MAIL_TRANSIENT', safeError(err).message, { cause: err });
    if (e.code === 'MAIL_PERMANENT') {
      await release('failed', e.message);
      await reportFailure(deps, claimed);
      deps.logger.error({ notificationId: claimed.id, stage: claimed.stage, responseCode: e.responseCode }, 'notification permanently rejected');
      return 'failed';
    }
    // Back to scheduled: the queue retries with backoff, and the sweep would pick it up anyway.
    await release('scheduled', e.message);
    deps.logger.warn({ notificationId: claimed.id, stage: claimed.stage, responseCode: e.responseCode }, 'notification send failed, will retry');
    throw e;
  }
  // Accepted: from here on a failure must never lead to a retry of the send.
  await markSent(deps, mine, messageId, [claimed.id]);
  deps.logger.info({ notificationId: claimed.id, stage: claimed.stage, template: claimed.template }, 'notification sent');
  return 'sent';
}

/** Rows still held by the claim that returned them (same id, still sending, same version). */
function owned(rows: ReadonlyArray<Pick<NotificationRow, 'id' | 'version'>>): SQL {
  // `or()` of nothing is no condition at all: it would match every row that is sending.
  if (rows.length === 0) return sql`false`;
  return and(eq(notifications.status, 'sending'), or(...rows.map((r) => and(eq(notifications.id, r.id), eq(notifications.version, r.version))))) as SQL;
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
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await write();
    } catch (err) {
      lastError = err;
      if (attempt < attempts - 1) await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
  throw new MarkSentError(failure, { cause: lastError });
}

/** A permanent failure is reported to the administrators (as notifications of their own, so they are sent once). */
async function reportFailure(deps: SendDeps, failed: NotificationRow): Promise<void> {
  if (failed.template === 'failure-report') return;
  const { recipients } = await deps.settings();
  const now = deps.clock();
  for (const admin of recipients.admins) {
    await deps.db
      .insert(notifications)
      .values({ recordType: failed.recordType, recordId: failed.recordId, stage: `failure:${failed.id}`, kind: 'alert', template: 'failure-report', recipient: admin, plannedAt: now })
      .onConflictDoNothing();
  }
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
      .set({ status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1`, version: sql`${notifications.version} + 1`, updatedAt: now })
      .where(and(eq(notifications.status, 'scheduled'), eq(notifications.recordType, 'action_plan'), eq(notifications.template, 'reminder'), eq(notifications.recipient, recipient), lte(notifications.plannedAt, now), sql`${notifications.stage} NOT LIKE '%:no-owner'`))
      .returning();
  });
  if (all.length === 0) {
    const [row] = await deps.db.select({ status: notifications.status }).from(notifications).where(eq(notifications.id, notificationId));
    return row?.status === 'scheduled' ? 'not-due' : 'not-claimable';
  }
  all.sort((a, b) => (a.id === notificationId ? -1 : b.id === notificationId ? 1 : a.plannedAt.getTime() - b.plannedAt.getTime()));
  const first = all[0] as NotificationRow;
  const lines: string[] = [];
  const linesEn: string[] = [];
  const included: NotificationRow[] = [];
  for (const n of all) {
    const c = await context(deps, n.recordType, n.recordId);
    const key = n.stage.split(':')[0] ?? '';
    const d = c?.da.deadlines.find((x) => x.key === key);
    if (!c || !d || d.status === 'met' || d.status === 'met_late' || d.suspended) {
      await deps.db.update(notifications).set({ status: 'cancelled', lastError: 'deadline met before the digest', updatedAt: now }).where(and(eq(notifications.id, n.id), eq(notifications.status, 'sending')));
      continue;
    }
    const en = c.en.deadlines.find((x) => x.key === key);
    const due = parseIsoDate(d.dueDate) as number;
    const journal = scrubCpr((c.row as { journalNumber: string }).journalNumber);
    lines.push(`- ${d.title}, j.nr. ${journal}: frist ${longDate(due, 'da')} (${d.citation}) ${c.link}`);
    linesEn.push(`- ${en?.title ?? d.title}, case ${journal}: due ${longDate(due, 'en')}`);
    included.push(n);
  }
  if (included.length === 0) return 'cancelled';
  const mail = renderTemplate('digest', {
    recipientName: first.recipient,
    count: String(included.length),
    dayDa: longDate(localDayOfInstant(now.getTime()), 'da'),
    items: lines.join('\n'),
    itemsEn: linesEn.join('\n'),
    link: deps.publicUrl,
  });
  const messageId = messageIdFor(first.id, deps.from);
  const ids = included.map((n) => n.id);
  const mine = owned(included);
  try {
    await deps.mailer.send({ messageId, from: deps.from, to: [first.recipient], notificationId: first.id, ...mail });
  } catch (err) {
    const e = err instanceof MailError ? err : new MailError('MAIL_TRANSIENT', safeError(err).message, { cause: err });
    await deps.db.update(notifications).set({ status: e.code === 'MAIL_PERMANENT' ? 'failed' : 'scheduled', lastError: e.message, updatedAt: deps.clock() }).where(mine);
    if (e.code === 'MAIL_PERMANENT') {
      await reportFailure(deps, first);
      return 'failed';
    }
    throw e;
  }
  await markSent(deps, mine, messageId, ids);
  deps.logger.info({ notificationId: first.id, grouped: ids.length }, 'digest sent');
  return 'sent';
}
