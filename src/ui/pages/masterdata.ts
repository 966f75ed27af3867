/**
 * Master data (/masterdata/…): areas with their recipients, institutions, staff with absences and
 * substitutes, and API tokens. Administrators change all of it; an area office user reads its own
 * area and institutions and keeps its own area's staff; everyone else gets 403. Every write goes
 * through the functions the API calls (src/records/masterdata.ts, tokens.ts): the same validation,
 * audit entries, scope checks and re-planning of the open records a change concerns. Areas and
 * institutions cannot be deleted (records point at them); a staff member is deactivated instead.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { END_OF_DAY_MS, formatIsoDate, formatLocalInstant, instantOfLocal, localDayOfInstant, parseIsoDate, type Lang } from '../../domain/index.js';
import { ServiceError, type FieldIssue } from '../../records/errors.js';
import * as master from '../../records/masterdata.js';
import { zodIssues } from '../../records/service.js';
import { createToken, listTokens, revokeToken, tokenCreate } from '../../records/tokens.js';
import { fmtShortDay, timeEl } from '../format.js';
import { checkboxField, dateField, fieldId, optionalLabel, parseDateField, selectField, textField, type Option } from '../form-fields.js';
import { formErrors } from '../issues.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import { t, type Dict } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, field, formBody, page, queryOf, requireAdmin, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

export const BASE = '/masterdata';
export type Section = 'areas' | 'institutions' | 'staff' | 'users' | 'tokens';
/** Empty rows offered for new absences below the recorded ones. */
const NEW_ABSENCE_ROWS = 2;
/** The service takes at most 100 absences; the form never offers more rows than that and two. */
const MAX_ABSENCE_ROWS = 102;
const INSTITUTION_KINDS = ['prison', 'local_jail', 'halfway_house', 'probation_office'] as const;
const TOKEN_ROLES = ['admin', 'area', 'institution', 'reader'] as const;

export type Values = Record<string, string | undefined>;

/** A form as drawn: its values (as typed, or from the stored row), and the errors by field name. */
export interface FormState {
  values: Values;
  errors: Map<string, string>;
  summary: FieldIssue[];
}

export const fresh = (values: Values = {}): FormState => ({ values, errors: new Map(), summary: [] });

/** The body's values as typed (first of each name), for drawing a refused form again. */
export function typed(b: FormBody): Values {
  const out: Values = {};
  for (const k of Object.keys(b)) if (k !== '_csrf') out[k] = field(b, k);
  return out;
}

/** Master data pages: admin and area roles; without a session, to the login form. */
export function pageSession(req: FastifyRequest, reply: FastifyReply): UiSession | undefined {
  const s = requirePage(req, reply);
  if (!s) return undefined;
  if (s.actor.role === 'admin' || s.actor.role === 'area') return s;
  errorPage(req, reply, 403, t(uiState(req).lang).forbidden);
  return undefined;
}

/** Their actions: a session (401 without), the CSRF token, and the same roles. */
export function actionSession(req: FastifyRequest, reply: FastifyReply): UiSession | undefined {
  const s = requireSession(req, reply);
  if (!s || !requireCsrf(req, reply, s)) return undefined;
  if (s.actor.role === 'admin' || s.actor.role === 'area') return s;
  errorPage(req, reply, 403, t(uiState(req).lang).forbidden);
  return undefined;
}

/** A write's refusal as field issues (400, or 409 for an id or e-mail address taken); anything else goes to the error page. */
export async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: T } | { status: number; issues: FieldIssue[] }> {
  try {
    return { ok: await fn() };
  } catch (err) {
    if (err instanceof ServiceError && (err.code === 'VALIDATION' || err.code === 'CONFLICT')) return { status: err.status, issues: err.issues.length > 0 ? err.issues : [{ path: '', message: err.message }] };
    throw err;
  }
}

/** `fields`: the form's field names (an issue on another path is listed in the summary only), or a mapping. */
export function refused(lang: Lang, values: Values, issues: readonly FieldIssue[], fields: readonly string[] | ((path: string) => string | undefined)): FormState {
  const fieldOf = typeof fields === 'function' ? fields : (p: string) => (fields.includes(p) ? p : undefined);
  const { byField, summary } = formErrors(lang, issues, fieldOf, (name) => values[name]);
  return { values, errors: byField, summary };
}

function subnav(d: Dict, session: UiSession, active: Section): SafeHtml {
  const item = (s: Section, label: string) => html`<li><a href="${BASE}/${s}"${s === active ? html` aria-current="page"` : ''}>${label}</a></li>`;
  return html`<nav aria-label="${d.md.sections}" class="subnav no-print"><ul>
${item('areas', d.md.areas)}${item('institutions', d.md.institutions)}${item('staff', d.md.staff)}${item('users', d.us.section)}${session.actor.role === 'admin' ? item('tokens', d.md.tokens) : ''}
</ul></nav>`;
}

