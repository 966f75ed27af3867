/**
 * Case work in the browser: create a record of each type, correct its details, record any of its
 * events (transfers, parole decisions, evaluations, delay notices, postponements …), and correct
 * or undo a recorded event with a reason. Every form is derived from the record type's field table
 * or event schema (records/kinds.ts), never written out per type; every write is the service's
 * (createRecord, updateRecord, recordEvent, correctEvent, undoEvent: the API's validation, audit,
 * idempotency and re-planning), and every form can first show the deadlines the record would get
 * (the service's previews: the engine on the unsaved input, nothing written).
 *
 *   GET  /records/new                                   choose the record type
 *   GET  /records/:collection/new           POST        create (intent=preview | save)
 *   GET  /records/:collection/:id/edit      POST        correct the details (a patch of what changed)
 *   GET  /records/:collection/:id/events/new?type=…     POST /records/:collection/:id/events/new
 *   GET  /records/:collection/:id/events/:eventId       POST …/correct, POST …/undo
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DeadlineSet, Lang } from '../../domain/index.js';
import { ServiceError, type FieldIssue } from '../../records/errors.js';
import { describeField, eventFields, eventOptions, KIND_BY_COLLECTION, KINDS, provisionalRow, REGISTERS, type FieldSpec, type KindDescriptor, type RecordTypeName } from '../../records/kinds.js';
import { listInstitutions, listStaff } from '../../records/masterdata.js';
import { canWrite, correctEvent, createRecord, getRecord, listEvents, previewCorrection, previewCreate, previewEvent, previewUpdate, recordEvent, undoEvent, updateRecord, type EventView, type RecordView } from '../../records/service.js';
import { correctionReason } from '../../records/corrections.js';
import { recordHref } from '../data/records.js';
import { defaultHint, fieldText, fieldValue, postedText, renderField, type FormField } from '../form-fields.js';
import { fmtInstant } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import { fieldLabel, issueMessage } from '../issues.js';
import type { UiSession } from '../session.js';
import { deadlinesTable, findingsSection, immediateList } from './record-deadlines.js';
import { fmtValue, KIND_LABELS, namesFor, type Names } from './record.js';
import { csrfField, errorPage, errorSummary, field, formBody, issuesOf, page, queryOf, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

// ------------------------------------------------------------------------------ which fields

/** Fields that repeat the history rows (an incident's latest delay notice): recorded as events, not typed in. */
function derivedFields(kind: KindDescriptor): Set<string> {
  return new Set(Object.keys(kind.derivedColumns?.(provisionalRow(kind, {}, new Date(0))) ?? {}));
}

const PERSON = new Set(['inmateName', 'cpr']);

/**
 * The create form's fields in three groups, in the field table's order: the record (what is
 * required, what registers it, the facts), the inmate, and the steps already done (the optional
 * instants, with the texts and answers that go with them).
 */
export function createGroups(kind: KindDescriptor): { record: FieldSpec[]; person: FieldSpec[]; steps: FieldSpec[] } {
  const derived = derivedFields(kind);
  const starts = new Set([...REGISTERS[kind.type], 'registeredAt']);
  const specs = Object.entries(kind.fields).filter(([name]) => !derived.has(name)).map(([name, schema]) => describeField(name, schema));
  const isStep = (f: FieldSpec) => f.input === 'instant' && !f.required && !starts.has(f.name);
  const firstStep = specs.findIndex(isStep);
  const out = { record: [] as FieldSpec[], person: [] as FieldSpec[], steps: [] as FieldSpec[] };
  specs.forEach((f, i) => {
    if (PERSON.has(f.name)) out.person.push(f);
    else if (isStep(f) || (firstStep >= 0 && i > firstStep && !f.required && !starts.has(f.name) && (f.input === 'text' || f.input === 'longtext' || (f.input === 'boolean' && f.nullable)))) out.steps.push(f);
    else out.record.push(f);
  });
  return out;
}

/** The edit form's fields: what a patch takes (no institution: a transfer moves a plan), in the table's order. */
export function editFields(kind: KindDescriptor): FieldSpec[] {
  const patch = (kind.patch as unknown as { shape: Record<string, unknown> }).shape;
  const derived = derivedFields(kind);
  return Object.entries(kind.fields).filter(([name]) => name in patch && !derived.has(name)).map(([name, schema]) => describeField(name, schema));
}

/** A correction's own reason; `correctionReason` in the form, as an event may have a `reason` of its own (a delay notice's). */
const REASON: FieldSpec = describeField('correctionReason', correctionReason);

// ------------------------------------------------------------------------------ labels, choices

