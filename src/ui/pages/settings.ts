/**
 * Settings (admin only): reminder stages, escalation ladder and send window (default and per
 * rule), digest, closure days, policy deadlines and recipients. Every change goes
 * form → impact preview (nothing written) → save, and the save goes through the settings
 * service the API uses (validated, audited), all keys in one transaction. The history shows each
 * audited change as a readable difference with who and when, and a revert goes back to the value
 * before a change through the same preview and save (audited, re-planned like any other change).
 */
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RULES, ruleById, scheduleFor, stageName, type Lang } from '../../domain/index.js';
import type { Db } from '../../db/client.js';
import { auditLog } from '../../db/schema.js';
import type { FieldIssue } from '../../records/errors.js';
import { listAreas } from '../../records/masterdata.js';
import { putSetting, SETTINGS } from '../../records/settings.js';
import { changedKeys, computeImpact, fingerprint, loadSettingsSet, SETTING_KEYS, settingsSetOf, type DeadlineChange, type Impact, type MailChange, type SettingKey, type SettingsSet } from '../data/impact.js';
import { recordHref } from '../data/records.js';
import { checkboxField, selectField, textareaField, textField, timeField } from '../form-fields.js';
import { dayEl, fmtInstant, parseFormTime, ruleTitle, stageTitle, statusBadge, timeEl } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t } from '../i18n.js';
import { issueMessage } from '../issues.js';
import { diffList, issueLabel, rulePath, settingDiff, settingKeyLabel, settingsSetDiff } from './settings-diff.js';
import type { UiContext } from '../index.js';
import type { UiSession } from '../session.js';
import { csrfField, errorPage, errorSummary, field, fieldAll, formBody, page, queryOf, requireAdmin, requireCsrf, requirePage, requireSession, sendHtml, uiState, type FormBody } from '../web.js';

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

/** A time field's value as `HH:MM` ("8:00", "08.00" too); what does not parse stays, so validation names it. */
function timeOr(v: string | undefined): string {
  return v === undefined ? '' : (parseFormTime(v) ?? v);
}

const STAGE_ID = /^(reminder|escalation)-[a-z0-9-]{1,40}$/;

/**
 * Stages are named by what they do, not by an id, so the form has no id to type: a stage keeps
 * its id (and so its planned mails) while its kind stays, and a new one (or one whose kind
 * changed) gets `<kind>-<working days>`, made unique.
 */
function assignStageIds(stages: Stage[]): void {
  const taken = new Set<string>();
  for (const s of stages) {
    if (STAGE_ID.test(s.id) && s.id.startsWith(`${s.kind}-`) && !taken.has(s.id)) taken.add(s.id);
    else s.id = '';
  }
  for (const s of stages) {
    if (s.id) continue;
    const base = `${s.kind || 'reminder'}-${Number.isInteger(s.workingDays) ? s.workingDays : 'x'}`;
    let id = base;
    for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
    s.id = id;
    taken.add(id);
  }
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
    stages.push({ id: id ?? '', kind: (field(b, `s_kind_${i}`) ?? '') as Stage['kind'], audience: (field(b, `s_aud_${i}`) ?? '') as Stage['audience'], workingDays: numberOr(wd) as number, at: timeOr(field(b, `s_at_${i}`)) });
  }
  assignStageIds(stages);
  const schedule: SettingsSet['schedule'] = { ...current.schedule, window: { from: timeOr(field(b, 'window_from')), to: timeOr(field(b, 'window_to')) }, noWaitRules: fieldAll(b, 'noWait') };
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

