/**
 * Escalation handling in the browser (issue 13): /escalations lists the open escalations in scope
 * (unhandled first by default, longest waiting at the top), /escalations/:deadlineId is one of them
 * with its comments and forms, and the record page shows the same card for each of its open
 * escalations. Every form posts to /escalations/:deadlineId, which calls actOnEscalation (the
 * API's one write path: scope, state transition, audit entry).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../../domain/index.js';
import { ServiceError, type FieldIssue } from '../../records/errors.js';
import { actOnEscalation, COMMENT_MAX, escalationsOf, getEscalation, listEscalations, type EscalationView } from '../../records/escalations.js';
import { listStaff } from '../../records/masterdata.js';
import { canWrite, type RecordView } from '../../records/service.js';
import { recordHref } from '../data/records.js';
import { dayEl, fmtInstant, ruleTitle, timeEl } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, field, formBody, page, queryOf, requireCsrf, requirePage, requireSession, sendHtml, uiState } from '../web.js';

const PAGE = 50;
const STATE_FILTERS = ['unhandled', 'acknowledged', 'under_handling', 'open'] as const;

/** "4 dage", "5 timer", "under en time": how long something has waited. */
export function fmtWaited(ms: number, lang: Lang): string {
  const d = t(lang);
  const hours = Math.floor(Math.max(0, ms) / 3_600_000);
  if (hours < 1) return d.durLessThanHour;
  if (hours < 48) return d.durHours(hours);
  return d.durDays(Math.floor(hours / 24));
}

function stateBadge(state: string, lang: Lang): SafeHtml {
  return html`<span class="badge badge-esc-${state}">${t(lang).escStates[state] ?? state}</span>`;
}

/** Where the person was handling it: the record page or the escalation's own page. */
type Back = 'record' | 'detail';

async function staffFor(u: UiContext, session: UiSession, e: EscalationView) {
  return (await listStaff(u.ctx, session.actor)).filter((s) => s.areaId === e.areaId && s.active);
}

/** One escalation: its facts, its comments and, for those who may handle it, the forms. */
export async function escalationCard(u: UiContext, session: UiSession, e: EscalationView, lang: Lang, opts: { back: Back; heading: 2 | 3; issues?: FieldIssue[]; values?: Record<string, string> }): Promise<SafeHtml> {
  const d = t(lang);
  const now = u.ctx.clock().getTime();
  const id = e.deadlineId;
  const writable = canWrite(session.actor, { institutionId: e.institutionId, areaId: e.areaId });
  const title = ruleTitle(e.rule, lang);
  const heading = opts.heading === 2 ? html`<h2 id="esc-h-${id}">${title} ${stateBadge(e.state, lang)}</h2>` : html`<h3 id="esc-h-${id}">${title} ${stateBadge(e.state, lang)}</h3>`;
  const sub = opts.heading === 2 ? (s: string) => html`<h3>${s}</h3>` : (s: string) => html`<h4>${s}</h4>`;
  const status =
    e.state === 'unhandled' ? d.escUnhandledFor(fmtWaited(now - Date.parse(e.escalatedAt), lang))
      : e.state === 'acknowledged' ? d.escAcknowledgedBy(e.acknowledgedBy ?? '?', fmtInstant(e.acknowledgedAt, lang))
        : `${d.escHandlingBy(e.handlingBy ?? '?', fmtInstant(e.handlingSince, lang))}. ${d.escAcknowledgedBy(e.acknowledgedBy ?? '?', fmtInstant(e.acknowledgedAt, lang))}.`;
  const action = `/escalations/${id}`;
  const hidden = (a: string) => html`${csrfField(session)}<input type="hidden" name="action" value="${a}"><input type="hidden" name="back" value="${opts.back}">`;
  const invalid = (path: string) => (opts.issues?.some((i) => i.path === path) ? html` aria-invalid="true"` : html``);
  const forms = writable
    ? html`<div class="esc-actions">
${e.state === 'unhandled' ? html`<form method="post" action="${action}" class="inline">${hidden('acknowledge')}<button type="submit">${d.escAcknowledge}</button></form>` : ''}
${e.state !== 'under_handling' ? html`<form method="post" action="${action}" class="inline">${hidden('start')}<button type="submit" class="secondary">${d.escStart}</button></form>` : ''}
</div>
${await assignForm(u, session, e, lang, hidden('assign'), invalid('staffId'), opts.values?.['staffId'])}
<form method="post" action="${action}" class="esc-comment">${hidden('comment')}
<div class="field"><label for="esc-text-${id}">${d.escComment}</label><textarea id="esc-text-${id}" name="text" rows="3" maxlength="${COMMENT_MAX}" required${invalid('text')}>${opts.values?.['text'] ?? ''}</textarea></div>
<p><button type="submit" class="secondary">${d.escAddComment}</button></p></form>`
    : '';
  return html`<article class="esc" id="esc-${id}" aria-labelledby="esc-h-${id}">
${heading}
<dl class="facts">
<dt>${d.queueCase}</dt><dd><a href="${recordHref(e.recordType, e.recordId)}">${e.journalNumber}</a> (${d.recordTypes[e.recordType] ?? e.recordType})</dd>
<dt>${d.due}</dt><dd>${dayEl(e.dueDate, lang)}</dd>
<dt>${d.escEscalatedAt}</dt><dd>${timeEl(e.escalatedAt, lang)}</dd>
<dt>${d.status}</dt><dd class="esc-status">${status}</dd>
<dt>${d.escAssignee}</dt><dd class="esc-assignee">${e.assignee ? html`${e.assignee.name} <span class="small muted">(${d.escAssignedBy(e.assignedBy ?? '?', fmtInstant(e.assignedAt, lang))})</span>` : d.escNobody}</dd>
</dl>
${sub(d.escComments)}
${e.comments.length === 0 ? html`<p class="small muted">${d.escNoComments}</p>` : html`<ol class="esc-comments">${e.comments.map((c) => html`<li>${timeEl(c.at, lang)} <span class="muted">${d.by} ${c.actor}</span><br><span class="esc-text">${c.text}</span></li>`)}</ol>`}
${forms}
</article>`;
}

