/**
 * Settings (admin only): reminder stages, escalation ladder and send window (default and per
 * rule), digest, closure days, policy deadlines and recipients. Every change goes
 * form → impact preview (nothing written) → save, and the save goes through the settings
 * service the API uses (validated, audited), all keys in one transaction.
 */
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RULES, ruleById, type Lang } from '../../domain/index.js';
import type { Db } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';
import type { FieldIssue } from '../../records/errors.js';
import { listAreas } from '../../records/masterdata.js';
import { putSetting, SETTINGS } from '../../records/settings.js';
import { changedKeys, computeImpact, fingerprint, loadSettingsSet, SETTING_KEYS, type DeadlineChange, type Impact, type MailChange, type SettingKey, type SettingsSet } from '../data/impact.js';
import { recordHref } from '../data/records.js';
import { dayEl, fmtInstant, ruleTitle, statusBadge, timeEl } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t, type Dict } from '../i18n.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, field, fieldAll, formBody, page, queryOf, requireAdmin, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

const MAX_STAGES = 10;
const SHOW_ROWS = 200;
type Stage = SettingsSet['schedule']['stages'][number];

const DEADLINE_RULES = RULES.filter((r) => r.timing === 'deadline');
const POLICY_PARAMS = RULES.flatMap((r) => Object.entries(r.defaults ?? {}).map(([param, def]) => ({ rule: r.id, param, def })));
/** Policy an administrator sets per area on this page (the area's lawyers review security-cell cases, seed 001). */
const AREA_POLICY_RULES = ['cell.case-review'];
const AREA_POLICY_PARAMS = POLICY_PARAMS.filter((p) => AREA_POLICY_RULES.includes(p.rule));

interface AreaRef {
  id: string;
  name: string;
}

function areaField(areaId: string, rule: string, param: string): string {
  return `abp__${areaId}__${rule}__${param}`;
}

/** Where a form field's value lands, so that an error on a setting path can mark its input. */
interface FormMap {
  stageRows: number[];
}

interface Parsed {
  candidate: SettingsSet;
  issues: FieldIssue[];
  map: FormMap;
}