/** `flash`: a section's own (the users pages); otherwise the `done` query's message of master data. */
export function send(req: FastifyRequest, reply: FastifyReply, o: { status: number; title: string; section: Section; session: UiSession; body: SafeHtml; flash?: { kind: 'ok' | 'error' | 'warn' | 'info'; text: string } | undefined }): FastifyReply {
  const d = t(uiState(req).lang);
  const done = queryOf(req)['done'];
  const flash = 'flash' in o ? o.flash : done && d.md.done[done] ? { kind: 'ok' as const, text: d.md.done[done] } : undefined;
  return sendHtml(reply, o.status, page(req, { title: o.title, active: 'masterdata', flash, body: html`${subnav(d, o.session, o.section)}${o.body}` }));
}

/** The errors above a form, each naming its field (a link to it when the form has it), in the reader's language. */
export function summaryOf(lang: Lang, state: FormState, label: (name: string) => string): SafeHtml {
  return errorSummary(lang, state.summary, label, (p) => (state.errors.has(p) ? `#${fieldId(p)}` : undefined));
}

/** A field's options from the form's state: its label (marked when it may stay empty), value, error and hint. */
export function fieldOpts(lang: Lang, state: FormState, name: string, label: string, o: { optional?: boolean; hint?: HtmlValue } = {}) {
  return { name, label: o.optional ? optionalLabel(lang, label) : label, value: state.values[name], error: state.errors.get(name), hint: o.hint, required: !o.optional };
}

/**
 * A list: a head, and per row a heading cell and the others, each labelled with its column, which
 * the stacked layout of a phone's width shows above the value (assets.ts, table.md-list).
 */
export function listTable(id: string, caption: string, heads: readonly string[], rows: ReadonlyArray<{ cells: readonly [SafeHtml | string, ...Array<SafeHtml | string>]; attrs?: SafeHtml }>, o: { actions?: boolean } = {}): SafeHtml {
  // A column of buttons needs no label above its button on a phone.
  const label = (i: number) => (o.actions && i === heads.length - 1 ? html`` : html` data-label="${heads[i] ?? ''}"`);
  return html`<div class="table-wrap"><table id="${id}" class="md-list"><caption class="visually-hidden">${caption}</caption>
<thead><tr>${heads.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr${r.attrs ?? ''}><th scope="row">${r.cells[0]}</th>${r.cells.slice(1).map((c, i) => html`<td${label(i + 1)}>${c}</td>`)}</tr>`)}</tbody></table></div>`;
}

// --- areas -------------------------------------------------------------------------------------

const AREA_TEXT = ['name', 'officeEmail', 'directorName', 'directorEmail'] as const;
const AREA_FIELDS = ['id', ...AREA_TEXT, 'leadershipEmail'];
const INSTITUTION_FIELDS = ['id', 'areaId', 'name', 'kind', 'dutyManagerEmail'];
const TOKEN_FIELDS = ['name', 'role', 'areaId', 'institutionId', 'expiresAt'];

/** An empty required field goes as '' (so the service names it), an empty leadership address as null (unset). */
function areaBody(b: FormBody, withId: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = withId ? { id: field(b, 'id') ?? '' } : {};
  for (const k of AREA_TEXT) out[k] = field(b, k) ?? '';
  out['leadershipEmail'] = field(b, 'leadershipEmail') ?? null;
  return out;
}

function areaValues(a: Awaited<ReturnType<typeof master.getArea>>): Values {
  return { id: a.id, name: a.name, officeEmail: a.officeEmail, directorName: a.directorName, directorEmail: a.directorEmail, leadershipEmail: a.leadershipEmail ?? '' };
}

function areaForm(lang: Lang, session: UiSession, action: string, state: FormState, create: boolean): SafeHtml {
  const d = t(lang);
  const f = (name: string, o: { type?: 'email'; optional?: boolean; size?: number } = {}) =>
    textField({ ...fieldOpts(lang, state, name, d.md.fields[name] ?? name, { optional: o.optional ?? false, hint: d.md.hints[name] }), type: o.type ?? 'text', size: o.size ?? (o.type === 'email' ? 48 : 40), maxlength: o.type === 'email' ? 320 : 200, autocomplete: 'off' });
  return html`${summaryOf(lang, state, (n) => d.md.fields[n] ?? n)}
