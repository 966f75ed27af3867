/**
 * The ways in and out (issue 14): e-mail and password, single sign-on (sso.ts), one-time login
 * links, the first-run set-up, and a machine token (FRISTVAGT_ADMIN_TOKEN or an API token) for
 * set-up and emergency access; logout, and "Min konto" with the password and "log out everywhere".
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { completeSetup, passwordLogin, setupLinkValid, useLoginLink } from '../../identity/login.js';
import { ServiceError, type FieldIssue } from '../../records/errors.js';
import { countUsers, hasSsoIdentity, logoutEverywhere, setPassword, type UserRow } from '../../records/users.js';
import type { Actor } from '../../records/service.js';
import { areas, institutions } from '../../db/schema.js';
import { eq } from 'drizzle-orm';
import { html, type SafeHtml } from '../html.js';
import { parseLang, t, type Dict, type Lang } from '../i18n.js';
import type { UiContext } from '../index.js';
import { clearSessionCookie, cookieOptions, limitsOf, LOGIN_CSRF_COOKIE, login, logout, randomToken, sameToken, SESSION_COOKIE, startSession, type SessionLimits, type SessionVia } from '../session.js';
import { csrfField, errorPage, errorSummary, field, formBody, type FormBody, page, queryOf, requireCsrf, requirePage, requireSession, sendHtml, uiState } from '../web.js';
import { registerSso, ssoEnabled, ssoLabel, ssoLogoutUrl } from './sso.js';

/**
 * Only local paths: `next` must never send anyone to another site. Browsers drop tabs and line
 * breaks from a URL and read a backslash as a slash, so `/<tab>/evil.example` is `//evil.example`
 * to them; such characters are refused outright. What is left is resolved the way a browser would,
 * and only a path on this host survives, as path and query.
 */
export function safeNext(v: string | undefined): string {
  if (!v || !v.startsWith('/') || [...v].some((c) => c <= '\u001f' || c === '\u007f' || c === '\\')) return '/';
  let url: URL;
  try {
    url = new URL(v, 'http://h');
  } catch {
    return '/';
  }
  // Dot segments can resolve to a leading `//` (`/.//evil.example`), a protocol-relative URL.
  if (url.origin !== 'http://h' || url.pathname.startsWith('//') || url.pathname.startsWith('/login') || url.pathname.startsWith('/setup')) return '/';
  return `${url.pathname}${url.search}`;
}

type Message = { kind: 'ok' | 'error' | 'info'; text: string };

/** A fresh double-submit token for a form without a session yet (login, set-up, link). */
function preSessionCsrf(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined): string {
  const csrf = randomToken();
  void reply.setCookie(LOGIN_CSRF_COOKIE, csrf, cookieOptions(req, publicUrl, 3600));
  return csrf;
}

interface LoginFormOptions {
  status: number;
  next: string;
  message?: Message | undefined;
  /** Which form the message belongs to (its fields are marked invalid). */
  invalid?: 'password' | 'token' | undefined;
  email?: string | undefined;
  noUsers?: boolean;
  sso: { label: string } | undefined;
}

