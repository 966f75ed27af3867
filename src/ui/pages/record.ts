/**
 * The record page (/records/:collection/:id): the record, its deadlines with explanation and
 * citation, a timeline (events, planned and sent mails, audit entries) and, for roles that may
 * write, the completion forms. Writes go through the same recordEvent as the API.
 */
import { and, asc, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { INCIDENT_KINDS, incidentChapter, scrubCpr, type ImmediateDuty, type IncidentKind, type Lang } from '../../domain/index.js';
import { readAudit } from '../../db/audit.js';
import { auditLog, notifications } from '../../db/schema.js';
import { ServiceError, type FieldIssue } from '../../records/errors.js';
import { KIND_BY_COLLECTION, type KindDescriptor, type RecordTypeName } from '../../records/kinds.js';
import { listAreas, listInstitutions, listStaff } from '../../records/masterdata.js';
import { canWrite, getRecord, mayseeCpr, recordEvent, type RecordView } from '../../records/service.js';
import { sendEvidencePack } from '../../evidence/http.js';
import { mailView, yesNo } from '../components.js';
import { caughtFor, mailOf, stageTitles } from '../data/mails.js';
import { recordHref } from '../data/records.js';
import { dateField, dateTimeField, parseDanishInstant } from '../form-fields.js';
import { fmtDay, fmtInstant, notificationBadge, parseFormDate, timeEl } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import { fieldErrors } from '../issues.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { replanNow } from '../replan.js';
import { escalationSection } from './escalations.js';
import { noticeSection } from './notice.js';
import { recordedEventsSection, recordFormLinks } from './record-form.js';
import { deadlinesTable, findingsOf, findingsSection, immediateList } from './record-deadlines.js';
import { csrfField, errorSummary, field, formBody, issuesOf, page, queryOf, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

/** Completion events offered in the simple form, and the field each one fills (hidden once done). */
const COMPLETIONS: Record<RecordTypeName, Array<[string, string]>> = {
  incident: [
    ['preliminary_notice_sent', 'preliminaryNoticeSentAt'], ['final_report_submitted', 'finalReportSubmittedAt'], ['inmate_conversation_held', 'inmateConversationHeldAt'],
    ['closing_letter_sent', 'closingLetterSentAt'], ['closing_letter_copy_sent', 'closingLetterCopySentAt'], ['closed_not_reportable', 'closedNotReportableAt'], ['closed', 'closedAt'],
  ],
  security_cell_placement: [['ended', 'endedAt'], ['follow_up_offered', 'followUpOfferedAt'], ['follow_up_held', 'followUpHeldAt'], ['follow_up_declined', 'followUpDeclinedAt'], ['follow_up_note_recorded', 'followUpNoteAt'], ['closed', 'closedAt']],
  // The report (with its § 8 note) and the plan's creation (with the municipality contact) have forms of their own.
  force_use: [['complaint_received', 'complaintReceivedAt'], ['closed', 'closedAt']],
  action_plan: [['elaborated', 'elaboratedAt'], ['evaluated', ''], ['municipality_contacted', 'municipalityContactedAt'], ['transition_placed', 'transitionPlacedAt'], ['closed', 'closedAt']],
};

const REPORTABLE_ONLY = new Set(['preliminary_notice_sent', 'final_report_submitted', 'inmate_conversation_held', 'closing_letter_sent', 'closing_letter_copy_sent']);

/** Steps that apply to some records of a type only. */
function completionApplies(kind: KindDescriptor, view: RecordView, event: string): boolean {
  // § 20 stk. 2: only a chapter 5 case is closed as not reportable; the report and its letters are chapters 3–4 (§§ 6–9, 13–16, 21).
  if (event === 'closed_not_reportable') return kind.type === 'incident' && incidentChapter(view['kind'] as IncidentKind) === 5;
  if (kind.type === 'incident' && REPORTABLE_ONLY.has(event)) return incidentChapter(view['kind'] as IncidentKind) !== 5;
  // An offer and its refusal belong before the conversation; the § 14 note after it (held or declined).
  if (event === 'follow_up_offered' || event === 'follow_up_declined') return !view['followUpHeldAt'];
  if (event === 'follow_up_note_recorded') return !!(view['followUpHeldAt'] || view['followUpDeclinedAt']);
  return true;
}

export const KIND_LABELS: Record<Lang, Record<string, string>> = {
  da: {
    death: 'Dødsfald', suicide: 'Selvmord', qualified_suicide_attempt: 'Kvalificeret selvmordsforsøg', qualified_self_harm: 'Kvalificeret selvbeskadigende handling', other_self_harm_behaviour: 'Anden selvmords- eller selvbeskadigelsesadfærd',
    convicted_from_liberty: 'Dømt, indsat fra friheden', remand: 'Varetægtsarrestant', supervision: 'Tilsyn', measure_68_69: 'Foranstaltning efter straffelovens §§ 68–69', youth_home_detention: 'Ung, afsoning på bopælen',
    granted: 'Bevilget', refused: 'Afslået',
  },
  en: {
    death: 'Death', suicide: 'Suicide', qualified_suicide_attempt: 'Qualified suicide attempt', qualified_self_harm: 'Qualified self-harm', other_self_harm_behaviour: 'Other self-harm behaviour',
    convicted_from_liberty: 'Convicted, admitted from liberty', remand: 'Remand prisoner', supervision: 'Supervision', measure_68_69: 'Measure under §§ 68–69 of the Criminal Code', youth_home_detention: 'Youth home detention',
    granted: 'Granted', refused: 'Refused',
  },
};

/** Instants in the record (what happened when) for the timeline. */
const EVENT_FIELDS = [
  'occurredAt', 'registeredAt', 'preliminaryNoticeSentAt', 'delayNotifiedAt', 'finalReportSubmittedAt', 'inmateConversationHeldAt', 'closingLetterSentAt', 'closingLetterCopySentAt', 'closedNotReportableAt',
  'placedAt', 'endedAt', 'followUpPostponedAt', 'followUpOfferedAt', 'followUpHeldAt', 'followUpDeclinedAt', 'followUpNoteAt', 'caseReviewedAt', 'reportFiledAt', 'complaintReceivedAt',
  'admittedAt', 'supervisionEstablishedAt', 'ownerAssignedAt', 'planCreatedAt', 'elaboratedAt', 'municipalityContactedAt', 'transitionPlacedAt', 'transitionOwnerAssignedAt', 'closedAt',
];
const SKIP_FACTS = new Set(['type', 'id', 'deadlines', 'immediate', 'notInForce', 'incomplete', 'warnings', 'evaluations', 'transfers', 'paroleDecisions', 'delayNotices', 'reclassifications', 'version']);
/** The latest delay notice, kept on the record for compatibility: the list of every notice says it already. */
const LEGACY_DELAY_FIELDS = new Set(['delayNotifiedAt', 'finalReportExpectedAt', 'delayReason']);

interface DelayNoticeView {
  id: string;
  notifiedAt: string;
  expectedDate: string;
  reason: string | null;
}
interface ReclassificationView {
  id: string;
  at: string;
  fromKind: string;
  toKind: string;
  reason: string | null;
}
interface History {
  delayNotices?: DelayNoticeView[];
  reclassifications?: ReclassificationView[];
}
const AUDIT_SKIP = new Set(['updatedAt', 'version', 'createdAt']);
/** What a correction or undo adds to its audit entry (records/corrections.ts): shown as its reason, not as changed fields. */
const CORRECTION_KEYS = new Set(['correctionOf', 'correctionReason']);
/** Lists kept as history: the audit entry shows how many there are (each has its own timeline entry). */
const HISTORY_LISTS = new Set(['evaluations', 'transfers', 'paroleDecisions', 'delayNotices', 'reclassifications']);

export interface Names {
  institutions: Map<string, string>;
  areas: Map<string, string>;
  staff: Map<string, string>;
}

export function fmtValue(key: string, v: unknown, lang: Lang, names: Names): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return yesNo(v, lang);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    if (key === 'institutionId' || key === 'toInstitutionId') return names.institutions.get(v) ?? v;
    if (key === 'areaId') return names.areas.get(v) ?? v;
    if (key === 'ownerId' || key === 'assigneeId') return names.staff.get(v) ?? v;
    if (key === 'escalationState') return t(lang).escStates[v] ?? v;
    if (key === 'kind' || key === 'clientCategory' || key === 'outcome') return KIND_LABELS[lang][v] ?? v;
    if (/^\d{4}-\d{2}-\d{2}T/.test(v)) return fmtInstant(v, lang);
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return fmtDay(v, lang);
    return v;
  }
  return JSON.stringify(v);
}

