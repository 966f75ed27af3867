/**
 * Notifications and digests as a kind of the outbox (outbox.ts): which rows a claim may take, how
 * a claimed row becomes a mail (or is cancelled because its deadline was met meanwhile), how a
 * plan owner's due reminders become one digest, and the administrators' report of a mail that
 * failed for good. Claiming, sending, marking and the retry rules are the outbox's.
 */
import { and, eq, gt, inArray, lt, lte, not, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { computeDeadlinesForRecord, formatDanishDate, localDayOfInstant, parseIsoDate, parseRecord, scrubCpr, weekdayName, longDate, type Deadline } from '../domain/index.js';
import type { Executor } from '../db/client.js';
import { areas, institutions, notifications } from '../db/schema.js';
import { renderTemplate, type RenderedMail } from '../mail/render.js';
import { classifyFault, isFinal } from './delivery.js';
import { loadRulesInForce, type RulesInForce } from '../records/calendar.js';
import { isImmediateStage } from '../queue/job-options.js';
import { KINDS, type AnyRow, type RecordTypeName } from '../records/kinds.js';
import { BATCH_WINDOW_MS, immediateStage, messageIdFor as outboxMessageId, sendFromOutbox, type Decision, type OutboxKind, type SendDeps, type SendOutcome } from './outbox.js';

export { DEFAULT_RETRY_DELAY_MS, MarkSentError, retryWrite, type SendDeps, type SendOutcome } from './outbox.js';

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
  return outboxMessageId('notification', notificationId, from);
}

type Context = NonNullable<ReturnType<ReturnType<typeof contextOf>>>;

/**
 * The records behind a batch of rows, with their institution and area, in one query per record
 * type and one for the institutions; then, per record, its deadlines in Danish and English.
 */
async function loadContexts(deps: SendDeps, rows: ReadonlyArray<Pick<NotificationRow, 'recordType' | 'recordId'>>) {
  const records = new Map<string, AnyRow>();
  const byType = new Map<RecordTypeName, Set<string>>();
  for (const r of rows) byType.set(r.recordType, (byType.get(r.recordType) ?? new Set()).add(r.recordId));
  for (const [type, ids] of byType) for (const row of (await KINDS[type].load(deps.db, [...ids])) as AnyRow[]) records.set(`${type}:${(row as { id: string }).id}`, row);
  const instIds = [...new Set([...records.values()].map((r) => (r as { institutionId: string }).institutionId))];
  const joined = instIds.length === 0 ? [] : await deps.db.select({ inst: institutions, area: areas }).from(institutions).innerJoin(areas, eq(areas.id, institutions.areaId)).where(inArray(institutions.id, instIds));
  const places = new Map(joined.map((j) => [j.inst.id, j]));
  const rules = await (deps.rulesInForce ?? (() => loadRulesInForce(deps.db, deps.closureDays)))();
  return contextOf(deps, records, places, rules);
}

function contextOf(deps: SendDeps, records: Map<string, AnyRow>, places: Map<string, { inst: typeof institutions.$inferSelect; area: typeof areas.$inferSelect }>, rules: RulesInForce) {
  const now = deps.clock().getTime();
  return (type: RecordTypeName, recordId: string) => {
    const row = records.get(`${type}:${recordId}`);
    if (!row) return undefined;
    const place = places.get((row as { institutionId: string }).institutionId);
    if (!place) return undefined;
    const { inst, area } = place;
    const kind = KINDS[type];
    const record = parseRecord(kind.toEngine(row));
    // Staff mails quote no text a person typed into the record (README: which mails quote which fields).
    const policy = rules.policyFor(area.id);
    const da = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy, lang: 'da', quoteFreeText: false });
    const en = computeDeadlinesForRecord(record, { now, calendar: rules.calendar, policy, lang: 'en', quoteFreeText: false });
    return { row, inst, area, da, en, link: `${deps.publicUrl.replace(/\/$/, '')}/records/${kind.collection}/${recordId}` };
  };
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

/** Mails of a batch composed between two turns of the event loop. */
const COMPOSE_SLICE = 5;

/** Renders a notification, or says why it should not be sent any more (its deadline was met meanwhile). */
export async function composeNotification(deps: SendDeps, n: NotificationRow): Promise<{ mail: RenderedMail } | { cancel: string }> {
  return composeOne(deps, (await loadContexts(deps, [n]))(n.recordType, n.recordId), n);
}