function loginForm(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined, o: LoginFormOptions): FastifyReply {
  const { lang } = uiState(req);
  const d = t(lang);
  const csrf = preSessionCsrf(req, reply, publicUrl);
  const bad = (which: 'password' | 'token'): SafeHtml => (o.invalid === which ? html` aria-invalid="true" aria-describedby="login-error"` : html``);
  const hidden = html`<input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="next" value="${o.next}">
  <input type="hidden" name="lang" value="${lang}">`;
  const sso = o.sso
    ? html`<p><a class="button" id="sso-login" href="/login/sso?next=${encodeURIComponent(o.next)}&amp;lang=${lang}">${d.id.sso(o.sso.label)}</a></p>
<p class="small">${d.id.or}</p>`
    : '';
  const body = html`${sso}<p>${d.id.intro}</p>
<form method="post" action="/login" class="login" id="password-login" novalidate>
  ${hidden}
  <div class="field">
    <label for="email">${d.id.email}</label>
    <input type="email" id="email" name="email" autocomplete="username" required size="40" value="${o.email ?? ''}"${bad('password')}>
  </div>
  <div class="field">
    <label for="password">${d.id.password}</label>
    <input type="password" id="password" name="password" autocomplete="current-password" required size="40"${bad('password')}>
  </div>
  <p><button type="submit">${d.loginButton}</button></p>
</form>
${o.noUsers ? html`<div class="notice info" role="status"><p>${d.id.noUsers}</p></div>` : ''}
<details class="token-login"${o.invalid === 'token' ? html` open` : ''}>
  <summary>${d.id.tokenDetails}</summary>
  <p class="small">${d.id.tokenIntro}</p>
  <form method="post" action="/login" class="login" id="token-login" novalidate>
    ${hidden}
    <div class="field">
      <label for="token">${d.tokenLabel}</label>
      <input type="password" id="token" name="token" autocomplete="off" required size="50"${bad('token')}>
    </div>
    <p><button type="submit">${d.tokenLoginButton}</button></p>
  </form>
</details>`;
  const flash = o.message ? { kind: o.message.kind, text: o.message.kind === 'error' ? html`<span id="login-error">${o.message.text}</span>` : html`${o.message.text}` } : undefined;
  return sendHtml(reply, o.status, page(req, { title: d.loginTitle, body, flash }));
}

/** Starts the browser's session: a session this browser already had ends with the new login. */
export async function beginSession(u: UiContext, req: FastifyRequest, reply: FastifyReply, principal: { userId: string } | { cookie: string }, via: SessionVia, lang: Lang, limits: SessionLimits, idToken?: string): Promise<void> {
  const db = u.deps.database.db;
  const now = u.deps.clock();
  const previous = uiState(req).session;
  if (previous) await logout(db, previous.id, now);
  const cookie = 'cookie' in principal ? principal.cookie : (await startSession(db, principal, via, lang, now, limits, idToken)).cookie;
  void reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(req, u.deps.config.PUBLIC_URL, Math.floor(limits.maxMs / 1000)));
  void reply.clearCookie(LOGIN_CSRF_COOKIE, cookieOptions(req, u.deps.config.PUBLIC_URL));
}

/**
 * A form posted without a session yet (login, set-up, link): its language, and its double-submit
 * CSRF token checked (403 page and undefined when wrong).
 */
function preSessionPost(req: FastifyRequest, reply: FastifyReply): { body: FormBody; lang: Lang } | undefined {
  const body = formBody(req);
  const lang = parseLang(field(body, 'lang')) ?? uiState(req).lang;
  req.ui = { ...uiState(req), lang };
  if (sameToken(field(body, '_csrf'), req.cookies[LOGIN_CSRF_COOKIE])) return { body, lang };
  errorPage(req, reply, 403, t(lang).csrfRefused);
  return undefined;
}

function setupForm(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined, secret: string, status: number, issues: FieldIssue[], values: Record<string, string>): FastifyReply {
  const { lang } = uiState(req);
  const d = t(lang);
  const csrf = preSessionCsrf(req, reply, publicUrl);
  const labels: Record<string, string> = { name: d.id.name, title: d.id.title, email: d.id.email, password: d.id.password, passwordRepeat: d.id.passwordRepeat };
  const bad = (name: string): SafeHtml => (issues.some((i) => i.path === name) ? html` aria-invalid="true" aria-describedby="errors"` : html``);
  const input = (name: string, type: string, autocomplete: string, required: boolean, hint?: string): SafeHtml => html`<div class="field">
    <label for="setup-${name}">${labels[name] ?? name}</label>${hint ? html`<span class="hint" id="setup-${name}-hint">${hint}</span>` : ''}
    <input type="${type}" id="setup-${name}" name="${name}" autocomplete="${autocomplete}"${required ? html` required` : ''} size="40"${type === 'password' ? '' : html` value="${values[name] ?? ''}"`}${bad(name)}>
  </div>`;
  const body = html`<p>${d.id.setupIntro}</p>
${errorSummary(lang, issues, (p) => labels[p] ?? p)}
<form method="post" action="/setup" class="login" id="setup-form" novalidate>
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="k" value="${secret}">
  <input type="hidden" name="lang" value="${lang}">
  ${input('name', 'text', 'name', true)}
  ${input('title', 'text', 'organization-title', false)}
  ${input('email', 'email', 'username', true)}
  ${input('password', 'password', 'new-password', true, d.id.passwordHint)}
  ${input('passwordRepeat', 'password', 'new-password', true)}
  <p><button type="submit">${d.id.setupButton}</button></p>
</form>`;
  return sendHtml(reply, status, page(req, { title: d.id.setupTitle, body }));
}