interface Choices {
  /** Institutions the user may write (a new record's). */
  writable: Array<readonly [string, string]>;
  /** Every institution (a transfer's destination only has to exist). */
  all: Array<readonly [string, string]>;
  staff: Array<readonly [string, string]>;
  /** A plan's transfers and parole decisions not yet followed by a plan update. */
  transfers: Array<readonly [string, string]>;
  decisions: Array<readonly [string, string]>;
}

async function choicesFor(u: UiContext, session: UiSession, lang: Lang, view?: RecordView): Promise<Choices> {
  const asReader = { ...session.actor, role: 'reader' as const };
  const [writable, all, staff] = await Promise.all([listInstitutions(u.ctx, session.actor), listInstitutions(u.ctx, asReader), listStaff(u.ctx, session.actor.role === 'admin' ? asReader : session.actor)]);
  const areaId = view?.['areaId'];
  const plan = view as unknown as { transfers?: Array<{ id: string; at: string; toInstitutionId: string; planUpdatedAt: string | null }>; paroleDecisions?: Array<{ id: string; at: string; outcome: string; planUpdatedAt: string | null }> } | undefined;
  const names = new Map(all.map((i) => [i.id, i.name]));
  return {
    writable: writable.map((i) => [i.id, i.name] as const),
    all: all.map((i) => [i.id, i.name] as const),
    staff: staff.filter((s) => s.active && (areaId === undefined || s.areaId === areaId)).map((s) => [s.id, s.title ? `${s.name} (${s.title})` : s.name] as const),
    transfers: (plan?.transfers ?? []).filter((x) => !x.planUpdatedAt).map((x) => [x.id, `${fmtInstant(x.at, lang)} → ${names.get(x.toInstitutionId) ?? x.toInstitutionId}`] as const),
    decisions: (plan?.paroleDecisions ?? []).filter((x) => !x.planUpdatedAt).map((x) => [x.id, `${fmtInstant(x.at, lang)}: ${KIND_LABELS[lang][x.outcome] ?? x.outcome}`] as const),
  };
}

function optionsOf(spec: FieldSpec, lang: Lang, c: Choices, context: 'create' | 'event'): ReadonlyArray<readonly [string, string]> | undefined {
  switch (spec.input) {
    case 'choice':
      return (spec.options ?? []).map((o) => [o, KIND_LABELS[lang][o] ?? o] as const);
    case 'institution':
      return context === 'create' ? c.writable : c.all;
    case 'staff':
      return c.staff;
    case 'id':
      return spec.name === 'transferId' ? c.transfers : spec.name === 'decisionId' ? c.decisions : undefined;
    default:
      return undefined;
  }
}

/** Event fields whose label differs from the record field of the same name. */
function labelOf(lang: Lang, name: string, eventType?: string): string {
  const d = t(lang);
  if (eventType === 'case_reviewed' && name === 'outcome') return d.reviewOutcome;
  if (eventType === 'reclassified' && name === 'kind') return d.newKind;
  if (eventType === 'delay_notified' && name === 'at') return d.fields['notifiedAt'] ?? name;
  if (eventType === 'follow_up_postponed' && name === 'at') return d.fields['followUpPostponedAt'] ?? name;
  return fieldLabel(lang, name);
}

// ------------------------------------------------------------------------------ reading a form

interface Read {
  body: Record<string, unknown>;
  texts: Record<string, string>;
  issues: FieldIssue[];
}

/** The API body from the posted fields: format errors in the forms' own words, empty fields left out (or null: `clear`). */
function readFields(specs: readonly FieldSpec[], b: FormBody, lang: Lang, clear?: (f: FieldSpec) => boolean, prefix = ''): Read {
  const out: Read = { body: {}, texts: {}, issues: [] };
  for (const spec of specs) {
    const text = postedText(spec, b, spec.name);
    out.texts[spec.name] = text;
    const v = fieldValue(spec, text);
    if ('error' in v) out.issues.push({ path: `${prefix}${spec.name}`, message: t(lang).rf.formats[v.error] ?? v.error });
    else if ('value' in v) out.body[spec.name] = v.value;
    else if (clear?.(spec)) out.body[spec.name] = null;
  }
  return out;
}

/** A service refusal as field issues (validation, and a conflict naming fields); anything else goes to the error page. */
async function attempt<T>(run: () => Promise<T>): Promise<{ ok: T } | { issues: FieldIssue[] }> {
  try {
    return { ok: await run() };
  } catch (err) {
    const found = issuesOf(err);
    if (found) return { issues: found };
    if (err instanceof ServiceError && err.code === 'CONFLICT') return { issues: err.issues.length > 0 ? err.issues : [{ path: '', message: err.message }] };
    throw err;
  }
}

// ------------------------------------------------------------------------------ rendering

interface FieldsetSpec {
  legend: string;
  intro?: string | undefined;
  fields: FormField[];
  /** Shown folded unless something in it is filled in or wrong. */
  fold?: boolean;
}

