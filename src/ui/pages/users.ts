/**
 * People (issue 14) in master data (/masterdata/users): the list, a create form, and per user an
 * edit form with the actions on their access: deactivate or reactivate (never delete), a one-time
 * login link (shown once, in the answer that made it), "log out everywhere" and a new password.
 * Administrators manage everybody; an area office the area and institution users of its own area
 * (src/records/users.ts decides, as for the API and the CLI; the forms only offer what it allows).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../../domain/index.js';
import { loginLinkUrl } from '../../identity/login.js';
import { createLoginLink } from '../../identity/login.js';
import type { FieldIssue } from '../../records/errors.js';
import * as master from '../../records/masterdata.js';
import { createUser, getUser, listUsers, logoutEverywhere, requireManageable, ROLES, setPassword, setUserActive, updateUser, type UserView } from '../../records/users.js';
import { fmtInstant, timeEl } from '../format.js';
import { selectField, textField, type Option } from '../form-fields.js';
import { html, type SafeHtml } from '../html.js';
import { t, type Dict } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorSummary, formBody, queryOf, uiState, type FormBody, field } from '../web.js';
import { actionSession, attempt, BASE, fieldOpts, fresh, listTable, pageSession, refused, send, summaryOf, tokenScope, typed, type FormState, type Values } from './masterdata.js';

const USERS = `${BASE}/users`;
/** The form's fields; `version` is hidden (a stale edit is named in the summary, not by a field). */
const USER_FIELDS = ['name', 'title', 'email', 'role', 'areaId', 'institutionId', 'staffId', 'password'];

const label = (d: Dict) => (name: string): string => d.us.fields[name] ?? d.md.fields[name] ?? name;

/** The message of a `done` query, in the users section's own words. */
function flashOf(req: FastifyRequest, d: Dict): { kind: 'ok'; text: string } | undefined {
  const done = queryOf(req)['done'];
  return done && d.us.done[done] ? { kind: 'ok', text: d.us.done[done] } : undefined;
}

/** A password as typed: never trimmed (spaces may be part of it), undefined when empty. */
function rawField(b: FormBody, name: string): string | undefined {
  const v = b[name];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/** The form's values for a redraw: as typed, but never a password. */
function redrawValues(b: FormBody): Values {
  const v = typed(b);
  delete v['password'];
  return v;
}

/** The form as the service's body: empty optional fields are null (unset); the service names what is wrong. */
function userBody(b: FormBody, create: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: field(b, 'name') ?? '',
    title: field(b, 'title') ?? null,
    email: field(b, 'email') ?? '',
    role: field(b, 'role') ?? '',
    areaId: field(b, 'areaId') ?? null,
    institutionId: field(b, 'institutionId') ?? null,
    staffId: field(b, 'staffId') ?? null,
  };
  if (create) {
    const password = rawField(b, 'password');
    if (password !== undefined) out['password'] = password;
  } else {
    const version = Number(field(b, 'version'));
    if (Number.isInteger(version) && version > 0) out['version'] = version;
  }
  return out;
}

function userValues(v: UserView): Values {
  return { name: v.name, title: v.title ?? '', email: v.email, role: v.role, areaId: v.areaId ?? '', institutionId: v.institutionId ?? '', staffId: v.staffId ?? '', version: String(v.version) };
}

interface Choices {
  roles: Option[];
  areas: Option[];
  institutions: Option[];
  staff: Option[];
}