function lines(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,;]+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A number field kept as text when it is not a whole number, so validation names it instead of guessing. */
function numberOr(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

/**
 * Per-area policy from the form: an empty field means "as the common policy" (no override). Overrides
 * of rules this page does not show, and of areas it does not list, stay as they are.
 */
function parseAreaPolicy(b: FormBody, current: SettingsSet, areaList: readonly AreaRef[]): SettingsSet['policyByArea'] {
  const out: SettingsSet['policyByArea'] = {};
  for (const [areaId, rules] of Object.entries(current.policyByArea)) {
    const kept = Object.fromEntries(Object.entries(rules).filter(([rule]) => !AREA_POLICY_RULES.includes(rule) || !areaList.some((a) => a.id === areaId)));
    if (Object.keys(kept).length > 0) out[areaId] = kept;
  }
  for (const a of areaList) {
    for (const p of AREA_POLICY_PARAMS) {
      const raw = numberOr(field(b, areaField(a.id, p.rule, p.param)));
      if (raw === undefined) continue;
      const area = (out[a.id] ??= {});
      area[p.rule] = { ...(area[p.rule] ?? {}), [p.param]: raw as number };
    }
  }
  return out;
}

function parseForm(b: FormBody, current: SettingsSet, areaList: readonly AreaRef[]): Parsed {
  const scope = field(b, 'scope') ?? 'default';
  const stageRows: number[] = [];
  const stages: Stage[] = [];
  for (let i = 0; i < MAX_STAGES + 2; i++) {
    const id = field(b, `s_id_${i}`);
    const wd = field(b, `s_wd_${i}`);
    if (id === undefined && wd === undefined) continue;
    if (field(b, `s_del_${i}`)) continue;
    stageRows.push(i);
    stages.push({ id: id ?? '', kind: (field(b, `s_kind_${i}`) ?? '') as Stage['kind'], audience: (field(b, `s_aud_${i}`) ?? '') as Stage['audience'], workingDays: numberOr(wd) as number, at: field(b, `s_at_${i}`) ?? '' });
  }
  const schedule: SettingsSet['schedule'] = { ...current.schedule, window: { from: field(b, 'window_from') ?? '', to: field(b, 'window_to') ?? '' }, noWaitRules: fieldAll(b, 'noWait') };
  if (scope === 'default') schedule.stages = stages;
  else {
    const perRule = { ...(current.schedule.perRule ?? {}) };
    if (field(b, 'useDefault')) delete perRule[scope];
    else perRule[scope] = stages;
    if (Object.keys(perRule).length > 0) schedule.perRule = perRule;
    else delete schedule.perRule;
  }
  const policy: Record<string, Record<string, number>> = {};
  for (const p of POLICY_PARAMS) {
    const raw = numberOr(field(b, `policy__${p.rule}__${p.param}`));
    const had = current.policy[p.rule]?.[p.param] !== undefined;
    // An untouched default stays implicit; an existing override stays explicit even at the default value.
    if (raw === undefined || (raw === p.def && !had)) continue;
    policy[p.rule] = { ...(policy[p.rule] ?? {}), [p.param]: raw as number };
  }
  const candidate: SettingsSet = {
    closureDays: lines(field(b, 'closureDays')),
    policy,
    policyByArea: parseAreaPolicy(b, current, areaList),
    schedule,
    // An empty external address is unset (null): nothing is sent to it, and config check and /readyz say so.
    recipients: { ombudsman: field(b, 'ombudsman') || null, directorate: field(b, 'directorate') || null, admins: lines(field(b, 'admins')) },
    digest: field(b, 'digest') === '1',
    recency: field(b, 'recency') === undefined ? current.recency : { workingDays: numberOr(field(b, 'recency')) as number },
  };
  return { ...validate(candidate), map: { stageRows } };
}

/** Each key through the schema the settings service applies; paths start with the setting key. */
function validate(candidate: SettingsSet): { candidate: SettingsSet; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const out = { ...candidate } as Record<SettingKey, unknown>;
  for (const key of SETTING_KEYS) {
    const schema = SETTINGS[key] as z.ZodType<unknown>;
    const r = schema.safeParse(candidate[key]);
    if (r.success) out[key] = r.data;
    else for (const i of r.error.issues) issues.push({ path: [key, ...i.path.map(String)].join('.'), message: i.message.replace(/^Invalid input: /, '') });
  }
  return { candidate: out as unknown as SettingsSet, issues };
}

function stageLabel(d: Dict, idx: string | undefined, prop: string | undefined): string {
  const props: Record<string, string> = { id: d.stageId, kind: d.stageKind, audience: d.stageAudience, workingDays: d.stageDays, at: d.stageAt };
  return [idx !== undefined ? d.stageN(Number(idx) + 1) : '', prop ? (props[prop] ?? prop) : ''].filter(Boolean).join(' › ');
}

/** A rule id and parameter from the parts of an issue path: rule ids hold dots themselves ("cell.case-review"). */
function rulePath(parts: string[]): { rule: string; param: string | undefined } {
  for (let k = parts.length; k > 0; k--) {
    const rule = parts.slice(0, k).join('.');
    if (ruleById(rule)) return { rule, param: parts[k] };
  }
  return { rule: parts.join('.'), param: undefined };
}

/** "schedule.stages.1.workingDays" → "Påmindelser og rykkere › Trin 2 › Arbejdsdage". */
function issueLabel(lang: Lang, path: string, areaNames: ReadonlyMap<string, string> = new Map()): string {
  const d = t(lang);
  const [key, ...rest] = path.split('.');
  switch (key) {
    case 'schedule': {
      if (rest[0] === 'stages') return `${d.scheduleStages} › ${stageLabel(d, rest[1], rest[2])}`;
      if (rest[0] === 'perRule') return `${d.scheduleFor(ruleTitle(rest[1] ?? '', lang))} › ${stageLabel(d, rest[2], rest[3])}`;
      if (rest[0] === 'window') return `${d.window}${rest[1] === 'from' ? ` › ${d.windowFrom}` : rest[1] === 'to' ? ` › ${d.windowTo}` : ''}`;
      if (rest[0] === 'noWaitRules') return d.noWait;
      return d.scheduleStages;
    }
    case 'closureDays': return `${d.closureDays}${rest[0] !== undefined ? ` (${Number(rest[0]) + 1})` : ''}`;
    case 'policy': {
      const { rule, param } = rulePath(rest);
      return [d.policy, rule ? ruleTitle(rule, lang) : undefined, param ? (d.policyParams[param] ?? param) : undefined].filter(Boolean).join(' › ');
    }
    case 'policyByArea': {
      const { rule, param } = rulePath(rest.slice(1));
      return [d.policyByArea, areaNames.get(rest[0] ?? '') ?? rest[0], rule ? ruleTitle(rule, lang) : undefined, param ? (d.policyParams[param] ?? param) : undefined].filter(Boolean).join(' › ');
    }
    case 'recipients': return `${d.recipients} › ${rest[0] === 'ombudsman' ? d.ombudsman : rest[0] === 'directorate' ? d.directorate : d.admins}`;
    case 'digest': return d.digest;
    case 'recency': return d.recency;
    default: return path;
  }
}

function invalidInputs(issues: FieldIssue[], map: FormMap | undefined, scope: string): Set<string> {
  const names = new Set<string>();
  const short: Record<string, string> = { id: 'id', kind: 'kind', audience: 'aud', workingDays: 'wd', at: 'at' };
  for (const i of issues) {
    const p = i.path.split('.');
    const stageIdx = p[1] === 'stages' && scope === 'default' ? p[2] : p[1] === 'perRule' && p[2] === scope ? p[3] : undefined;
    const prop = p[1] === 'stages' ? p[3] : p[4];
    if (p[0] === 'schedule' && stageIdx !== undefined) {
      const row = map?.stageRows[Number(stageIdx)] ?? Number(stageIdx);
      names.add(`s_${short[prop ?? 'id'] ?? 'id'}_${row}`);
    } else if (p[0] === 'schedule' && p[1] === 'window') names.add(p[2] === 'to' ? 'window_to' : 'window_from');
    else if (p[0] === 'policy') {
      const { rule, param } = rulePath(p.slice(1));
      names.add(`policy__${rule}__${param ?? ''}`);
    } else if (p[0] === 'policyByArea') {
      const { rule, param } = rulePath(p.slice(2));
      names.add(areaField(p[1] ?? '', rule, param ?? ''));
    }
    else if (p[0] === 'recipients') names.add(p[1] ?? 'admins');
    else if (p[0]) names.add(p[0]);
  }
  return names;
}

function stagesFor(s: SettingsSet, scope: string): Stage[] {
  return scope === 'default' ? s.schedule.stages : (s.schedule.perRule?.[scope] ?? s.schedule.stages);
}

/** Per area, each parameter of the per-area rules: empty (or "as common policy") means no override. */
function areaPolicyFieldset(lang: Lang, s: SettingsSet, areaList: readonly AreaRef[], inv: (name: string) => SafeHtml): SafeHtml {
  const d = t(lang);
  if (areaList.length === 0) return html``;
  const common = (rule: string, param: string, def: number): number => s.policy[rule]?.[param] ?? def;
  const cell = (a: AreaRef, p: (typeof AREA_POLICY_PARAMS)[number]) => {
    const name = areaField(a.id, p.rule, p.param);
    const v = s.policyByArea[a.id]?.[p.rule]?.[p.param];
    const label = html`<label class="visually-hidden" for="${name}">${a.name}: ${ruleTitle(p.rule, lang)} – ${d.policyParams[p.param] ?? p.param}</label>`;
    if (p.param === 'enabled') {
      const opt = (value: string, text: string) => html`<option value="${value}"${(v === undefined ? '' : String(v)) === value ? html` selected` : ''}>${text}</option>`;
      return html`<td>${label}<select id="${name}" name="${name}"${inv(name)}>${opt('', `${d.inherit} (${common(p.rule, p.param, p.def) === 0 ? d.off : d.on})`)}${opt('1', d.on)}${opt('0', d.off)}</select></td>`;
    }
    return html`<td>${label}<input type="number" min="0" max="366" id="${name}" name="${name}" value="${v === undefined ? '' : String(v)}" placeholder="${String(common(p.rule, p.param, p.def))}"${inv(name)}></td>`;
  };
  return html`<fieldset id="area-policy"><legend>${d.policyByArea}</legend>
<p class="small">${d.policyByAreaHelp}</p>
<div class="table-wrap"><table><caption class="visually-hidden">${d.policyByArea}</caption>
<thead><tr><th scope="col">${d.area}</th>${AREA_POLICY_PARAMS.map((p) => html`<th scope="col">${ruleTitle(p.rule, lang)}: ${d.policyParams[p.param] ?? p.param}</th>`)}</tr></thead>
<tbody>${areaList.map((a) => html`<tr><th scope="row">${a.name}</th>${AREA_POLICY_PARAMS.map((p) => cell(a, p))}</tr>`)}</tbody></table></div>
</fieldset>`;
}

function settingsForm(session: UiSession, lang: Lang, s: SettingsSet, scope: string, invalid: Set<string>, configClosure: readonly string[], areaList: readonly AreaRef[]): SafeHtml {
  const d = t(lang);
  const inv = (name: string) => (invalid.has(name) ? html` aria-invalid="true"` : html``);
  const stages = stagesFor(s, scope);
  const rows = [...stages, undefined].slice(0, MAX_STAGES + 1);
  const opt = (value: string, label: string, selected: string | undefined) => html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;
  const stageRow = (st: Stage | undefined, i: number) => html`<tr>
<th scope="row">${st ? d.stageN(i + 1) : d.stageNew}</th>
<td><label class="visually-hidden" for="s_id_${i}">${d.stageN(i + 1)} ${d.stageId}</label><input type="text" id="s_id_${i}" name="s_id_${i}" value="${st?.id ?? ''}" size="16"${inv(`s_id_${i}`)}></td>
<td><label class="visually-hidden" for="s_kind_${i}">${d.stageN(i + 1)} ${d.stageKind}</label><select id="s_kind_${i}" name="s_kind_${i}"${inv(`s_kind_${i}`)}>${opt('reminder', d.kinds['reminder'] ?? '', st?.kind ?? 'reminder')}${opt('escalation', d.kinds['escalation'] ?? '', st?.kind)}</select></td>
<td><label class="visually-hidden" for="s_aud_${i}">${d.stageN(i + 1)} ${d.stageAudience}</label><select id="s_aud_${i}" name="s_aud_${i}"${inv(`s_aud_${i}`)}>${(['responsible', 'area_office', 'second_level'] as const).map((a) => opt(a, d.audiences[a] ?? a, st?.audience ?? 'responsible'))}</select></td>
<td><label class="visually-hidden" for="s_wd_${i}">${d.stageN(i + 1)} ${d.stageDays}</label><input type="number" min="0" max="30" id="s_wd_${i}" name="s_wd_${i}" value="${st ? String(st.workingDays) : ''}"${inv(`s_wd_${i}`)} aria-describedby="stage-days-help"></td>
<td><label class="visually-hidden" for="s_at_${i}">${d.stageN(i + 1)} ${d.stageAt}</label><input type="time" id="s_at_${i}" name="s_at_${i}" value="${st?.at ?? '08:00'}"${inv(`s_at_${i}`)}></td>
<td>${st ? html`<input type="checkbox" id="s_del_${i}" name="s_del_${i}" value="1"><label class="visually-hidden" for="s_del_${i}">${d.stageRemove} ${d.stageN(i + 1)}</label>` : ''}</td>
</tr>`;
  const scopeTitle = scope === 'default' ? d.defaultStages : d.scheduleFor(ruleTitle(scope, lang));
  const ownStages = scope !== 'default' && s.schedule.perRule?.[scope] !== undefined;
  return html`<form method="post" action="/settings/preview" id="settings-form">${csrfField(session)}<input type="hidden" name="scope" value="${scope}">
<fieldset><legend>${d.scheduleStages}: ${scopeTitle}</legend>
${scope !== 'default' ? html`<p class="check"><input type="checkbox" id="useDefault" name="useDefault" value="1"${ownStages ? '' : html` checked`}> <label for="useDefault">${d.useDefault}</label></p>` : ''}
<p class="small" id="stage-days-help">${d.stageDaysHelp}</p>
<div class="table-wrap"><table id="stages"><thead><tr><th scope="col">#</th><th scope="col">${d.stageId}</th><th scope="col">${d.stageKind}</th><th scope="col">${d.stageAudience}</th><th scope="col">${d.stageDays}</th><th scope="col">${d.stageAt}</th><th scope="col">${d.stageRemove}</th></tr></thead>
<tbody>${rows.map((st, i) => stageRow(st, i))}</tbody></table></div>
</fieldset>
<fieldset><legend>${d.window}</legend><div class="fields">
<div class="field"><label for="window_from">${d.windowFrom}</label><input type="time" id="window_from" name="window_from" value="${s.schedule.window.from}"${inv('window_from')}></div>
<div class="field"><label for="window_to">${d.windowTo}</label><input type="time" id="window_to" name="window_to" value="${s.schedule.window.to}"${inv('window_to')}></div>
</div>
<p>${d.noWait}:</p>
<ul class="check">${DEADLINE_RULES.map((r) => html`<li><input type="checkbox" id="nw-${r.id}" name="noWait" value="${r.id}"${s.schedule.noWaitRules.includes(r.id) ? html` checked` : ''}> <label for="nw-${r.id}">${r.title[lang]}</label></li>`)}</ul>
<p class="check"><input type="checkbox" id="digest" name="digest" value="1"${s.digest ? html` checked` : ''}> <label for="digest">${d.digest}</label></p>
</fieldset>
<fieldset><legend>${d.closureDays}</legend>
<div class="field"><label for="closureDays">${d.closureDays}</label><textarea id="closureDays" name="closureDays" rows="4" aria-describedby="closure-help"${inv('closureDays')}>${s.closureDays.join('\n')}</textarea></div>
<p class="small" id="closure-help">${d.closureDaysHelp}${configClosure.length > 0 ? html` ${d.closureFromConfig(configClosure.join(', '))}` : ''}</p>
</fieldset>
<fieldset><legend>${d.policy}</legend><div class="fields">
${POLICY_PARAMS.map((p) => html`<div class="field"><label for="policy__${p.rule}__${p.param}">${ruleTitle(p.rule, lang)} (${p.param})</label><input type="number" min="0" max="366" id="policy__${p.rule}__${p.param}" name="policy__${p.rule}__${p.param}" value="${String(s.policy[p.rule]?.[p.param] ?? p.def)}"${inv(`policy__${p.rule}__${p.param}`)} aria-describedby="ph-${p.rule}-${p.param}"><span class="small muted" id="ph-${p.rule}-${p.param}">${d.policyHelp(String(p.def))}</span></div>`)}
</div></fieldset>
${areaPolicyFieldset(lang, s, areaList, inv)}
<fieldset><legend>${d.recipients}</legend><div class="fields">
<div class="field"><label for="ombudsman">${d.ombudsman}</label><input type="email" id="ombudsman" name="ombudsman" size="32" value="${s.recipients.ombudsman}"${inv('ombudsman')}></div>
<div class="field"><label for="directorate">${d.directorate}</label><input type="email" id="directorate" name="directorate" size="32" value="${s.recipients.directorate}"${inv('directorate')}></div>
<div class="field"><label for="admins">${d.admins}</label><textarea id="admins" name="admins" rows="3"${inv('admins')}>${s.recipients.admins.join('\n')}</textarea></div>
</div><p class="small">${d.recipientsUnsetHelp}</p></fieldset>
<fieldset><legend>${d.recency}</legend>
<div class="field"><label for="recency">${d.recencyDays}</label><input type="number" min="0" max="30" id="recency" name="recency" value="${String(s.recency.workingDays)}"${inv('recency')} aria-describedby="recency-help"></div>
<p class="small" id="recency-help">${d.recencyHelp}</p>
</fieldset>
<p><button type="submit">${d.preview}</button></p>
</form>`;
}

function perRuleTable(s: SettingsSet, lang: Lang): SafeHtml {
  const d = t(lang);
  return html`<div class="table-wrap"><table id="per-rule"><caption class="visually-hidden">${d.perRule}</caption>
<thead><tr><th scope="col">${d.rule}</th><th scope="col">${d.scheduleStages}</th><th scope="col"><span class="visually-hidden">${d.edit}</span></th></tr></thead>
<tbody>${DEADLINE_RULES.map((r) => {
    const own = s.schedule.perRule?.[r.id];
    return html`<tr><th scope="row">${r.title[lang]}</th><td>${own ? d.perRuleOwn(own.length) : d.perRuleUsesDefault}</td><td><a href="/settings?rule=${encodeURIComponent(r.id)}">${d.edit}<span class="visually-hidden"> ${r.title[lang]}</span></a></td></tr>`;
  })}</tbody></table></div>`;
}

async function recentChanges(db: Db, lang: Lang): Promise<SafeHtml> {
  const d = t(lang);
  const rows = await db.select().from(auditLog).where(and(eq(auditLog.entityType, 'setting'), eq(auditLog.action, 'settings.update'))).orderBy(desc(auditLog.id)).limit(20);
  if (rows.length === 0) return html`<p>${d.noChanges}</p>`;
  return html`<div class="table-wrap"><table id="settings-audit"><caption class="visually-hidden">${d.recentChanges}</caption>
<thead><tr><th scope="col">${d.when}</th><th scope="col">${d.key}</th><th scope="col">${d.changedBy}</th><th scope="col">${d.beforeAfter}</th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${timeEl(r.at, lang)}</td><td>${r.entityId}</td><td>${r.actor}</td><td><details><summary>JSON<span class="visually-hidden"> ${r.entityId}</span></summary><pre class="mail small">${JSON.stringify({ before: r.before, after: r.after }, null, 2)}</pre></details></td></tr>`)}</tbody></table></div>`;
}

function scopeOf(v: string | undefined): string {
  return v && ruleById(v)?.timing === 'deadline' ? v : 'default';
}

async function areasOf(u: UiContext): Promise<AreaRef[]> {
  return (await listAreas(u.ctx)).map((a) => ({ id: a.id, name: a.name }));
}

async function settingsPage(u: UiContext, req: FastifyRequest, reply: FastifyReply, session: UiSession, status: number, values: SettingsSet, scope: string, issues: FieldIssue[], map?: FormMap): Promise<FastifyReply> {
  const { lang } = uiState(req);
  const d = t(lang);
  const areaList = await areasOf(u);
  const areaNames = new Map(areaList.map((a) => [a.id, a.name]));
  const done = queryOf(req)['done'];
  const body = html`<p>${d.settingsIntro}</p>