/** Field issues next to their fields; the rest stay in the summary only. `strip` maps an issue path to a field name. */
function attachIssues(fieldsets: FieldsetSpec[], issues: FieldIssue[], lang: Lang, idPrefix: string, strip: (path: string) => string = (p) => p): (path: string) => string | undefined {
  const byName = new Map<string, FormField>();
  for (const fs of fieldsets) for (const f of fs.fields) byName.set(f.spec.name, f);
  for (const i of issues) {
    const f = byName.get(strip(i.path));
    if (f && !f.error) f.error = issueMessage(lang, i.message, (p) => labelOrPath(lang, byName, strip, p));
  }
  return (path) => (byName.has(strip(path)) ? `#${idPrefix}-${strip(path)}` : undefined);
}

function labelOrPath(lang: Lang, byName: Map<string, FormField>, strip: (p: string) => string, path: string): string {
  return byName.get(strip(path))?.label ?? fieldLabel(lang, path);
}

function renderFieldset(fs: FieldsetSpec, lang: Lang, idPrefix: string): SafeHtml {
  if (fs.fields.length === 0) return html``;
  const inner = html`${fs.intro ? html`<p class="small">${fs.intro}</p>` : ''}<div class="rf-fields">${fs.fields.map((f) => renderField(f, lang, idPrefix))}</div>`;
  if (fs.fold) {
    const open = fs.fields.some((f) => f.error || (f.text !== '' && f.text !== 'false'));
    return html`<details class="rf-fold"${open ? html` open` : ''}><summary>${fs.legend}</summary><fieldset><legend class="visually-hidden">${fs.legend}</legend>${inner}</fieldset></details>`;
  }
  return html`<fieldset><legend>${fs.legend}</legend>${inner}</fieldset>`;
}

function previewSection(set: DeadlineSet, kind: KindDescriptor, lang: Lang, title?: string): SafeHtml {
  const rf = t(lang).rf;
  return html`<section id="deadline-preview" class="rf-preview" aria-labelledby="h-preview" tabindex="-1"><h2 id="h-preview">${title ?? rf.previewTitle}</h2><p>${rf.previewIntro}</p>
${findingsSection({ notInForce: set.notInForce, incomplete: set.incomplete, warnings: set.warnings }, lang, (f) => kind.engineFieldToApi?.[f] ?? f)}
${deadlinesTable(set.deadlines, lang)}${immediateList(set.immediate, lang)}</section>`;
}

interface FormSpec {
  id: string;
  action: string;
  fieldsets: FieldsetSpec[];
  hidden: Record<string, string>;
  submit: string;
  /** The form's own issues (format and service), shown at the top and next to the fields. */
  issues: FieldIssue[];
  /** Issue path → field name (a correction's `event.at` is its `at`). */
  strip?: (path: string) => string;
  danger?: boolean;
}

function renderForm(session: UiSession, lang: Lang, f: FormSpec): SafeHtml {
  const rf = t(lang).rf;
  const href = attachIssues(f.fieldsets, f.issues, lang, f.id, f.strip);
  const labels = new Map(f.fieldsets.flatMap((fs) => fs.fields.map((x) => [x.spec.name, x.label] as const)));
  const label = (p: string): string => labels.get((f.strip ?? ((x: string) => x))(p)) ?? fieldLabel(lang, p);
  return html`${errorSummary(lang, f.issues, label, href)}
<form method="post" action="${f.action}" id="${f.id}" class="rf" novalidate>${csrfField(session)}${Object.entries(f.hidden).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
${f.fieldsets.map((fs) => renderFieldset(fs, lang, f.id))}
<p class="rf-actions"><button type="submit" name="intent" value="preview" class="secondary">${rf.preview}</button> <button type="submit" name="intent" value="save"${f.danger ? html` class="danger"` : ''}>${f.submit}</button></p>
</form>`;
}

function formField(spec: FieldSpec, lang: Lang, c: Choices, text: string, context: 'create' | 'event', o: { label?: string; hint?: string | undefined } = {}): FormField {
  return { spec, label: o.label ?? labelOf(lang, spec.name), hint: defaultHint(spec, lang, o.hint), options: optionsOf(spec, lang, c, context), text };
}

function kindOf(collection: string): KindDescriptor {
  const kind = KIND_BY_COLLECTION[collection];
  if (!kind) throw new ServiceError('NOT_FOUND', `no record type ${collection}`);
  return kind;
}

function backLink(kind: KindDescriptor, id: string, lang: Lang, journal: string): SafeHtml {
  const d = t(lang);
  return html`<p class="no-print"><a href="${recordHref(kind.type, id)}">← ${d.recordTitle(d.recordTypes[kind.type] ?? kind.type, journal)}</a></p>`;
}

