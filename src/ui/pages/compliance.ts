/**
 * Compliance (/compliance): shares met on time, met late, breached and open per area, institution,
 * rule and month, each bar, figure and cell leading to the deadlines behind it (/compliance/cases);
 * the monthly trend per rule, area or institution with the administrator's target per rule
 * (POST /compliance/targets, through the audited settings service); and the same figures as
 * /compliance.csv (Danish Excel: `;`, decimal comma, BOM) and /compliance.xlsx.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatDecimal, formatPercent, formatShare, RULES, type Lang } from '../../domain/index.js';
import type { FieldIssue } from '../../records/errors.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import type { Actor } from '../../records/service.js';
import { COMPLIANCE_RULE_IDS, loadComplianceTargets, putSetting, type ComplianceTargets } from '../../records/settings.js';
import { canonicalJson } from '../../db/audit.js';
import { stackedBars, trendChart, type Bar } from '../charts.js';
import {
  aggregate, CASE_CHOICES, decidedOf, loadCompliance, loadComplianceCases, OUTCOME_OF, parseComplianceFilter, segmentOf, SEGMENTS, totalOf, TREND_BY, trendSeries,
  type CaseChoice, type ComplianceFilter, type ComplianceRow, type TrendBy,
} from '../data/compliance.js';
import { complianceCsv, complianceXlsx, XLSX_TYPE } from '../data/compliance-export.js';
import { recordHref } from '../data/records.js';
import { monthField } from '../form-fields.js';
import { dayEl, fmtMonth, ruleTitle, statusBadge, timeEl } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import { fieldErrors } from '../issues.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, field, formBody, issuesOf, page, queryOf, requireAdmin, requireCsrf, requirePage, requireSession, sendHtml, uiState } from '../web.js';

const CASES_PAGE = 100;
const COMPLIANCE_RULES = RULES.filter((r) => COMPLIANCE_RULE_IDS.includes(r.id));

function filterQuery(f: ComplianceFilter, extra: Record<string, string | number | undefined> = {}): string {
  return qs({ area: f.area, institution: f.institution, rule: f.rule, from: f.from, to: f.to, ...extra });
}

/** The drill-through: the page's filter narrowed to one bar, row or month, and optionally one outcome. */
function casesHref(f: ComplianceFilter, over: Partial<ComplianceFilter>, outcome?: CaseChoice): string {
  return `/compliance/cases${filterQuery({ ...f, ...over }, { outcome })}`;
}

function parseTrendBy(q: Record<string, string>): { by: TrendBy; issue?: FieldIssue } {
  const v = q['trend'];
  if (v === undefined) return { by: 'rule' };
  if ((TREND_BY as readonly string[]).includes(v)) return { by: v as TrendBy };
  return { by: 'rule', issue: { path: 'trend', message: `must be one of ${TREND_BY.join(', ')}` } };
}

function fieldLabels(lang: Lang): Record<string, string> {
  const d = t(lang);
  return { from: d.fromMonth, to: d.toMonth, area: d.area, institution: d.institution, rule: d.rule, trend: d.cp.trendBy, outcome: d.cp.outcome, offset: d.pagination };
}

async function scopeLists(ctx: UiContext['ctx'], actor: Actor) {
  const insts = await listInstitutions(ctx, actor);
  const areas = (await listAreas(ctx)).filter((a) => insts.some((i) => i.areaId === a.id));
  return { insts, areas };
}

async function filterForm(ctx: UiContext['ctx'], actor: Actor, f: ComplianceFilter, by: TrendBy, lang: Lang, errors: ReadonlyMap<string, string>): Promise<SafeHtml> {
  const d = t(lang);
  const { insts, areas } = await scopeLists(ctx, actor);
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const inv = (k: string) => (errors.has(k) ? html` aria-invalid="true"` : html``);
  return html`<form method="get" action="/compliance" class="no-print" novalidate><fieldset><legend>${d.filters}</legend><div class="fields">
<div class="field"><label for="c-area">${d.area}</label><select id="c-area" name="area"${inv('area')}>${opt('', d.all, f.area)}${areas.map((a) => opt(a.id, a.name, f.area))}</select></div>
<div class="field"><label for="c-inst">${d.institution}</label><select id="c-inst" name="institution"${inv('institution')}>${opt('', d.all, f.institution)}${insts.map((i) => opt(i.id, i.name, f.institution))}</select></div>
<div class="field"><label for="c-rule">${d.rule}</label><select id="c-rule" name="rule"${inv('rule')}>${opt('', d.all, f.rule)}${COMPLIANCE_RULES.map((r) => opt(r.id, r.title[lang], f.rule))}</select></div>
${monthField(lang, { name: 'from', id: 'c-from', label: d.fromMonth, value: f.from, error: errors.get('from') })}
${monthField(lang, { name: 'to', id: 'c-to', label: d.toMonth, value: f.to, error: errors.get('to') })}
<div class="field"><label for="c-trend">${d.cp.trendBy}</label><select id="c-trend" name="trend"${inv('trend')}>${TREND_BY.map((b) => opt(b, d.cp.trendByOptions[b] ?? b, by))}</select></div>
<div class="field"><button type="submit">${d.applyFilters}</button></div>
</div></fieldset></form>`;
}