<form method="post" action="${action}" id="area-form" class="md-form" novalidate>${csrfField(session)}
<div class="stack">
${create ? f('id', { size: 24 }) : ''}
${f('name')}
<fieldset><legend>${d.md.recipients}</legend><div class="stack">
${f('officeEmail', { type: 'email' })}
${f('directorName')}
${f('directorEmail', { type: 'email' })}
${f('leadershipEmail', { type: 'email', optional: true })}
</div></fieldset>
<p class="small">${d.md.nationalRecipients} <a href="/settings">${d.md.nationalRecipientsLink}</a>.</p>
<div><button type="submit">${create ? d.md.create : d.md.saveChanges}</button></div>
</div></form>`;
}

function areaFacts(d: Dict, a: Awaited<ReturnType<typeof master.getArea>>): SafeHtml {
  const row = (k: string, v: string | null) => html`<dt>${d.md.fields[k] ?? k}</dt><dd>${v ?? d.md.none}</dd>`;
  return html`<dl class="facts md-facts" id="area-facts">${row('id', a.id)}${row('officeEmail', a.officeEmail)}${row('directorName', a.directorName)}${row('directorEmail', a.directorEmail)}${row('leadershipEmail', a.leadershipEmail)}</dl>`;
}

type InstitutionRow = Awaited<ReturnType<typeof master.listInstitutions>>[number];

function institutionTable(d: Dict, list: readonly InstitutionRow[], areaNames: ReadonlyMap<string, string>): SafeHtml {
  const heads = [d.md.fields['name'], d.md.fields['areaId'], d.md.fields['kind'], d.md.fields['dutyManagerEmail']].map(String);
  return listTable('institution-list', d.md.institutions, heads, list.map((i) => ({ cells: [html`<a href="${BASE}/institutions/${i.id}">${i.name}</a>`, areaNames.get(i.areaId) ?? i.areaId, d.md.kinds[i.kind] ?? i.kind, i.dutyManagerEmail] })));
}

async function areaPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string, status: number, state?: FormState): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const a = await master.getArea(u.ctx, id, session.actor);
  const insts = (await master.listInstitutions(u.ctx, session.actor)).filter((i) => i.areaId === a.id);
  const admin = session.actor.role === 'admin';
  const body = html`${admin ? areaForm(lang, session, `${BASE}/areas/${a.id}`, state ?? fresh(areaValues(a)), false) : html`<p class="notice" role="note">${d.md.readOnly}</p>${areaFacts(d, a)}`}
<h2>${d.md.institutions}</h2>
${insts.length > 0 ? institutionTable(d, insts, new Map([[a.id, a.name]])) : html`<p>${d.md.none}</p>`}`;
  return send(req, reply, { status, title: a.name, section: 'areas', session, body });
}

// --- institutions ------------------------------------------------------------------------------

function institutionBody(b: FormBody, withId: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = withId ? { id: field(b, 'id') ?? '' } : {};
  for (const k of INSTITUTION_FIELDS.slice(1)) out[k] = field(b, k) ?? '';
  return out;
}

async function areaOptions(u: UiContext, d: Dict): Promise<Option[]> {
  return [{ value: '', label: d.md.choose }, ...(await master.listAreas(u.ctx)).map((a) => ({ value: a.id, label: a.name }))];
}

async function institutionForm(u: UiContext, lang: Lang, session: UiSession, action: string, state: FormState, create: boolean): Promise<SafeHtml> {
  const d = t(lang);
  const common = (name: string) => fieldOpts(lang, state, name, d.md.fields[name] ?? name, { hint: d.md.hints[name] });
  const kinds: Option[] = [{ value: '', label: d.md.choose }, ...INSTITUTION_KINDS.map((k) => ({ value: k, label: d.md.kinds[k] ?? k }))];
  return html`${summaryOf(lang, state, (n) => d.md.fields[n] ?? n)}