/** What the caller may pick: an area office only the roles area and institution, in its own area. */
async function choicesFor(u: UiContext, d: Dict, session: UiSession): Promise<Choices> {
  const admin = session.actor.role === 'admin';
  const areaList = await master.listAreas(u.ctx);
  const names = new Map(areaList.map((a) => [a.id, a.name]));
  const inScope = admin ? areaList : areaList.filter((a) => a.id === session.actor.areaId);
  const insts = await master.listInstitutions(u.ctx, session.actor);
  const people = await master.listStaff(u.ctx, session.actor);
  const where = (areaId: string) => (admin ? ` – ${names.get(areaId) ?? areaId}` : '');
  const roles = admin ? ROLES : (['area', 'institution'] as const);
  return {
    roles: [{ value: '', label: d.md.choose }, ...roles.map((r) => ({ value: r, label: d.md.roles[r] ?? r }))],
    areas: [{ value: '', label: d.md.none }, ...inScope.map((a) => ({ value: a.id, label: a.name }))],
    institutions: [{ value: '', label: d.md.none }, ...insts.map((i) => ({ value: i.id, label: `${i.name}${where(i.areaId)}` }))],
    staff: [{ value: '', label: d.us.noStaff }, ...people.map((s) => ({ value: s.id, label: `${s.name} (${s.email})${s.active ? '' : ` – ${d.md.statusInactive.toLowerCase()}`}${where(s.areaId)}` }))],
  };
}

function userForm(lang: Lang, session: UiSession, action: string, state: FormState, choices: Choices, create: boolean): SafeHtml {
  const d = t(lang);
  const common = (name: string, optional = false) => fieldOpts(lang, state, name, label(d)(name), { optional, hint: d.us.hints[name] });
  return html`${summaryOf(lang, state, label(d))}
<form method="post" action="${action}" id="user-form" class="md-form" novalidate>${csrfField(session)}
<div class="stack">
${textField({ ...common('name'), size: 40, maxlength: 120, autocomplete: 'off' })}
${textField({ ...common('title', true), size: 40, maxlength: 120, autocomplete: 'off' })}
${textField({ ...common('email'), type: 'email', size: 48, maxlength: 254, autocomplete: 'off' })}
${selectField({ ...common('role'), options: choices.roles })}
${selectField({ ...common('areaId', true), options: choices.areas })}
${selectField({ ...common('institutionId', true), options: choices.institutions })}
${selectField({ ...common('staffId', true), options: choices.staff })}
${create ? textField({ ...common('password', true), value: undefined, type: 'password', size: 32, maxlength: 200, autocomplete: 'new-password' }) : html`<input type="hidden" name="version" value="${state.values['version'] ?? ''}">`}
<div><button type="submit">${create ? d.md.create : d.md.saveChanges}</button></div>
</div></form>`;
}

async function newPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, status: number, state: FormState): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const form = userForm(lang, session, USERS, state, await choicesFor(u, d, session), true);
  return send(req, reply, { status, title: d.us.newUser, section: 'users', session, body: form, flash: undefined });
}

async function listPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const list = await listUsers(u.deps.database.db, session.actor);
  const areaNames = new Map((await master.listAreas(u.ctx)).map((a) => [a.id, a.name]));
  const instNames = new Map((await master.listInstitutions(u.ctx, session.actor)).map((i) => [i.id, i.name]));
  const staffNames = new Map((await master.listStaff(u.ctx, session.actor)).map((s) => [s.id, s.name]));
  const heads = [d.us.fields['name'], d.us.fields['email'], d.us.fields['role'], d.md.scope, d.us.fields['staffId'], d.md.status, d.us.lastLogin].map(String);
  const status = (v: UserView) => (v.active ? d.us.active : html`<span class="badge badge-ended">${d.us.deactivated}</span>`);
  const staffCell = (v: UserView) => (v.staffId ? html`<a href="${BASE}/staff/${v.staffId}">${staffNames.get(v.staffId) ?? v.staffId}</a>` : d.md.none);
  const rows = list.map((v) => ({
    attrs: html` data-user="${v.id}"`,
    cells: [html`<a href="${USERS}/${v.id}">${v.name}</a>${v.title ? html`<br><span class="small">${v.title}</span>` : ''}`, v.email, d.roles[v.role] ?? v.role, tokenScope(d, v, areaNames, instNames), staffCell(v), status(v), v.lastLoginAt ? timeEl(v.lastLoginAt, lang) : d.us.never] as const,
  }));
  const body = html`<p>${d.us.intro}</p>
${session.actor.role === 'area' ? html`<p>${d.us.introArea}</p>` : ''}
<p><a class="button" href="${USERS}/new">${d.us.newUser}</a></p>
${list.length === 0 ? html`<p>${d.us.noUsers}</p>` : listTable('user-list', d.us.section, heads, rows)}`;
  return send(req, reply, { status: 200, title: d.us.section, section: 'users', session, body, flash: flashOf(req, d) });
}

