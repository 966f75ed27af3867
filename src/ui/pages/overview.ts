/**
 * The overview (/): the counts per area and institution (refreshed live) and the work queue
 * (issue 13): "mine" first, most urgent first, with days left or overdue, a page at a time,
 * filters that can be saved, search by journal number (and, for the roles that may see them, by
 * name or CPR number in a POST that never reaches a URL) and bulk registration where it is safe.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RULES, scrubCpr, type Lang } from '../../domain/index.js';
import { BulkRefused, completeInBulk, type BulkIssue } from '../../records/bulk-events.js';
import { ServiceError } from '../../records/errors.js';
import { unhandledSummary } from '../../records/escalations.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import { canonicalFilterQuery, deleteSavedFilter, FILTER_KEYS, listSavedFilters, MAX_SAVED_FILTERS, saveFilter } from '../../records/saved-filters.js';
import { mayseeCpr, type Actor } from '../../records/service.js';
import { loadIncomplete, type IncompleteRecord } from '../data/incomplete.js';
import { loadOverview, type CountRow, type Overview, type OverviewFilter } from '../data/overview.js';
import { loadQueue, PAGE_SIZE, QUEUE_STATUSES, type Queue, type QueueFilter, type QueueItem } from '../data/queue.js';
import { findRecordsByPerson, recordHref } from '../data/records.js';
import { dayEl, fmtDay, fmtTime, localDateTimeToIso, ruleTitle, statusBadge } from '../format.js';
import { fieldInSentence } from './record-deadlines.js';
import { dateTimeField } from '../form-fields.js';
import { html, join, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import { replanNow } from '../replan.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, field, fieldAll, formBody, page, queryOf, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';
import { unhandledNotice } from './escalations.js';

const RECORD_TYPES = ['incident', 'security_cell_placement', 'force_use', 'action_plan'] as const;

function filterFrom(q: Record<string, string | undefined>): QueueFilter {
  const f: QueueFilter = {};
  for (const k of FILTER_KEYS) if (q[k]) f[k] = q[k]?.slice(0, 100);
  if (q['page']) f.page = q['page'];
  return f;
}

function filterOf(req: FastifyRequest): QueueFilter {
  return filterFrom(queryOf(req));
}

/** The filter in a POST's hidden `query` field (the page it was sent from). */
function filterOfBody(b: FormBody): QueueFilter {
  const params = new URLSearchParams(canonicalFilterQuery(field(b, 'query') ?? ''));
  return filterFrom(Object.fromEntries(params.entries()));
}

/** The query string of a filter with some values changed (the page is dropped unless given). */
function filterQuery(f: QueueFilter, over: Partial<QueueFilter> = {}): string {
  const m: QueueFilter = { ...f, page: undefined, ...over };
  return qs({ view: m.view, area: m.area, institution: m.institution, rule: m.rule, recordType: m.recordType, status: m.status, q: m.q, sort: m.sort, dir: m.dir, page: m.page });
}

function statusFilterLabel(s: string, lang: Lang): string {
  const d = t(lang);
  switch (s) {
    case 'breached': return d.breached;
    case 'open': return d.statusLabels['open'] ?? 'open';
    case 'today': return d.dueToday;
    case 'soon': return d.dueSoon;
    default: return d.statusUncompleted;
  }
}

function countLink(n: number, f: OverviewFilter, over: Partial<QueueFilter>): SafeHtml {
  if (n === 0) return html`0`;
  return html`<a href="/${filterQuery({ area: f.area, institution: f.institution }, over)}#list">${n}</a>`;
}