async function assignForm(u: UiContext, session: UiSession, e: EscalationView, lang: Lang, hidden: SafeHtml, invalid: SafeHtml, chosen: string | undefined): Promise<SafeHtml> {
  const d = t(lang);
  const people = await staffFor(u, session, e);
  if (people.length === 0) return html``;
  const selected = chosen ?? e.assignee?.id ?? '';
  return html`<form method="post" action="/escalations/${e.deadlineId}" class="esc-assign">${hidden}
<div class="fields"><div class="field"><label for="esc-staff-${e.deadlineId}">${d.escAssignTo}</label><select id="esc-staff-${e.deadlineId}" name="staffId"${invalid}><option value="">${d.escChoose}</option>${people.map((s) => html`<option value="${s.id}"${s.id === selected ? html` selected` : ''}>${s.name}${s.title ? ` (${s.title})` : ''}</option>`)}</select></div>
<div class="field"><button type="submit" class="secondary">${d.escAssign}</button></div></div></form>`;
}

/** The record page's section: every open escalation of the record (nothing when there is none). */
export async function escalationSection(u: UiContext, session: UiSession, view: RecordView, lang: Lang): Promise<SafeHtml> {
  const list = await escalationsOf(u.ctx, session.actor, { recordId: view['id'] as string });
  if (list.length === 0) return html``;
  const d = t(lang);
  const cards = [];
  for (const e of list) cards.push(await escalationCard(u, session, e, lang, { back: 'record', heading: 3 }));
  return html`<section aria-labelledby="h-escalations" id="escalations"><h2 id="h-escalations">${d.escOnRecord}</h2>${cards}</section>`;
}

/** The overview's line for the area office: how many are unhandled and how long the oldest waits. */
export function unhandledNotice(summary: { count: number; oldest: string | null }, now: Date, lang: Lang): SafeHtml {
  if (summary.count === 0 || !summary.oldest) return html``;
  const d = t(lang);
  return html`<div class="notice warn" id="unhandled-escalations"><p><strong>${d.escUnhandledNotice(summary.count, fmtWaited(now.getTime() - Date.parse(summary.oldest), lang))}</strong> <a href="/escalations">${d.escUnhandledLink}</a></p></div>`;
}