<form method="post" action="${action}" id="institution-form" class="md-form" novalidate>${csrfField(session)}
<div class="stack">
${create ? textField({ ...common('id'), size: 24, maxlength: 63, autocomplete: 'off' }) : ''}
${textField({ ...common('name'), size: 40, maxlength: 200, autocomplete: 'off' })}
${selectField({ ...common('areaId'), options: await areaOptions(u, d) })}
${selectField({ ...common('kind'), options: kinds })}
${textField({ ...common('dutyManagerEmail'), type: 'email', size: 48, maxlength: 320, autocomplete: 'off' })}
<div><button type="submit">${create ? d.md.create : d.md.saveChanges}</button></div>
</div></form>`;
}

async function institutionPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string, status: number, state?: FormState): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const i = await master.getInstitution(u.ctx, id, session.actor);
  const area = await master.getArea(u.ctx, i.areaId, session.actor);
  const row = (k: string, v: string) => html`<dt>${d.md.fields[k] ?? k}</dt><dd>${v}</dd>`;
  const body =
    session.actor.role === 'admin'
      ? await institutionForm(u, lang, session, `${BASE}/institutions/${i.id}`, state ?? fresh({ name: i.name, areaId: i.areaId, kind: i.kind, dutyManagerEmail: i.dutyManagerEmail }), false)
      : html`<p class="notice" role="note">${d.md.readOnly}</p><dl class="facts md-facts" id="institution-facts">${row('id', i.id)}${row('areaId', area.name)}${row('kind', d.md.kinds[i.kind] ?? i.kind)}${row('dutyManagerEmail', i.dutyManagerEmail)}</dl>`;
  return send(req, reply, { status, title: i.name, section: 'institutions', session, body: html`<p><a href="${BASE}/areas/${area.id}">${area.name}</a></p>${body}` });
}

// --- staff -------------------------------------------------------------------------------------

type StaffView = NonNullable<Awaited<ReturnType<typeof master.staffView>>>;

function staffValues(s: StaffView): Values {
  const v: Values = { name: s.name, email: s.email, title: s.title ?? '', institutionId: s.institutionId ?? '', substituteId: s.substituteId ?? '', active: s.active ? '1' : undefined, abs_rows: String(s.absences.length + NEW_ABSENCE_ROWS) };
  s.absences.forEach((a, i) => {
    v[`abs_from_${i}`] = fmtShortDay(a.from);
    v[`abs_until_${i}`] = fmtShortDay(a.until);
    v[`abs_reason_${i}`] = a.reason ?? '';
    v[`abs_had_${i}`] = '1';
  });
  return v;
}

interface StaffParsed {
  body: Record<string, unknown>;
  /** Dates the form could not read, by field name (the service never sees them). */
  issues: FieldIssue[];
  /** The form row of each absence sent (the service's `absences[k]` is row absenceRow[k]). */
  absenceRow: number[];
}

function absenceRows(values: Values): number {
  const n = Number(values['abs_rows'] ?? NEW_ABSENCE_ROWS);
  return Number.isInteger(n) && n >= 0 ? Math.min(n, MAX_ABSENCE_ROWS) : NEW_ABSENCE_ROWS;
}

/** The form as the service's body: empty optional fields are null (unset), the absences the whole list. */
function parseStaff(b: FormBody, create: boolean): StaffParsed {
  const body: Record<string, unknown> = {
    name: field(b, 'name') ?? '',
    email: field(b, 'email') ?? '',
    title: field(b, 'title') ?? null,
    institutionId: field(b, 'institutionId') ?? null,
    substituteId: field(b, 'substituteId') ?? null,
    active: field(b, 'active') === '1',
  };
  if (create) body['areaId'] = field(b, 'areaId') ?? '';
  const issues: FieldIssue[] = [];
  const absences: Array<{ from: string; until: string; reason: string | null }> = [];
  const absenceRow: number[] = [];
  for (let i = 0; i < absenceRows(typed(b)); i++) {
    if (field(b, `abs_del_${i}`)) continue;
    const raw = { from: field(b, `abs_from_${i}`), until: field(b, `abs_until_${i}`), reason: field(b, `abs_reason_${i}`) };
    if (raw.from === undefined && raw.until === undefined && raw.reason === undefined) continue;
    const from = parseDateField(raw.from);
    const until = parseDateField(raw.until);
    for (const [k, v] of [['from', from], ['until', until]] as const) if (v === undefined || v === null) issues.push({ path: `abs_${k}_${i}`, message: v === undefined ? 'is required' : 'not a date (dd.mm.yyyy)' });
    if (from && until) {
      absences.push({ from, until, reason: raw.reason ?? null });
      absenceRow.push(i);
    }
  }
  body['absences'] = absences;
  return { body, issues, absenceRow };
}

/** A service path as the staff form's field: `absences[1].until` is the until field of that absence's row. */
function staffFieldOf(absenceRow: readonly number[]): (path: string) => string | undefined {
  return (path) => {
    const m = /^absences\[(\d+)\]\.(from|until|reason)$/.exec(path);
    if (m) {
      const row = absenceRow[Number(m[1])];
      return row === undefined ? undefined : `abs_${m[2]}_${row}`;
    }
    if (/^abs_(from|until)_\d+$/.test(path)) return path;
    return ['name', 'email', 'title', 'institutionId', 'substituteId', 'areaId', 'active'].includes(path) ? path : undefined;
  };
}

function staffLabel(d: Dict): (name: string) => string {
  return (name) => {
    const m = /^abs_(from|until|reason)_(\d+)$/.exec(name);
    if (m) return `${d.md.absRow(Number(m[2]) + 1)} › ${m[1] === 'from' ? d.md.absFrom : m[1] === 'until' ? d.md.absUntil : d.md.absReason}`;
    return d.md.fields[name] ?? name;
  };
}

interface StaffChoices {
  areas: Option[];
  institutions: Option[];
  substitutes: Option[];
}

/** Institutions and stand-ins the caller may pick (the service still checks they are in the staff member's area). */
async function staffChoices(u: UiContext, d: Dict, session: UiSession, self: string | undefined): Promise<StaffChoices> {
  const areaList = await master.listAreas(u.ctx);
  const names = new Map(areaList.map((a) => [a.id, a.name]));
  const admin = session.actor.role === 'admin';
  const inScope = admin ? areaList : areaList.filter((a) => a.id === session.actor.areaId);
  const insts = await master.listInstitutions(u.ctx, session.actor);
  const people = (await master.listStaff(u.ctx, session.actor)).filter((s) => s.id !== self);
  const where = (areaId: string) => (admin ? ` – ${names.get(areaId) ?? areaId}` : '');
  return {
    areas: [...(admin ? [{ value: '', label: d.md.choose }] : []), ...inScope.map((a) => ({ value: a.id, label: a.name }))],
    institutions: [{ value: '', label: d.md.noInstitution }, ...insts.map((i) => ({ value: i.id, label: `${i.name}${where(i.areaId)}` }))],
    substitutes: [{ value: '', label: d.md.noSubstitute }, ...people.map((s) => ({ value: s.id, label: `${s.name} (${s.email})${s.active ? '' : ` – ${d.md.statusInactive.toLowerCase()}`}${where(s.areaId)}` }))],
  };
}

function absenceFieldset(lang: Lang, state: FormState): SafeHtml {
  const d = t(lang);
  const v = state.values;
  const rows = absenceRows(v);
  const row = (i: number) => {
    const had = v[`abs_had_${i}`] === '1';
    // A row's dates are required only together (an empty row is no absence): neither is marked either way.
    const common = (k: 'from' | 'until' | 'reason', optional = false) => ({ ...fieldOpts(lang, state, `abs_${k}_${i}`, k === 'from' ? d.md.absFrom : k === 'until' ? d.md.absUntil : d.md.absReason, { optional }), required: false });
    return html`<fieldset class="absence" id="absence-${i}"><legend>${had ? d.md.absRow(i + 1) : d.md.absNewRow(i + 1)}</legend><div class="fields">