/** The issues of a new password and its repetition, before anything is hashed. */
function passwordIssues(password: string | undefined, repeat: string | undefined): FieldIssue[] {
  if (!password) return [{ path: 'password', message: 'is required' }];
  if (password !== repeat) return [{ path: 'passwordRepeat', message: 'does not match the password' }];
  return [];
}

/** The scope in words: the area's or institution's name, not its id. */
async function scopeText(u: UiContext, a: Actor, d: Dict): Promise<string> {
  const db = u.deps.database.db;
  if (a.role === 'area' && a.areaId) {
    const [r] = await db.select({ name: areas.name }).from(areas).where(eq(areas.id, a.areaId));
    return `${d.area}: ${r?.name ?? a.areaId}`;
  }
  if (a.role === 'institution' && a.institutionId) {
    const [r] = await db.select({ name: institutions.name }).from(institutions).where(eq(institutions.id, a.institutionId));
    return `${d.institution}: ${r?.name ?? a.institutionId}`;
  }
  return d.id.allScope;
}

async function accountPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, status: number, o: { message?: Message; issues?: FieldIssue[] } = {}): Promise<FastifyReply> {
  const session = uiState(req).session;
  if (!session) return reply;
  const { lang } = uiState(req);
  const d = t(lang);
  const a = session.actor;
  const scope = await scopeText(u, a, d);
  // A person of the directory logs in there: a local password beside it would outlive the directory account.
  const directory = a.kind === 'user' && (await hasSsoIdentity(u.deps.database.db, a.id));
  const labels: Record<string, string> = { password: d.id.newPassword, passwordRepeat: d.id.passwordRepeat };
  const issues = o.issues ?? [];
  const bad = (name: string): SafeHtml => (issues.some((i) => i.path === name) ? html` aria-invalid="true" aria-describedby="errors"` : html``);
  const person = a.kind === 'user' && a.person;
  const body = person
    ? html`<dl class="facts" id="account-facts">
  <dt>${d.id.name}</dt><dd>${person.name}</dd>
  <dt>${d.id.title.replace(/ \(.*\)$/, '')}</dt><dd>${person.title ?? d.id.none}</dd>
  <dt>${d.id.email}</dt><dd>${person.email}</dd>
  <dt>${d.id.role}</dt><dd>${d.roles[a.role] ?? a.role}</dd>
  <dt>${d.id.scope}</dt><dd>${scope}</dd>
  <dt>${d.id.via}</dt><dd>${d.id.vias[session.via] ?? session.via}</dd>
</dl>
${directory ? html`<p id="directory-account">${d.id.directoryAccount}</p>` : html`<h2 id="h-password">${d.id.changePassword}</h2>
${errorSummary(lang, issues, (p) => labels[p] ?? p)}
<form method="post" action="/account/password" class="md-form" id="password-form" novalidate aria-labelledby="h-password">${csrfField(session)}
  <input type="text" name="username" autocomplete="username" value="${person.email}" hidden>
  <div class="field"><label for="new-password">${d.id.newPassword}</label><span class="hint">${d.id.passwordHint}</span><input type="password" id="new-password" name="password" autocomplete="new-password" required size="40"${bad('password')}></div>
  <div class="field"><label for="new-password-repeat">${d.id.passwordRepeat}</label><input type="password" id="new-password-repeat" name="passwordRepeat" autocomplete="new-password" required size="40"${bad('passwordRepeat')}></div>
  <p><button type="submit">${d.id.savePassword}</button></p>
</form>`}
<h2>${d.id.logoutEverywhere}</h2>
<form method="post" action="/account/logout-everywhere" id="logout-everywhere">${csrfField(session)}<button type="submit" class="secondary">${d.id.logoutEverywhere}</button></form>`
    : html`<p>${d.id.machine}</p><dl class="facts"><dt>${d.tokenLabel}</dt><dd>${a.name}</dd><dt>${d.id.role}</dt><dd>${d.roles[a.role] ?? a.role}</dd><dt>${d.id.scope}</dt><dd>${scope}</dd></dl>`;
  const flash = o.message ? { kind: o.message.kind, text: html`${o.message.text}` } : undefined;
  return sendHtml(reply, status, page(req, { title: d.id.account, body, flash }));
}