/**
 * After a write: back to the record with its confirmation, or, when the write moved the record out
 * of the user's scope (a plan transferred to another area or institution), a page that says so.
 */
async function afterWrite(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, id: string, done: string): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const readable = await getRecord(u.ctx, kind.type, id, session.actor, lang).then(
    () => true,
    (err: unknown) => {
      if (err instanceof ServiceError && err.code === 'FORBIDDEN') return false;
      throw err;
    },
  );
  if (readable) return reply.redirect(`${recordHref(kind.type, id)}?done=${done}`, 303);
  const body = html`<div class="notice ok" role="status" id="out-of-scope"><p>${d.rf.done[done] ?? d.done[done] ?? ''}</p><p>${d.rf.outOfScope}</p></div><p><a href="/">${d.backToOverview}</a></p>`;
  return sendHtml(reply, 200, page(req, { title: d.recordTypes[kind.type] ?? kind.type, body }));
}

const intentOf = (b: FormBody): 'preview' | 'save' => (field(b, 'intent') === 'preview' ? 'preview' : 'save');
/** One key per rendered form: a double submit is one write (the service replays the first). */
const idemOf = (b: FormBody): string | undefined => field(b, '_idem');

// ------------------------------------------------------------------------------ create

async function renderCreate(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, status: number, posted?: { texts: Record<string, string>; issues: FieldIssue[]; preview?: DeadlineSet; idem: string }): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const rf = d.rf;
  const c = await choicesFor(u, session, lang);
  const groups = createGroups(kind);
  const text = (f: FieldSpec): string => posted?.texts[f.name] ?? (f.input === 'institution' && c.writable.length === 1 ? (c.writable[0]?.[0] ?? '') : '');
  const mk = (f: FieldSpec) => formField(f, lang, c, text(f), 'create', { hint: f.name === 'registeredAt' ? rf.hintRegistered : undefined });
  const form = renderForm(session, lang, {
    id: 'record-form',
    action: `/records/${kind.collection}/new`,
    hidden: { _idem: posted?.idem ?? randomUUID() },
    fieldsets: [
      { legend: rf.groupCase, fields: groups.record.map(mk) },
      { legend: rf.groupPerson, fields: groups.person.map(mk) },
      { legend: rf.groupSteps, intro: rf.groupStepsIntro, fields: groups.steps.map(mk), fold: true },
    ],
    submit: rf.create,
    issues: posted?.issues ?? [],
  });
  const body = html`<p class="no-print"><a href="/records/new">← ${rf.chooseTitle}</a></p>${posted?.preview ? previewSection(posted.preview, kind, lang) : ''}${form}`;
  return sendHtml(reply, status, page(req, { title: rf.newTitle(d.recordTypes[kind.type] ?? kind.type), body }));
}

// ------------------------------------------------------------------------------ edit

async function renderEdit(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, view: RecordView, status: number, posted?: { texts: Record<string, string>; issues: FieldIssue[]; preview?: DeadlineSet; info?: string; idem: string }): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const rf = d.rf;
  const id = view['id'] as string;
  const c = await choicesFor(u, session, lang, view);
  const fields = editFields(kind).map((f) => formField(f, lang, c, posted?.texts[f.name] ?? fieldText(f, view[f.name]), 'create'));
  const title = d.recordTitle(d.recordTypes[kind.type] ?? kind.type, view['journalNumber'] as string);
  const form = renderForm(session, lang, {
    id: 'edit-form',
    action: `${recordHref(kind.type, id)}/edit`,
    hidden: { version: String(view['version']), _idem: posted?.idem ?? randomUUID() },
    fieldsets: [{ legend: rf.groupCase, fields }],
    submit: rf.saveChanges,
    issues: posted?.issues ?? [],
  });
  const body = html`${backLink(kind, id, lang, view['journalNumber'] as string)}<p>${rf.editIntro}</p>
${posted?.info ? html`<div class="notice info" role="status">${posted.info}</div>` : ''}${posted?.preview ? previewSection(posted.preview, kind, lang) : ''}${form}`;
  return sendHtml(reply, status, page(req, { title: rf.editTitle(title), body }));
}

/** The patch of what the form changed: fields whose text differs from the record's, emptied ones as null. */
function changedFields(kind: KindDescriptor, view: RecordView, b: FormBody, lang: Lang): Read {
  const specs = editFields(kind);
  const all = readFields(specs, b, lang, (f) => f.nullable);
  const out: Read = { body: {}, texts: all.texts, issues: [] };
  for (const spec of specs) {
    if (all.texts[spec.name] === fieldText(spec, view[spec.name])) continue;
    const issue = all.issues.find((i) => i.path === spec.name);
    if (issue) out.issues.push(issue);
    else if (spec.name in all.body) out.body[spec.name] = all.body[spec.name];
    else out.issues.push({ path: spec.name, message: 'is required' });
  }
  return out;
}

