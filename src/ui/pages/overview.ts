/** The overview (/): counts per area and institution and the sortable, filterable list of deadlines not yet done. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RULES, type Lang } from '../../domain/index.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import type { Actor } from '../../records/service.js';
import { loadIncomplete, type IncompleteRecord } from '../data/incomplete.js';
import { loadOverview, type CountRow, type Overview, type OverviewFilter } from '../data/overview.js';
import { recordHref } from '../data/records.js';
import { dayEl, fmtDay, fmtTime, statusBadge } from '../format.js';
import { fieldInSentence } from './record-deadlines.js';
import { html, join, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import type { UiContext } from '../index.js';
import { errorPage, page, queryOf, requirePage, requireSession, sendHtml, uiState } from '../web.js';

const RECORD_TYPES = ['incident', 'security_cell_placement', 'force_use', 'action_plan'] as const;
const STATUS_FILTERS = ['', 'breached', 'open', 'today', 'soon'] as const;

function filterOf(req: FastifyRequest): OverviewFilter {
  const q = queryOf(req);
  return { area: q['area'], institution: q['institution'], rule: q['rule'], recordType: q['recordType'], status: q['status'], sort: q['sort'], dir: q['dir'] };
}

function filterQuery(f: OverviewFilter, over: Partial<OverviewFilter> = {}): string {
  const m = { ...f, ...over };
  return qs({ area: m.area, institution: m.institution, rule: m.rule, recordType: m.recordType, status: m.status, sort: m.sort, dir: m.dir });
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

function countLink(n: number, f: OverviewFilter, over: Partial<OverviewFilter>): SafeHtml {
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

function sortHeader(label: string, key: string, f: OverviewFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  const current = (f.sort ?? 'due') === key;
  const dir = current && f.dir !== 'desc' ? 'desc' : 'asc';
  const ariaSort = current ? (f.dir === 'desc' ? 'descending' : 'ascending') : undefined;
  return html`<th scope="col"${ariaSort ? html` aria-sort="${ariaSort}"` : ''}><a href="/${filterQuery(f, { sort: key, dir })}#list" title="${d.sortBy(label)}">${label}${current ? html` <span aria-hidden="true">${f.dir === 'desc' ? '▼' : '▲'}</span>` : ''}</a></th>`;
}

function listTable(o: Overview, f: OverviewFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  if (o.items.length === 0) return html`<p>${d.noDeadlines}</p>`;
  const rows = o.items.map((i) => html`<tr>
<td>${i.ruleTitle}</td>
<td><a href="${recordHref(i.recordType, i.recordId)}">${i.journalNumber}</a><br><span class="small muted">${d.recordTypes[i.recordType] ?? i.recordType}</span></td>
<td>${i.responsible}</td>
<td>${dayEl(i.dueDate, lang)}</td>
<td>${statusBadge(i.status, lang, i.suspended)}</td>
<td>${d.basisLabels[i.basis] ?? i.basis}<br><span class="small">${i.citation}</span></td>
<td>${i.institutionName}</td>
</tr>`);
  return html`<div class="table-wrap"><table id="deadline-list" class="stack-narrow">
<caption>${d.openDeadlines}: ${statusFilterLabel(f.status ?? '', lang)}</caption>
<thead><tr>${sortHeader(d.rule, 'rule', f, lang)}${sortHeader(d.journalNumber, 'journal', f, lang)}${sortHeader(d.responsible, 'responsible', f, lang)}${sortHeader(d.due, 'due', f, lang)}${sortHeader(d.status, 'status', f, lang)}<th scope="col">${d.basis}</th>${sortHeader(d.institution, 'institution', f, lang)}</tr></thead>
<tbody>${rows}</tbody>
</table></div>
${o.total > o.items.length ? html`<p class="small">${d.showing(o.items.length, o.total)}</p>` : ''}`;
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

/** The part that refreshes every 30 s: counts, incomplete records and list. */
function liveContent(o: Overview, inc: { total: number; items: IncompleteRecord[] }, f: OverviewFilter, lang: Lang, now: Date): SafeHtml {
  const d = t(lang);
  return html`<p class="small muted" role="status">${d.updatedAt(fmtTime(now, lang))}</p>
${incompleteSection(inc, lang)}
${countsTable(o, f, lang)}
<h2 id="list">${d.openDeadlines}</h2>
${listTable(o, f, lang)}`;
}