/** The form's body as the service takes it, or the issues in Danish (naming the field). */
function actionBody(b: Record<string, unknown>, lang: Lang): { body: Record<string, unknown>; issues: FieldIssue[]; values: Record<string, string> } {
  const d = t(lang);
  const fb = b as Parameters<typeof field>[0];
  const action = field(fb, 'action') ?? '';
  const values: Record<string, string> = {};
  const issues: FieldIssue[] = [];
  if (action === 'assign') {
    const staffId = field(fb, 'staffId');
    if (staffId) values['staffId'] = staffId;
    if (!staffId) issues.push({ path: 'staffId', message: d.escStaffInvalid });
    return { body: { action, staffId }, issues, values };
  }
  if (action === 'comment') {
    const text = field(fb, 'text') ?? '';
    values['text'] = text;
    if (!text) issues.push({ path: 'text', message: d.escCommentRequired });
    else if (text.length > COMMENT_MAX) issues.push({ path: 'text', message: d.escCommentTooLong(COMMENT_MAX) });
    return { body: { action, text }, issues, values };
  }
  return { body: { action }, issues, values };
}

async function renderDetail(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, deadlineId: string, status: number, prev?: { issues: FieldIssue[]; values: Record<string, string>; refused?: string }): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  let e: EscalationView;
  try {
    e = await getEscalation(u.ctx, deadlineId, session.actor);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'CONFLICT') return errorPage(req, reply, 409, d.escClosed);
    throw err;
  }
  const label = (path: string): string => (path === 'staffId' ? d.escAssignTo : path === 'text' ? d.escComment : (d.fields[path] ?? path));
  const done = queryOf(req)['done'];
  const flash = prev?.refused ? { kind: 'error' as const, text: prev.refused } : done && d.escDone[`esc_${done}`] ? { kind: 'ok' as const, text: d.escDone[`esc_${done}`] } : undefined;
  const body = html`${prev && prev.issues.length > 0 ? errorSummary(lang, prev.issues, label) : ''}
${await escalationCard(u, session, e, lang, { back: 'detail', heading: 2, ...(prev ? { issues: prev.issues, values: prev.values } : {}) })}
<p><a href="/escalations">← ${d.escBack}</a> · <a href="${recordHref(e.recordType, e.recordId)}">${d.record} ${e.journalNumber}</a></p>`;
  return sendHtml(reply, status, page(req, { title: d.escDetailTitle(e.journalNumber, ruleTitle(e.rule, lang)), body, active: 'escalations', flash }));
}