${dateField(lang, common('from'))}
${dateField(lang, common('until'))}
${textField({ ...common('reason', true), size: 28, maxlength: 500, hint: d.md.absReasonHint, autocomplete: 'off' })}
${had ? html`<input type="hidden" name="abs_had_${i}" value="1">${checkboxField({ name: `abs_del_${i}`, label: d.md.absRemove, checked: v[`abs_del_${i}`] === '1' })}` : ''}
</div></fieldset>`;
  };
  return html`<fieldset id="absences"><legend>${d.md.fields['absences']}</legend>
<p class="small">${d.md.absencesIntro}</p>
<input type="hidden" name="abs_rows" value="${String(rows)}">
${Array.from({ length: rows }, (_, i) => row(i))}
</fieldset>`;
}

function staffForm(lang: Lang, session: UiSession, action: string, state: FormState, choices: StaffChoices, create: boolean): SafeHtml {
  const d = t(lang);
  const common = (name: string, optional = false) => fieldOpts(lang, state, name, d.md.fields[name] ?? name, { optional, hint: d.md.hints[name] });
  return html`${summaryOf(lang, state, staffLabel(d))}
<form method="post" action="${action}" id="staff-form" class="md-form" novalidate>${csrfField(session)}
<div class="stack">
${create ? selectField({ ...common('areaId'), options: choices.areas }) : ''}
${textField({ ...common('name'), size: 40, maxlength: 200, autocomplete: 'off' })}
${textField({ ...common('email'), type: 'email', size: 48, maxlength: 320, autocomplete: 'off' })}
${textField({ ...common('title', true), size: 40, maxlength: 200, autocomplete: 'off' })}
${selectField({ ...common('institutionId', true), options: choices.institutions })}
${selectField({ ...common('substituteId', true), options: choices.substitutes })}
${checkboxField({ ...common('active', true), label: d.md.activeLabel, hint: d.md.activeHint, value: '1', checked: state.values['active'] === '1' })}
${absenceFieldset(lang, state)}
<div><button type="submit">${create ? d.md.create : d.md.saveChanges}</button></div>
</div></form>`;
}

async function staffPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string, status: number, state?: FormState): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const s = await master.getStaff(u.ctx, id, session.actor);
  const area = await master.getArea(u.ctx, s.areaId, session.actor);
  const today = formatIsoDate(localDayOfInstant(u.ctx.clock().getTime()));
  const absent = s.absences.some((a) => a.from <= today && today <= a.until);
  const body = html`<p><a href="${BASE}/areas/${area.id}">${area.name}</a>${s.active ? '' : html` · <span class="badge badge-ended">${d.md.statusInactive}</span>`}${absent ? html` · <span class="badge badge-suspended">${d.md.absentNow}</span>` : ''}</p>