/** The input each issue belongs to, with its message in the reader's language (shown next to the input). */
function inputErrors(lang: Lang, issues: FieldIssue[], map: FormMap | undefined, scope: string): Map<string, string> {
  const out = new Map<string, string>();
  const put = (name: string, message: string) => {
    if (!out.has(name)) out.set(name, issueMessage(lang, message));
  };
  // A stage's id is not typed: an issue with it (its kind does not fit) belongs to the kind.
  const short: Record<string, string> = { id: 'kind', kind: 'kind', audience: 'aud', workingDays: 'wd', at: 'at' };
  for (const i of issues) {
    const p = i.path.split('.');
    const own = p[1] === 'perRule' ? rulePath(p.slice(2)) : undefined;
    const stageIdx = p[1] === 'stages' && scope === 'default' ? p[2] : own && own.rule === scope ? own.rest[0] : undefined;
    const prop = p[1] === 'stages' ? p[3] : own?.rest[1];
    if (p[0] === 'schedule' && stageIdx !== undefined) {
      const row = map?.stageRows[Number(stageIdx)] ?? Number(stageIdx);
      put(`s_${short[prop ?? 'id'] ?? 'kind'}_${row}`, i.message);
    } else if (p[0] === 'schedule' && p[1] === 'window') put(p[2] === 'to' ? 'window_to' : 'window_from', i.message);
    else if (p[0] === 'policy') {
      const { rule, param } = rulePath(p.slice(1));
      put(`policy__${rule}__${param ?? ''}`, i.message);
    } else if (p[0] === 'policyByArea') {
      const { rule, param } = rulePath(p.slice(2));
      put(areaField(p[1] ?? '', rule, param ?? ''), i.message);
    }
    else if (p[0] === 'recipients') put(p[1] ?? 'admins', i.message);
    else if (p[0] === 'recency') put('recency', i.message);
    else if (p[0]) put(p[0], i.message);
  }
  return out;
}

function stagesFor(s: SettingsSet, scope: string): Stage[] {
  return scope === 'default' ? s.schedule.stages : (s.schedule.perRule?.[scope] ?? s.schedule.stages);
}

/** Per area, each parameter of the per-area rules: empty (or "as common policy") means no override. */
function areaPolicyFieldset(lang: Lang, s: SettingsSet, areaList: readonly AreaRef[], errors: ReadonlyMap<string, string>): SafeHtml {
  const d = t(lang);
  if (areaList.length === 0) return html``;
  const inv = (name: string) => (errors.has(name) ? html` aria-invalid="true" aria-describedby="${name}-err"` : html``);
  const err = (name: string) => (errors.has(name) ? html`<span class="field-error" id="${name}-err">${errors.get(name)}</span>` : html``);
  const common = (rule: string, param: string, def: number): number => s.policy[rule]?.[param] ?? def;
  const cell = (a: AreaRef, p: (typeof AREA_POLICY_PARAMS)[number]) => {
    const name = areaField(a.id, p.rule, p.param);
    const v = s.policyByArea[a.id]?.[p.rule]?.[p.param];
    const label = html`<label class="visually-hidden" for="${name}">${a.name}: ${ruleTitle(p.rule, lang)} – ${d.policyParams[p.param] ?? p.param}</label>`;
    if (p.param === 'enabled') {
      const opt = (value: string, text: string) => html`<option value="${value}"${(v === undefined ? '' : String(v)) === value ? html` selected` : ''}>${text}</option>`;
      return html`<td>${label}<select id="${name}" name="${name}"${inv(name)}>${opt('', `${d.inherit} (${common(p.rule, p.param, p.def) === 0 ? d.off : d.on})`)}${opt('1', d.on)}${opt('0', d.off)}</select>${err(name)}</td>`;
    }
    return html`<td>${label}<input type="number" min="0" max="366" id="${name}" name="${name}" value="${v === undefined ? '' : String(v)}" placeholder="${String(common(p.rule, p.param, p.def))}"${inv(name)}>${err(name)}</td>`;
  };
  return html`<fieldset id="area-policy"><legend>${d.policyByArea}</legend>
<p class="small">${d.policyByAreaHelp}</p>
<div class="table-wrap"><table><caption class="visually-hidden">${d.policyByArea}</caption>
<thead><tr><th scope="col">${d.area}</th>${AREA_POLICY_PARAMS.map((p) => html`<th scope="col">${ruleTitle(p.rule, lang)}: ${d.policyParams[p.param] ?? p.param}</th>`)}</tr></thead>
<tbody>${areaList.map((a) => html`<tr><th scope="row">${a.name}</th>${AREA_POLICY_PARAMS.map((p) => cell(a, p))}</tr>`)}</tbody></table></div>
</fieldset>`;
}