async function composeOne(deps: SendDeps, c: Context | undefined, n: NotificationRow): Promise<{ mail: RenderedMail } | { cancel: string }> {
  if (!c) return { cancel: 'record gone' };
  const journalNumber = scrubCpr((c.row as { journalNumber: string }).journalNumber);
  const recipientName = n.recipient;
  if (n.template === 'reminder' || n.template === 'escalation') {
    const d = openDeadline(c, n);
    if (typeof d === 'string') return { cancel: d };
    const en = c.en.deadlines.find((x) => x.key === d.key);
    const vars = deadlineVars(d, en, journalNumber, c.inst.name, recipientName, c.link);
    if (n.stage.endsWith(NO_OWNER)) {
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

/** The deadline a reminder or escalation is about, or why it is not to be sent any more. */
function openDeadline(c: Context, n: Pick<NotificationRow, 'stage'>): Deadline | string {
  const key = n.stage.split(':')[0] ?? '';
  const d = c.da.deadlines.find((x) => x.key === key);
  if (!d) return 'deadline no longer applies';
  if (d.status === 'met' || d.status === 'met_late' || d.suspended) return `deadline ${d.status}`;
  if (d.endedBy) return `deadline ended by ${d.endedBy}`;
  return d;
}

// ---------------------------------------------------------------- digests

const NO_OWNER = ':no-owner';

/**
 * The one definition of which rows go into a plan owner's daily digest (when the digest setting is
 * on): reminders of action plans, except the no-owner reminder to the area office.
 */
export function digestEligible(n: Pick<NotificationRow, 'template' | 'recordType' | 'stage'>): boolean {
  return n.template === 'reminder' && n.recordType === 'action_plan' && !n.stage.endsWith(NO_OWNER);
}

/** digestEligible as SQL, for the claims. */
function digestSql(): SQL {
  return and(eq(notifications.template, 'reminder'), eq(notifications.recordType, 'action_plan'), sql`${notifications.stage} NOT LIKE ${`%${NO_OWNER}`}`) as SQL;
}

/**
 * Plan owners get one mail with all their plan reminders that are due, instead of one each: whichever
 * sibling job runs first claims every due reminder of that recipient and sends them together; the
 * others then find their row claimed and stop. The claim runs under a per-recipient advisory lock:
 * without it two jobs running at once (one worker's concurrency, or two workers) can each lock a
 * part of the rows in one UPDATE and send two half digests.
 */
async function claimDigest(deps: SendDeps, recipient: string, now: Date): Promise<NotificationRow[]> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`fristvagt-digest:${recipient}`}))`);
    return tx
      .update(notifications)
      .set({ status: 'sending', claimedAt: now, attempts: sql`${notifications.attempts} + 1`, updatedAt: now })
      .where(and(eq(notifications.status, 'scheduled'), eq(notifications.recipient, recipient), lte(notifications.plannedAt, now), digestSql()))
      .returning();
  });
}

/**
 * A digest's rows, listed by due time. Its Message-ID is its lowest row id, so the same set of
 * reminders sent again (after a crash) carries the same Message-ID whichever job sends it. A row
 * whose deadline was met meanwhile is cancelled; one that cannot be composed for good fails alone
 * (its siblings still go out); a transient fault defers the whole digest.
 */
function composeDigest(deps: SendDeps, ctx: (type: RecordTypeName, id: string) => Context | undefined, all: NotificationRow[], now: Date): Array<Decision<NotificationRow>> {
  all.sort((a, b) => a.plannedAt.getTime() - b.plannedAt.getTime() || a.id.localeCompare(b.id));
  const out: Array<Decision<NotificationRow>> = [];
  const lines: string[] = [];
  const linesEn: string[] = [];
  const included: NotificationRow[] = [];
  const cancelled: NotificationRow[] = [];
  for (const n of all) {
    try {
      const c = ctx(n.recordType, n.recordId);
      const d = c ? openDeadline(c, n) : 'record gone';
      if (!c || typeof d === 'string') {
        cancelled.push(n);
        continue;
      }
      const en = c.en.deadlines.find((x) => x.key === d.key);
      const due = parseIsoDate(d.dueDate) as number;
      const journal = scrubCpr((c.row as { journalNumber: string }).journalNumber);
      lines.push(`- ${d.title}, j.nr. ${journal}: frist ${longDate(due, 'da')} (${d.citation}) ${c.link}`);
      linesEn.push(`- ${en?.title ?? d.title}, case ${journal}: due ${longDate(due, 'en')}`);
      included.push(n);
    } catch (err) {
      if (!isFinal(classifyFault(err), n.attempts)) return [{ fault: all, lead: all[0] as NotificationRow, err }];
      out.push({ fault: [n], lead: n, err });
    }
  }
  if (cancelled.length > 0) out.push({ cancel: cancelled, reason: 'deadline met before the digest' });
  if (included.length === 0) return out;
  const first = [...included].sort((a, b) => a.id.localeCompare(b.id))[0] as NotificationRow;
  try {
    const mail = renderTemplate('digest', {
      recipientName: first.recipient,
      count: String(included.length),
      dayDa: longDate(localDayOfInstant(now.getTime()), 'da'),
      items: lines.join('\n'),
      itemsEn: linesEn.join('\n'),
      link: deps.publicUrl,
    });
    out.push({ send: { rows: included, lead: first, mail, to: [first.recipient], messageId: messageIdFor(first.id, deps.from) } });
  } catch (err) {
    out.push({ fault: included, lead: first, err });
  }
  return out;
}

// ---------------------------------------------------------------- the kind

/** Rows left `sending` longer than `staleMs`: their worker died mid-send (the sweep's recovery and a re-delivered job's claim both use this). */
export function staleSending(now: Date, staleMs: number): SQL {
  return and(eq(notifications.status, 'sending'), lt(notifications.claimedAt, new Date(now.getTime() - staleMs))) as SQL;
}

/** Notifications as a kind of the outbox, with the digest setting in force for this send. */
const notificationKind = (digestEnabled: boolean): OutboxKind<NotificationRow> => ({
  table: notifications,
  label: 'notification',
  logKey: 'notificationId',
  claimable(deps, now, ownId) {
    const due = and(eq(notifications.status, 'scheduled'), lte(notifications.plannedAt, now)) as SQL;
    // A digest's rows are claimed together with their siblings under the recipient's lock (claimDigest).
    const single = digestEnabled ? and(due, not(digestSql())) as SQL : due;
    const own = deps.staleSendingMs === undefined ? single : (or(single, staleSending(now, deps.staleSendingMs)) as SQL);
    // Another job's row only while it has not failed yet: a retry waits for its own job, at its backoff.
    const fresh = or(eq(notifications.attempts, 0), sql`${notifications.lastError} IS NULL`) as SQL;
    // Another job's row joins the batch when it fell due at the same instant as the job's own (the
    // 08:00 burst: the planner puts stages on schedule times), or when it is an alert due within
    // BATCH_WINDOW_MS. Rows due at other instants go with their own jobs, at their own time.
    const urgent = immediateStage(notifications.stage);
    const sameInstant = sql`${notifications.plannedAt} = (SELECT o.planned_at FROM notifications o WHERE o.id = ${ownId}::uuid)`;
    const together = or(sameInstant, and(urgent, gt(notifications.plannedAt, new Date(now.getTime() - BATCH_WINDOW_MS)))) as SQL;
    // Not the preliminary notice: it is sent on a person's approval (notice.ts), never by the worker.
    // Not a failure report either: the sweep queues each one after the failure it reports.
    return { own, others: and(single, fresh, together, notInArray(notifications.template, ['preliminary-notice', 'failure-report'])) as SQL, urgent };
  },
  async unclaimed(deps, ownId, now) {
    const [row] = await deps.db.select({ status: notifications.status, template: notifications.template, recordType: notifications.recordType, stage: notifications.stage, recipient: notifications.recipient, plannedAt: notifications.plannedAt }).from(notifications).where(eq(notifications.id, ownId));
    if (!row) return 'not-claimable';
    if (row.status !== 'scheduled') return 'not-claimable';
    if (row.plannedAt.getTime() > now.getTime()) return 'not-due';
    if (!digestEnabled || !digestEligible(row)) return 'not-due';
    const all = await claimDigest(deps, row.recipient, now);
    if (all.length > 0) return all;
    const [after] = await deps.db.select({ status: notifications.status }).from(notifications).where(eq(notifications.id, ownId));
    return after?.status === 'scheduled' ? 'not-due' : 'not-claimable';
  },
  async compose(deps, rows, now) {
    const ctx = await loadContexts(deps, rows);
    const digest = digestEnabled ? rows.filter(digestEligible) : [];
    const out: Array<Decision<NotificationRow>> = digest.length > 0 ? composeDigest(deps, ctx, digest, now) : [];
    let sliced = 0;
    for (const n of rows) {
      if (digest.includes(n)) continue;
      // A batch is about 3 ms of CPU to compose: every few mails the event loop takes its turn, so
      // that the other lanes' SMTP replies and marks are not held up behind it (each lane waits for
      // its mark; see outbox.ts).
      if (++sliced % COMPOSE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      try {
        const composed = await composeOne(deps, ctx(n.recordType, n.recordId), n);
        out.push('cancel' in composed ? { cancel: [n], reason: composed.cancel } : { send: { rows: [n], lead: n, mail: composed.mail, to: [n.recipient], messageId: messageIdFor(n.id, deps.from) } });
      } catch (err) {
        out.push({ fault: [n], lead: n, err });
      }
    }
    return out;
  },
  async report(tx: Executor, deps, lead, settings) {
    // The reports are notifications of their own, sent once; a failed report is not reported again.
    if (lead.template === 'failure-report') return;
    const { recipients } = settings;
    const now = deps.clock();
    if (recipients.admins.length === 0) return;
    await tx
      .insert(notifications)
      .values(recipients.admins.map((admin) => ({ recordType: lead.recordType, recordId: lead.recordId, stage: `failure:${lead.id}`, kind: 'alert', template: 'failure-report', recipient: admin, plannedAt: now })))
      .onConflictDoNothing();
  },
  urgent: (r) => isImmediateStage(r.stage),
  job: (r) => ({ version: r.version, stage: r.stage }),
});

/**
 * Sends notification `notificationId` (and whatever else its claim takes, outbox.ts); returns what
 * became of it, or throws SendDeferred when it has to wait. `version`: the job's (send-<id>-<version>).
 */
export async function sendNotification(deps: SendDeps, notificationId: string, version?: number): Promise<SendOutcome> {
  return sendFromOutbox(notificationKind((await deps.settings()).digest), deps, notificationId, version);
}
