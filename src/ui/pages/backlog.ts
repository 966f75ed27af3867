/**
 * The backlog (/backlog): what arrived already breached, and the alerts too old to send when
 * their record arrived (README "Go-live"). The same list as the area office's backlog summary
 * mail (src/worker/backlog.ts), in the caller's scope; met items stay listed, marked done.
 */
import type { FastifyInstance } from 'fastify';
import { listAreas } from '../../records/masterdata.js';
import { scopedInstitutions } from '../../records/service.js';
import { loadBacklog, type BacklogEntry } from '../../worker/backlog.js';
import { dayEl, ruleTitle, statusBadge } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t, type Lang } from '../i18n.js';
import type { UiContext } from '../index.js';
import { page, queryOf, requirePage, sendHtml, uiState } from '../web.js';

/** Rows shown at most; the summary mails list at most 150 each. */
const LIMIT = 2_000;

function table(rows: readonly BacklogEntry[], areaNames: ReadonlyMap<string, string>, lang: Lang): SafeHtml {
  const d = t(lang);
  return html`<div class="table-wrap"><table id="backlog-table" class="stack-narrow">
<caption>${d.backlogCaption(rows.length)}</caption>
<thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.rule}</th><th scope="col">${d.backlogDue}</th><th scope="col" class="num">${d.backlogDaysOverdue}</th><th scope="col">${d.status}</th><th scope="col">${d.area}</th><th scope="col">${d.backlogListed}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><th scope="row"><a href="/records/${r.collection}/${r.recordId}">${r.journalNumber}</a></th><td>${ruleTitle(r.rule, lang)}</td><td>${dayEl(r.dueDate, lang)}</td><td class="num">${r.daysOverdue}</td><td>${r.kind === 'alert' ? html`<span class="badge badge-n-cancelled">${d.backlogAlertNotSent}</span>` : r.done ? html`<span class="badge badge-met">${d.backlogDone}</span>` : statusBadge(r.status ?? 'breached', lang)}</td><td>${areaNames.get(r.areaId) ?? r.areaId}</td><td>${dayEl(r.listedDay, lang)}</td></tr>`)}</tbody></table></div>`;
}

export function registerBacklog(app: FastifyInstance, { ctx }: UiContext): void {
  app.get('/backlog', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const q = queryOf(req);
    const area = typeof q['area'] === 'string' && q['area'] !== '' ? q['area'] : undefined;
    const showDone = q['done'] === '1';
    // The caller's scope (an area token: its area; an institution token: its institution); out of scope: 403 (ServiceError).
    const allowed = await scopedInstitutions(ctx.db, session.actor, { areaId: area });
    const rows = (await loadBacklog(ctx.db, { institutionIds: allowed, areaIds: area === undefined ? undefined : [area], limit: LIMIT }, ctx.clock())).filter((r) => showDone || !r.done);
    const areas = await listAreas(ctx);
    const areaNames = new Map(areas.map((a) => [a.id, a.name]));
    const body = html`<p>${d.backlogIntro}</p>
<p><a href="/backlog${qs({ area, done: showDone ? undefined : '1' })}">${showDone ? d.backlogHideDone : d.backlogShowDone}</a></p>
${rows.length === 0 ? html`<p>${d.backlogEmpty}</p>` : table(rows, areaNames, lang)}`;
    return sendHtml(reply, 200, page(req, { title: d.backlogTitle, body, active: 'backlog' }));
  });
}