export function registerAuth(app: FastifyInstance, u: UiContext): void {
  const { deps } = u;
  const db = deps.database.db;
  const publicUrl = deps.config.PUBLIC_URL;
  const limits = limitsOf(deps.config);
  const sso = ssoEnabled(deps.config) ? { label: ssoLabel(deps.config, 'da') } : undefined;
  const ssoFor = (lang: Lang) => (sso ? { label: ssoLabel(deps.config, lang) } : undefined);

  app.get('/login', async (req, reply) => {
    const q = queryOf(req);
    const next = safeNext(q['next']);
    if (uiState(req).session) return reply.redirect(next, 303);
    const { lang } = uiState(req);
    const d = t(lang);
    const message = q['out'] ? { kind: 'ok' as const, text: d.loggedOut } : q['next'] && q['next'] !== '/' ? { kind: 'info' as const, text: d.unauthenticated } : undefined;
    const noUsers = !sso && (await countUsers(db)) === 0;
    return loginForm(req, reply, publicUrl, { status: 200, next, message, noUsers, sso: ssoFor(lang) });
  });

  app.post('/login', async (req, reply) => {
    const posted = preSessionPost(req, reply);
    if (!posted) return reply;
    const { body, lang } = posted;
    const d = t(lang);
    const next = safeNext(field(body, 'next'));
    const form = (status: number, message: Message, invalid: 'password' | 'token', email?: string) => loginForm(req, reply, publicUrl, { status, next, message, invalid, email, sso: ssoFor(lang) });
    // The machine-token form (set-up and emergency access).
    if ('token' in body) {
      const token = field(body, 'token');
      if (!token) return form(400, { kind: 'error', text: d.loginTokenMissing }, 'token');
      const res = await login(db, token, deps.config.FRISTVAGT_ADMIN_TOKEN, lang, deps.clock(), limits);
      if (!res) return form(401, { kind: 'error', text: d.loginFailed }, 'token');
      await beginSession(u, req, reply, { cookie: res.cookie }, 'token', lang, limits);
      return reply.redirect(next, 303);
    }
    const email = field(body, 'email');
    const password = typeof body['password'] === 'string' ? body['password'] : undefined;
    if (!email) return form(400, { kind: 'error', text: d.id.required(d.id.email) }, 'password');
    if (!password) return form(400, { kind: 'error', text: d.id.required(d.id.password) }, 'password', email);
    const res = await passwordLogin(db, email, password, req.ip, deps.clock());
    if (!res.ok) {
      if (res.reason === 'locked') {
        void reply.header('retry-after', String(res.retryAfterS ?? 60));
        return form(429, { kind: 'error', text: d.id.locked(Math.ceil((res.retryAfterS ?? 60) / 60)) }, 'password', email);
      }
      return form(401, { kind: 'error', text: d.id.failed }, 'password', email);
    }
    await beginSession(u, req, reply, { userId: res.user.id }, 'password', lang, limits);
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    await logout(db, session.id, deps.clock());
    clearSessionCookie(req, reply, publicUrl);
    const lang = uiState(req).lang;
    // A single sign-on session also ends at the provider (its end-session endpoint, when it has one).
    const provider = session.via === 'sso' ? await ssoLogoutUrl(u, session.idToken, lang) : undefined;
    return reply.redirect(provider ?? `/login?out=1&lang=${lang}`, 303);
  });

  // --- first-run set-up: the link `fristvagt start` prints while there is no user ---------------
  app.get('/setup', async (req, reply) => {
    const secret = queryOf(req)['k'] ?? '';
    const d = t(uiState(req).lang);
    if (!(await setupLinkValid(db, secret, deps.clock()))) return errorPage(req, reply, 404, d.id.setupGone);
    return setupForm(req, reply, publicUrl, secret, 200, [], {});
  });

  app.post('/setup', async (req, reply) => {
    const posted = preSessionPost(req, reply);
    if (!posted) return reply;
    const { body, lang } = posted;
    const d = t(lang);
    const secret = field(body, 'k') ?? '';
    const values: Record<string, string> = {};
    for (const k of ['name', 'title', 'email']) {
      const v = field(body, k);
      if (v) values[k] = v;
    }
    const password = typeof body['password'] === 'string' ? body['password'] : undefined;
    const repeat = typeof body['passwordRepeat'] === 'string' ? body['passwordRepeat'] : undefined;
    const early = passwordIssues(password, repeat);
    let user: UserRow;
    try {
      if (early.length > 0 && early[0]?.path === 'passwordRepeat') return setupForm(req, reply, publicUrl, secret, 400, early, values);
      user = await completeSetup(db, secret, { name: values['name'] ?? '', title: values['title'] ?? null, email: values['email'] ?? '', password: password ?? '' }, deps.clock());
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'VALIDATION') return setupForm(req, reply, publicUrl, secret, 400, err.issues, values);
      if (err instanceof ServiceError && err.code === 'NOT_FOUND') return errorPage(req, reply, 404, d.id.setupGone);
      throw err;
    }
    await beginSession(u, req, reply, { userId: user.id }, 'setup', lang, limits);
    return reply.redirect('/', 303);
  });

  // --- one-time login links: a GET shows a button, the POST uses the link (mail scanners open GETs) ---
  app.get('/login/link', async (req, reply) => {
    const { lang } = uiState(req);
    const d = t(lang);
    const secret = queryOf(req)['k'] ?? '';
    const csrf = preSessionCsrf(req, reply, publicUrl);
    const body = html`<p>${d.id.linkIntro}</p>
<form method="post" action="/login/link" class="login" id="link-login">
  <input type="hidden" name="_csrf" value="${csrf}"><input type="hidden" name="k" value="${secret}"><input type="hidden" name="lang" value="${lang}">
  <p><button type="submit">${d.id.linkButton}</button></p>
</form>`;
    return sendHtml(reply, 200, page(req, { title: d.id.linkTitle, body }));
  });

  app.post('/login/link', async (req, reply) => {
    const posted = preSessionPost(req, reply);
    if (!posted) return reply;
    const { body, lang } = posted;
    const d = t(lang);
    const user = await useLoginLink(db, field(body, 'k') ?? '', deps.clock());
    if (!user) return errorPage(req, reply, 404, d.id.linkGone);
    await beginSession(u, req, reply, { userId: user.id }, 'link', lang, limits);
    return reply.redirect('/account', 303);
  });

  // --- Min konto -------------------------------------------------------------------------------
  app.get('/account', async (req, reply) => {
    if (!requirePage(req, reply)) return reply;
    return accountPage(u, req, reply, 200);
  });

  app.post('/account/password', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    if (session.actor.kind !== 'user' || (await hasSsoIdentity(db, session.actor.id))) return errorPage(req, reply, 403, t(lang).forbidden);
    const body = formBody(req);
    const password = typeof body['password'] === 'string' ? body['password'] : undefined;
    const repeat = typeof body['passwordRepeat'] === 'string' ? body['passwordRepeat'] : undefined;
    const early = passwordIssues(password, repeat);
    if (early.length > 0) return accountPage(u, req, reply, 400, { issues: early });
    try {
      await setPassword(db, session.actor.id, { password }, session.actor, deps.clock(), session.id);
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'VALIDATION') return accountPage(u, req, reply, 400, { issues: err.issues });
      throw err;
    }
    return accountPage(u, req, reply, 200, { message: { kind: 'ok', text: t(lang).id.passwordChanged } });
  });

  app.post('/account/logout-everywhere', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    if (session.actor.kind !== 'user') return errorPage(req, reply, 403, t(lang).forbidden);
    const n = await logoutEverywhere(db, session.actor.id, session.actor, deps.clock(), session.id);
    return accountPage(u, req, reply, 200, { message: { kind: 'ok', text: t(lang).id.loggedOutEverywhere(n) } });
  });

  registerSso(app, u, limits);
}