${staffForm(lang, session, `${BASE}/staff/${s.id}`, state ?? fresh(staffValues(s)), await staffChoices(u, d, session, s.id), false)}`;
  return send(req, reply, { status, title: s.name, section: 'staff', session, body });
}

async function staffSave(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string | undefined): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const b = formBody(req);
  const parsed = parseStaff(b, id === undefined);
  const values = typed(b);
  const fieldOf = staffFieldOf(parsed.absenceRow);
  const redraw = async (status: number, issues: FieldIssue[]) => {
    const state = refused(lang, values, issues, fieldOf);
    if (id !== undefined) return staffPage(u, req, reply, session, id, status, state);
    const form = staffForm(lang, session, `${BASE}/staff`, state, await staffChoices(u, d, session, undefined), true);
    return send(req, reply, { status, title: d.md.newStaff, section: 'staff', session, body: form });
  };
  if (parsed.issues.length > 0) {
    // The dates it could read aside, what would the service say of the rest? Nothing is written.
    const schema = id === undefined ? master.staffCreate : master.staffPatch;
    const r = schema.safeParse(parsed.body);
    return redraw(400, [...(r.success ? [] : zodIssues(r.error)), ...parsed.issues]);
  }
  const res = await attempt(() => (id === undefined ? master.createStaff(u.ctx, parsed.body, session.actor) : master.updateStaff(u.ctx, id, parsed.body, session.actor)));
  if ('issues' in res) return redraw(res.status, res.issues);
  return reply.redirect(`${BASE}/staff/${res.ok?.id ?? id ?? ''}?done=${id === undefined ? 'created' : 'saved'}`, 303);
}

// --- tokens ------------------------------------------------------------------------------------

type TokenRow = Awaited<ReturnType<typeof listTokens>>[number];

export function tokenScope(d: Dict, r: { role: string; areaId: string | null; institutionId: string | null }, areaNames: ReadonlyMap<string, string>, instNames: ReadonlyMap<string, string>): string {
  if (r.areaId) return `${d.md.fields['areaId']}: ${areaNames.get(r.areaId) ?? r.areaId}`;
  if (r.institutionId) return `${d.md.fields['institutionId']}: ${instNames.get(r.institutionId) ?? r.institutionId}`;
  return d.md.everything;
}

function tokenTable(lang: Lang, session: UiSession, list: readonly TokenRow[], areaNames: ReadonlyMap<string, string>, instNames: ReadonlyMap<string, string>, now: Date): SafeHtml {
  const d = t(lang);
  if (list.length === 0) return html`<p>${d.md.noTokens}</p>`;
  const actions = (r: TokenRow) =>
    r.revokedAt
      ? ''
      : html`${r.id === session.actor.id ? html`<p class="small">${d.md.ownToken}</p>` : ''}<form method="post" action="${BASE}/tokens/${r.id}/revoke" class="inline">${csrfField(session)}<button type="submit" class="secondary">${d.md.revoke}<span class="visually-hidden"> ${r.name}</span></button></form>`;
  const heads = [d.md.fields['name'], d.md.fields['role'], d.md.scope, d.md.created, d.md.fields['expiresAt'], d.md.status, d.md.revoke].map(String);
  const expired = (r: TokenRow) => r.expiresAt !== null && r.expiresAt.getTime() <= now.getTime();
  const status = (r: TokenRow) =>
    r.revokedAt
      ? html`<span class="badge badge-ended">${d.md.tokenRevoked(fmtShortDay(r.revokedAt.toISOString()))}</span>`
      : expired(r)
        ? html`<span class="badge badge-ended">${d.md.tokenExpired}</span>`
        : html`<span class="badge badge-met">${d.md.tokenActive}</span>`;
  return listTable('token-list', d.md.tokens, heads, list.map((r) => ({ attrs: html` data-token="${r.id}"`, cells: [r.name, d.roles[r.role] ?? r.role, tokenScope(d, r, areaNames, instNames), timeEl(r.createdAt, lang), r.expiresAt ? timeEl(r.expiresAt, lang) : d.md.noExpiry, status(r), actions(r)] })), { actions: true });
}

async function tokensPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, status: number, state: FormState): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const list = await listTokens(u.deps.database.db, session.actor);
  const areaList = await master.listAreas(u.ctx);
  const insts = await master.listInstitutions(u.ctx, session.actor);
  const areaNames = new Map(areaList.map((a) => [a.id, a.name]));
  const instNames = new Map(insts.map((i) => [i.id, i.name]));
  const common = (name: string, optional = false, hint?: string) => fieldOpts(lang, state, name, d.md.fields[name] ?? name, { optional, hint });
  const body = html`<p>${d.md.tokensIntro}</p>