${issues.length > 0 ? html`<div class="notice error" role="alert" id="errors"><p>${d.fixErrors}</p><ul>${issues.map((i) => html`<li>${issueLabel(lang, i.path, areaNames)}: ${i.message}</li>`)}</ul></div>` : ''}
${scope !== 'default' ? html`<p><a href="/settings">${d.editDefault}</a></p>` : ''}
${settingsForm(session, lang, values, scope, invalidInputs(issues, map, scope), u.deps.config.FRISTVAGT_CLOSURE_DAYS, areaList)}
<h2>${d.perRule}</h2>
${perRuleTable(values, lang)}
<h2>${d.recentChanges}</h2>
${await recentChanges(u.deps.database.db, lang)}`;
  const flash = done && d.done[done] ? { kind: 'ok' as const, text: d.done[done] } : undefined;
  return sendHtml(reply, status, page(req, { title: d.settingsTitle, body, active: 'settings', flash }));
}

function deadlineRows(list: DeadlineChange[], lang: Lang): SafeHtml {
  const d = t(lang);
  return html`<table><thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.rule}</th><th scope="col">${d.oldDue}</th><th scope="col">${d.newDue}</th><th scope="col">${d.oldStatus}</th><th scope="col">${d.newStatus}</th></tr></thead>
<tbody>${list.slice(0, SHOW_ROWS).map((c) => html`<tr><td><a href="${recordHref(c.recordType, c.recordId)}">${c.journalNumber}</a></td><td>${ruleTitle(c.rule, lang)}</td><td>${dayEl(c.oldDue, lang)}</td><td>${dayEl(c.newDue, lang)}</td><td>${c.oldStatus ? statusBadge(c.oldStatus, lang) : '—'}</td><td>${c.newStatus ? statusBadge(c.newStatus, lang) : '—'}</td></tr>`)}</tbody></table>
${list.length > SHOW_ROWS ? html`<p>${d.impactMore(list.length - SHOW_ROWS)}</p>` : ''}`;
}

function mailRows(list: MailChange[], lang: Lang, now: Date): SafeHtml {
  const d = t(lang);
  return html`<table><thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.stage}</th><th scope="col">${d.recipient}</th><th scope="col">${d.plannedNow}</th><th scope="col">${d.plannedNew}</th><th scope="col">${d.inTable}</th></tr></thead>