function countsTable(o: Overview, f: OverviewFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  const areas = new Map<string, CountRow[]>();
  for (const c of o.counts) areas.set(c.areaId, [...(areas.get(c.areaId) ?? []), c]);
  const sum = (rows: CountRow[], k: 'breached' | 'dueToday' | 'dueSoon') => rows.reduce((s, r) => s + r[k], 0);
  const groups = [...areas.entries()].map(([areaId, rows]) => html`<tbody>
${rows.map((r) => html`<tr><td>${r.areaName}</td><th scope="row">${r.institutionName}</th>
<td class="num">${countLink(r.breached, f, { institution: r.institutionId, status: 'breached' })}</td>
<td class="num">${countLink(r.dueToday, f, { institution: r.institutionId, status: 'today' })}</td>
<td class="num">${countLink(r.dueSoon, f, { institution: r.institutionId, status: 'soon' })}</td></tr>`)}
<tr class="subtotal"><th scope="row" colspan="2">${d.areaTotal(rows[0]?.areaName ?? areaId)}</th>
<td class="num">${countLink(sum(rows, 'breached'), f, { area: areaId, status: 'breached' })}</td>
<td class="num">${countLink(sum(rows, 'dueToday'), f, { area: areaId, status: 'today' })}</td>
<td class="num">${countLink(sum(rows, 'dueSoon'), f, { area: areaId, status: 'soon' })}</td></tr>
</tbody>`);
  return html`<div class="table-wrap"><table id="counts">
<caption>${d.countsCaption}</caption>
<thead><tr><th scope="col">${d.area}</th><th scope="col">${d.institution}</th><th scope="col" class="num">${d.breached}</th><th scope="col" class="num">${d.dueToday}</th><th scope="col" class="num">${d.dueSoon}</th></tr></thead>
${groups}
<tfoot><tr class="subtotal"><th scope="row" colspan="2">${d.total}</th><td class="num">${sum(o.counts, 'breached')}</td><td class="num">${sum(o.counts, 'dueToday')}</td><td class="num">${sum(o.counts, 'dueSoon')}</td></tr></tfoot>
</table></div>
<p class="small muted">${d.dueSoonNote(fmtDay(o.soonUntil, lang))}</p>`;
}

/** Records a person must complete before every deadline can be computed. */
function incompleteSection(inc: { total: number; items: IncompleteRecord[] }, lang: Lang): SafeHtml {
  const d = t(lang);
  if (inc.total === 0) return html``;
  return html`<section class="notice warn" id="incomplete-cases" aria-labelledby="h-incomplete"><h2 id="h-incomplete">${d.incompleteCases} (${inc.total})</h2>
<p>${d.incompleteCasesIntro(inc.total)}</p>
<ul>${inc.items.map((i) => html`<li><a href="${recordHref(i.recordType, i.recordId)}">${i.journalNumber}</a> – ${d.incompleteItem([...new Set(i.findings.map((x) => fieldInSentence(x.field, lang)))].join(', '))}</li>`)}</ul>
${inc.total > inc.items.length ? html`<p class="small">${d.showing(inc.items.length, inc.total)}</p>` : ''}
</section>`;
}

/** The part that refreshes every 30 s: counts and incomplete records (the queue below stays, so a selection is never lost). */
function liveContent(o: Overview, inc: { total: number; items: IncompleteRecord[] }, f: OverviewFilter, lang: Lang, now: Date): SafeHtml {
  const d = t(lang);
  return html`<p class="small muted" role="status">${d.updatedAt(fmtTime(now, lang))}</p>
${incompleteSection(inc, lang)}
${countsTable(o, f, lang)}`;
}

// ------------------------------------------------------------------------------------ the queue

function daysCell(i: QueueItem, lang: Lang): SafeHtml {
  const d = t(lang);
  if (i.suspended) return html`<span class="muted">${d.queuePaused}</span>`;
  if (i.status === 'breached') return html`<strong class="late">${i.days === 0 ? d.queueOverdueToday : d.queueDaysOver(-i.days)}</strong>`;
  if (i.days === 0) return html`<strong>${d.queueDueToday}</strong>`;
  return html`${d.queueDaysLeft(i.days)}`;
}

function sortHeader(label: string, key: string, f: QueueFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  const current = f.sort === key;
  const dir = current && f.dir !== 'desc' ? 'desc' : 'asc';
  const ariaSort = current ? (f.dir === 'desc' ? 'descending' : 'ascending') : undefined;
  return html`<th scope="col"${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="/${filterQuery(f, { sort: key, dir })}#list" title="${d.sortBy(label)}">${label}${current ? html` <span aria-hidden="true">${f.dir === 'desc' ? '▼' : '▲'}</span>` : ''}</a></th>`;
}

