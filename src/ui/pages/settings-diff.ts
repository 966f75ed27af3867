/**
 * Settings in plain words: the name of every setting path (for errors and for the history), and a
 * readable difference between two values of a setting ("Påmindelse 2 arbejdsdage før › Arbejdsdage:
 * 2 → 3") for the impact preview and for each audited change in the history.
 */
import { canonicalJson } from '../../db/audit.js';
import { ruleById, stageName, type Lang, type StageConfig } from '../../domain/index.js';
import type { SettingKey, SettingsSet } from '../data/impact.js';
import { fmtShortDay, ruleTitle } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { t, type Dict } from '../i18n.js';

/** A rule id and parameter from the parts of a path: rule ids hold dots themselves ("cell.case-review"). */
export function rulePath(parts: string[]): { rule: string; param: string | undefined; rest: string[] } {
  for (let k = parts.length; k > 0; k--) {
    const rule = parts.slice(0, k).join('.');
    if (ruleById(rule)) return { rule, param: parts[k], rest: parts.slice(k) };
  }
  return { rule: parts.join('.'), param: undefined, rest: [] };
}

function stageLabel(d: Dict, idx: string | undefined, prop: string | undefined): string {
  return [idx !== undefined ? d.stageN(Number(idx) + 1) : '', prop ? stagePropLabel(d, prop) : ''].filter(Boolean).join(' › ');
}

function stagePropLabel(d: Dict, prop: string): string {
  const props: Record<string, string> = { id: d.sh.stageName, kind: d.stageKind, audience: d.stageAudience, workingDays: d.stageDays, at: d.stageAt };
  return props[prop] ?? prop;
}

/** Each setting key's name. */
export function settingKeyLabel(d: Dict, key: string): string {
  const labels: Record<SettingKey, string> = { closureDays: d.closureDays, policy: d.policy, policyByArea: d.policyByArea, schedule: d.scheduleStages, recipients: d.recipients, digest: d.digest, recency: d.recency };
  return labels[key as SettingKey] ?? key;
}