<tbody>${list.slice(0, SHOW_ROWS).map((m) => html`<tr><td><a href="${recordHref(m.recordType, m.recordId)}">${m.journalNumber}</a></td><td>${d.kinds[m.kind] ?? m.kind} <code>${m.stage}</code></td><td>${m.recipient}</td><td>${m.oldAt ? fmtInstant(m.oldAt, lang) : '—'}</td><td>${m.newAt ? fmtInstant(m.newAt, lang) : '—'}${m.newAt && m.newAt.getTime() < now.getTime() ? html` <strong>(${d.sendsAtOnce})</strong>` : ''}</td><td>${m.tableAt ? fmtInstant(m.tableAt, lang) : '—'}</td></tr>`)}</tbody></table>
${list.length > SHOW_ROWS ? html`<p>${d.impactMore(list.length - SHOW_ROWS)}</p>` : ''}`;
}

function impactView(impact: Impact, changed: SettingKey[], lang: Lang, now: Date): SafeHtml {
  const d = t(lang);
  const labels: Record<SettingKey, string> = { closureDays: d.closureDays, policy: d.policy, policyByArea: d.policyByArea, schedule: d.scheduleStages, recipients: d.recipients, digest: d.digest, recency: d.recency };
  const nothing = impact.deadlines.length === 0 && impact.moved.length === 0 && impact.added.length === 0 && impact.removed.length === 0;
  const section = (id: string, title: string, n: number, body: SafeHtml) => (n === 0 ? html`` : html`<section aria-labelledby="${id}"><h3 id="${id}">${title}</h3><div class="table-wrap">${body}</div></section>`);
  return html`<section id="impact" aria-labelledby="h-impact"><h2 id="h-impact">${d.impactTitle}</h2>