function settingsForm(session: UiSession, lang: Lang, s: SettingsSet, scope: string, errors: ReadonlyMap<string, string>, configClosure: readonly string[], areaList: readonly AreaRef[]): SafeHtml {
  const d = t(lang);
  const err = (name: string) => errors.get(name);
  const stages = stagesFor(s, scope);
  const rows = [...stages, undefined].slice(0, MAX_STAGES + 1);
  const kinds = (['reminder', 'escalation'] as const).map((k) => ({ value: k, label: d.kinds[k] ?? k }));
  const audiences = (['responsible', 'area_office', 'second_level'] as const).map((a) => ({ value: a, label: d.audiences[a] ?? a }));
  const stageRow = (st: Stage | undefined, i: number) => {
    const rowName = st ? stageName(st, lang) : d.stageNew;
    const cell = (name: string, prop: string) => ({ name: `${name}_${i}`, id: `${name}_${i}`, label: `${rowName}: ${prop}`, hiddenLabel: true, showHint: false, error: err(`${name}_${i}`) });
    return html`<tr>
<th scope="row">${st ? html`${rowName}<input type="hidden" name="s_id_${i}" id="s_id_${i}" value="${st.id}">` : d.stageNew}</th>
<td>${selectField({ ...cell('s_kind', d.stageKind), options: kinds, value: st?.kind ?? 'reminder' })}</td>
<td>${selectField({ ...cell('s_aud', d.stageAudience), options: audiences, value: st?.audience ?? 'responsible' })}</td>
<td>${textField({ ...cell('s_wd', d.stageDays), type: 'number', min: 0, max: 30, value: st ? String(st.workingDays) : '', describedBy: 'stage-days-help' })}</td>
<td>${timeField(lang, { ...cell('s_at', d.stageAt), value: st?.at ?? '08:00' })}</td>
<td>${st ? checkboxField({ name: `s_del_${i}`, id: `s_del_${i}`, label: `${d.stageRemove}: ${rowName}`, hiddenLabel: true, checked: false }) : ''}</td>
</tr>`;
  };
  const scopeTitle = scope === 'default' ? d.defaultStages : d.scheduleFor(ruleTitle(scope, lang));
  const ownStages = scope !== 'default' && s.schedule.perRule?.[scope] !== undefined;
  return html`<form method="post" action="/settings/preview" id="settings-form" novalidate>${csrfField(session)}<input type="hidden" name="scope" value="${scope}">
<fieldset><legend>${d.scheduleStages}: ${scopeTitle}</legend>
${scope !== 'default' ? html`<p class="check"><input type="checkbox" id="useDefault" name="useDefault" value="1"${ownStages ? '' : html` checked`}> <label for="useDefault">${d.useDefault}</label></p>` : ''}
<p class="small" id="stage-days-help">${d.stageDaysHelp}</p>
<div class="table-wrap"><table id="stages" class="stack-narrow"><thead><tr><th scope="col">${d.sh.stageName}</th><th scope="col">${d.stageKind}</th><th scope="col">${d.stageAudience}</th><th scope="col">${d.stageDays}</th><th scope="col">${d.stageAt} <span class="small muted">(${d.ff.timePlaceholder})</span></th><th scope="col">${d.stageRemove}</th></tr></thead>
<tbody>${rows.map((st, i) => stageRow(st, i))}</tbody></table></div>
</fieldset>
<fieldset><legend>${d.window}</legend><div class="fields">
${timeField(lang, { name: 'window_from', id: 'window_from', label: d.windowFrom, value: s.schedule.window.from, error: err('window_from') })}
${timeField(lang, { name: 'window_to', id: 'window_to', label: d.windowTo, value: s.schedule.window.to, error: err('window_to') })}
</div>
<p>${d.noWait}:</p>
<ul class="check">${DEADLINE_RULES.map((r) => html`<li><input type="checkbox" id="nw-${r.id}" name="noWait" value="${r.id}"${s.schedule.noWaitRules.includes(r.id) ? html` checked` : ''}> <label for="nw-${r.id}">${r.title[lang]}</label></li>`)}</ul>
<p class="check"><input type="checkbox" id="digest" name="digest" value="1"${s.digest ? html` checked` : ''}> <label for="digest">${d.digest}</label></p>
</fieldset>
<fieldset><legend>${d.closureDays}</legend>
${textareaField({ name: 'closureDays', id: 'closureDays', label: d.closureDays, value: s.closureDays.join('\n'), rows: 4, describedBy: 'closure-help', error: err('closureDays') })}
<p class="small" id="closure-help">${d.closureDaysHelp}${configClosure.length > 0 ? html` ${d.closureFromConfig(configClosure.join(', '))}` : ''}</p>
</fieldset>
<fieldset><legend>${d.policy}</legend><div class="fields">
${POLICY_PARAMS.map((p) => {
    const name = `policy__${p.rule}__${p.param}`;
    // A switch is on or off, not a number to type.
    if (p.param === 'enabled') return selectField({ name, id: name, label: `${ruleTitle(p.rule, lang)}: ${d.policyParams[p.param] ?? p.param}`, options: [{ value: '1', label: d.on }, { value: '0', label: d.off }], value: String(s.policy[p.rule]?.[p.param] ?? p.def), hint: d.policyHelp(p.def === 0 ? d.off : d.on), error: err(name) });
    return textField({ name, id: name, label: `${ruleTitle(p.rule, lang)}: ${d.policyParams[p.param] ?? p.param}`, type: 'number', min: 0, max: 366, value: String(s.policy[p.rule]?.[p.param] ?? p.def), hint: d.policyHelp(String(p.def)), error: err(name) });
  })}
</div></fieldset>
${areaPolicyFieldset(lang, s, areaList, errors)}
<fieldset><legend>${d.recipients}</legend><div class="fields">
${textField({ name: 'ombudsman', id: 'ombudsman', label: d.ombudsman, type: 'email', size: 32, value: s.recipients.ombudsman, error: err('ombudsman') })}
${textField({ name: 'directorate', id: 'directorate', label: d.directorate, type: 'email', size: 32, value: s.recipients.directorate, error: err('directorate') })}
${textareaField({ name: 'admins', id: 'admins', label: d.admins, value: s.recipients.admins.join('\n'), rows: 3, error: err('admins') })}
</div><p class="small">${d.recipientsUnsetHelp}</p></fieldset>
<fieldset><legend>${d.recency}</legend>
${textField({ name: 'recency', id: 'recency', label: d.recencyDays, type: 'number', min: 0, max: 30, value: String(s.recency.workingDays), describedBy: 'recency-help', error: err('recency') })}
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

const SETTINGS_CHANGE = and(eq(auditLog.entityType, 'setting'), eq(auditLog.action, 'settings.update'));

/** The audited changes, newest first: who, when, which setting, what changed, and a way back. */
async function recentChanges(db: Db, lang: Lang, areaNames: ReadonlyMap<string, string>): Promise<SafeHtml> {
  const d = t(lang);
  const rows = await db.select().from(auditLog).where(SETTINGS_CHANGE).orderBy(desc(auditLog.id)).limit(20);
  if (rows.length === 0) return html`<p>${d.noChanges}</p>`;
  // Before its first change a key was unset: its default applied, and that is what changed.
  const defaults = settingsSetOf([]);
  const was = (key: string, v: unknown): unknown => v ?? (SETTING_KEYS.includes(key as SettingKey) ? defaults[key as SettingKey] : null);
  return html`<p class="small">${d.sh.historyIntro}</p>
<div class="table-wrap"><table id="settings-audit"><caption class="visually-hidden">${d.recentChanges}</caption>
<thead><tr><th scope="col">${d.when}</th><th scope="col">${d.changedBy}</th><th scope="col">${d.sh.change}</th><th scope="col"><span class="visually-hidden">${d.sh.revert}</span></th></tr></thead>
<tbody>${rows.map((r) => {
    const what = settingKeyLabel(d, r.entityId);
    // Under the setting's name, its lines need not repeat it.
    const lines = settingDiff(lang, r.entityId, was(r.entityId, r.before), r.after, areaNames).map((l) => (l.what.startsWith(`${what} › `) ? { ...l, what: l.what.slice(what.length + 3) } : l));
    return html`<tr data-change="${String(r.id)}"><td>${timeEl(r.at, lang)}</td><td>${r.actor}</td><td><strong>${what}</strong>${diffList(lang, lines)}</td>
<td><a class="button secondary" href="/settings/revert?change=${String(r.id)}" aria-label="${d.sh.revertLabel(what, fmtInstant(r.at, lang))}">${d.sh.revert}</a></td></tr>`;
  })}</tbody></table></div>`;
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
${errorSummary(lang, issues, (p) => issueLabel(lang, p, areaNames))}
${scope !== 'default' ? html`<p><a href="/settings">${d.editDefault}</a></p>` : ''}
${settingsForm(session, lang, values, scope, inputErrors(lang, issues, map, scope), u.deps.config.FRISTVAGT_CLOSURE_DAYS, areaList)}
<h2>${d.perRule}</h2>
${perRuleTable(values, lang)}
<h2 id="history">${d.recentChanges}</h2>
${await recentChanges(u.deps.database.db, lang, areaNames)}`;
  const flash = done === 'unchanged' ? { kind: 'info' as const, text: d.sh.revertNothing } : done && d.done[done] ? { kind: 'ok' as const, text: d.done[done] } : undefined;
  return sendHtml(reply, status, page(req, { title: d.settingsTitle, body, active: 'settings', flash }));
}

