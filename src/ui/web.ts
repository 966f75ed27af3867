/**
 * What every UI route shares: the request's session and language, the page shell (skip link,
 * navigation, language switch, logout form), HTML replies with strict security headers, and the
 * guards (401 / redirect to login, CSRF, admin only).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../domain/index.js';
import { scrubCpr } from '../domain/index.js';
import { ServiceError, type FieldIssue } from '../records/errors.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import { fieldLabel, issueMessage } from './issues.js';
import { sameToken, type UiSession } from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    ui?: UiState;
  }
}

export interface UiState {
  lang: Lang;
  session: UiSession | undefined;
  /** Where the queue board is served (Redis configured): administrators find it in the menu. */
  queueBoard?: string | undefined;
  /** The single sign-on provider's origin: the logout form's redirect ends its session there. */
  ssoOrigin?: string | undefined;
}

export function uiState(req: FastifyRequest): UiState {
  return req.ui ?? { lang: 'da', session: undefined };
}

/**
 * No inline script or style anywhere: the script and stylesheet come from /ui/. Mail HTML is shown
 * in a sandboxed frame from the same origin (frame-src 'self').
 */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'";

export function sendHtml(reply: FastifyReply, status: number, body: SafeHtml): FastifyReply {
  const sso = reply.request.ui?.ssoOrigin;
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', sso ? CSP.replace("form-action 'self'", `form-action 'self' ${sso}`) : CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    // Pages carry personal data: never store them in a shared or browser cache.
    .header('cache-control', 'no-store')
    .send(body.value);
}

type NavKey = 'overview' | 'escalations' | 'compliance' | 'backlog' | 'mail' | 'masterdata' | 'settings';

/** The current URL with another `lang` (the switch keeps the reader where they are). */
function langSwitchUrl(req: FastifyRequest, lang: Lang): string {
  const u = new URL(req.url, 'http://x');
  u.searchParams.set('lang', lang);
  // After a POST the same URL would not be a page to go back to.
  if (req.method !== 'GET') return `/?lang=${lang}`;
  return `${u.pathname}${u.search}`;
}

export interface PageOptions {
  title: string;
  body: HtmlValue;
  active?: NavKey;
  flash?: { kind: 'ok' | 'error' | 'warn' | 'info'; text: HtmlValue } | undefined;
}

export function page(req: FastifyRequest, o: PageOptions): SafeHtml {
  const { lang, session } = uiState(req);
  const d = t(lang);
  const other: Lang = lang === 'da' ? 'en' : 'da';
  const navItem = (key: NavKey, href: string, label: string) => html`<li><a href="${href}"${o.active === key ? html` aria-current="page"` : ''}>${label}</a></li>`;
  const header = session
    ? html`<header class="top">
  <a class="brand" href="/">${d.appName}</a>
  <nav aria-label="${d.mainNav}"><ul>
    ${navItem('overview', '/', d.navOverview)}
    ${navItem('escalations', '/escalations', d.navEscalations)}
    ${navItem('compliance', '/compliance', d.navCompliance)}
    ${navItem('backlog', '/backlog', d.navBacklog)}
    ${navItem('mail', '/mail', d.navMail)}
    ${session.actor.role === 'admin' || session.actor.role === 'area' ? navItem('masterdata', '/masterdata', d.navMasterdata) : ''}
    ${session.actor.role === 'admin' ? navItem('settings', '/settings', d.navSettings) : ''}
    ${session.actor.role === 'admin' && uiState(req).queueBoard ? html`<li><a href="${uiState(req).queueBoard}" id="nav-queue">${d.navQueue}</a></li>` : ''}
  </ul></nav>
  <div class="user">
    <span>${d.loggedInAs}</span> <a href="/account" id="account-link" title="${d.id.account}">${session.actor.person ? session.actor.person.name : session.actor.name} (${d.roles[session.actor.role] ?? session.actor.role})</a>
    <a href="${langSwitchUrl(req, other)}" lang="${other}" hreflang="${other}" aria-label="${d.switchLangLabel}">${d.switchLang}</a>
    <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${session.csrfToken}"><button type="submit" class="secondary">${d.logout}</button></form>
  </div>
</header>`
    : html`<header class="top"><span class="brand">${d.appName}</span><div class="user"><a href="${langSwitchUrl(req, other)}" lang="${other}" hreflang="${other}" aria-label="${d.switchLangLabel}">${d.switchLang}</a></div></header>`;
  const flash = o.flash ? html`<div class="notice ${o.flash.kind}" role="${o.flash.kind === 'error' ? 'alert' : 'status'}">${o.flash.text}</div>` : '';
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} – ${d.appName}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${d.skip}</a>
${header}
<main id="main" tabindex="-1">
<h1>${o.title}</h1>
${flash}
${o.body}
</main>
</body>
</html>`;
}

export function errorPage(req: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  const d = t(uiState(req).lang);
  const title = status === 403 ? d.forbidden : status === 404 ? d.notFound : status === 401 ? d.unauthenticated : d.errorTitle;
  const body = html`<div class="notice error" role="alert"><p>${scrubCpr(message)}</p></div>