<p>${d.impactChangedSettings}: ${changed.length === 0 ? d.impactNoChange : changed.map((k) => labels[k]).join(', ')}</p>
<p class="small">${d.impactScope(impact.records)}</p>
${nothing ? html`<p class="notice" role="status">${d.impactNothing}</p>` : ''}
${section('h-imp-breached', d.impactBreached(impact.breached.length), impact.breached.length, deadlineRows(impact.breached, lang))}
${section('h-imp-deadlines', d.impactDeadlines(impact.deadlines.length), impact.deadlines.length, deadlineRows(impact.deadlines, lang))}
${section('h-imp-moved', d.impactMailsMoved(impact.moved.length), impact.moved.length, mailRows(impact.moved, lang, now))}
${section('h-imp-added', d.impactMailsAdded(impact.added.length), impact.added.length, mailRows(impact.added, lang, now))}
${section('h-imp-removed', d.impactMailsRemoved(impact.removed.length), impact.removed.length, mailRows(impact.removed, lang, now))}
</section>`;
}

export function registerSettings(app: FastifyInstance, u: UiContext): void {
  const db = u.deps.database.db;

  app.get('/settings', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    if (!requireAdmin(req, reply, session)) return reply;
    return settingsPage(u, req, reply, session, 200, await loadSettingsSet(db), scopeOf(queryOf(req)['rule']), []);
  });

  app.post('/settings/preview', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    if (!requireAdmin(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const b = formBody(req);
    const scope = scopeOf(field(b, 'scope'));
    const current = await loadSettingsSet(db);
    const areaList = await areasOf(u);
    const parsed = parseForm(b, current, areaList);
    if (parsed.issues.length > 0) return settingsPage(u, req, reply, session, 400, parsed.candidate, scope, parsed.issues, parsed.map);
    const impact = await computeImpact(db, u.deps.config.FRISTVAGT_CLOSURE_DAYS, current, parsed.candidate, u.deps.clock());
    const changed = changedKeys(current, parsed.candidate);
    const body = html`${impactView(impact, changed, lang, u.deps.clock())}