function deadlineRows(list: DeadlineChange[], lang: Lang): SafeHtml {
  const d = t(lang);
  return html`<table><thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.rule}</th><th scope="col">${d.oldDue}</th><th scope="col">${d.newDue}</th><th scope="col">${d.oldStatus}</th><th scope="col">${d.newStatus}</th></tr></thead>
<tbody>${list.slice(0, SHOW_ROWS).map((c) => html`<tr><td><a href="${recordHref(c.recordType, c.recordId)}">${c.journalNumber}</a></td><td>${ruleTitle(c.rule, lang)}</td><td>${dayEl(c.oldDue, lang)}</td><td>${dayEl(c.newDue, lang)}</td><td>${c.oldStatus ? statusBadge(c.oldStatus, lang) : '—'}</td><td>${c.newStatus ? statusBadge(c.newStatus, lang) : '—'}</td></tr>`)}</tbody></table>
${list.length > SHOW_ROWS ? html`<p>${d.impactMore(list.length - SHOW_ROWS)}</p>` : ''}`;
}

/** Stages named in plain words under the settings they are planned with (a removed mail's stage under the current ones). */
function mailRows(list: MailChange[], lang: Lang, now: Date, s: SettingsSet): SafeHtml {
  const d = t(lang);
  const stagesOf = (rule: string) => scheduleFor(rule, s.schedule).stages;
  return html`<table><thead><tr><th scope="col">${d.journalNumber}</th><th scope="col">${d.stage}</th><th scope="col">${d.recipient}</th><th scope="col">${d.plannedNow}</th><th scope="col">${d.plannedNew}</th><th scope="col">${d.inTable}</th></tr></thead>
<tbody>${list.slice(0, SHOW_ROWS).map((m) => html`<tr><td><a href="${recordHref(m.recordType, m.recordId)}">${m.journalNumber}</a></td><td>${stageTitle(m.stage, lang, stagesOf)}</td><td>${m.recipient}</td><td>${m.oldAt ? fmtInstant(m.oldAt, lang) : '—'}</td><td>${m.newAt ? fmtInstant(m.newAt, lang) : '—'}${m.newAt && m.newAt.getTime() < now.getTime() ? html` <strong>(${d.sendsAtOnce})</strong>` : ''}</td><td>${m.tableAt ? fmtInstant(m.tableAt, lang) : '—'}</td></tr>`)}</tbody></table>
${list.length > SHOW_ROWS ? html`<p>${d.impactMore(list.length - SHOW_ROWS)}</p>` : ''}`;
}