<h2 id="h-new-token">${d.md.newToken}</h2>
${summaryOf(lang, state, (n) => d.md.fields[n] ?? n)}
<form method="post" action="${BASE}/tokens" id="token-form" class="md-form" novalidate aria-labelledby="h-new-token">${csrfField(session)}
<div class="stack">
${textField({ ...common('name', false, d.md.hints['tokenName']), size: 40, maxlength: 100, autocomplete: 'off' })}
${selectField({ ...common('role'), options: [{ value: '', label: d.md.choose }, ...TOKEN_ROLES.map((r) => ({ value: r, label: d.md.roles[r] ?? r }))] })}
${selectField({ ...common('areaId', true, d.md.hints['tokenArea']), options: [{ value: '', label: d.md.none }, ...areaList.map((a) => ({ value: a.id, label: a.name }))] })}
${selectField({ ...common('institutionId', true, d.md.hints['tokenInstitution']), options: [{ value: '', label: d.md.none }, ...insts.map((i) => ({ value: i.id, label: `${i.name} – ${areaNames.get(i.areaId) ?? i.areaId}` }))] })}
${dateField(lang, { ...common('expiresAt', true, d.md.hints['tokenExpires']) })}
<div><button type="submit">${d.md.create}</button></div>
</div></form>
<h2>${d.md.tokens}</h2>
${tokenTable(lang, session, list, areaNames, instNames, u.deps.clock())}`;
  return send(req, reply, { status, title: d.md.tokens, section: 'tokens', session, body });
}

// --- routes ------------------------------------------------------------------------------------

/** Areas and institutions: created by admins from `/new`, read in scope at `/:id`, edited there by admins. */
interface Editable {
  section: 'areas' | 'institutions';
  fields: readonly string[];
  newTitle: (d: Dict) => string;
  body: (b: FormBody, create: boolean) => Record<string, unknown>;
  /** The create form (the edit form is part of the page). */
  form: (lang: Lang, session: UiSession, state: FormState, create: true) => SafeHtml | Promise<SafeHtml>;
  create: (body: Record<string, unknown>, actor: UiSession['actor']) => Promise<{ id: string } | undefined>;
  update: (id: string, body: Record<string, unknown>, actor: UiSession['actor']) => Promise<unknown>;
  page: (req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string, status: number, state?: FormState) => Promise<FastifyReply>;
}

function registerEditable(app: FastifyInstance, e: Editable): void {
  const base = `${BASE}/${e.section}`;
  const newPage = async (req: FastifyRequest, reply: FastifyReply, session: UiSession, status: number, state: FormState) =>
    send(req, reply, { status, title: e.newTitle(t(uiState(req).lang)), section: e.section, session, body: await e.form(uiState(req).lang, session, state, true) });

  app.get(`${base}/new`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session || !requireAdmin(req, reply, session)) return reply;
    return newPage(req, reply, session, 200, fresh({ areaId: queryOf(req)['area'] }));
  });

  app.post(base, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const b = formBody(req);
    const res = await attempt(() => e.create(e.body(b, true), session.actor));
    if ('issues' in res) return newPage(req, reply, session, res.status, refused(uiState(req).lang, typed(b), res.issues, e.fields));
    return reply.redirect(`${base}/${encodeURIComponent(res.ok?.id ?? '')}?done=created`, 303);
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    return e.page(req, reply, session, req.params.id, 200);
  });

  app.post<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const b = formBody(req);
    const res = await attempt(() => e.update(req.params.id, e.body(b, false), session.actor));
    if ('issues' in res) return e.page(req, reply, session, req.params.id, res.status, refused(uiState(req).lang, typed(b), res.issues, e.fields));
    return reply.redirect(`${base}/${encodeURIComponent(req.params.id)}?done=saved`, 303);
  });
}

export function registerMasterdata(app: FastifyInstance, u: UiContext): void {
  const db = u.deps.database.db;

  app.get(BASE, async (req, reply) => (pageSession(req, reply) ? reply.redirect(`${BASE}/areas`, 303) : reply));

  app.get(`${BASE}/areas`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    const d = t(uiState(req).lang);
    const admin = session.actor.role === 'admin';
    const list = admin ? await master.listAreas(u.ctx) : [await master.getArea(u.ctx, session.actor.areaId ?? '', session.actor)];
    const body = html`<p>${d.md.areasIntro}</p>
${admin ? html`<p><a class="button" href="${BASE}/areas/new">${d.md.newArea}</a></p>` : ''}
${listTable('area-list', d.md.areas, [d.md.fields['name'], d.md.fields['officeEmail'], d.md.fields['directorName'], d.md.fields['leadershipEmail']].map(String), list.map((a) => ({ cells: [html`<a href="${BASE}/areas/${a.id}">${a.name}</a>`, a.officeEmail, html`${a.directorName}<br><span class="small">${a.directorEmail}</span>`, a.leadershipEmail ?? d.md.none] })))}`;
    return send(req, reply, { status: 200, title: d.md.areas, section: 'areas', session, body });
  });

  registerEditable(app, {
    section: 'areas',
    fields: AREA_FIELDS,
    newTitle: (d) => d.md.newArea,
    body: areaBody,
    form: (lang, session, state, create) => areaForm(lang, session, `${BASE}/areas`, state, create),
    create: (body, actor) => master.createArea(u.ctx, body, actor),
    update: (id, body, actor) => master.updateArea(u.ctx, id, body, actor),
    page: (req, reply, session, id, status, state) => areaPage(u, req, reply, session, id, status, state),
  });

  app.get(`${BASE}/institutions`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    const d = t(uiState(req).lang);
    const list = await master.listInstitutions(u.ctx, session.actor);
    const areaNames = new Map((await master.listAreas(u.ctx)).map((a) => [a.id, a.name]));
    const body = html`<p>${d.md.institutionsIntro}</p>
${session.actor.role === 'admin' ? html`<p><a class="button" href="${BASE}/institutions/new">${d.md.newInstitution}</a></p>` : ''}
${institutionTable(d, list, areaNames)}`;
    return send(req, reply, { status: 200, title: d.md.institutions, section: 'institutions', session, body });
  });

  registerEditable(app, {
    section: 'institutions',
    fields: INSTITUTION_FIELDS,
    newTitle: (d) => d.md.newInstitution,
    body: institutionBody,
    form: (lang, session, state, create) => institutionForm(u, lang, session, `${BASE}/institutions`, state, create),
    create: (body, actor) => master.createInstitution(u.ctx, body, actor),
    update: (id, body, actor) => master.updateInstitution(u.ctx, id, body, actor),
    page: (req, reply, session, id, status, state) => institutionPage(u, req, reply, session, id, status, state),
  });

  app.get(`${BASE}/staff`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    const d = t(uiState(req).lang);
    const list = await master.listStaff(u.ctx, session.actor);
    const areaNames = new Map((await master.listAreas(u.ctx)).map((a) => [a.id, a.name]));
    const instNames = new Map((await master.listInstitutions(u.ctx, session.actor)).map((i) => [i.id, i.name]));
    const names = new Map(list.map((s) => [s.id, s.name]));
    const heads = [d.md.fields['name'], d.md.fields['email'], d.md.fields['areaId'], d.md.fields['institutionId'], d.md.fields['substituteId'], d.md.status].map(String);
    const body = html`<p>${d.md.staffIntro}</p>