export async function namesFor(u: UiContext, session: UiSession): Promise<Names> {
  const [areas, insts, staff] = await Promise.all([listAreas(u.ctx), listInstitutions(u.ctx, { ...session.actor, role: 'reader' }), listStaff(u.ctx, { ...session.actor, role: 'reader' })]);
  return { areas: new Map(areas.map((a) => [a.id, a.name])), institutions: new Map(insts.map((i) => [i.id, i.name])), staff: new Map(staff.map((s) => [s.id, s.name])) };
}

function factsList(view: RecordView, lang: Lang, names: Names): SafeHtml {
  const d = t(lang);
  const hist = view as unknown as History;
  const legacy = Array.isArray(hist.delayNotices);
  const items = Object.entries(view).filter(([k, v]) => !SKIP_FACTS.has(k) && !(legacy && LEGACY_DELAY_FIELDS.has(k)) && v !== null && v !== undefined && v !== '');
  const plan = view as unknown as { evaluations?: Array<{ at: string }>; transfers?: Array<{ at: string; toInstitutionId: string; planUpdatedAt: string | null }>; paroleDecisions?: Array<{ at: string; outcome: string; planUpdatedAt: string | null }> };
  const kindLabel = (k: string): string => KIND_LABELS[lang][k] ?? k;
  return html`<dl class="facts">
${items.map(([k, v]) => html`<dt>${d.fields[k] ?? k}</dt><dd>${fmtValue(k, v, lang, names)}</dd>`)}
${hist.delayNotices && hist.delayNotices.length > 0 ? html`<dt>${d.fields['delayNotices']}</dt><dd><ul id="delay-notices">${hist.delayNotices.map((n) => html`<li>${d.delayNoticeItem(fmtInstant(n.notifiedAt, lang), fmtDay(n.expectedDate, lang))}${n.reason ? html`: ${n.reason}` : ''}</li>`)}</ul></dd>` : ''}
${hist.reclassifications && hist.reclassifications.length > 0 ? html`<dt>${d.fields['reclassifications']}</dt><dd><ul id="reclassifications">${hist.reclassifications.map((r) => html`<li>${fmtInstant(r.at, lang)}: ${d.reclassifiedFromTo(kindLabel(r.fromKind), kindLabel(r.toKind))}${r.reason ? html` (${r.reason})` : ''}</li>`)}</ul></dd>` : ''}
${plan.evaluations && plan.evaluations.length > 0 ? html`<dt>${d.fields['evaluations']}</dt><dd>${plan.evaluations.map((e, i) => html`${i > 0 ? ', ' : ''}${fmtInstant(e.at, lang)}`)}</dd>` : ''}
${plan.transfers && plan.transfers.length > 0 ? html`<dt>${d.fields['transfers']}</dt><dd><ul>${plan.transfers.map((tr) => html`<li>${fmtInstant(tr.at, lang)} → ${names.institutions.get(tr.toInstitutionId) ?? tr.toInstitutionId}${tr.planUpdatedAt ? html` (${d.events['transfer_plan_updated']}: ${fmtInstant(tr.planUpdatedAt, lang)})` : ''}</li>`)}</ul></dd>` : ''}
${plan.paroleDecisions && plan.paroleDecisions.length > 0 ? html`<dt>${d.fields['paroleDecisions']}</dt><dd><ul>${plan.paroleDecisions.map((p) => html`<li>${fmtInstant(p.at, lang)}: ${KIND_LABELS[lang][p.outcome] ?? p.outcome}${p.planUpdatedAt ? html` (${d.events['parole_plan_updated']}: ${fmtInstant(p.planUpdatedAt, lang)})` : ''}</li>`)}</ul></dd>` : ''}
</dl>`;
}