// ------------------------------------------------------------------------------ events

function eventSpecs(kind: KindDescriptor, type: string): FieldSpec[] {
  const specs = eventFields(kind, type);
  if (!specs) throw new ServiceError('NOT_FOUND', `no event ${type} on a ${kind.type}`);
  return specs;
}

function eventFormFields(specs: readonly FieldSpec[], type: string, lang: Lang, c: Choices, text: (f: FieldSpec) => string): FormField[] {
  const rf = t(lang).rf;
  return specs.map((f) => formField(f, lang, c, text(f), 'event', { label: labelOf(lang, f.name, type), hint: f.name === 'at' && !f.required ? rf.hintNow : undefined }));
}

async function renderEvent(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, view: RecordView, type: string, status: number, posted?: { texts: Record<string, string>; issues: FieldIssue[]; preview?: DeadlineSet; idem: string }): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const rf = d.rf;
  const id = view['id'] as string;
  const c = await choicesFor(u, session, lang, view);
  const specs = eventSpecs(kind, type);
  const form = renderForm(session, lang, {
    id: 'event-form',
    action: `${recordHref(kind.type, id)}/events/new`,
    hidden: { type, _idem: posted?.idem ?? randomUUID() },
    fieldsets: [{ legend: d.events[type] ?? type, fields: eventFormFields(specs, type, lang, c, (f) => posted?.texts[f.name] ?? '') }],
    submit: rf.register,
    issues: posted?.issues ?? [],
  });
  const title = d.recordTitle(d.recordTypes[kind.type] ?? kind.type, view['journalNumber'] as string);
  const body = html`${backLink(kind, id, lang, view['journalNumber'] as string)}${posted?.preview ? previewSection(posted.preview, kind, lang) : ''}${form}`;
  return sendHtml(reply, status, page(req, { title: rf.eventTitle(d.events[type] ?? type, title), body }));
}

// ------------------------------------------------------------------------------ correction and undo

function changesList(ev: EventView, lang: Lang, names: Names): SafeHtml {
  const rf = t(lang).rf;
  const itemText = (item: Record<string, unknown>): string => Object.entries(item).filter(([k, v]) => k !== 'id' && v !== null).map(([k, v]) => `${fieldLabel(lang, k === 'toKind' ? 'kind' : k)}: ${fmtValue(k === 'toKind' || k === 'fromKind' ? 'kind' : k, v, lang, names)}`).join(', ');
  return html`<dl class="facts" id="event-changes">
${ev.changes.map((c) => html`<dt>${fieldLabel(lang, c.field)}</dt><dd>${fmtValue(c.field, c.after, lang, names)}${c.before !== null ? html` <span class="small muted">(${rf.wasBefore}: ${fmtValue(c.field, c.before, lang, names)})</span>` : ''}</dd>`)}
${ev.added.map((a) => html`<dt>${rf.addedItem(fieldLabel(lang, a.list))}</dt><dd>${itemText(a.item)}</dd>`)}
</dl>
<h3>${rf.historyTitle}</h3>
<ol class="rf-history" id="event-history">${ev.history.map((h) => html`<li>${rf.historyItem(rf.modes[h.mode] ?? h.mode, fmtInstant(h.at, lang), h.actor)}${h.reason ? html`: <q>${h.reason}</q>` : ''}</li>`)}</ol>`;
}

interface CorrectionPosted {
  form: 'correct' | 'undo';
  texts: Record<string, string>;
  issues: FieldIssue[];
  preview?: DeadlineSet;
  idem: string;
}