export function registerEscalations(app: FastifyInstance, u: UiContext): void {
  app.get('/escalations', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const q = queryOf(req);
    const state = (STATE_FILTERS as readonly string[]).includes(q['state'] ?? '') ? (q['state'] as (typeof STATE_FILTERS)[number]) : 'unhandled';
    const offset = Math.max(0, Math.min(1_000_000, Number.parseInt(q['offset'] ?? '0', 10) || 0));
    const res = await listEscalations(u.ctx, session.actor, { state, limit: PAGE, offset });
    const totals = new Map<string, number>();
    for (const s of STATE_FILTERS) totals.set(s, s === state ? res.total : (await listEscalations(u.ctx, session.actor, { state: s, limit: 1 })).total);
    const now = u.ctx.clock().getTime();
    const link = (s: string, o = 0) => `/escalations${qs({ state: s === 'unhandled' ? undefined : s, offset: o > 0 ? o : undefined })}`;
    const tabs = html`<nav aria-label="${d.escFilterLabel}" class="tabs"><ul>${STATE_FILTERS.map((s) => html`<li><a href="${link(s)}"${s === state ? html` aria-current="page"` : ''}>${s === 'open' ? d.escFilterOpen : (d.escStates[s] ?? s)} (${totals.get(s) ?? 0})</a></li>`)}</ul></nav>`;
    const rows = res.items.map((e) => {
      const latest = e.comments.at(-1);
      // Unhandled: how long it has waited so far; handled: how long it waited for someone to acknowledge it.
      const waited = e.acknowledgedAt ? d.escWaitedUntilAck(fmtWaited(Date.parse(e.acknowledgedAt) - Date.parse(e.escalatedAt), lang)) : fmtWaited(now - Date.parse(e.escalatedAt), lang);
      return html`<tr>
<th scope="row" data-label="${d.queueCase}"><a href="${recordHref(e.recordType, e.recordId)}">${e.journalNumber}</a></th>
<td data-label="${d.rule}">${ruleTitle(e.rule, lang)}<br><span class="small">${d.due}: ${dayEl(e.dueDate, lang)}</span></td>
<td data-label="${d.escEscalatedAt}">${timeEl(e.escalatedAt, lang)}</td>
<td data-label="${d.escWaited}">${waited}</td>
<td data-label="${d.status}">${stateBadge(e.state, lang)}</td>
<td data-label="${d.escAssignee}">${e.assignee?.name ?? d.escNobody}</td>
<td data-label="${d.escLatestComment}" class="small">${latest ? latest.text.slice(0, 140) : ''}</td>
<td data-label="${d.escHandle}"><a href="/escalations/${e.deadlineId}">${d.escHandle}<span class="visually-hidden"> ${e.journalNumber}: ${ruleTitle(e.rule, lang)}</span></a></td>
</tr>`;
    });
    const body = html`<p>${d.escIntro}</p>
${tabs}
${res.items.length === 0 ? html`<p id="escalations-empty">${d.escNone}</p>` : html`<div class="table-wrap"><table id="escalation-list" class="cards">
<caption>${d.escCaption(res.items.length, res.total)} · ${state === 'open' ? d.escFilterOpen : (d.escStates[state] ?? state)}</caption>
<thead><tr><th scope="col">${d.queueCase}</th><th scope="col">${d.rule}</th><th scope="col">${d.escEscalatedAt}</th><th scope="col">${d.escWaited}</th><th scope="col">${d.status}</th><th scope="col">${d.escAssignee}</th><th scope="col">${d.escLatestComment}</th><th scope="col"><span class="visually-hidden">${d.escHandle}</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`}
<nav aria-label="${d.pagination}" class="pagination">${offset > 0 ? html`<a href="${link(state, Math.max(0, offset - PAGE))}">${d.previous}</a> ` : ''}${offset + PAGE < res.total ? html`<a href="${link(state, offset + PAGE)}">${d.next}</a>` : ''}</nav>`;
    return sendHtml(reply, 200, page(req, { title: d.escTitle, body, active: 'escalations' }));
  });

  app.get<{ Params: { id: string } }>('/escalations/:id', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    return renderDetail(u, req, reply, session, req.params.id, 200);
  });

  app.post<{ Params: { id: string } }>('/escalations/:id', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const b = formBody(req);
    const { body, issues, values } = actionBody(b, lang);
    if (issues.length > 0) return renderDetail(u, req, reply, session, req.params.id, 400, { issues, values });
    let view: EscalationView;
    try {
      view = await actOnEscalation(u.ctx, req.params.id, body, session.actor, { requestTarget: `UI POST ${req.url}` });
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const action = String(body['action']);
      if (err.code === 'VALIDATION') {
        // The service's issues in the person's language: the fields it can name are the form's own.
        const named = err.issues.map((i): FieldIssue => (i.path === 'staffId' ? { path: 'staffId', message: d.escStaffInvalid } : i.path === 'text' ? { path: 'text', message: d.escCommentTooLong(COMMENT_MAX) } : i));
        return renderDetail(u, req, reply, session, req.params.id, 400, { issues: named, values });
      }
      if (err.code === 'CONFLICT') {
        const open = await escalationsOf(u.ctx, session.actor, { deadlineIds: [req.params.id] }).catch(() => []);
        if (open.length === 0) return errorPage(req, reply, 409, d.escClosed);
        return renderDetail(u, req, reply, session, req.params.id, 409, { issues: [], values, refused: d.escConflict[action] ?? err.message });
      }
      throw err;
    }
    const action = String(body['action']);
    const back = field(b, 'back') === 'record' ? `${recordHref(view.recordType, view.recordId)}?done=esc_${action}#esc-${view.deadlineId}` : `/escalations/${view.deadlineId}?done=${action}`;
    return reply.redirect(back, 303);
  });
}