<form method="post" action="/settings/save" id="save-form" class="no-print">${csrfField(session)}
<input type="hidden" name="candidate" value="${JSON.stringify(parsed.candidate)}">
<input type="hidden" name="base" value="${fingerprint(current)}">
<input type="hidden" name="scope" value="${scope}">
<p><button type="submit"${changed.length === 0 ? html` disabled aria-disabled="true"` : ''}>${d.save}</button> <a class="button secondary" href="/settings${scope === 'default' ? '' : `?rule=${encodeURIComponent(scope)}`}">${d.cancel}</a></p>
</form>
<h2>${d.edit}</h2>
${settingsForm(session, lang, parsed.candidate, scope, new Set(), u.deps.config.FRISTVAGT_CLOSURE_DAYS, areaList)}`;
    return sendHtml(reply, 200, page(req, { title: d.settingsTitle, body, active: 'settings' }));
  });

  app.post('/settings/save', async (req, reply) => {
    const session = requireSession(req, reply);
    if (!session) return reply;
    if (!requireCsrf(req, reply, session)) return reply;
    if (!requireAdmin(req, reply, session)) return reply;
    const d = t(uiState(req).lang);
    const b = formBody(req);
    const scope = scopeOf(field(b, 'scope'));
    let raw: unknown;
    try {
      raw = JSON.parse(field(b, 'candidate') ?? '');
    } catch {
      return errorPage(req, reply, 400, 'candidate: not valid JSON');
    }
    if (!raw || typeof raw !== 'object') return errorPage(req, reply, 400, 'candidate: not an object');
    const { candidate, issues } = validate({ ...(await loadSettingsSet(db)), ...(raw as Partial<SettingsSet>) });
    if (issues.length > 0) return settingsPage(u, req, reply, session, 400, candidate, scope, issues);
    const current = await loadSettingsSet(db);
    if (field(b, 'base') !== fingerprint(current)) return errorPage(req, reply, 409, d.staleSettings);
    const changed = changedKeys(current, candidate);
    // All keys or none: putSetting's own transaction becomes a savepoint inside this one.
    await db.transaction(async (tx) => {
      for (const key of changed) await putSetting({ ...u.ctx, db: tx as unknown as Db }, key, { value: candidate[key] }, session.actor);
    });
    return reply.redirect(`/settings?done=saved${scope === 'default' ? '' : `&rule=${encodeURIComponent(scope)}`}`, 303);
  });
}