async function renderCorrection(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, kind: KindDescriptor, view: RecordView, eventId: string, status: number, posted?: CorrectionPosted): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const rf = d.rf;
  const id = view['id'] as string;
  const ev = (await listEvents(u.ctx, kind.type, id, session.actor)).find((e) => String(e.id) === eventId);
  if (!ev) throw new ServiceError('NOT_FOUND', `no event ${eventId} on this record`);
  const names = await namesFor(u, session);
  const c = await choicesFor(u, session, lang, view);
  const specs = eventSpecs(kind, ev.type);
  const mine = (form: 'correct' | 'undo') => (posted?.form === form ? posted : undefined);
  const base = `${recordHref(kind.type, id)}/events/${ev.id}`;
  const reasonField = (form: 'correct' | 'undo'): FormField => ({ spec: REASON, label: form === 'correct' ? rf.correctReason : rf.undoReason, hint: defaultHint(REASON, lang, rf.reasonHint), text: mine(form)?.texts[REASON.name] ?? '' });
  // The service names the correction's reason `reason` and the event's fields `event.…`.
  const strip = (p: string): string => (p === 'reason' ? REASON.name : p.replace(/^event\./, ''));
  const correctForm = renderForm(session, lang, {
    id: 'correct-form',
    action: `${base}/correct`,
    hidden: { _idem: mine('correct')?.idem ?? randomUUID() },
    fieldsets: [{ legend: rf.correctLegend(d.events[ev.type] ?? ev.type), intro: rf.correctIntro, fields: [...eventFormFields(specs, ev.type, lang, c, (f) => mine('correct')?.texts[f.name] ?? fieldText(f, ev.values[f.name])), reasonField('correct')] }],
    submit: rf.correct,
    issues: mine('correct')?.issues ?? [],
    strip,
  });
  const undoForm = renderForm(session, lang, {
    id: 'undo-form',
    action: `${base}/undo`,
    hidden: { _idem: mine('undo')?.idem ?? randomUUID() },
    fieldsets: [{ legend: rf.undoLegend(d.events[ev.type] ?? ev.type), intro: rf.undoIntro, fields: [reasonField('undo')] }],
    submit: rf.undo,
    issues: mine('undo')?.issues ?? [],
    strip,
    danger: true,
  });
  const status_ = html`<p><span class="badge badge-ev-${ev.status}">${rf.eventStatus[ev.status] ?? ev.status}</span> ${rf.recordedBy(fmtInstant(ev.recordedAt, lang), ev.recordedBy)}</p>`;
  const blocked = !ev.changeable ? html`<div class="notice info" role="status" id="event-locked">${ev.status === 'undone' ? rf.undoneAlready : (rf.locked[ev.locked ?? ''] ?? d.readOnly)}</div>` : '';
  const title = d.recordTitle(d.recordTypes[kind.type] ?? kind.type, view['journalNumber'] as string);
  const body = html`${backLink(kind, id, lang, view['journalNumber'] as string)}
<section aria-labelledby="h-recorded"><h2 id="h-recorded">${rf.whatRecorded}</h2>${status_}${changesList(ev, lang, names)}</section>
${blocked}${posted?.preview ? previewSection(posted.preview, kind, lang, posted.form === 'undo' ? rf.previewAfterUndo : rf.previewAfterCorrect) : ''}
${ev.changeable ? html`<section aria-labelledby="h-correct" class="no-print"><h2 id="h-correct">${rf.correctSection}</h2>${correctForm}</section><section aria-labelledby="h-undo" class="no-print"><h2 id="h-undo">${rf.undoSection}</h2>${undoForm}</section>` : ''}`;
  return sendHtml(reply, status, page(req, { title: rf.correctTitle(d.events[ev.type] ?? ev.type, title), body }));
}

// ------------------------------------------------------------------------------ on the record page

/** The record page's links to the forms: correct the details, record any event of the type. */
export function recordFormLinks(kind: KindDescriptor, view: RecordView, lang: Lang): SafeHtml {
  const d = t(lang);
  const rf = d.rf;
  const base = recordHref(kind.type, view['id'] as string);
  return html`<p><a class="button secondary" id="edit-link" href="${base}/edit">${rf.editLink}</a></p>
<details class="rf-more" id="more-events"><summary>${rf.moreEvents}</summary><p class="small">${rf.moreEventsIntro}</p><ul class="rf-links">${eventOptions(kind).map(([type]) => html`<li><a href="${base}/events/new${qs({ type })}">${d.events[type] ?? type}</a></li>`)}</ul></details>`;
}

/** The record page's list of recorded events, each with its status and the way to correct or undo it. */
export async function recordedEventsSection(u: UiContext, session: UiSession, kind: KindDescriptor, view: RecordView, lang: Lang, writable: boolean): Promise<SafeHtml> {
  const d = t(lang);
  const rf = d.rf;
  const id = view['id'] as string;
  const events = await listEvents(u.ctx, kind.type, id, session.actor);
  const rows = [...events].reverse();
  return html`<section aria-labelledby="h-recorded-events"><h2 id="h-recorded-events">${rf.recordedEvents}</h2>
${events.length === 0 ? html`<p>${rf.recordedEventsEmpty}</p>` : html`${writable ? html`<p class="small">${rf.recordedEventsIntro}</p>` : ''}<ul class="rf-events" id="recorded-events">${rows.map((e) => html`<li data-event="${e.type}" data-status="${e.status}"><strong>${d.events[e.type] ?? e.type}</strong>${e.at ? html` · ${fmtInstant(e.at, lang)}` : ''} <span class="badge badge-ev-${e.status}">${rf.eventStatus[e.status] ?? e.status}</span>
<br><span class="small muted">${rf.recordedBy(fmtInstant(e.recordedAt, lang), e.recordedBy)}</span>${e.history.length > 1 && e.history.at(-1)?.reason ? html`<br><span class="small">${rf.modes[e.history.at(-1)?.mode ?? ''] ?? ''}: <q>${e.history.at(-1)?.reason ?? ''}</q></span>` : ''}
${writable && e.changeable ? html`<br><a href="${recordHref(kind.type, id)}/events/${e.id}">${rf.correctLink}<span class="visually-hidden">: ${d.events[e.type] ?? e.type}${e.at ? ` ${fmtInstant(e.at, lang)}` : ''}</span></a>` : ''}</li>`)}</ul>`}
</section>`;
}