interface TimelineEntry {
  at: number;
  kind: string;
  title: SafeHtml;
  body?: SafeHtml | undefined;
}

/** Who reviewed a security-cell case and with what outcome (cell.case-review). */
function caseReviewBody(view: RecordView, lang: Lang): SafeHtml | undefined {
  const d = t(lang);
  const reviewer = view['caseReviewer'];
  const outcome = view['caseReviewOutcome'];
  if (typeof reviewer !== 'string' && typeof outcome !== 'string') return undefined;
  return html`<br><span class="small">${typeof reviewer === 'string' ? html`${d.reviewer}: ${reviewer}` : ''}${typeof outcome === 'string' ? html`<br>${d.reviewOutcome}: ${outcome}` : ''}</span>`;
}

async function timeline(u: UiContext, req: FastifyRequest, kind: KindDescriptor, view: RecordView, showCpr: boolean, lang: Lang, names: Names): Promise<SafeHtml> {
  const d = t(lang);
  const db = u.deps.database.db;
  const id = view['id'] as string;
  const entries: TimelineEntry[] = [];
  const hist = view as unknown as History;
  for (const f of EVENT_FIELDS) {
    const v = view[f];
    // Every delay notice has its own entry below; the legacy field repeats the latest.
    if (f === 'delayNotifiedAt' && Array.isArray(hist.delayNotices)) continue;
    if (typeof v === 'string') entries.push({ at: Date.parse(v), kind: d.tlEvent, title: html`${d.fields[f] ?? f}`, body: f === 'caseReviewedAt' ? caseReviewBody(view, lang) : undefined });
  }
  for (const n of hist.delayNotices ?? []) {
    entries.push({ at: Date.parse(n.notifiedAt), kind: d.tlEvent, title: html`${d.events['delay_notified']} – ${d.expectedDate}: ${fmtDay(n.expectedDate, lang)}`, body: n.reason ? html`<br><span class="small">${n.reason}</span>` : undefined });
  }
  for (const r of hist.reclassifications ?? []) {
    entries.push({ at: Date.parse(r.at), kind: d.tlEvent, title: html`${d.reclassifiedFromTo(KIND_LABELS[lang][r.fromKind] ?? r.fromKind, KIND_LABELS[lang][r.toKind] ?? r.toKind)}`, body: r.reason ? html`<br><span class="small">${r.reason}</span>` : undefined });
  }
  const plan = view as unknown as { evaluations?: Array<{ at: string }>; transfers?: Array<{ at: string; toInstitutionId: string; planUpdatedAt: string | null }>; paroleDecisions?: Array<{ at: string; outcome: string; planUpdatedAt: string | null }> };
  for (const e of plan.evaluations ?? []) entries.push({ at: Date.parse(e.at), kind: d.tlEvent, title: html`${d.events['evaluated']}` });
  for (const tr of plan.transfers ?? []) {
    entries.push({ at: Date.parse(tr.at), kind: d.tlEvent, title: html`${d.events['transferred']} → ${names.institutions.get(tr.toInstitutionId) ?? tr.toInstitutionId}` });
    if (tr.planUpdatedAt) entries.push({ at: Date.parse(tr.planUpdatedAt), kind: d.tlEvent, title: html`${d.events['transfer_plan_updated']}` });
  }
  for (const p of plan.paroleDecisions ?? []) {
    entries.push({ at: Date.parse(p.at), kind: d.tlEvent, title: html`${d.events['parole_decided']}: ${KIND_LABELS[lang][p.outcome] ?? p.outcome}` });
    if (p.planUpdatedAt) entries.push({ at: Date.parse(p.planUpdatedAt), kind: d.tlEvent, title: html`${d.events['parole_plan_updated']}` });
  }

  const audits = await readAudit(db, and(eq(auditLog.entityId, id), eq(auditLog.entityType, kind.type)), d.erasedValue);
  // The audit log keeps free text as written (record.ts's view is masked by getRecord already).
  const shown = showCpr ? (s: string) => s : scrubCpr;
  for (const a of audits) {
    const action = a.action.startsWith(`${kind.type}.event.`) ? a.action.slice(`${kind.type}.event.`.length) : a.action.split('.').at(-1) ?? a.action;
    const before = (a.before ?? {}) as Record<string, unknown>;
    const after = (a.after ?? {}) as Record<string, unknown>;
    const changed = Object.keys(after).filter((k) => !AUDIT_SKIP.has(k) && !CORRECTION_KEYS.has(k) && JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null) && (a.before !== null || (after[k] !== null && after[k] !== false)));
    // A correction or undo of an event (record-form.ts): named as such, with its reason.
    const [eventName = '', mode] = action.split('.');
    const title = mode === 'correct' ? d.rf.timelineCorrect(d.events[eventName] ?? eventName) : mode === 'undo' ? d.rf.timelineUndo(d.events[eventName] ?? eventName) : (d.events[action] ?? a.action);
    const reason = typeof after['correctionReason'] === 'string' ? after['correctionReason'] : undefined;
    entries.push({
      at: a.at.getTime(),
      kind: d.tlAudit,
      title: html`${title} <span class="muted">${d.by} ${a.actor}</span>`,
      body: html`${reason ? html`<br><span class="small">${d.rf.reason}: <q>${shown(reason)}</q></span>` : ''}${changed.length > 0 ? html`<details><summary>${d.changedFields} (${changed.length})</summary><ul class="small">${changed.map((k) => html`<li>${d.fields[k] ?? k}: ${HISTORY_LISTS.has(k) ? String((after[k] as unknown[] | null)?.length ?? 0) : shown(fmtValue(k, after[k], lang, names))}</li>`)}</ul></details>` : ''}`,
    });
  }

  const notes = await db.select().from(notifications).where(eq(notifications.recordId, id)).orderBy(asc(notifications.plannedAt));
  const stageOf = await stageTitles(db, lang);
  const caught = await caughtFor(db, notes.map((n) => n.id));
  for (const n of notes) {
    const sent = n.status === 'sent' && n.sentAt;
    const mail = await mailOf(u, req, n, caught.get(n.id), showCpr);
    entries.push({
      at: (sent ? (n.sentAt as Date) : n.plannedAt).getTime(),
      // A cancelled, superseded or failed mail was planned once; it is not "planned" any more.
      kind: sent ? d.tlMailSent : n.status === 'scheduled' || n.status === 'sending' ? d.tlMailPlanned : d.tlMail,
      title: html`<span data-stage="${n.stage}">${stageOf(n.stage)}</span> → ${n.recipient} ${notificationBadge(n.status, lang)}`,
      body: html`<details><summary>${d.showMail}</summary>${mailView(mail, lang, mail.source === 'caught' ? `/mail/caught/${mail.caughtId ?? ''}/html` : `/mail/notifications/${n.id}/html`)}<p class="small"><a href="/mail/notifications/${n.id}">${d.mailDetail}</a></p></details>`,
    });
  }
  entries.sort((a, b) => a.at - b.at);
  if (entries.length === 0) return html`<p>${d.timelineEmpty}</p>`;
  return html`<ol class="timeline">${entries.map((e) => html`<li><span class="tl-kind">${e.kind}</span> · ${timeEl(new Date(e.at), lang)}<br>${e.title}${e.body ?? ''}</li>`)}</ol>`;
}