function detailTable(rows: ComplianceRow[], f: ComplianceFilter, lang: Lang): SafeHtml {
  const d = t(lang);
  return html`<div class="table-wrap"><table id="compliance-table">
<caption>${d.details}</caption>
<thead><tr><th scope="col">${d.area}</th><th scope="col">${d.institution}</th><th scope="col">${d.rule}</th><th scope="col">${d.month}</th><th scope="col" class="num">${d.total}</th><th scope="col" class="num">${d.metOnTime}</th><th scope="col" class="num">${d.metLate}</th><th scope="col" class="num">${d.breached}</th><th scope="col" class="num">${d.open}</th></tr></thead>
<tbody>${rows.map((r) => {
    const total = totalOf(r);
    const over = { area: r.areaId, institution: r.institutionId, rule: r.ruleId, from: r.month, to: r.month };
    const link = (n: number, outcome?: CaseChoice) => (n === 0 ? html`0` : html`<a href="${casesHref(f, over, outcome)}" data-count="${n}">${n}</a>`);
    return html`<tr><td>${r.areaName}</td><td>${r.institutionName}</td><th scope="row">${r.ruleTitle}</th><td>${fmtMonth(r.month, lang)}</td><td class="num">${link(total)}</td>${SEGMENTS.map((s) => html`<td class="num">${link(r[s], OUTCOME_OF[s])} <span class="small muted">(${formatShare(r[s], total, lang)})</span></td>`)}</tr>`;
  })}</tbody></table></div>`;
}

/** The administrator's targets per rule: a field per rule, saved through the settings service (audited as settings.update). */
function targetsForm(session: UiSession, f: ComplianceFilter, by: TrendBy, targets: ComplianceTargets, lang: Lang, typed: Record<string, string> | undefined, invalid: Set<string>): SafeHtml {
  const d = t(lang);
  const hidden = ([['area', f.area], ['institution', f.institution], ['rule', f.rule], ['from', f.from], ['to', f.to], ['trend', by]] as const).filter(([, v]) => v).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v ?? ''}">`);
  const value = (id: string) => typed?.[id] ?? (targets[id] === undefined ? '' : formatDecimal(targets[id], lang));
  return html`<form method="post" action="/compliance/targets" id="targets-form" class="no-print">${csrfField(session)}${hidden}
<fieldset><legend>${d.cp.targetsTitle}</legend>
<p class="small" id="targets-help">${d.cp.targetsIntro}</p>
<div class="fields" id="targets">${COMPLIANCE_RULES.map((r) => html`<div class="field"><label for="target__${r.id}">${r.title[lang]} (%)</label><input type="text" inputmode="decimal" size="6" id="target__${r.id}" name="target__${r.id}" value="${value(r.id)}" aria-describedby="targets-help"${invalid.has(r.id) ? html` aria-invalid="true"` : ''}></div>`)}</div>
<p><button type="submit">${d.cp.saveTargets}</button></p>
</fieldset></form>`;
}

function targetsList(targets: ComplianceTargets, lang: Lang): SafeHtml {
  const d = t(lang);
  const set = COMPLIANCE_RULES.filter((r) => targets[r.id] !== undefined);
  return html`<section aria-labelledby="h-targets"><h3 id="h-targets">${d.cp.targetsTitle}</h3>
${set.length === 0 ? html`<p>${d.cp.noTarget}</p>` : html`<ul id="targets-list">${set.map((r) => html`<li>${r.title[lang]}: ${formatPercent(targets[r.id] ?? 0, lang)}</li>`)}</ul>`}
<p class="small muted">${d.cp.targetsReadOnly}</p></section>`;
}