// ------------------------------------------------------------------------------ routes

async function writableView(u: UiContext, session: UiSession, kind: KindDescriptor, id: string, lang: Lang): Promise<RecordView> {
  const view = await getRecord(u.ctx, kind.type, id, session.actor, lang);
  if (!canWrite(session.actor, { institutionId: view['institutionId'] as string, areaId: view['areaId'] as string })) throw new ServiceError('FORBIDDEN', `${session.actor.role} may not write this record`);
  return view;
}

export function registerRecordForms(app: FastifyInstance, u: UiContext): void {
  app.get('/records/new', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    if (session.actor.role === 'reader') return errorPage(req, reply, 403, d.readOnly);
    const body = html`<p>${d.rf.chooseIntro}</p><ul class="rf-links rf-types" id="record-types">${(Object.keys(KINDS) as RecordTypeName[]).map((type) => html`<li><a class="button secondary" href="/records/${KINDS[type].collection}/new">${d.rf.newTitle(d.recordTypes[type] ?? type)}</a></li>`)}</ul>`;
    return sendHtml(reply, 200, page(req, { title: d.rf.chooseTitle, body }));
  });

  app.get<{ Params: { collection: string } }>('/records/:collection/new', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    if (session.actor.role === 'reader') return errorPage(req, reply, 403, t(uiState(req).lang).readOnly);
    return renderCreate(u, req, reply, session, kindOf(req.params.collection), 200);
  });

  app.post<{ Params: { collection: string } }>('/records/:collection/new', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session || !requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const kind = kindOf(req.params.collection);
    const b = formBody(req);
    const groups = createGroups(kind);
    const read = readFields([...groups.record, ...groups.person, ...groups.steps], b, lang);
    const idem = idemOf(b) ?? randomUUID();
    if (read.issues.length > 0) return renderCreate(u, req, reply, session, kind, 400, { texts: read.texts, issues: read.issues, idem });
    if (intentOf(b) === 'preview') {
      const r = await attempt(() => previewCreate(u.ctx, kind.type, read.body, session.actor, lang));
      return renderCreate(u, req, reply, session, kind, 'ok' in r ? 200 : 400, { texts: read.texts, issues: 'ok' in r ? [] : r.issues, ...('ok' in r ? { preview: r.ok } : {}), idem });
    }
    const r = await attempt(() => createRecord(u.ctx, kind.type, read.body, session.actor, { idempotencyKey: idem, requestTarget: `UI POST /records/${kind.collection}/new` }));
    if (!('ok' in r)) return renderCreate(u, req, reply, session, kind, 400, { texts: read.texts, issues: r.issues, idem });
    return reply.redirect(`${recordHref(kind.type, r.ok.id)}?done=created`, 303);
  });

  app.get<{ Params: { collection: string; id: string } }>('/records/:collection/:id/edit', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const kind = kindOf(req.params.collection);
    return renderEdit(u, req, reply, session, kind, await writableView(u, session, kind, req.params.id, uiState(req).lang), 200);
  });

  app.post<{ Params: { collection: string; id: string } }>('/records/:collection/:id/edit', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session || !requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const kind = kindOf(req.params.collection);
    const view = await writableView(u, session, kind, req.params.id, lang);
    const b = formBody(req);
    const read = changedFields(kind, view, b, lang);
    const idem = idemOf(b) ?? randomUUID();
    if (read.issues.length > 0) return renderEdit(u, req, reply, session, kind, view, 400, { texts: read.texts, issues: read.issues, idem });
    if (Object.keys(read.body).length === 0) return renderEdit(u, req, reply, session, kind, view, 200, { texts: read.texts, issues: [], info: t(lang).rf.nothingChanged, idem });
    const version = Number(field(b, 'version'));
    const patch = { ...read.body, ...(Number.isInteger(version) && version > 0 ? { version } : {}) };
    if (intentOf(b) === 'preview') {
      const r = await attempt(() => previewUpdate(u.ctx, kind.type, req.params.id, patch, session.actor, lang));
      return renderEdit(u, req, reply, session, kind, view, 'ok' in r ? 200 : 400, { texts: read.texts, issues: 'ok' in r ? [] : r.issues, ...('ok' in r ? { preview: r.ok } : {}), idem });
    }
    const r = await attempt(() => updateRecord(u.ctx, kind.type, req.params.id, patch, session.actor, { idempotencyKey: idem, requestTarget: `UI POST ${req.url}` }));
    if (!('ok' in r)) return renderEdit(u, req, reply, session, kind, view, 400, { texts: read.texts, issues: r.issues, idem });
    return reply.redirect(`${recordHref(kind.type, req.params.id)}?done=updated`, 303);
  });

  app.get<{ Params: { collection: string; id: string } }>('/records/:collection/:id/events/new', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const kind = kindOf(req.params.collection);
    const view = await writableView(u, session, kind, req.params.id, uiState(req).lang);
    return renderEvent(u, req, reply, session, kind, view, queryOf(req)['type'] ?? '', 200);
  });

  app.post<{ Params: { collection: string; id: string } }>('/records/:collection/:id/events/new', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session || !requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const kind = kindOf(req.params.collection);
    const view = await writableView(u, session, kind, req.params.id, lang);
    const b = formBody(req);
    const type = field(b, 'type') ?? '';
    const read = readFields(eventSpecs(kind, type), b, lang);
    const idem = idemOf(b) ?? randomUUID();
    const event = { type, ...read.body };
    if (read.issues.length > 0) return renderEvent(u, req, reply, session, kind, view, type, 400, { texts: read.texts, issues: read.issues, idem });
    if (intentOf(b) === 'preview') {
      const r = await attempt(() => previewEvent(u.ctx, kind.type, req.params.id, event, session.actor, lang));
      return renderEvent(u, req, reply, session, kind, view, type, 'ok' in r ? 200 : 400, { texts: read.texts, issues: 'ok' in r ? [] : r.issues, ...('ok' in r ? { preview: r.ok } : {}), idem });
    }
    const r = await attempt(() => recordEvent(u.ctx, kind.type, req.params.id, event, session.actor, { idempotencyKey: idem, requestTarget: `UI POST ${req.url}` }));
    if (!('ok' in r)) return renderEvent(u, req, reply, session, kind, view, type, 400, { texts: read.texts, issues: r.issues, idem });
    return afterWrite(u, req, reply, session, kind, req.params.id, 'event');
  });

  app.get<{ Params: { collection: string; id: string; eventId: string } }>('/records/:collection/:id/events/:eventId', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const kind = kindOf(req.params.collection);
    const view = await writableView(u, session, kind, req.params.id, uiState(req).lang);
    return renderCorrection(u, req, reply, session, kind, view, req.params.eventId, 200);
  });

  for (const mode of ['correct', 'undo'] as const) {
    app.post<{ Params: { collection: string; id: string; eventId: string } }>(`/records/:collection/:id/events/:eventId/${mode}`, async (req, reply) => {
      const session = requireSession(req, reply);
      if (!session || !requireCsrf(req, reply, session)) return reply;
      const { lang } = uiState(req);
      const kind = kindOf(req.params.collection);
      const { id, eventId } = req.params;
      const view = await writableView(u, session, kind, id, lang);
      const b = formBody(req);
      const idem = idemOf(b) ?? randomUUID();
      const reason = readFields([REASON], b, lang);
      let texts = reason.texts;
      let issues = reason.issues;
      let body: Record<string, unknown> = REASON.name in reason.body ? { reason: reason.body[REASON.name] } : {};
      if (mode === 'correct') {
        const ev = (await listEvents(u.ctx, kind.type, id, session.actor)).find((e) => String(e.id) === eventId);
        if (!ev) throw new ServiceError('NOT_FOUND', `no event ${eventId} on this record`);
        const read = readFields(eventSpecs(kind, ev.type), b, lang, undefined, 'event.');
        texts = { ...read.texts, ...texts };
        issues = [...read.issues, ...issues];
        body = { ...body, event: { type: ev.type, ...read.body } };
      }
      const posted = (extra: Partial<CorrectionPosted>, status: number) => renderCorrection(u, req, reply, session, kind, view, eventId, status, { form: mode, texts, issues, idem, ...extra });
      if (issues.length > 0) return posted({}, 400);
      if (intentOf(b) === 'preview') {
        const r = await attempt(() => previewCorrection(u.ctx, kind.type, id, eventId, body, session.actor, mode, lang));
        return 'ok' in r ? posted({ preview: r.ok }, 200) : posted({ issues: r.issues }, 400);
      }
      const run = mode === 'undo' ? undoEvent : correctEvent;
      const r = await attempt(() => run(u.ctx, kind.type, id, eventId, body, session.actor, { idempotencyKey: idem, requestTarget: `UI POST ${req.url}` }));
      if (!('ok' in r)) return posted({ issues: r.issues }, 400);
      return afterWrite(u, req, reply, session, kind, id, mode === 'undo' ? 'undone' : 'corrected');
    });
  }
}
