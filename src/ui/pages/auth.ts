/** Login (token → session cookie) and logout. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.js';
import { parseLang, t } from '../i18n.js';
import type { UiContext } from '../index.js';
import { clearSessionCookie, cookieOptions, LOGIN_CSRF_COOKIE, login, logout, randomToken, sameToken, SESSION_COOKIE, SESSION_TTL_MS } from '../session.js';
import { errorPage, field, formBody, page, queryOf, requireCsrf, requireSession, sendHtml, uiState } from '../web.js';

/**
 * Only local paths: `next` must never send anyone to another site. Browsers drop tabs and line
 * breaks from a URL and read a backslash as a slash, so `/<tab>/evil.example` is `//evil.example`
 * to them; such characters are refused outright. What is left is resolved the way a browser would,
 * and only a path on this host survives, as path and query.
 */
function safeNext(v: string | undefined): string {
  if (!v || !v.startsWith('/') || [...v].some((c) => c <= '\u001f' || c === '\u007f' || c === '\\')) return '/';
  let url: URL;
  try {
    url = new URL(v, 'http://h');
  } catch {
    return '/';
  }
  // Dot segments can resolve to a leading `//` (`/.//evil.example`), a protocol-relative URL.
  if (url.origin !== 'http://h' || url.pathname.startsWith('//') || url.pathname.startsWith('/login')) return '/';
  return `${url.pathname}${url.search}`;
}

function loginForm(req: FastifyRequest, reply: FastifyReply, publicUrl: string | undefined, status: number, next: string, message?: { kind: 'ok' | 'error' | 'info'; text: string }): FastifyReply {
  const { lang } = uiState(req);
  const d = t(lang);
  // A fresh double-submit token per form: the login form has no session to hold one yet.
  const csrf = randomToken();
  void reply.setCookie(LOGIN_CSRF_COOKIE, csrf, cookieOptions(req, publicUrl, 3600));
  const invalid = message?.kind === 'error';
  const body = html`<p>${d.loginIntro}</p>
<form method="post" action="/login" class="login" novalidate>
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  <input type="hidden" name="lang" value="${lang}">
  <div class="field">
    <label for="token">${d.tokenLabel}</label>
    <input type="password" id="token" name="token" autocomplete="off" required size="50"${invalid ? html` aria-invalid="true" aria-describedby="login-error"` : ''}>
  </div>
  <p><button type="submit">${d.loginButton}</button></p>
</form>`;
  const flash = message ? { kind: message.kind, text: invalid ? html`<span id="login-error">${message.text}</span>` : html`${message.text}` } : undefined;
  return sendHtml(reply, status, page(req, { title: d.loginTitle, body, flash }));
}

export function registerAuth(app: FastifyInstance, { deps }: UiContext): void {
  const db = deps.database.db;
  const publicUrl = deps.config.PUBLIC_URL;

  app.get('/login', async (req, reply) => {
    const q = queryOf(req);
    const next = safeNext(q['next']);
    if (uiState(req).session) return reply.redirect(next, 303);
    const d = t(uiState(req).lang);
    const message = q['out'] ? { kind: 'ok' as const, text: d.loggedOut } : q['next'] && q['next'] !== '/' ? { kind: 'info' as const, text: d.unauthenticated } : undefined;
    return loginForm(req, reply, publicUrl, 200, next, message);
  });

  app.post('/login', async (req, reply) => {
    const body = formBody(req);
    const lang = parseLang(field(body, 'lang')) ?? uiState(req).lang;
    req.ui = { lang, session: uiState(req).session };
    const d = t(lang);
    if (!sameToken(field(body, '_csrf'), req.cookies[LOGIN_CSRF_COOKIE])) return errorPage(req, reply, 403, d.csrfRefused);
    const next = safeNext(field(body, 'next'));
    const token = field(body, 'token');
    if (!token) return loginForm(req, reply, publicUrl, 400, next, { kind: 'error', text: d.loginTokenMissing });
    const res = await login(db, token, deps.config.FRISTVAGT_ADMIN_TOKEN, lang, deps.clock());
    if (!res) return loginForm(req, reply, publicUrl, 401, next, { kind: 'error', text: d.loginFailed });
    // One browser, one session: a session this browser already had ends with the new login.
    const previous = uiState(req).session;
    if (previous) await logout(db, previous.id, deps.clock());
    void reply.setCookie(SESSION_COOKIE, res.cookie, cookieOptions(req, publicUrl, Math.floor(SESSION_TTL_MS / 1000)));
    void reply.clearCookie(LOGIN_CSRF_COOKIE, cookieOptions(req, publicUrl));
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    await logout(db, session.id, deps.clock());
    clearSessionCookie(req, reply, publicUrl);
    return reply.redirect(`/login?out=1&lang=${uiState(req).lang}`, 303);
  });
}