<p><a class="button" href="${BASE}/staff/new">${d.md.newStaff}</a></p>
${list.length === 0 ? html`<p>${d.md.noStaff}</p>` : listTable('staff-list', d.md.staff, heads, list.map((s) => ({ cells: [html`<a href="${BASE}/staff/${s.id}">${s.name}</a>`, s.email, areaNames.get(s.areaId) ?? s.areaId, s.institutionId ? (instNames.get(s.institutionId) ?? s.institutionId) : d.md.none, s.substituteId ? (names.get(s.substituteId) ?? d.md.none) : d.md.none, s.active ? d.md.statusActive : html`<span class="badge badge-ended">${d.md.statusInactive}</span>`] })))}`;
    return send(req, reply, { status: 200, title: d.md.staff, section: 'staff', session, body });
  });

  app.get(`${BASE}/staff/new`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const values: Values = { active: '1', abs_rows: String(NEW_ABSENCE_ROWS), areaId: session.actor.role === 'area' ? (session.actor.areaId ?? '') : queryOf(req)['area'] };
    const form = staffForm(lang, session, `${BASE}/staff`, fresh(values), await staffChoices(u, d, session, undefined), true);
    return send(req, reply, { status: 200, title: d.md.newStaff, section: 'staff', session, body: form });
  });

  app.post(`${BASE}/staff`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    return staffSave(u, req, reply, session, undefined);
  });

  app.get<{ Params: { id: string } }>(`${BASE}/staff/:id`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    return staffPage(u, req, reply, session, req.params.id, 200);
  });

  app.post<{ Params: { id: string } }>(`${BASE}/staff/:id`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    return staffSave(u, req, reply, session, req.params.id);
  });

  app.get(`${BASE}/tokens`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session || !requireAdmin(req, reply, session)) return reply;
    return tokensPage(u, req, reply, session, 200, fresh());
  });

  app.post(`${BASE}/tokens`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const b = formBody(req);
    const body: Record<string, unknown> = { name: field(b, 'name') ?? '', role: field(b, 'role') ?? '' };
    if (field(b, 'areaId')) body['areaId'] = field(b, 'areaId');
    if (field(b, 'institutionId')) body['institutionId'] = field(b, 'institutionId');
    // "Udløber" is the last day the token works: it expires at the end of that day, Copenhagen time.
    const expires = parseDateField(field(b, 'expiresAt'));
    const expiresDay = expires ? parseIsoDate(expires) : undefined;
    if (expiresDay !== undefined) body['expiresAt'] = formatLocalInstant(instantOfLocal(expiresDay, END_OF_DAY_MS));
    if (expires === null) {
      // Not a date: nothing is written; what would the service say of the rest?
      const r = tokenCreate.safeParse(body);
      return tokensPage(u, req, reply, session, 400, refused(lang, typed(b), [...(r.success ? [] : zodIssues(r.error)), { path: 'expiresAt', message: 'not a date (dd.mm.yyyy)' }], TOKEN_FIELDS));
    }
    const res = await attempt(() => createToken(db, body, session.actor, u.deps.clock()));
    if ('issues' in res) return tokensPage(u, req, reply, session, res.status, refused(lang, typed(b), res.issues, TOKEN_FIELDS));
    // Shown once, in this answer only (no-store, no redirect that could put it in a URL or the history).
    const shown = html`<div class="notice ok" role="status"><p>${d.md.tokenCreatedIntro}</p></div>
${textField({ name: 'token', id: 'new-token', label: d.md.tokenValue, value: res.ok.token, size: 50, readonly: true, autocomplete: 'off' })}
<dl class="facts md-facts"><dt>${d.md.fields['name']}</dt><dd>${String(body['name'])}</dd><dt>${d.md.fields['role']}</dt><dd>${d.roles[res.ok.role] ?? res.ok.role}</dd><dt>${d.md.fields['expiresAt']}</dt><dd>${res.ok.expiresAt ? timeEl(res.ok.expiresAt, lang) : d.md.noExpiry}</dd></dl>
<p><a href="${BASE}/tokens">${d.md.backToTokens}</a></p>`;
    return send(req, reply, { status: 201, title: d.md.tokenCreatedTitle, section: 'tokens', session, body: shown });
  });

  app.post<{ Params: { id: string } }>(`${BASE}/tokens/:id/revoke`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    await revokeToken(db, req.params.id, session.actor, u.deps.clock());
    return reply.redirect(`${BASE}/tokens?done=revoked`, 303);
  });
}