function scopeLine(actor: Actor, q: Queue, names: { institutions: Map<string, string>; areas: Map<string, string> }, lang: Lang): string {
  const d = t(lang);
  if (q.view === 'all') return q.mine.kind === 'none' ? d.queueScopeNone : d.queueScopeAll;
  if (q.mine.kind === 'institution') return d.queueScopeInstitution(names.institutions.get(actor.institutionId ?? '') ?? actor.institutionId ?? '');
  if (q.mine.kind === 'area') return d.queueScopeArea(names.areas.get(actor.areaId ?? '') ?? actor.areaId ?? '');
  return d.queueScopeOwner;
}

function pagination(q: Queue, f: QueueFilter, lang: Lang): SafeHtml {
  if (q.pages <= 1) return html``;
  const d = t(lang);
  const link = (p: number, label: SafeHtml | string, rel?: string) => html`<a href="/${filterQuery(f, { page: p > 1 ? String(p) : undefined })}#list"${rel ? html` rel="${rel}"` : ''}>${label}</a>`;
  // The first, the last and two either side of the current page.
  const shown = [...new Set([1, q.pages, ...[-2, -1, 0, 1, 2].map((x) => q.page + x)])].filter((p) => p >= 1 && p <= q.pages).sort((a, b) => a - b);
  const items: SafeHtml[] = [];
  shown.forEach((p, i) => {
    if (i > 0 && p - (shown[i - 1] ?? p) > 1) items.push(html`<li aria-hidden="true">…</li>`);
    items.push(p === q.page ? html`<li><a aria-current="page" href="/${filterQuery(f, { page: p > 1 ? String(p) : undefined })}#list"><span class="visually-hidden">${d.queuePageN(p)}</span><span aria-hidden="true">${p}</span></a></li>` : html`<li>${link(p, html`<span class="visually-hidden">${d.queuePageN(p)}</span><span aria-hidden="true">${p}</span>`)}</li>`);
  });
  return html`<nav aria-label="${d.pagination}" class="pagination" id="queue-pages"><p class="small">${d.queuePage(q.page, q.pages)}</p><ul>
${q.page > 1 ? html`<li>${link(q.page - 1, d.previous, 'prev')}</li>` : ''}${items}${q.page < q.pages ? html`<li>${link(q.page + 1, d.next, 'next')}</li>` : ''}
</ul></nav>`;
}

function bulkErrors(cases: BulkIssue[], lang: Lang): SafeHtml {
  const d = t(lang);
  // The case, the step, and the field in the reader's language (the service's own words after it, as on the record page).
  return html`<div class="notice error" role="alert" tabindex="-1" id="bulk-errors"><p>${d.queueBulkRefused}</p><ul>${cases.map((c) => html`<li><strong>${c.journalNumber}</strong>${c.rule ? html` – ${ruleTitle(c.rule, lang)}` : ''}: ${c.reason === 'refused' ? `${c.field ? `${d.fields[c.field] ?? c.field} (${c.field}): ` : ''}${scrubCpr(c.detail)}` : d.queueBulkReasons[c.reason]}</li>`)}</ul></div>`;
}