<p>${uiState(req).session ? html`<a href="/">${d.backToOverview}</a>` : html`<a href="/login">${d.loginTitle}</a>`}</p>`;
  return sendHtml(reply, status, page(req, { title: `${status} ${title}`, body }));
}

/** Pages: without a session, go to the login form (and come back afterwards). */
export function requirePage(req: FastifyRequest, reply: FastifyReply): UiSession | undefined {
  const s = uiState(req).session;
  if (s) return s;
  const next = req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
  void reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
  return undefined;
}

/** Actions, fragments and exports: 401 without a session (a redirect would hide the failure). */
export function requireSession(req: FastifyRequest, reply: FastifyReply): UiSession | undefined {
  const s = uiState(req).session;
  if (s) return s;
  errorPage(req, reply, 401, t(uiState(req).lang).unauthenticated);
  return undefined;
}

export type FormBody = Record<string, string | string[] | undefined>;

export function formBody(req: FastifyRequest): FormBody {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as FormBody) : {};
}

/** A single form value (the first, when a name repeats); trimmed; undefined when absent or empty. */
export function field(body: FormBody, name: string): string | undefined {
  const v = body[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (typeof s !== 'string') return undefined;
  const trimmed = s.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

export function fieldAll(body: FormBody, name: string): string[] {
  const v = body[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((s): s is string => typeof s === 'string');
}

/** Every POST carries the session's CSRF token; a missing or wrong one is refused with 403 before anything runs. */
export function requireCsrf(req: FastifyRequest, reply: FastifyReply, session: UiSession): boolean {
  const sent = field(formBody(req), '_csrf');
  if (sameToken(sent, session.csrfToken)) return true;
  errorPage(req, reply, 403, t(uiState(req).lang).csrfRefused);
  return false;
}

export function requireAdmin(req: FastifyRequest, reply: FastifyReply, session: UiSession): boolean {
  if (session.actor.role === 'admin') return true;
  errorPage(req, reply, 403, t(uiState(req).lang).forbidden);
  return false;
}

export function csrfField(session: UiSession): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${session.csrfToken}">`;
}

/** A message after "Field: ": its first letter in lower case, unless it starts an abbreviation (CPR). */
function inSentence(message: string): string {
  return /^\p{Lu}\p{Lu}/u.test(message) ? message : `${message.charAt(0).toLowerCase()}${message.slice(1)}`;
}

/**
 * Field errors as a list at the top of a form, each naming its field in the reader's language and
 * saying what is wrong in it too (issues.ts: the services' English becomes Danish on a Danish page):
 * "Kommentar: skal udfyldes." (the field's label, never its API path). `href` links an entry to its
 * field on the page.
 */
export function errorSummary(lang: Lang, issues: FieldIssue[], label: (path: string) => string = (p) => fieldLabel(lang, p), href?: (path: string) => string | undefined): SafeHtml {
  if (issues.length === 0) return html``;
  const item = (i: FieldIssue): SafeHtml => {
    const message = scrubCpr(issueMessage(lang, i.message, label));
    if (!i.path) return html`<li>${message}</li>`;
    const name = scrubCpr(label(i.path));
    const target = href?.(i.path);
    return html`<li>${target ? html`<a href="${target}">${name}</a>` : name}: ${inSentence(message)}</li>`;
  };
  return html`<div class="notice error" role="alert" tabindex="-1" id="errors"><p>${t(lang).fixErrors}</p><ul>${issues.map(item)}</ul></div>`;
}

export function issuesOf(err: unknown): FieldIssue[] | undefined {
  if (err instanceof ServiceError && err.code === 'VALIDATION') return err.issues.length > 0 ? err.issues : [{ path: '', message: err.message }];
  return undefined;
}

export function queryOf(req: FastifyRequest): Record<string, string> {
  const q = req.query as Record<string, unknown> | undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q ?? {})) {
    const s = Array.isArray(v) ? v[0] : v;
    if (typeof s === 'string' && s.trim() !== '') out[k] = s.trim();
  }
  return out;
}