interface TargetsAttempt {
  typed: Record<string, string>;
  issues: FieldIssue[];
}

async function compliancePage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, status: number, q: Record<string, string>, attempt?: TargetsAttempt): Promise<FastifyReply> {
  const { ctx } = u;
  const { lang } = uiState(req);
  const d = t(lang);
  const { filter: f, issues } = parseComplianceFilter(q, ctx.clock());
  const trend = parseTrendBy(q);
  if (trend.issue) issues.push(trend.issue);
  const filterLabels = fieldLabels(lang);
  const label = (p: string): string => filterLabels[p] ?? p;
  const form = await filterForm(ctx, session.actor, f, trend.by, lang, fieldErrors(lang, issues, label));
  if (issues.length > 0) {
    return sendHtml(reply, 400, page(req, { title: d.complianceTitle, active: 'compliance', body: html`${errorSummary(lang, issues, label)}${form}` }));
  }
  const rows = await loadCompliance(ctx, session.actor, f, lang);
  const targets = await loadComplianceTargets(ctx.db);
  const series = trendSeries(rows, f, trend.by, targets);
  const barsOf = (id: string, caption: string, key: keyof ComplianceFilter, bars: Bar[]) =>
    stackedBars(id, caption, bars, lang, (b, outcome) => casesHref(f, key === 'from' ? { from: b.key, to: b.key } : { [key]: b.key }, outcome));
  const charts = rows.length === 0
    ? html`<p>${d.noData}</p>`
    : html`<p class="small">${d.cp.clickHint}</p>
<div class="charts">
${barsOf('chart-area', d.byArea, 'area', aggregate(rows, (r) => r.areaId, (r) => r.areaName))}
${barsOf('chart-inst', d.byInstitution, 'institution', aggregate(rows, (r) => r.institutionId, (r) => r.institutionName))}
${barsOf('chart-rule', d.byRule, 'rule', aggregate(rows, (r) => r.ruleId, (r) => r.ruleTitle).sort((a, b) => a.label.localeCompare(b.label, 'da')))}
${barsOf('chart-month', d.byMonth, 'from', aggregate(rows, (r) => r.month, (r) => fmtMonth(r.month, lang)).sort((a, b) => a.key.localeCompare(b.key)))}
</div>`;
  const seriesKey: keyof ComplianceFilter = trend.by === 'rule' ? 'rule' : trend.by === 'area' ? 'area' : 'institution';
  const hint = trend.by !== 'rule' && !f.rule ? d.cp.targetNeedsRule : undefined;
  const trendSection = html`<section id="trend" aria-labelledby="h-trend"><h2 id="h-trend">${d.cp.trendTitle}</h2>
${series.length === 0 ? html`<p>${d.noData}</p>` : html`<p>${d.cp.trendIntro}</p>
<p class="small">${d.cp.pointKey}</p>`}
${series.length === 0 ? '' : html`<div class="trend-grid">${series.map((s, i) => trendChart(`trend-${i}`, s, lang, (month, outcome) => casesHref(f, { [seriesKey]: s.key, from: month, to: month }, outcome), hint))}</div>`}
${session.actor.role === 'admin' ? targetsForm(session, f, trend.by, targets, lang, attempt?.typed, new Set((attempt?.issues ?? []).map((i) => i.path.replace(/^value\./, '')))) : targetsList(targets, lang)}
</section>`;
  const labels = Object.fromEntries(COMPLIANCE_RULES.map((r) => [`value.${r.id}`, d.cp.targetFor(r.title[lang])]));
  const body = html`${attempt ? errorSummary(lang, attempt.issues.map((i) => ({ path: i.path, message: d.cp.targetInvalid })), (p) => labels[p] ?? p) : ''}
<p>${d.complianceIntro}</p>
${form}
<p class="exports"><a class="button secondary" id="export-csv" href="/compliance.csv${filterQuery(f)}" download>${d.cp.downloadCsvDk}</a> <a class="button secondary" id="export-xlsx" href="/compliance.xlsx${filterQuery(f, { trend: trend.by === 'rule' ? undefined : trend.by })}" download>${d.cp.downloadXlsx}</a></p>
${charts}
${trendSection}
${rows.length === 0 ? '' : detailTable(rows, f, lang)}`;
  const flash = queryOf(req)['done'] === 'targets' && !attempt ? { kind: 'ok' as const, text: d.cp.targetsSaved } : undefined;
  return sendHtml(reply, status, page(req, { title: d.complianceTitle, body, active: 'compliance', flash }));
}