/** What a redraw of the user page carries: the edit form's state, the password form's, or an action's refusal. */
interface Redraw {
  edit?: FormState;
  password?: FormState;
  actions?: FieldIssue[];
}

function actionForm(session: UiSession, action: string, id: string, button: string, hint: string, secondary = true): SafeHtml {
  return html`<form method="post" action="${action}" id="${id}" class="md-form">${csrfField(session)}<p class="small">${hint}</p><div><button type="submit"${secondary ? html` class="secondary"` : ''}>${button}</button></div></form>`;
}

async function userPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string, status: number, r: Redraw = {}): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const v = await getUser(u.deps.database.db, session.actor, id);
  const base = `${USERS}/${v.id}`;
  const self = session.actor.kind === 'user' && session.actor.id === v.id;
  const passwordState = r.password ?? fresh();
  const facts = html`<dl class="facts md-facts" id="user-facts">
<dt>${d.md.status}</dt><dd>${v.active ? d.us.active : html`<span class="badge badge-ended">${v.deactivatedAt ? d.us.deactivatedAt(fmtInstant(v.deactivatedAt, lang)) : d.us.deactivated}</span>`}</dd>
<dt>${d.us.hasPassword}</dt><dd>${v.hasPassword ? d.us.passwordSet : d.us.passwordNone}</dd>
<dt>${d.us.lastLogin}</dt><dd>${v.lastLoginAt ? timeEl(v.lastLoginAt, lang) : d.us.never}</dd>
<dt>${d.md.created}</dt><dd>${timeEl(v.createdAt, lang)}</dd>
</dl>`;
  const access = v.active
    ? html`${actionForm(session, `${base}/login-link`, 'user-login-link-form', d.us.loginLink, d.us.loginLinkHint, false)}
${actionForm(session, `${base}/logout-everywhere`, 'user-logout-form', d.us.logoutEverywhere, d.us.logoutEverywhereHint)}
<h3 id="h-password">${d.us.setPassword}</h3>
${summaryOf(lang, passwordState, label(d))}
<form method="post" action="${base}/password" id="user-password-form" class="md-form" novalidate aria-labelledby="h-password">${csrfField(session)}
<div class="stack">
${textField({ ...fieldOpts(lang, passwordState, 'password', label(d)('password'), { hint: d.us.setPasswordHint }), value: undefined, type: 'password', size: 32, maxlength: 200, autocomplete: 'new-password' })}
<div><button type="submit" class="secondary">${d.us.savePassword}</button></div>
</div></form>
${actionForm(session, `${base}/deactivate`, 'user-deactivate-form', d.us.deactivate, d.us.deactivateHint)}`
    : actionForm(session, `${base}/reactivate`, 'user-reactivate-form', d.us.reactivate, d.us.reactivateHint, false);
  const body = html`<p><a href="${USERS}">${d.us.backToUsers}</a>${self ? html` · ${d.us.self}` : ''}</p>
${facts}
${userForm(lang, session, base, r.edit ?? fresh(userValues(v)), await choicesFor(u, d, session), false)}
<h2 id="h-access">${d.us.access}</h2>
${errorSummary(lang, r.actions ?? [], label(d))}
${access}`;
  return send(req, reply, { status, title: v.name, section: 'users', session, body, flash: flashOf(req, d) });
}

/** The session to keep when a person acts on their own account (the other sessions end). */
function ownSession(session: UiSession, id: string): string | undefined {
  return session.actor.kind === 'user' && session.actor.id === id ? session.id : undefined;
}