function val(prev: FormBody | undefined, name: string): string {
  const v = prev?.[name];
  return typeof v === 'string' ? v : '';
}

function invalid(issues: FieldIssue[] | undefined, ...paths: string[]): SafeHtml {
  return issues?.some((i) => paths.includes(i.path)) ? html` aria-invalid="true"` : html``;
}

async function actionForms(u: UiContext, session: UiSession, kind: KindDescriptor, view: RecordView, lang: Lang, prev: { form: string; values: FormBody; issues: FieldIssue[] } | undefined): Promise<SafeHtml> {
  const d = t(lang);
  const id = view['id'] as string;
  const action = `/records/${kind.collection}/${id}/events`;
  const p = (form: string) => (prev?.form === form ? prev.values : undefined);
  const iss = (form: string) => (prev?.form === form ? prev.issues : undefined);
  // A field's own error, in the reader's language, shown next to it.
  const err = (form: string, path: string): string | undefined => fieldErrors(lang, iss(form) ?? []).get(path);
  const pending = COMPLETIONS[kind.type].filter(([e, f]) => (!f || view[f] === null || view[f] === undefined) && completionApplies(kind, view, e));
  const forms: SafeHtml[] = [];
  if (pending.length > 0) {
    forms.push(html`<form method="post" action="${action}" novalidate id="form-event">${csrfField(session)}<input type="hidden" name="form" value="event">
<fieldset><legend>${d.registerCompletion}</legend><div class="fields">
<div class="field"><label for="ev-type">${d.eventType}</label><select id="ev-type" name="type"${invalid(iss('event'), 'type')}>${pending.map(([e]) => html`<option value="${e}"${val(p('event'), 'type') === e ? html` selected` : ''}>${d.events[e] ?? e}</option>`)}</select></div>
${dateTimeField(lang, { name: 'at', id: 'ev-at', label: d.eventAt, value: val(p('event'), 'at'), error: err('event', 'at') })}
<div class="field"><button type="submit">${d.register}</button></div>
</div></fieldset></form>`);
  }
  const deadlines = view.deadlines;
  if (kind.type === 'incident') {
    const final = deadlines.find((x) => x.rule === 'incident.final-report');
    // Several notices may be given (each is kept); none once the report is in or the case left chapters 3–4.
    if (final && !final.completedAt && !final.endedBy) {
      forms.push(html`<form method="post" action="${action}" novalidate id="form-delay">${csrfField(session)}<input type="hidden" name="form" value="delay">
<fieldset><legend>${d.delayTitle}</legend><p class="small">${d.delayIntro}</p><div class="fields">
${dateField(lang, { name: 'expectedDate', id: 'dl-date', label: d.expectedDate, value: val(p('delay'), 'expectedDate'), error: err('delay', 'expectedDate'), required: true })}
<div class="field"><label for="dl-reason">${d.reason}</label><input type="text" id="dl-reason" name="reason" required size="40" value="${val(p('delay'), 'reason')}"${invalid(iss('delay'), 'reason')}></div>
${dateTimeField(lang, { name: 'at', id: 'dl-at', label: d.notifiedAt, value: val(p('delay'), 'at'), error: err('delay', 'at') })}
<div class="field"><button type="submit">${d.registerDelay}</button></div>
</div></fieldset></form>`);
    }
  }
  const followUp = deadlines.find((x) => x.rule === 'cell.follow-up-conversation');
  if (kind.type === 'security_cell_placement' && followUp && !followUp.completedAt) {
    forms.push(html`<form method="post" action="${action}" novalidate id="form-postpone">${csrfField(session)}<input type="hidden" name="form" value="postpone">
<fieldset><legend>${d.postponeTitle}</legend><p class="small">${d.postponeIntro}</p><div class="fields">
<div class="field"><label for="pp-reason">${d.reason}</label><input type="text" id="pp-reason" name="reason" required size="40" value="${val(p('postpone'), 'reason')}"${invalid(iss('postpone'), 'reason')}></div>
${dateField(lang, { name: 'newDate', id: 'pp-date', label: d.newDate, value: val(p('postpone'), 'newDate'), error: err('postpone', 'newDate') })}
${dateTimeField(lang, { name: 'at', id: 'pp-at', label: d.postponeDecidedAt, value: val(p('postpone'), 'at'), error: err('postpone', 'at') })}
<div class="field"><button type="submit">${d.postpone}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'security_cell_placement' && view['endedAt'] && !view['caseReviewedAt'] && deadlines.some((x) => x.rule === 'cell.case-review')) {
    forms.push(html`<form method="post" action="${action}" novalidate id="form-review">${csrfField(session)}<input type="hidden" name="form" value="review">
<fieldset><legend>${d.caseReviewTitle}</legend><div class="fields">
<div class="field"><label for="rv-reviewer">${d.reviewer}</label><input type="text" id="rv-reviewer" name="reviewer" required maxlength="200" size="30" value="${val(p('review'), 'reviewer')}"${invalid(iss('review'), 'reviewer')}></div>
<div class="field"><label for="rv-outcome">${d.reviewOutcome}</label><textarea id="rv-outcome" name="outcome" required maxlength="2000" rows="3"${invalid(iss('review'), 'outcome')}>${val(p('review'), 'outcome')}</textarea></div>
${dateTimeField(lang, { name: 'at', id: 'rv-at', label: d.eventAt, value: val(p('review'), 'at'), error: err('review', 'at') })}
<div class="field"><button type="submit">${d.registerReview}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'force_use' && !view['reportFiledAt']) {
    const noted = prev?.form === 'report' ? val(p('report'), 'complaintInfoNoted') === '1' : false;
    forms.push(html`<form method="post" action="${action}" novalidate id="form-report">${csrfField(session)}<input type="hidden" name="form" value="report">
<fieldset><legend>${d.reportTitle}</legend><div class="fields">
${dateTimeField(lang, { name: 'at', id: 'rp-at', label: d.eventAt, value: val(p('report'), 'at'), error: err('report', 'at') })}
<div class="field check"><span><input type="checkbox" id="rp-noted" name="complaintInfoNoted" value="1"${noted ? html` checked` : ''}${invalid(iss('report'), 'complaintInfoNoted')}> <label for="rp-noted">${d.complaintInfoNotedLabel}</label></span></div>
<div class="field"><button type="submit">${d.registerReport}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'force_use' && view['reportFiledAt'] && view['complaintInfoNoted'] !== true) {
    forms.push(html`<form method="post" action="${action}" novalidate id="form-complaintnote">${csrfField(session)}<input type="hidden" name="form" value="complaintnote">
<fieldset><legend>${d.complaintNoteTitle}</legend><p class="small">${d.complaintNoteIntro}</p><div class="fields">
<div class="field"><button type="submit">${d.registerComplaintNote}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'incident' && incidentChapter(view['kind'] as IncidentKind) !== 3) {
    // § 11 stk. 2 / § 18 stk. 2: between chapters 4 and 5 (and between the two chapter 4 kinds); deaths are not reclassified.
    const kinds = INCIDENT_KINDS.filter((k) => incidentChapter(k) !== 3 && k !== view['kind']);
    forms.push(html`<form method="post" action="${action}" novalidate id="form-reclassify">${csrfField(session)}<input type="hidden" name="form" value="reclassify">
<fieldset><legend>${d.reclassifyTitle}</legend><p class="small">${d.reclassifyIntro}</p><div class="fields">
<div class="field"><label for="rc-kind">${d.newKind}</label><select id="rc-kind" name="kind"${invalid(iss('reclassify'), 'kind')}>${kinds.map((k) => html`<option value="${k}"${val(p('reclassify'), 'kind') === k ? html` selected` : ''}>${KIND_LABELS[lang][k] ?? k}</option>`)}</select></div>
<div class="field"><label for="rc-reason">${d.reason}</label><input type="text" id="rc-reason" name="reason" required size="40" value="${val(p('reclassify'), 'reason')}"${invalid(iss('reclassify'), 'reason')}></div>
${dateTimeField(lang, { name: 'at', id: 'rc-at', label: d.reclassifiedAt, value: val(p('reclassify'), 'at'), error: err('reclassify', 'at') })}
<div class="field"><button type="submit">${d.registerReclassify}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'action_plan' && !view['planCreatedAt']) {
    // Youth home detention: the municipality is contacted together with the first plan (pkt. 32).
    const youth = view['clientCategory'] === 'youth_home_detention';
    const contacted = val(p('plancreated'), 'municipalityContacted') === '1';
    forms.push(html`<form method="post" action="${action}" novalidate id="form-plancreated">${csrfField(session)}<input type="hidden" name="form" value="plancreated">
<fieldset><legend>${d.planCreatedTitle}</legend><div class="fields">
${dateTimeField(lang, { name: 'at', id: 'pc-at', label: d.eventAt, value: val(p('plancreated'), 'at'), error: err('plancreated', 'at') })}
${youth ? html`<div class="field check"><span><input type="checkbox" id="pc-municipality" name="municipalityContacted" value="1"${contacted ? html` checked` : ''}${invalid(iss('plancreated'), 'municipalityContacted')}> <label for="pc-municipality">${d.municipalityContactedLabel}</label></span></div>` : ''}
<div class="field"><button type="submit">${d.registerPlanCreated}</button></div>
</div></fieldset></form>`);
  }
  if (kind.type === 'action_plan') {
    const areaId = view['areaId'] as string;
    const staff = (await listStaff(u.ctx, { ...session.actor, role: 'reader' })).filter((s) => s.areaId === areaId && s.active);
    if (staff.length > 0) {
      forms.push(html`<form method="post" action="${action}" novalidate id="form-owner">${csrfField(session)}<input type="hidden" name="form" value="owner">
<fieldset><legend>${d.ownerTitle}</legend><div class="fields">
<div class="field"><label for="ow-id">${d.owner}</label><select id="ow-id" name="ownerId"${invalid(iss('owner'), 'ownerId')}>${staff.map((s) => html`<option value="${s.id}"${(val(p('owner'), 'ownerId') || view['ownerId']) === s.id ? html` selected` : ''}>${s.name}${s.title ? ` (${s.title})` : ''}</option>`)}</select></div>
<div class="field"><button type="submit">${d.assignOwner}</button></div>
</div></fieldset></form>`);
    }
    const plan = view as unknown as { transfers: Array<{ id: string; at: string; planUpdatedAt: string | null }>; paroleDecisions: Array<{ id: string; at: string; planUpdatedAt: string | null }> };
    for (const tr of plan.transfers.filter((x) => !x.planUpdatedAt)) {
      forms.push(html`<form method="post" action="${action}" novalidate>${csrfField(session)}<input type="hidden" name="form" value="transfer"><input type="hidden" name="transferId" value="${tr.id}">
<fieldset><legend>${d.transferUpdateTitle} (${fmtInstant(tr.at, lang)})</legend><div class="fields">
${dateTimeField(lang, { name: 'at', id: `tr-at-${tr.id}`, label: d.eventAt })}
<div class="field"><button type="submit">${d.markUpdated}</button></div></div></fieldset></form>`);
    }
    for (const pd of plan.paroleDecisions.filter((x) => !x.planUpdatedAt)) {
      forms.push(html`<form method="post" action="${action}" novalidate>${csrfField(session)}<input type="hidden" name="form" value="parole"><input type="hidden" name="decisionId" value="${pd.id}">
<fieldset><legend>${d.paroleUpdateTitle} (${fmtInstant(pd.at, lang)})</legend><div class="fields">
${dateTimeField(lang, { name: 'at', id: `pd-at-${pd.id}`, label: d.eventAt })}
<div class="field"><button type="submit">${d.markUpdated}</button></div></div></fieldset></form>`);
    }
  }
  return html`${forms}`;
}

async function renderRecord(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, id: string, status: number, prev?: { form: string; values: FormBody; issues: FieldIssue[] }): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const view = await getRecord(u.ctx, kind.type, id, session.actor, lang);
  const names = await namesFor(u, session);
  const writable = canWrite(session.actor, { institutionId: view['institutionId'] as string, areaId: view['areaId'] as string });
  const done = queryOf(req)['done'];
  const title = d.recordTitle(d.recordTypes[kind.type] ?? kind.type, view['journalNumber'] as string);
  // Field names in the reader's language; a review's `outcome` is its result, not a parole decision's.
  const label = (path: string): string => (prev?.form === 'review' && path === 'outcome' ? d.reviewOutcome : (d.fields[path] ?? path));
  const body = html`${prev ? errorSummary(lang, prev.issues, label) : ''}
<section aria-labelledby="h-facts"><h2 id="h-facts">${d.recordFacts}</h2>${factsList(view, lang, names)}
${session.actor.role === 'reader' ? '' : html`<p class="no-print"><a class="button secondary" id="evidence-link" href="${recordHref(kind.type, id)}/evidence" download>${d.evidenceLink}</a></p>`}</section>
<section aria-labelledby="h-deadlines"><h2 id="h-deadlines">${d.deadlines}</h2>${findingsSection(findingsOf(view), lang, (f) => kind.engineFieldToApi?.[f] ?? f)}${deadlinesTable(view.deadlines, lang)}${immediateList(view['immediate'] as ImmediateDuty[], lang)}</section>
${await escalationSection(u, session, view, lang)}
<section aria-labelledby="h-actions" class="no-print"><h2 id="h-actions">${d.actions}</h2>
${writable ? await actionForms(u, session, kind, view, lang, prev) : html`<p>${d.readOnly}</p>`}
${writable ? recordFormLinks(kind, view, lang) : ''}
${writable ? await noticeSection(u, session, kind, view, lang) : ''}
</section>
${await recordedEventsSection(u, session, kind, view, lang, writable)}
<section aria-labelledby="h-timeline"><h2 id="h-timeline">${d.timeline}</h2>${await timeline(u, req, kind, view, mayseeCpr(session.actor), lang, names)}</section>`;
  const doneText = done ? (d.done[done] ?? d.escDone[done] ?? d.rf.done[done]) : undefined;
  const flash = doneText ? { kind: 'ok' as const, text: doneText } : undefined;
  return sendHtml(reply, status, page(req, { title, body, flash }));
}

/**
 * The forms besides the step list: the event each posts, the text fields it copies, the yes/no
 * fields it turns into booleans, and the confirmation shown afterwards. Every one takes `at`
 * except the § 8 note, which records a fact about the report, not a step of its own.
 */
const FORMS: Record<string, { type: string; fields: string[]; flags?: (b: FormBody) => Record<string, boolean>; done: string }> = {
  delay: { type: 'delay_notified', fields: ['expectedDate', 'reason'], done: 'delay' },
  postpone: { type: 'follow_up_postponed', fields: ['reason', 'newDate'], done: 'postpone' },
  review: { type: 'case_reviewed', fields: ['reviewer', 'outcome'], done: 'review' },
  // Unticked is an answer too: the report does not note it (§ 8), and the record shows a warning.
  report: { type: 'report_filed', fields: [], flags: (b) => ({ complaintInfoNoted: field(b, 'complaintInfoNoted') === '1' }), done: 'report' },
  plancreated: { type: 'created', fields: [], flags: (b): Record<string, boolean> => (field(b, 'municipalityContacted') === '1' ? { municipalityContacted: true } : {}), done: 'event' },
  owner: { type: 'owner_assigned', fields: ['ownerId'], done: 'owner' },
  complaintnote: { type: 'complaint_info_noted', fields: [], done: 'complaintnote' },
  reclassify: { type: 'reclassified', fields: ['kind', 'reason'], done: 'reclassify' },
  transfer: { type: 'transfer_plan_updated', fields: ['transferId'], done: 'event' },
  parole: { type: 'parole_plan_updated', fields: ['decisionId'], done: 'event' },
};

/** Form fields that hold a day. */
const DATE_FIELDS = new Set(['expectedDate', 'newDate']);

/** The API body of a form post; only the fields that event takes, so the strict schemas never see strays. */
function eventBody(kind: KindDescriptor, b: FormBody): { body: Record<string, unknown>; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const out: Record<string, unknown> = {};
  const form = field(b, 'form') ?? '';
  const spec = Object.hasOwn(FORMS, form) ? FORMS[form] : undefined;
  if (form === 'event') {
    const type = field(b, 'type');
    if (!type || !COMPLETIONS[kind.type].some(([e]) => e === type)) issues.push({ path: 'type', message: 'choose one of the listed steps' });
    out['type'] = type;
  } else if (spec) {
    out['type'] = spec.type;
    for (const name of spec.fields) {
      const v = field(b, name);
      // Days are typed dd.mm.åååå (form-fields.ts dateField); what does not parse goes on, for the API's schema to name.
      if (v !== undefined) out[name] = DATE_FIELDS.has(name) ? (parseFormDate(v) ?? v) : v;
    }
    Object.assign(out, spec.flags?.(b));
  } else {
    issues.push({ path: 'form', message: 'unknown form' });
    return { body: out, issues };
  }
  const at = field(b, 'at');
  if (at) {
    const iso = parseDanishInstant(at);
    // A step dated in the future is refused by recordEvent (the API's rule), and shown on the form like this one.
    if (!iso) issues.push({ path: 'at', message: 'not a date and time (dd.mm.yyyy hh:mm)' });
    else out['at'] = iso;
  }
  return { body: out, issues };
}


function kindOf(collection: string): KindDescriptor {
  const kind = KIND_BY_COLLECTION[collection];
  if (!kind) throw new ServiceError('NOT_FOUND', `no record type ${collection}`);
  return kind;
}

export function registerRecord(app: FastifyInstance, u: UiContext): void {
  app.get<{ Params: { collection: string; id: string } }>('/records/:collection/:id', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    return renderRecord(u, req, reply, session, kindOf(req.params.collection), req.params.id, 200);
  });

  app.get<{ Params: { collection: string; id: string } }>('/records/:collection/:id/evidence', async (req, reply) => {
    const session = requirePage(req, reply);
    return session ? sendEvidencePack(reply, u.ctx, kindOf(req.params.collection).type, req.params.id, session.actor) : reply;
  });

  app.post<{ Params: { collection: string; id: string } }>('/records/:collection/:id/events', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const kind = kindOf(req.params.collection);
    const b = formBody(req);
    const { body, issues } = eventBody(kind, b);
    const form = field(b, 'form') ?? 'event';
    if (issues.length > 0) return renderRecord(u, req, reply, session, kind, req.params.id, 400, { form, values: b, issues });
    try {
      await recordEvent(u.ctx, kind.type, req.params.id, body, session.actor, { requestTarget: `UI POST ${req.url}` });
    } catch (err) {
      const found = issuesOf(err);
      if (found) return renderRecord(u, req, reply, session, kind, req.params.id, 400, { form, values: b, issues: found });
      throw err;
    }
    // The page that follows shows the re-plan (cancelled reminders and escalations), not "Planlagt" until the worker gets to it.
    await replanNow(u, req, [{ type: kind.type, id: req.params.id }]);
    return reply.redirect(`${recordHref(kind.type, req.params.id)}?done=${(Object.hasOwn(FORMS, form) ? FORMS[form]?.done : undefined) ?? 'event'}`, 303);
  });
}
