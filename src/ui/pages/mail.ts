/**
 * The mail log (/mail): every notification in the outbox with its status, searchable by journal
 * number, rule and recipient, and the messages the built-in mail catcher stored. Scoped like the
 * records: area and institution roles see the mail of their own records only.
 */
import { and, desc, eq, ilike, inArray, sql, type SQL } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RULES, scrubCpr, type Lang } from '../../domain/index.js';
import type { Executor } from '../../db/client.js';
import { caughtMail, institutions, notifications } from '../../db/schema.js';
import type { RecordTypeName } from '../../records/kinds.js';
import { canRead, mayseeCpr, type Actor } from '../../records/service.js';
import { mailView } from '../components.js';
import { caughtFor, mailOf, notificationById, stageTitles, type CaughtRow, type NotificationRow } from '../data/mails.js';
import { recordHref, recordInfo, recordScopeCondition } from '../data/records.js';
import { notificationBadge, timeEl } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { errorPage, page, queryOf, requirePage, sendHtml, uiState } from '../web.js';

const PAGE = 100;
const STATUSES = ['scheduled', 'sending', 'sent', 'failed', 'cancelled', 'superseded'] as const;

interface MailFilter {
  journal?: string | undefined;
  rule?: string | undefined;
  recipient?: string | undefined;
  status?: string | undefined;
  offset: number;
}