export function registerUsers(app: FastifyInstance, u: UiContext): void {
  const db = u.deps.database.db;
  const now = () => u.deps.clock();

  app.get(USERS, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    return listPage(u, req, reply, session);
  });

  app.get(`${USERS}/new`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    const values: Values = session.actor.role === 'area' ? { role: 'area', areaId: session.actor.areaId ?? '' } : {};
    return newPage(u, req, reply, session, 200, fresh(values));
  });

  app.post(USERS, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const b = formBody(req);
    const res = await attempt(() => createUser(db, userBody(b, true), session.actor, now()));
    if ('issues' in res) return newPage(u, req, reply, session, res.status, refused(uiState(req).lang, redrawValues(b), res.issues, USER_FIELDS));
    return reply.redirect(`${USERS}/${res.ok.id}?done=created`, 303);
  });

  app.get<{ Params: { id: string } }>(`${USERS}/:id`, async (req, reply) => {
    const session = pageSession(req, reply);
    if (!session) return reply;
    return userPage(u, req, reply, session, req.params.id, 200);
  });

  app.post<{ Params: { id: string } }>(`${USERS}/:id`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const b = formBody(req);
    const res = await attempt(() => updateUser(db, req.params.id, userBody(b, false), session.actor, now()));
    if ('issues' in res) return userPage(u, req, reply, session, req.params.id, res.status, { edit: refused(uiState(req).lang, redrawValues(b), res.issues, USER_FIELDS) });
    return reply.redirect(`${USERS}/${res.ok.id}?done=saved`, 303);
  });

  for (const [action, active] of [['deactivate', false], ['reactivate', true]] as const) {
    app.post<{ Params: { id: string } }>(`${USERS}/:id/${action}`, async (req, reply) => {
      const session = actionSession(req, reply);
      if (!session) return reply;
      const res = await attempt(() => setUserActive(db, req.params.id, active, session.actor, now()));
      if ('issues' in res) return userPage(u, req, reply, session, req.params.id, res.status, { actions: res.issues });
      return reply.redirect(`${USERS}/${res.ok.id}?done=${active ? 'reactivated' : 'deactivated'}`, 303);
    });
  }

  app.post<{ Params: { id: string } }>(`${USERS}/:id/logout-everywhere`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    await logoutEverywhere(db, req.params.id, session.actor, now(), ownSession(session, req.params.id));
    return reply.redirect(`${USERS}/${encodeURIComponent(req.params.id)}?done=loggedout`, 303);
  });

  app.post<{ Params: { id: string } }>(`${USERS}/:id/password`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const password = rawField(formBody(req), 'password') ?? '';
    const res = await attempt(() => setPassword(db, req.params.id, { password }, session.actor, now(), ownSession(session, req.params.id)));
    if ('issues' in res) return userPage(u, req, reply, session, req.params.id, res.status, { password: refused(uiState(req).lang, {}, res.issues, ['password']) });
    return reply.redirect(`${USERS}/${encodeURIComponent(req.params.id)}?done=password`, 303);
  });

  app.post<{ Params: { id: string } }>(`${USERS}/:id/login-link`, async (req, reply) => {
    const session = actionSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const target = await requireManageable(db, session.actor, req.params.id);
    const res = await attempt(() => createLoginLink(db, target.id, session.actor, now()));
    if ('issues' in res) return userPage(u, req, reply, session, target.id, res.status, { actions: res.issues });
    // Shown once, in this answer only (no-store, no redirect that could put it in a URL or the history).
    const shown = html`<div class="notice ok" role="status"><p>${d.us.loginLinkIntro}</p></div>
${textField({ name: 'loginLink', id: 'login-link', label: d.us.loginLinkValue, value: loginLinkUrl(u.deps.config.PUBLIC_URL, res.ok.secret), size: 80, readonly: true, autocomplete: 'off' })}
<dl class="facts md-facts"><dt>${d.us.fields['name']}</dt><dd>${target.name}</dd><dt>${d.us.fields['email']}</dt><dd>${target.email}</dd><dt>${d.us.loginLinkExpires}</dt><dd>${timeEl(res.ok.expiresAt, lang)}</dd></dl>
<p><a href="${USERS}/${target.id}">${d.us.backToUser}</a></p>`;
    return send(req, reply, { status: 201, title: d.us.loginLinkTitle(target.name), section: 'users', session, body: shown, flash: undefined });
  });
}