/** A target as typed: "92,5" and "92.5" are numbers; anything else goes to the service as text, which refuses it naming the field. */
function typedTarget(v: string): number | string {
  return /^\d{1,3}([.,]\d+)?$/.test(v) ? Number(v.replace(',', '.')) : v;
}

function selectionFacts(f: ComplianceFilter, only: CaseChoice | undefined, names: { area?: string | undefined; institution?: string | undefined }, lang: Lang): SafeHtml {
  const d = t(lang);
  const period = f.from === f.to ? fmtMonth(f.from, lang) : `${fmtMonth(f.from, lang)} – ${fmtMonth(f.to, lang)}`;
  return html`<dl class="facts" id="selection">
<dt>${d.area}</dt><dd>${f.area ? (names.area ?? f.area) : d.all}</dd>
<dt>${d.institution}</dt><dd>${f.institution ? (names.institution ?? f.institution) : d.all}</dd>
<dt>${d.rule}</dt><dd>${f.rule ? ruleTitle(f.rule, lang) : d.all}</dd>
<dt>${d.cp.period}</dt><dd>${period}</dd>
<dt>${d.cp.outcome}</dt><dd>${choiceLabel(only, lang)}</dd>
</dl>`;
}

function choiceLabel(c: CaseChoice | undefined, lang: Lang): string {
  const d = t(lang);
  switch (c) {
    case undefined: return d.cp.allOutcomes;
    case 'decided': return d.cp.decided;
    case 'met': return d.metOnTime;
    case 'met_late': return d.metLate;
    case 'breached': return d.breached;
    default: return d.open;
  }
}