/** "schedule.stages.1.workingDays" → "Påmindelser og rykkere › Trin 2 › Arbejdsdage". */
export function issueLabel(lang: Lang, path: string, areaNames: ReadonlyMap<string, string> = new Map()): string {
  const d = t(lang);
  const [key, ...rest] = path.split('.');
  switch (key) {
    case 'schedule': {
      if (rest[0] === 'stages') return `${d.scheduleStages} › ${stageLabel(d, rest[1], rest[2])}`;
      if (rest[0] === 'perRule') {
        const r = rulePath(rest.slice(1));
        return `${d.scheduleFor(ruleTitle(r.rule, lang))}${r.rest.length > 0 ? ` › ${stageLabel(d, r.rest[0], r.rest[1])}` : ''}`;
      }
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

export interface DiffLine {
  what: string;
  kind: 'changed' | 'added' | 'removed';
  before?: string;
  after?: string;
}

type Stage = StageConfig;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

/** "05.06 (hvert år)" or "19.11.2026" for a closure day. */
function closureDay(v: string, lang: Lang): string {
  const yearly = /^(\d{2})-(\d{2})$/.exec(v);
  if (yearly) return `${yearly[2]}.${yearly[1]} (${lang === 'da' ? 'hvert år' : 'every year'})`;
  return fmtShortDay(v);
}

function stageSummary(lang: Lang, s: Stage): string {
  return `${t(lang).audiences[s.audience] ?? s.audience}, ${lang === 'da' ? 'kl.' : 'at'} ${s.at}`;
}

function stageProp(d: Dict, prop: keyof Stage, v: unknown): string {
  if (prop === 'kind') return d.kinds[String(v)] ?? String(v);
  if (prop === 'audience') return d.audiences[String(v)] ?? String(v);
  return String(v);
}

function stageList(v: unknown): Stage[] {
  return Array.isArray(v) ? (v.filter(isObject) as unknown as Stage[]) : [];
}

function stagesDiff(lang: Lang, out: DiffLine[], prefix: string, a: unknown, b: unknown): void {
  const d = t(lang);
  const before = stageList(a);
  const after = stageList(b);
  for (const o of before) {
    const n = after.find((x) => x.id === o.id);
    if (!n) {
      out.push({ what: `${prefix} › ${stageName(o, lang)}`, kind: 'removed', before: stageSummary(lang, o) });
      continue;
    }
    for (const prop of ['kind', 'audience', 'workingDays', 'at'] as const) {
      if (o[prop] !== n[prop]) out.push({ what: `${prefix} › ${stageName(o, lang)} › ${stagePropLabel(d, prop)}`, kind: 'changed', before: stageProp(d, prop, o[prop]), after: stageProp(d, prop, n[prop]) });
    }
  }
  for (const n of after) if (!before.some((x) => x.id === n.id)) out.push({ what: `${prefix} › ${stageName(n, lang)}`, kind: 'added', after: stageSummary(lang, n) });
}

function setDiff(out: DiffLine[], what: string, a: unknown, b: unknown, show: (v: string) => string): void {
  const before = Array.isArray(a) ? a.map(String) : [];
  const after = Array.isArray(b) ? b.map(String) : [];
  for (const v of before) if (!after.includes(v)) out.push({ what, kind: 'removed', before: show(v) });
  for (const v of after) if (!before.includes(v)) out.push({ what, kind: 'added', after: show(v) });
}

/** Numbers of a rule parameter: "til"/"fra" for `enabled`, the default when unset. */
function paramValue(d: Dict, param: string, v: unknown, unset: string): string {
  if (v === undefined || v === null) return unset;
  if (param === 'enabled') return Number(v) === 0 ? d.off : d.on;
  return String(v);
}

/** rule → param → number maps (the common policy, and each area's overrides). */
function policyDiff(lang: Lang, out: DiffLine[], prefix: string, a: unknown, b: unknown, unset: (rule: string, param: string) => string): void {
  const d = t(lang);
  const before = isObject(a) ? a : {};
  const after = isObject(b) ? b : {};
  for (const rule of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const o = isObject(before[rule]) ? before[rule] : {};
    const n = isObject(after[rule]) ? after[rule] : {};
    for (const param of [...new Set([...Object.keys(o), ...Object.keys(n)])].sort()) {
      if (same(o[param], n[param])) continue;
      out.push({ what: `${prefix} › ${ruleTitle(rule, lang)} › ${d.policyParams[param] ?? param}`, kind: 'changed', before: paramValue(d, param, o[param], unset(rule, param)), after: paramValue(d, param, n[param], unset(rule, param)) });
    }
  }
}

function policyDefault(d: Dict, rule: string, param: string): string {
  const def = ruleById(rule)?.defaults?.[param];
  return `${d.sh.defaultValue}${def === undefined ? '' : ` (${paramValue(d, param, def, '')})`}`;
}

/** What changes when a setting goes from `a` to `b`, line by line, in the reader's language. */
export function settingDiff(lang: Lang, key: string, a: unknown, b: unknown, areaNames: ReadonlyMap<string, string> = new Map()): DiffLine[] {
  const d = t(lang);
  const out: DiffLine[] = [];
  if (same(a, b)) return out;
  const yesNo = (v: unknown): string => (v === true ? d.yes : v === false ? d.no : d.sh.unset);
  switch (key) {
    case 'closureDays':
      setDiff(out, d.closureDays, a, b, (v) => closureDay(v, lang));
      break;
    case 'policy':
      policyDiff(lang, out, d.policy, a, b, (rule, param) => policyDefault(d, rule, param));
      break;
    case 'policyByArea': {
      const before = isObject(a) ? a : {};
      const after = isObject(b) ? b : {};
      for (const area of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        policyDiff(lang, out, `${d.policyByArea} › ${areaNames.get(area) ?? area}`, before[area], after[area], () => d.inherit);
      }
      break;
    }
    case 'schedule': {
      const o = isObject(a) ? a : {};
      const n = isObject(b) ? b : {};
      stagesDiff(lang, out, d.defaultStages, o['stages'], n['stages']);
      const wo = isObject(o['window']) ? o['window'] : {};
      const wn = isObject(n['window']) ? n['window'] : {};
      for (const side of ['from', 'to'] as const) {
        if (!same(wo[side], wn[side])) out.push({ what: `${d.window} › ${side === 'from' ? d.windowFrom : d.windowTo}`, kind: 'changed', before: String(wo[side] ?? d.sh.unset), after: String(wn[side] ?? d.sh.unset) });
      }
      setDiff(out, d.noWait, o['noWaitRules'], n['noWaitRules'], (r) => ruleTitle(r, lang));
      const po = isObject(o['perRule']) ? o['perRule'] : {};
      const pn = isObject(n['perRule']) ? n['perRule'] : {};
      for (const rule of [...new Set([...Object.keys(po), ...Object.keys(pn)])].sort()) {
        const title = d.scheduleFor(ruleTitle(rule, lang));
        if (po[rule] === undefined) out.push({ what: title, kind: 'changed', before: d.perRuleUsesDefault, after: stageList(pn[rule]).map((s) => stageName(s, lang)).join('; ') || d.sh.none });
        else if (pn[rule] === undefined) out.push({ what: title, kind: 'changed', before: stageList(po[rule]).map((s) => stageName(s, lang)).join('; ') || d.sh.none, after: d.perRuleUsesDefault });
        else stagesDiff(lang, out, title, po[rule], pn[rule]);
      }
      break;
    }
    case 'recipients': {
      const o = isObject(a) ? a : {};
      const n = isObject(b) ? b : {};
      for (const who of ['ombudsman', 'directorate'] as const) {
        if (!same(o[who], n[who])) out.push({ what: `${d.recipients} › ${who === 'ombudsman' ? d.ombudsman : d.directorate}`, kind: 'changed', before: typeof o[who] === 'string' ? (o[who] as string) : d.sh.unset, after: typeof n[who] === 'string' ? (n[who] as string) : d.sh.unset });
      }
      setDiff(out, `${d.recipients} › ${d.admins}`, o['admins'], n['admins'], (v) => v);
      break;
    }
    case 'digest':
      out.push({ what: d.digest, kind: 'changed', before: yesNo(a), after: yesNo(b) });
      break;
    case 'recency': {
      const days = (v: unknown): string => (isObject(v) && v['workingDays'] !== undefined ? String(v['workingDays']) : d.sh.unset);
      out.push({ what: d.recencyDays, kind: 'changed', before: days(a), after: days(b) });
      break;
    }
    default:
      out.push({ what: key, kind: 'changed', before: canonicalJson(a ?? null), after: canonicalJson(b ?? null) });
  }
  // A difference the lines above do not name (a stored value of an older form) is still shown, never hidden.
  if (out.length === 0) out.push({ what: settingKeyLabel(d, key), kind: 'changed', before: canonicalJson(a ?? null), after: canonicalJson(b ?? null) });
  return out;
}

/** Every setting's difference between two sets (the impact preview's "what changes"). */
export function settingsSetDiff(lang: Lang, a: SettingsSet, b: SettingsSet, keys: readonly SettingKey[], areaNames: ReadonlyMap<string, string>): DiffLine[] {
  return keys.flatMap((k) => settingDiff(lang, k, a[k], b[k], areaNames));
}

export function diffList(lang: Lang, lines: readonly DiffLine[], id?: string): SafeHtml {
  const d = t(lang);
  if (lines.length === 0) return html`<p class="small">${d.sh.noDiff}</p>`;
  return html`<ul class="diff"${id ? html` id="${id}"` : ''}>${lines.map((l) => html`<li><span class="diff-what">${l.what}:</span> ${
    l.kind === 'added' ? html`<ins>${l.after ?? ''}</ins> <span class="diff-kind">(${d.sh.added})</span>`
    : l.kind === 'removed' ? html`<del>${l.before ?? ''}</del> <span class="diff-kind">(${d.sh.removed})</span>`
    : html`<del>${l.before ?? ''}</del> <span aria-hidden="true">→</span><span class="visually-hidden">${lang === 'da' ? ' bliver ' : ' becomes '}</span> <ins>${l.after ?? ''}</ins>`
  }</li>`)}</ul>`;
}
