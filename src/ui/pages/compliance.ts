/** Compliance (/compliance and /compliance.csv): shares met on time, late, breached and open. */
import type { FastifyInstance } from 'fastify';
import { RULES, type Lang } from '../../domain/index.js';
import { listAreas, listInstitutions } from '../../records/masterdata.js';
import type { Actor } from '../../records/service.js';
import { stackedBars } from '../charts.js';
import { aggregate, loadCompliance, parseComplianceFilter, toCsv, totalOf, type ComplianceFilter, type ComplianceRow } from '../data/compliance.js';
import { monthField } from '../form-fields.js';
import { pct } from '../format.js';
import { html, qs, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import { fieldErrors } from '../issues.js';
import type { UiContext } from '../index.js';
import { errorPage, errorSummary, page, queryOf, requirePage, requireSession, sendHtml, uiState } from '../web.js';

function monthLabel(month: string, lang: Lang): string {
  const names = lang === 'da'
    ? ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december']
    : ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const [y, m] = month.split('-');
  return `${names[Number(m) - 1] ?? m} ${y ?? ''}`;
}

function filterQuery(f: ComplianceFilter): string {
  return qs({ area: f.area, institution: f.institution, rule: f.rule, from: f.from, to: f.to });
}

async function filterForm(ctx: UiContext['ctx'], actor: Actor, f: ComplianceFilter, lang: Lang, errors: ReadonlyMap<string, string>): Promise<SafeHtml> {
  const d = t(lang);
  const insts = await listInstitutions(ctx, actor);
  const areas = (await listAreas(ctx)).filter((a) => insts.some((i) => i.areaId === a.id));
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${(selected ?? '') === value ? html` selected` : ''}>${label}</option>`;
  const rules = RULES.filter((r) => r.timing === 'deadline' && r.obligation === 'duty');
  const inv = (k: string) => (errors.has(k) ? html` aria-invalid="true"` : html``);
  return html`<form method="get" action="/compliance" class="no-print" novalidate><fieldset><legend>${d.filters}</legend><div class="fields">
<div class="field"><label for="c-area">${d.area}</label><select id="c-area" name="area"${inv('area')}>${opt('', d.all, f.area)}${areas.map((a) => opt(a.id, a.name, f.area))}</select></div>
<div class="field"><label for="c-inst">${d.institution}</label><select id="c-inst" name="institution"${inv('institution')}>${opt('', d.all, f.institution)}${insts.map((i) => opt(i.id, i.name, f.institution))}</select></div>
<div class="field"><label for="c-rule">${d.rule}</label><select id="c-rule" name="rule"${inv('rule')}>${opt('', d.all, f.rule)}${rules.map((r) => opt(r.id, r.title[lang], f.rule))}</select></div>
${monthField(lang, { name: 'from', id: 'c-from', label: d.fromMonth, value: f.from, error: errors.get('from') })}
${monthField(lang, { name: 'to', id: 'c-to', label: d.toMonth, value: f.to, error: errors.get('to') })}
<div class="field"><button type="submit">${d.applyFilters}</button></div>
</div></fieldset></form>`;
}

function detailTable(rows: ComplianceRow[], lang: Lang): SafeHtml {
  const d = t(lang);
  const cell = (n: number, total: number) => html`<td class="num">${n} <span class="small muted">(${pct(n, total)})</span></td>`;
  return html`<div class="table-wrap"><table id="compliance-table">
<caption>${d.details}</caption>
<thead><tr><th scope="col">${d.area}</th><th scope="col">${d.institution}</th><th scope="col">${d.rule}</th><th scope="col">${d.month}</th><th scope="col" class="num">${d.total}</th><th scope="col" class="num">${d.metOnTime}</th><th scope="col" class="num">${d.metLate}</th><th scope="col" class="num">${d.breached}</th><th scope="col" class="num">${d.open}</th></tr></thead>
<tbody>${rows.map((r) => {
    const total = totalOf(r);
    return html`<tr><td>${r.areaName}</td><td>${r.institutionName}</td><th scope="row">${r.ruleTitle}</th><td>${monthLabel(r.month, lang)}</td><td class="num">${total}</td>${cell(r.met, total)}${cell(r.metLate, total)}${cell(r.breached, total)}${cell(r.open, total)}</tr>`;
  })}</tbody></table></div>`;
}

export function registerCompliance(app: FastifyInstance, { ctx }: UiContext): void {
  app.get('/compliance', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const { filter, issues } = parseComplianceFilter(queryOf(req), ctx.clock());
    const labels: Record<string, string> = { from: d.fromMonth, to: d.toMonth, area: d.area, institution: d.institution, rule: d.rule };
    const label = (p: string): string => labels[p] ?? p;
    const form = await filterForm(ctx, session.actor, filter, lang, fieldErrors(lang, issues, label));
    if (issues.length > 0) {
      return sendHtml(reply, 400, page(req, { title: d.complianceTitle, active: 'compliance', body: html`${errorSummary(lang, issues, label)}${form}` }));
    }
    const rows = await loadCompliance(ctx, session.actor, filter, lang);
    const charts = rows.length === 0
      ? html`<p>${d.noData}</p>`
      : html`<div class="charts">
${stackedBars('chart-area', d.byArea, aggregate(rows, (r) => r.areaId, (r) => r.areaName), lang)}
${stackedBars('chart-inst', d.byInstitution, aggregate(rows, (r) => r.institutionId, (r) => r.institutionName), lang)}
${stackedBars('chart-rule', d.byRule, aggregate(rows, (r) => r.ruleId, (r) => r.ruleTitle).sort((a, b) => a.label.localeCompare(b.label, 'da')), lang)}
${stackedBars('chart-month', d.byMonth, aggregate(rows, (r) => r.month, (r) => monthLabel(r.month, lang)).sort((a, b) => a.key.localeCompare(b.key)), lang)}
</div>
${detailTable(rows, lang)}`;
    const body = html`<p>${d.complianceIntro}</p>
${form}
<p><a class="button secondary" href="/compliance.csv${filterQuery(filter)}" download>${d.downloadCsv}</a></p>
${charts}`;
    return sendHtml(reply, 200, page(req, { title: d.complianceTitle, body, active: 'compliance' }));
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
      .send(toCsv(rows));
  });
}