function queueSection(session: UiSession, q: Queue, f: QueueFilter, lang: Lang, scope: string, prev?: { checked: string[]; at: string; cases?: BulkIssue[]; message?: string }): SafeHtml {
  const d = t(lang);
  const from = (q.page - 1) * PAGE_SIZE + 1;
  const anyBulk = q.items.some((i) => i.bulk);
  const checked = new Set(prev?.checked ?? []);
  const rows = q.items.map((i) => html`<tr${i.status === 'breached' ? html` class="row-breached"` : ''}>
<td data-label="${d.queuePickColumn}" class="pick">${i.bulk ? html`<input type="checkbox" name="deadlineIds" value="${i.id}" id="pick-${i.id}"${checked.has(i.id) ? html` checked` : ''} aria-label="${d.queuePick(i.journalNumber, i.ruleTitle)}">` : ''}</td>
<th scope="row" data-label="${d.queueCase}"><a href="${recordHref(i.recordType, i.recordId)}">${i.journalNumber}</a><br><span class="small muted">${d.recordTypes[i.recordType] ?? i.recordType}</span></th>
<td data-label="${d.rule}">${i.ruleTitle}</td>
<td data-label="${d.due}">${dayEl(i.dueDate, lang)}</td>
<td data-label="${d.queueDays}" class="days">${daysCell(i, lang)}</td>
<td data-label="${d.status}">${statusBadge(i.status, lang, i.suspended)}${i.escalation ? html` <a class="badge badge-esc-${i.escalation}" href="${recordHref(i.recordType, i.recordId)}#escalations">${d.navEscalations}: ${d.escStates[i.escalation] ?? i.escalation}</a>` : ''}</td>
<td data-label="${d.responsible}">${i.responsible}</td>
<td data-label="${d.institution}">${i.institutionName}</td>
</tr>`);
  const table = q.items.length === 0
    ? html`<p id="queue-empty">${d.noDeadlines}</p>`
    : html`<div class="table-wrap"><table id="deadline-list" class="queue cards">
<caption>${d.queueCaption(from, from + q.items.length - 1, q.total)} · ${statusFilterLabel(f.status ?? '', lang)}</caption>
<thead><tr><th scope="col"><span class="visually-hidden">${d.queuePickColumn}</span></th>${sortHeader(d.queueCase, 'journal', f, lang)}<th scope="col">${d.rule}</th>${sortHeader(d.due, 'due', f, lang)}<th scope="col">${d.queueDays}</th><th scope="col">${d.status}</th><th scope="col">${d.responsible}</th>${sortHeader(d.institution, 'institution', f, lang)}</tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
  const bulk = anyBulk
    ? html`<fieldset class="no-print" id="bulk"><legend>${d.queueBulkTitle}</legend><p class="small">${d.queueBulkIntro}</p><div class="fields">
${dateTimeField(lang, { name: 'at', id: 'bulk-at', label: d.queueBulkAt, value: prev?.at ?? '' })}
<div class="field"><button type="submit">${d.queueBulkButton}</button></div></div></fieldset>`
    : '';
  // The registration sits above the list: the boxes are ticked on the way down, not after 50 rows.
  const body = html`${prev?.cases ? bulkErrors(prev.cases, lang) : prev?.message ? html`<div class="notice error" role="alert" id="bulk-errors"><p>${prev.message}</p></div>` : ''}
${bulk}
${table}
${pagination(q, f, lang)}`;
  return html`<section aria-labelledby="list" id="queue">
<h2 id="list">${d.queueTitle}</h2>
<p class="small" id="queue-scope">${scope} ${f.sort && f.sort !== 'urgency' ? html`<a href="/${filterQuery(f, { sort: undefined, dir: undefined })}#list">${d.queueSortUrgency}</a>` : d.queueOrder}</p>
${anyBulk ? html`<form method="post" action="/queue/bulk" id="bulk-form">${csrfField(session)}<input type="hidden" name="query" value="${filterQuery(f, { page: f.page }).slice(1)}">${body}</form>` : body}
</section>`;
}

// ------------------------------------------------------------------------------------ the forms

async function filterForm(ctx: UiContext['ctx'], actor: Actor, f: QueueFilter, q: Queue, lang: Lang): Promise<SafeHtml> {
  const d = t(lang);
  const areas = await listAreas(ctx);
  const insts = await listInstitutions(ctx, actor);
  const visibleAreas = areas.filter((a) => insts.some((i) => i.areaId === a.id));
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const deadlineRules = RULES.filter((r) => r.timing === 'deadline' && r.obligation === 'duty' && r.recordType !== 'annual_overview');
  // An institution's user has one institution, an area's one area: no choice to offer ("Alle" would say nothing).
  const areaField = visibleAreas.length > 1 ? html`<div class="field"><label for="f-area">${d.area}</label><select id="f-area" name="area">${opt('', d.all, f.area)}${visibleAreas.map((a) => opt(a.id, a.name, f.area))}</select></div>` : '';
  const instField = insts.length > 1 ? html`<div class="field"><label for="f-inst">${d.institution}</label><select id="f-inst" name="institution">${opt('', d.all, f.institution)}${insts.map((i) => opt(i.id, i.name, f.institution))}</select></div>` : '';
  const viewField = q.mine.kind === 'owner'
    ? html`<div class="field"><label for="f-view">${d.queueView}</label><select id="f-view" name="view">${opt('mine', d.queueViewMine, q.view)}${opt('all', d.queueViewAll, q.view)}</select></div>`
    : '';
  return html`<form method="get" action="/" class="no-print" id="queue-filters">
<fieldset><legend>${d.filters}</legend><div class="fields">
${viewField}
<div class="field"><label for="f-q">${d.journalSearch}</label><input type="search" id="f-q" name="q" maxlength="100" value="${f.q ?? ''}"></div>
${areaField}${instField}
<div class="field"><label for="f-rule">${d.rule}</label><select id="f-rule" name="rule">${opt('', d.all, f.rule)}${deadlineRules.map((r) => opt(r.id, r.title[lang], f.rule))}</select></div>
<div class="field"><label for="f-type">${d.recordType}</label><select id="f-type" name="recordType">${opt('', d.all, f.recordType)}${RECORD_TYPES.map((rt) => opt(rt, d.recordTypes[rt] ?? rt, f.recordType))}</select></div>
<div class="field"><label for="f-status">${d.status}</label><select id="f-status" name="status">${QUEUE_STATUSES.map((s) => opt(s, statusFilterLabel(s, lang), f.status))}</select></div>
${f.sort ? html`<input type="hidden" name="sort" value="${f.sort}">` : ''}${f.dir ? html`<input type="hidden" name="dir" value="${f.dir}">` : ''}
<div class="field"><button type="submit">${d.applyFilters}</button></div>
</div></fieldset></form>`;
}

async function savedFiltersSection(u: UiContext, session: UiSession, f: QueueFilter, lang: Lang, prev?: { name: string; issue: string }): Promise<SafeHtml> {
  const d = t(lang);
  const saved = await listSavedFilters(u.ctx, session.actor);
  const current = filterQuery(f).slice(1);
  return html`<section aria-labelledby="h-saved" id="saved-filters" class="no-print">
<h2 id="h-saved">${d.savedFilters}</h2>
${saved.length === 0 ? html`<p class="small muted">${d.savedFiltersNone}</p>` : html`<ul class="saved">${saved.map((s) => html`<li><a href="/${s.query ? `?${s.query}` : ''}#list"${s.query === canonicalFilterQuery(current) ? html` aria-current="true"` : ''}>${s.name}</a>
<form method="post" action="/queue/filters/${s.id}/delete" class="inline">${csrfField(session)}<button type="submit" class="secondary small-button" aria-label="${d.deleteFilterLabel(s.name)}">${d.deleteFilter}</button></form></li>`)}</ul>`}
${saved.length < MAX_SAVED_FILTERS || prev ? html`<form method="post" action="/queue/filters" id="save-filter">${csrfField(session)}<input type="hidden" name="query" value="${current}">
<div class="fields"><div class="field"><label for="sf-name">${d.saveFilterName}</label><input type="text" id="sf-name" name="name" maxlength="60" required value="${prev?.name ?? ''}"${prev ? html` aria-invalid="true" aria-describedby="sf-name-error"` : ''}>
${prev ? html`<span class="field-error" id="sf-name-error">${d.saveFilterName}: ${prev.issue}</span>` : ''}</div>
<div class="field"><button type="submit" class="secondary">${d.saveFilter}</button></div></div></form>` : ''}
</section>`;
}

function personSearchForm(session: UiSession, lang: Lang, value = ''): SafeHtml {
  if (!mayseeCpr(session.actor)) return html``;
  const d = t(lang);
  return html`<form method="post" action="/queue/person-search" class="no-print" id="person-search">${csrfField(session)}
<fieldset><legend>${d.personSearchTitle}</legend><div class="fields"><div class="field"><label for="ps-person">${d.personSearchLabel}</label><input type="search" id="ps-person" name="person" maxlength="200" autocomplete="off" value="${value}" aria-describedby="ps-help"></div>
<div class="field"><button type="submit" class="secondary">${d.personSearchButton}</button></div></div><p class="small muted" id="ps-help">${d.personSearchHelp}</p></fieldset></form>`;
}

interface Extra {
  flash?: { kind: 'ok' | 'error'; text: string } | undefined;
  bulk?: { checked: string[]; at: string; cases?: BulkIssue[]; message?: string };
  saveFilter?: { name: string; issue: string };
}

async function renderOverview(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, f: QueueFilter, status: number, extra: Extra = {}): Promise<FastifyReply> {
  const { ctx } = u;
  const { lang } = uiState(req);
  const d = t(lang);
  const o = await loadOverview(ctx, session.actor, f).catch((err: unknown) => err as Error);
  if (o instanceof Error) return errorPage(req, reply, (o as { status?: number }).status ?? 500, o.message);
  const inc = await loadIncomplete(ctx, session.actor, f, lang);
  const q = await loadQueue(ctx, session.actor, f, lang);
  const [areas, insts] = await Promise.all([listAreas(ctx), listInstitutions(ctx, session.actor)]);
  const names = { areas: new Map(areas.map((a) => [a.id, a.name])), institutions: new Map(insts.map((i) => [i.id, i.name])) };
  const summary = session.actor.role === 'reader' ? { count: 0, oldest: null } : await unhandledSummary(ctx, session.actor);
  // Every 30 s by default; `refresh` (ms, 1 s – 5 min) lets a wall display or a test choose.
  const every = Math.min(300_000, Math.max(1000, Number.parseInt(queryOf(req)['refresh'] ?? '', 10) || 30_000));
  // The queue first (the work), then the figures that refresh themselves.
  const body = html`${session.actor.role === 'reader' ? '' : html`<p class="no-print"><a class="button" id="new-record-link" href="/records/new">${d.rf.newRecord}</a></p>`}
${unhandledNotice(summary, ctx.clock(), lang)}
${await filterForm(ctx, session.actor, f, q, lang)}
<div class="cols tools">${await savedFiltersSection(u, session, f, lang, extra.saveFilter)}
${personSearchForm(session, lang)}</div>
${queueSection(session, q, f, lang, scopeLine(session.actor, q, names, lang), extra.bulk)}
<div id="live" data-refresh="/overview/fragment${qs({ area: f.area, institution: f.institution })}" data-refresh-every="${every}">
${liveContent(o, inc, f, lang, ctx.clock())}
</div>`;
  return sendHtml(reply, status, page(req, { title: d.overviewTitle, body, active: 'overview', flash: extra.flash }));
}

function doneFlash(req: FastifyRequest, lang: Lang): Extra['flash'] {
  const d = t(lang);
  const q = queryOf(req);
  switch (q['done']) {
    case 'bulk': return { kind: 'ok', text: d.queueBulkDone(Math.max(0, Number.parseInt(q['n'] ?? '0', 10) || 0)) };
    case 'filter-saved': return { kind: 'ok', text: d.filterSaved };
    case 'filter-deleted': return { kind: 'ok', text: d.filterDeleted };
    default: return undefined;
  }
}

export function registerOverview(app: FastifyInstance, u: UiContext): void {
  const { ctx } = u;
  app.get('/', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    return renderOverview(u, req, reply, session, filterOf(req), 200, { flash: doneFlash(req, uiState(req).lang) });
  });

  app.get('/overview/fragment', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const f = filterOf(req);
    const o = await loadOverview(ctx, session.actor, f);
    const inc = await loadIncomplete(ctx, session.actor, f, lang);
    return sendHtml(reply, 200, join([liveContent(o, inc, f, lang, ctx.clock())]));
  });

  // Bulk registration: every selected case through recordEvent in one transaction, then planned at once.
  app.post('/queue/bulk', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const b = formBody(req);
    const f = filterOfBody(b);
    const checked = fieldAll(b, 'deadlineIds');
    const atText = field(b, 'at') ?? '';
    const prev = { checked, at: atText };
    if (checked.length === 0) return renderOverview(u, req, reply, session, f, 400, { bulk: { ...prev, message: d.queueBulkNone } });
    const at = atText ? localDateTimeToIso(atText) : undefined;
    if (atText && !at) return renderOverview(u, req, reply, session, f, 400, { bulk: { ...prev, message: d.queueBulkAtInvalid } });
    let written: Awaited<ReturnType<typeof completeInBulk>>;
    try {
      written = await completeInBulk(ctx, session.actor, { deadlineIds: checked, ...(at ? { at } : {}) });
    } catch (err) {
      if (err instanceof BulkRefused) return renderOverview(u, req, reply, session, f, err.status, { bulk: { ...prev, cases: err.cases } });
      if (err instanceof ServiceError && err.code === 'VALIDATION') return renderOverview(u, req, reply, session, f, 400, { bulk: { ...prev, message: err.message } });
      throw err;
    }
    await replanNow(u, req, written);
    const query = filterQuery(f, { page: f.page });
    return reply.redirect(`/${query ? `${query}&` : '?'}done=bulk&n=${new Set(checked).size}#list`, 303);
  });

  app.post('/queue/filters', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const b = formBody(req);
    const f = filterOfBody(b);
    const name = field(b, 'name') ?? '';
    try {
      const saved = await saveFilter(ctx, session.actor, { name, query: field(b, 'query') ?? '' });
      return reply.redirect(`/?${saved.query ? `${saved.query}&` : ''}done=filter-saved`, 303);
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'VALIDATION') {
        const tooMany = err.issues.some((i) => i.message.startsWith('at most'));
        return renderOverview(u, req, reply, session, f, 400, { saveFilter: { name, issue: tooMany ? d.filterTooMany(MAX_SAVED_FILTERS) : d.filterNameInvalid } });
      }
      throw err;
    }
  });

  app.post<{ Params: { id: string } }>('/queue/filters/:id/delete', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    await deleteSavedFilter(ctx, session.actor, req.params.id);
    return reply.redirect('/?done=filter-deleted', 303);
  });

  // By name or CPR number: a POST, so the person's identity never lands in a URL, a history or a proxy log.
  app.post('/queue/person-search', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    if (!mayseeCpr(session.actor)) return errorPage(req, reply, 403, d.forbidden);
    const person = (field(formBody(req), 'person') ?? '').slice(0, 200);
    if (!person) {
      const body = html`${errorSummary(lang, [{ path: '', message: d.personSearchRequired }])}${personSearchForm(session, lang)}<p><a href="/">← ${d.backToOverview}</a></p>`;
      return sendHtml(reply, 400, page(req, { title: d.personSearchTitle, body, active: 'overview' }));
    }
    const found = await findRecordsByPerson(ctx.db, session.actor, person);
    const insts = new Map((await listInstitutions(ctx, session.actor)).map((i) => [i.id, i.name]));
    const body = html`${personSearchForm(session, lang, person)}
<h2 id="h-results">${d.personSearchResults(found.items.length)}</h2>
${found.items.length === 0 ? html`<p>${d.personSearchNone}</p>` : html`<div class="table-wrap"><table id="person-results" class="cards"><caption>${d.personSearchResults(found.items.length)}</caption>
<thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.recordType}</th><th scope="col">${d.fields['inmateName']}</th><th scope="col">${d.institution}</th><th scope="col">${d.status}</th></tr></thead>
<tbody>${found.items.map((r) => html`<tr><th scope="row" data-label="${d.journalNumber}"><a href="${recordHref(r.recordType, r.recordId)}">${r.journalNumber}</a></th><td data-label="${d.recordType}">${d.recordTypes[r.recordType] ?? r.recordType}</td><td data-label="${d.fields['inmateName']}">${r.inmateName ?? '—'}</td><td data-label="${d.institution}">${insts.get(r.institutionId) ?? r.institutionId}</td><td data-label="${d.status}">${r.closed ? d.caseClosed : d.caseOpen}</td></tr>`)}</tbody></table></div>`}
${found.more ? html`<p class="small">${d.personSearchMore(found.items.length)}</p>` : ''}
<p><a href="/">← ${d.backToOverview}</a></p>`;
    return sendHtml(reply, 200, page(req, { title: d.personSearchTitle, body, active: 'overview' }));
  });
}