export function registerCompliance(app: FastifyInstance, u: UiContext): void {
  const { ctx } = u;

  app.get('/compliance', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    return compliancePage(u, req, reply, session, 200, queryOf(req));
  });

  app.get('/compliance/cases', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const q = queryOf(req);
    const { filter: f, issues } = parseComplianceFilter(q, ctx.clock());
    const only = q['outcome'] as CaseChoice | undefined;
    if (only !== undefined && !CASE_CHOICES.includes(only)) issues.push({ path: 'outcome', message: `must be one of ${CASE_CHOICES.join(', ')}` });
    const offset = q['offset'] === undefined ? 0 : /^\d{1,7}$/.test(q['offset']) ? Number(q['offset']) : NaN;
    if (Number.isNaN(offset)) issues.push({ path: 'offset', message: 'must be a whole number from 0' });
    if (issues.length > 0) {
      const labels = fieldLabels(lang);
      return sendHtml(reply, 400, page(req, { title: d.cp.casesTitle, active: 'compliance', body: html`${errorSummary(lang, issues, (p) => labels[p] ?? p)}<p><a href="/compliance">${d.cp.backToCompliance}</a></p>` }));
    }
    const list = await loadComplianceCases(ctx, session.actor, f, only, lang, { limit: CASES_PAGE, offset });
    const { insts, areas } = await scopeLists(ctx, session.actor);
    const facts = selectionFacts(f, only, { area: areas.find((a) => a.id === f.area)?.name, institution: insts.find((i) => i.id === f.institution)?.name }, lang);
    const choices: Array<CaseChoice | undefined> = [undefined, 'decided', ...SEGMENTS.map((s) => OUTCOME_OF[s])];
    const countOf = (c: CaseChoice | undefined) => (c === undefined ? totalOf(list.counts) : c === 'decided' ? decidedOf(list.counts) : list.counts[segmentOf(c)]);
    const nav = html`<nav aria-label="${d.cp.outcomeNav}" class="outcomes no-print"><ul>${choices.map((c) => html`<li><a href="/compliance/cases${filterQuery(f, { outcome: c })}"${c === only ? html` aria-current="page"` : ''}>${choiceLabel(c, lang)} (${countOf(c)})</a></li>`)}</ul></nav>`;
    const rows = list.items.map((i) => html`<tr data-outcome="${i.outcome}">
<td><a href="${recordHref(i.recordType, i.recordId)}">${i.journalNumber}</a><br><span class="small muted">${d.recordTypes[i.recordType] ?? i.recordType}</span></td>
<td>${i.ruleTitle}</td>
<td>${i.institutionName}</td>
<td>${dayEl(i.dueDate, lang)}</td>
<td>${i.completedAt ? timeEl(i.completedAt, lang) : d.cp.notDone}</td>
<td>${statusBadge(i.outcome, lang, i.outcome === 'open' && i.suspended)}</td>
</tr>`);
    const pageLink = (o: number) => `/compliance/cases${filterQuery(f, { outcome: only, offset: o > 0 ? o : undefined })}`;
    const table = list.items.length === 0
      ? html`<p>${d.cp.casesEmpty}</p>`
      : html`<div class="table-wrap"><table id="cases">
<caption>${d.cp.casesTitle}: ${choiceLabel(only, lang)}</caption>
<thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.rule}</th><th scope="col">${d.institution}</th><th scope="col">${d.due}</th><th scope="col">${d.completedAt}</th><th scope="col">${d.cp.outcome}</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${list.total > list.items.length ? html`<p class="small">${d.showing(list.items.length, list.total)}</p>
<nav aria-label="${d.pagination}" class="pagination">${offset > 0 ? html`<a href="${pageLink(Math.max(0, offset - CASES_PAGE))}">${d.previous}</a> ` : ''}${offset + CASES_PAGE < list.total ? html`<a href="${pageLink(offset + CASES_PAGE)}">${d.next}</a>` : ''}</nav>` : ''}`;
    const body = html`<p>${d.cp.casesIntro}</p>
${facts}
${nav}
<p id="case-count" data-total="${list.total}"><strong>${d.cp.casesCount(list.total)}</strong></p>
${table}
<p><a href="/compliance${filterQuery(f)}">${d.cp.backToCompliance}</a></p>`;
    return sendHtml(reply, 200, page(req, { title: d.cp.casesTitle, body, active: 'compliance' }));
  });

  app.post('/compliance/targets', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    if (!requireAdmin(req, reply, session)) return reply;
    const b = formBody(req);
    const view: Record<string, string> = {};
    for (const k of ['area', 'institution', 'rule', 'from', 'to', 'trend']) {
      const v = field(b, k);
      if (v !== undefined) view[k] = v;
    }
    const typed: Record<string, string> = {};
    const value: Record<string, number | string> = {};
    for (const id of COMPLIANCE_RULE_IDS) {
      const v = field(b, `target__${id}`);
      if (v === undefined) continue;
      typed[id] = v;
      value[id] = typedTarget(v);
    }
    const current = await loadComplianceTargets(ctx.db);
    if (canonicalJson(current) !== canonicalJson(value)) {
      try {
        await putSetting(ctx, 'complianceTargets', { value }, session.actor);
      } catch (err) {
        const issues = issuesOf(err);
        if (!issues) throw err;
        return compliancePage(u, req, reply, session, 400, view, { typed, issues });
      }
    }
    return reply.redirect(`/compliance${qs({ ...view, done: 'targets' })}#trend`, 303);
  });

  app.get('/compliance.csv', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const { filter, issues } = parseComplianceFilter(queryOf(req), ctx.clock());
    if (issues.length > 0) return errorPage(req, reply, 400, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const rows = await loadCompliance(ctx, session.actor, filter, lang);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="fristvagt-efterlevelse-${filter.from}-${filter.to}.csv"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(complianceCsv(rows, await loadComplianceTargets(ctx.db), lang));
  });

  app.get('/compliance.xlsx', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const q = queryOf(req);
    const { filter, issues } = parseComplianceFilter(q, ctx.clock());
    const trend = parseTrendBy(q);
    if (trend.issue) issues.push(trend.issue);
    if (issues.length > 0) return errorPage(req, reply, 400, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    const rows = await loadCompliance(ctx, session.actor, filter, lang);
    const targets = await loadComplianceTargets(ctx.db);
    const d = t(lang);
    const header = trend.by === 'rule' ? d.rule : trend.by === 'area' ? d.area : d.institution;
    const file = await complianceXlsx(rows, trendSeries(rows, filter, trend.by, targets), header, targets, lang, ctx.clock());
    return reply
      .header('content-type', XLSX_TYPE)
      .header('content-disposition', `attachment; filename="fristvagt-efterlevelse-${filter.from}-${filter.to}.xlsx"`)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(file);
  });
}