async function filterForm(ctx: UiContext['ctx'], actor: Actor, f: OverviewFilter, lang: Lang): Promise<SafeHtml> {
  const d = t(lang);
  const areas = await listAreas(ctx);
  const insts = await listInstitutions(ctx, actor);
  const visibleAreas = areas.filter((a) => insts.some((i) => i.areaId === a.id));
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const deadlineRules = RULES.filter((r) => r.timing === 'deadline' && r.obligation === 'duty' && r.recordType !== 'annual_overview');
  return html`<form method="get" action="/" class="no-print">
<fieldset><legend>${d.filters}</legend><div class="fields">
<div class="field"><label for="f-area">${d.area}</label><select id="f-area" name="area">${opt('', d.all, f.area)}${visibleAreas.map((a) => opt(a.id, a.name, f.area))}</select></div>
<div class="field"><label for="f-inst">${d.institution}</label><select id="f-inst" name="institution">${opt('', d.all, f.institution)}${insts.map((i) => opt(i.id, i.name, f.institution))}</select></div>
<div class="field"><label for="f-rule">${d.rule}</label><select id="f-rule" name="rule">${opt('', d.all, f.rule)}${deadlineRules.map((r) => opt(r.id, r.title[lang], f.rule))}</select></div>
<div class="field"><label for="f-type">${d.recordType}</label><select id="f-type" name="recordType">${opt('', d.all, f.recordType)}${RECORD_TYPES.map((rt) => opt(rt, d.recordTypes[rt] ?? rt, f.recordType))}</select></div>
<div class="field"><label for="f-status">${d.status}</label><select id="f-status" name="status">${STATUS_FILTERS.map((s) => opt(s, statusFilterLabel(s, lang), f.status))}</select></div>
${f.sort ? html`<input type="hidden" name="sort" value="${f.sort}">` : ''}${f.dir ? html`<input type="hidden" name="dir" value="${f.dir}">` : ''}
<div class="field"><button type="submit">${d.applyFilters}</button></div>
</div></fieldset></form>`;
}

export function registerOverview(app: FastifyInstance, { ctx }: UiContext): void {
  app.get('/', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const f = filterOf(req);
    const o = await loadOverview(ctx, session.actor, f, lang).catch((err: unknown) => err as Error);
    if (o instanceof Error) return errorPage(req, reply, (o as { status?: number }).status ?? 500, o.message);
    const inc = await loadIncomplete(ctx, session.actor, f, lang);
    const d = t(lang);
    // Every 30 s by default; `refresh` (ms, 1 s – 5 min) lets a wall display or a test choose.
    const every = Math.min(300_000, Math.max(1000, Number.parseInt(queryOf(req)['refresh'] ?? '', 10) || 30_000));
    const body = html`${await filterForm(ctx, session.actor, f, lang)}
<div id="live" data-refresh="/overview/fragment${filterQuery(f)}" data-refresh-every="${every}">
${liveContent(o, inc, f, lang, ctx.clock())}
</div>`;
    return sendHtml(reply, 200, page(req, { title: d.overviewTitle, body, active: 'overview' }));
  });

  app.get('/overview/fragment', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const f = filterOf(req);
    const o = await loadOverview(ctx, session.actor, f, lang);
    const inc = await loadIncomplete(ctx, session.actor, f, lang);
    return sendHtml(reply, 200, join([liveContent(o, inc, f, lang, ctx.clock())]));
  });
}