interface PreviewOptions {
  current: SettingsSet;
  candidate: SettingsSet;
  scope: string;
  areaList: readonly AreaRef[];
  /** Set for a revert: what the preview goes back to. */
  intro?: string;
}

/**
 * The impact preview: what changes (in words), how many records and mails it touches, and the
 * Save button right there; the affected records and mails follow, then the form to edit further.
 */
async function previewBody(u: UiContext, session: UiSession, lang: Lang, o: PreviewOptions): Promise<SafeHtml> {
  const d = t(lang);
  const now = u.deps.clock();
  const impact: Impact = await computeImpact(u.deps.database.db, u.deps.config.FRISTVAGT_CLOSURE_DAYS, o.current, o.candidate, now);
  const changed = changedKeys(o.current, o.candidate);
  const areaNames = new Map(o.areaList.map((a) => [a.id, a.name]));
  const nothing = impact.deadlines.length === 0 && impact.moved.length === 0 && impact.added.length === 0 && impact.removed.length === 0;
  const parts: Array<{ id: string; title: string; n: number; body: () => SafeHtml }> = [
    { id: 'h-imp-breached', title: d.impactBreached(impact.breached.length), n: impact.breached.length, body: () => deadlineRows(impact.breached, lang) },
    { id: 'h-imp-deadlines', title: d.impactDeadlines(impact.deadlines.length), n: impact.deadlines.length, body: () => deadlineRows(impact.deadlines, lang) },
    { id: 'h-imp-moved', title: d.impactMailsMoved(impact.moved.length), n: impact.moved.length, body: () => mailRows(impact.moved, lang, now, o.candidate) },
    { id: 'h-imp-added', title: d.impactMailsAdded(impact.added.length), n: impact.added.length, body: () => mailRows(impact.added, lang, now, o.candidate) },
    { id: 'h-imp-removed', title: d.impactMailsRemoved(impact.removed.length), n: impact.removed.length, body: () => mailRows(impact.removed, lang, now, o.current) },
  ].filter((p) => p.n > 0);
  const cancelHref = `/settings${o.scope === 'default' ? '' : `?rule=${encodeURIComponent(o.scope)}`}`;
  return html`<section id="impact" aria-labelledby="h-impact"><h2 id="h-impact">${d.impactTitle}</h2>
${o.intro ? html`<p>${o.intro}</p>` : ''}
<p>${d.impactChangedSettings}: ${changed.length === 0 ? d.impactNoChange : changed.map((k) => settingKeyLabel(d, k)).join(', ')}</p>
${changed.length > 0 ? html`<h3 id="h-diff">${d.sh.diffTitle}</h3>${diffList(lang, settingsSetDiff(lang, o.current, o.candidate, changed, areaNames), 'settings-diff')}` : ''}
<p class="small">${d.impactScope(impact.records)}</p>
${nothing ? html`<p class="notice" role="status">${d.impactNothing}</p>` : html`<ul id="impact-counts">${parts.map((p) => html`<li><a href="#${p.id}">${p.title}</a></li>`)}</ul>`}
<form method="post" action="/settings/save" id="save-form" class="no-print save-bar">${csrfField(session)}
<input type="hidden" name="candidate" value="${JSON.stringify(o.candidate)}">
<input type="hidden" name="base" value="${fingerprint(o.current)}">
<input type="hidden" name="scope" value="${o.scope}">
<p><button type="submit"${changed.length === 0 ? html` disabled aria-disabled="true"` : ''}>${d.save}</button> <a class="button secondary" href="${cancelHref}">${d.cancel}</a>${nothing ? '' : html` <span class="small">${d.sh.detailsBelow}</span>`}</p>
</form>
${parts.map((p) => html`<section aria-labelledby="${p.id}"><h3 id="${p.id}">${p.title}</h3><div class="table-wrap">${p.body()}</div></section>`)}
</section>
<h2>${d.edit}</h2>
${settingsForm(session, lang, o.candidate, o.scope, new Map(), u.deps.config.FRISTVAGT_CLOSURE_DAYS, o.areaList)}`;
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
    const body = await previewBody(u, session, lang, { current, candidate: parsed.candidate, scope, areaList });
    return sendHtml(reply, 200, page(req, { title: d.settingsTitle, body, active: 'settings' }));
  });

  /**
   * Back to the value a setting had before an audited change: shown as an impact preview whose
   * Save is the normal save (same validation, audit entry and re-planning). Nothing is written here.
   */
  app.get('/settings/revert', async (req, reply) => {
    const session = requirePage(req, reply);
    if (!session) return reply;
    if (!requireAdmin(req, reply, session)) return reply;
    const { lang } = uiState(req);
    const d = t(lang);
    const id = Number(queryOf(req)['change']);
    const [row] = Number.isSafeInteger(id) && id > 0 ? await db.select().from(auditLog).where(and(SETTINGS_CHANGE, eq(auditLog.id, id))) : [];
    const key = SETTING_KEYS.find((k) => k === row?.entityId);
    if (!row || !key) return errorPage(req, reply, 404, d.sh.revertUnknown);
    const current = await loadSettingsSet(db);
    // Before its first change a key was unset: its default is what applied then.
    const target = row.before ?? settingsSetOf([])[key];
    const { candidate, issues } = validate({ ...current, [key]: target });
    if (issues.length > 0) return settingsPage(u, req, reply, session, 400, candidate, 'default', issues);
    if (changedKeys(current, candidate).length === 0) return reply.redirect('/settings?done=unchanged', 303);
    const areaList = await areasOf(u);
    const what = settingKeyLabel(d, key);
    const when = fmtInstant(row.at, lang);
    const body = await previewBody(u, session, lang, { current, candidate, scope: 'default', areaList, intro: d.sh.revertIntro });
    return sendHtml(reply, 200, page(req, { title: d.sh.revertTitle(what, when), body, active: 'settings' }));
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