function like(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

async function mayReadRecord(db: Executor, actor: Actor, type: RecordTypeName, id: string): Promise<boolean> {
  if (actor.role === 'admin' || actor.role === 'reader') return true;
  const info = (await recordInfo(db, [{ recordType: type, recordId: id }])).get(id);
  if (!info) return false;
  const [inst] = await db.select({ areaId: institutions.areaId }).from(institutions).where(eq(institutions.id, info.institutionId));
  return !!inst && canRead(actor, { institutionId: info.institutionId, areaId: inst.areaId });
}

function ruleLabel(rule: string, lang: Lang): string {
  if (rule === 'alert') return lang === 'da' ? 'Straks-varsler' : 'Immediate alerts';
  if (rule === 'notice') return lang === 'da' ? 'Foreløbig underretning (§ 6, stk. 3)' : 'Preliminary notice (§ 6(3))';
  if (rule === 'failure') return lang === 'da' ? 'Fejlrapporter' : 'Failure reports';
  return RULES.find((r) => r.id === rule)?.title[lang] ?? rule;
}

async function listNotifications(db: Executor, actor: Actor, f: MailFilter, now: Date): Promise<{ rows: NotificationRow[]; total: number }> {
  const where: SQL[] = [];
  const scope = await recordScopeCondition(db, actor, notifications.recordId, f.journal);
  if (scope) where.push(scope);
  if (f.rule) where.push(sql`split_part(split_part(${notifications.stage}, ':', 1), '#', 1) = ${f.rule}`);
  if (f.recipient) where.push(ilike(notifications.recipient, like(f.recipient)));
  if (f.status && (STATUSES as readonly string[]).includes(f.status)) where.push(sql`${notifications.status}::text = ${f.status}`);
  const cond = where.length > 0 ? and(...where) : undefined;
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(notifications).where(cond);
  // A log: what happened, newest first; then what is still to come, soonest first.
  const at = sql`coalesce(${notifications.sentAt}, ${notifications.plannedAt})`;
  const nowSql = sql`${now.toISOString()}::timestamptz`;
  const rows = await db
    .select()
    .from(notifications)
    .where(cond)
    .orderBy(sql`(${at} > ${nowSql})`, sql`CASE WHEN ${at} <= ${nowSql} THEN ${at} END DESC`, sql`${at} ASC`, desc(notifications.id))
    .limit(PAGE)
    .offset(f.offset);
  return { rows, total: count?.n ?? 0 };
}

async function listCaught(db: Executor, actor: Actor): Promise<CaughtRow[]> {
  const scope = await recordScopeCondition(db, actor, notifications.recordId);
  const q = db.select().from(caughtMail);
  if (!scope) return q.orderBy(desc(caughtMail.createdAt)).limit(50);
  const ids = (await db.select({ id: notifications.id }).from(notifications).where(scope)).map((r) => r.id);
  if (ids.length === 0) return [];
  return q.where(inArray(caughtMail.notificationId, ids)).orderBy(desc(caughtMail.createdAt)).limit(50);
}

function filterForm(f: MailFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const rules = [...RULES.filter((r) => r.timing === 'deadline').map((r) => r.id), 'alert', 'notice', 'failure'];
  return html`<form method="get" action="/mail" class="no-print" role="search"><fieldset><legend>${d.search}</legend><div class="fields">
<div class="field"><label for="m-journal">${d.journalSearch}</label><input type="search" id="m-journal" name="journal" value="${f.journal ?? ''}"></div>
<div class="field"><label for="m-rule">${d.rule}</label><select id="m-rule" name="rule">${opt('', d.all, f.rule)}${rules.map((r) => opt(r, ruleLabel(r, lang), f.rule))}</select></div>
<div class="field"><label for="m-recipient">${d.recipientSearch}</label><input type="search" id="m-recipient" name="recipient" value="${f.recipient ?? ''}"></div>
<div class="field"><label for="m-status">${d.status}</label><select id="m-status" name="status">${opt('', d.all, f.status)}${STATUSES.map((s) => opt(s, d.notifStatus[s] ?? s, f.status))}</select></div>
<div class="field"><button type="submit">${d.search}</button></div>
</div></fieldset></form>`;
}

function frameReply(reply: FastifyReply, body: string): FastifyReply {
  // A mail's own HTML, shown in a sandboxed frame: no script, nothing fetched, styles inline only.
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'")
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(body);
}

async function loadNotificationFor(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string): Promise<NotificationRow | undefined> {
  const db = u.deps.database.db;
  const d = t(uiState(req).lang);
  const n = await notificationById(db, id);
  if (!n) {
    errorPage(req, reply, 404, d.notFound);
    return undefined;
  }
  if (!(await mayReadRecord(db, session.actor, n.recordType, n.recordId))) {
    errorPage(req, reply, 403, d.forbidden);
    return undefined;
  }
  return n;
}

async function loadCaughtFor(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, id: string): Promise<CaughtRow | undefined> {
  const db = u.deps.database.db;
  const d = t(uiState(req).lang);
  const [row] = /^[0-9a-f-]{36}$/i.test(id) ? await db.select().from(caughtMail).where(eq(caughtMail.id, id)) : [];
  if (!row) {
    errorPage(req, reply, 404, d.notFound);
    return undefined;
  }
  let allowed = session.actor.role === 'admin' || session.actor.role === 'reader';
  if (!allowed && row.notificationId) {
    const n = await notificationById(db, row.notificationId);
    allowed = !!n && (await mayReadRecord(db, session.actor, n.recordType, n.recordId));
  }
  if (!allowed) {
    errorPage(req, reply, 403, d.forbidden);
    return undefined;
  }
  return row;
}

export function registerMail(app: FastifyInstance, u: UiContext): void {
  const db = u.deps.database.db;

  app.get('/mail', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const q = queryOf(req);
    const offset = Math.max(0, Math.min(1_000_000, Number.parseInt(q['offset'] ?? '0', 10) || 0));
    const f: MailFilter = { journal: q['journal']?.slice(0, 100), rule: q['rule']?.slice(0, 80), recipient: q['recipient']?.slice(0, 320), status: q['status'], offset };
    const { rows, total } = await listNotifications(db, session.actor, f, u.deps.clock());
    const info = await recordInfo(db, rows.map((r) => ({ recordType: r.recordType, recordId: r.recordId })));
    const showCpr = mayseeCpr(session.actor);
    const caught = await listCaught(db, session.actor);
    const stageOf = await stageTitles(db, lang);
    const pageLink = (o: number) => `/mail${qs({ journal: f.journal, rule: f.rule, recipient: f.recipient, status: f.status, offset: o > 0 ? o : undefined })}`;
    const body = html`<p>${d.mailIntro}</p>
${filterForm(f, lang)}
<h2 id="outbox">${d.notifications}</h2>
${rows.length === 0 ? html`<p>${d.noNotifications}</p>` : html`<div class="table-wrap"><table id="notifications" class="stack-narrow">
<caption>${d.notifications}: ${d.showing(rows.length, total)}</caption>
<thead><tr><th scope="col">${d.planned}</th><th scope="col">${d.sent}</th><th scope="col">${d.status}</th><th scope="col">${d.stage}</th><th scope="col">${d.recipient}</th><th scope="col">${d.record}</th><th scope="col">${d.lastError}</th><th scope="col"><span class="visually-hidden">${d.view}</span></th></tr></thead>
<tbody>${rows.map((n) => {
      const r = info.get(n.recordId);
      return html`<tr><td>${timeEl(n.plannedAt, lang)}</td><td>${timeEl(n.sentAt, lang)}</td><td>${notificationBadge(n.status, lang)}</td><td>${stageOf(n.stage)}</td><td>${n.recipient}</td>
<td>${r ? html`<a href="${recordHref(n.recordType, n.recordId)}">${r.journalNumber}</a>` : '—'}</td><td class="small">${n.lastError ? (showCpr ? n.lastError : scrubCpr(n.lastError)) : ''}</td>
<td><a href="/mail/notifications/${n.id}">${d.view}<span class="visually-hidden"> ${stageOf(n.stage)}</span></a></td></tr>`;
    })}</tbody></table></div>`}
<nav aria-label="${d.pagination}" class="pagination">${offset > 0 ? html`<a href="${pageLink(Math.max(0, offset - PAGE))}">${d.previous}</a> ` : ''}${offset + PAGE < total ? html`<a href="${pageLink(offset + PAGE)}">${d.next}</a>` : ''}</nav>
<h2 id="caught">${d.caughtMail}</h2>
${caught.length === 0 ? html`<p>${d.caughtEmpty}</p>` : html`<div class="table-wrap"><table id="caught-mail"><caption>${d.caughtMail}</caption>
<thead><tr><th scope="col">${d.received}</th><th scope="col">${d.subject}</th><th scope="col">${d.to}</th><th scope="col"><span class="visually-hidden">${d.view}</span></th></tr></thead>
<tbody>${caught.map((c) => html`<tr><td>${timeEl(c.createdAt, lang)}</td><td>${showCpr ? c.subject : scrubCpr(c.subject)}</td><td>${(c.recipients as string[]).join(', ')}</td><td><a href="/mail/caught/${c.id}">${d.view}<span class="visually-hidden"> ${showCpr ? c.subject : scrubCpr(c.subject)}</span></a></td></tr>`)}</tbody></table></div>`}`;
    return sendHtml(reply, 200, page(req, { title: d.mailTitle, body, active: 'mail' }));
  });

  app.get<{ Params: { id: string } }>('/mail/notifications/:id', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const n = await loadNotificationFor(u, req, reply, session, req.params.id);
    if (!n) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const info = (await recordInfo(db, [{ recordType: n.recordType, recordId: n.recordId }])).get(n.recordId);
    const caught = (await caughtFor(db, [n.id])).get(n.id);
    const mail = await mailOf(u, req, n, caught, mayseeCpr(session.actor));
    const stageOf = await stageTitles(db, lang);
    const body = html`<dl class="facts">
<dt>${d.record}</dt><dd>${info ? html`<a href="${recordHref(n.recordType, n.recordId)}">${info.journalNumber}</a>` : '—'}</dd>
<dt>${d.stage}</dt><dd>${stageOf(n.stage)}</dd>
<dt>${d.recipient}</dt><dd>${n.recipient}</dd>
<dt>${d.status}</dt><dd>${notificationBadge(n.status, lang)}</dd>
<dt>${d.planned}</dt><dd>${timeEl(n.plannedAt, lang)}</dd>
<dt>${d.sent}</dt><dd>${n.sentAt ? timeEl(n.sentAt, lang) : '—'}</dd>
${n.lastError ? html`<dt>${d.lastError}</dt><dd>${mayseeCpr(session.actor) ? n.lastError : scrubCpr(n.lastError)}</dd>` : ''}
</dl>
<h2>${d.mailDetail}</h2>
${mailView(mail, lang)}
${mail.html ? html`<h3>${d.htmlVersion}</h3><iframe class="mail" sandbox="" title="${d.htmlVersion}: ${mail.subject ?? ''}" src="${mail.source === 'caught' ? `/mail/caught/${mail.caughtId ?? ''}/html` : `/mail/notifications/${n.id}/html`}"></iframe>` : ''}
<p><a href="/mail">← ${d.mailTitle}</a></p>`;
    return sendHtml(reply, 200, page(req, { title: `${d.mailDetail}: ${stageOf(n.stage)}`, body, active: 'mail' }));
  });

  app.get<{ Params: { id: string } }>('/mail/notifications/:id/html', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const n = await loadNotificationFor(u, req, reply, session, req.params.id);
    if (!n) return reply;
    const caught = (await caughtFor(db, [n.id])).get(n.id);
    const mail = await mailOf(u, req, n, caught, mayseeCpr(session.actor));
    return frameReply(reply, mail.html ?? '');
  });

  app.get<{ Params: { id: string } }>('/mail/caught/:id', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const c = await loadCaughtFor(u, req, reply, session, req.params.id);
    if (!c) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const show = mayseeCpr(session.actor) ? (s: string) => s : scrubCpr;
    const body = html`<dl class="facts">
<dt>${d.received}</dt><dd>${timeEl(c.createdAt, lang)}</dd>
<dt>${d.from}</dt><dd>${c.fromAddress}</dd>
<dt>${d.to}</dt><dd>${(c.recipients as string[]).join(', ')}</dd>
<dt>${d.subject}</dt><dd>${show(c.subject)}</dd>
<dt>Message-ID</dt><dd><code>${c.messageId}</code></dd>
${c.notificationId ? html`<dt>${d.mailDetail}</dt><dd><a href="/mail/notifications/${c.notificationId}">${c.notificationId}</a></dd>` : ''}
</dl>
<h2>${d.textVersion}</h2>
<pre class="mail">${show(c.text)}</pre>
${c.html ? html`<h2>${d.htmlVersion}</h2><iframe class="mail" sandbox="" title="${d.htmlVersion}: ${show(c.subject)}" src="/mail/caught/${c.id}/html"></iframe>` : ''}
<p><a href="/mail#caught">← ${d.caughtMail}</a></p>`;
    return sendHtml(reply, 200, page(req, { title: `${d.caughtMail}: ${show(c.subject)}`, body, active: 'mail' }));
  });

  app.get<{ Params: { id: string } }>('/mail/caught/:id/html', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const c = await loadCaughtFor(u, req, reply, session, req.params.id);
    if (!c) return reply;
    return frameReply(reply, mayseeCpr(session.actor) ? (c.html ?? '') : scrubCpr(c.html ?? ''));
  });
}
