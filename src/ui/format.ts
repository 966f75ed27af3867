/** Dates, times and badges as the UI shows them: Copenhagen local time, Danish date order. */
import { formatLocalInstant, instantOfLocal, longDate, parseIsoDate, ruleById, type Lang } from '../domain/index.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';

/** "onsdag 01.04.2026" from a local date. */
export function fmtDay(date: string | null | undefined, lang: Lang): string {
  if (!date) return '';
  const d = parseIsoDate(date.slice(0, 10));
  return d === undefined ? date : longDate(d, lang);
}

/** "01.04.2017" from a local date (the short form a notice quotes). */
export function fmtShortDay(date: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date ?? '');
  return m ? `${m[3]}.${m[2]}.${m[1]}` : (date ?? '');
}

function toMs(v: Date | string): number {
  return typeof v === 'string' ? Date.parse(v) : v.getTime();
}

/** "onsdag 01.04.2026 kl. 14:05" from an instant. */
export function fmtInstant(v: Date | string | null | undefined, lang: Lang): string {
  if (v === null || v === undefined) return '';
  const ms = toMs(v);
  if (!Number.isFinite(ms)) return String(v);
  const local = formatLocalInstant(ms);
  return `${fmtDay(local.slice(0, 10), lang)} ${lang === 'da' ? 'kl.' : 'at'} ${local.slice(11, 16)}`;
}

/** HH:MM local. */
export function fmtTime(v: Date, _lang: Lang): string {
  return formatLocalInstant(v.getTime()).slice(11, 16);
}

/** A <time> element with a machine-readable value. */
export function timeEl(v: Date | string | null | undefined, lang: Lang): SafeHtml {
  if (v === null || v === undefined) return html``;
  const ms = toMs(v);
  if (!Number.isFinite(ms)) return html`${String(v)}`;
  return html`<time datetime="${new Date(ms).toISOString()}">${fmtInstant(v, lang)}</time>`;
}

export function dayEl(date: string | null | undefined, lang: Lang): SafeHtml {
  if (!date) return html``;
  return html`<time datetime="${date.slice(0, 10)}">${fmtDay(date, lang)}</time>`;
}

/** Status as text plus a class; the colour is decoration, the word carries the meaning. */
export function statusBadge(status: string, lang: Lang, suspended = false): SafeHtml {
  const label = suspended ? t(lang).suspended : (t(lang).statusLabels[status] ?? status);
  return html`<span class="badge badge-${suspended ? 'suspended' : status}">${label}</span>`;
}

export function notificationBadge(status: string, lang: Lang): SafeHtml {
  return html`<span class="badge badge-n-${status}">${t(lang).notifStatus[status] ?? status}</span>`;
}

export function ruleTitle(ruleId: string, lang: Lang): string {
  return ruleById(ruleId)?.title[lang] ?? ruleId;
}

export function ruleResponsible(ruleId: string, lang: Lang): string {
  return ruleById(ruleId)?.responsible[lang] ?? '';
}

/** `2026-11-22T10:30` (datetime-local) in Copenhagen → an instant with offset; undefined when malformed. */
export function localDateTimeToIso(value: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?$/.exec(value.trim());
  if (!m) return undefined;
  const day = parseIsoDate(m[1] as string);
  const h = Number(m[2]);
  const min = Number(m[3]);
  if (day === undefined || h > 23 || min > 59) return undefined;
  return formatLocalInstant(instantOfLocal(day, (h * 60 + min) * 60_000));
}

/** The value for a datetime-local input showing `now` in Copenhagen. */
export function localDateTimeValue(now: Date): string {
  return formatLocalInstant(now.getTime()).slice(0, 16);
}

export function pct(n: number, total: number): string {
  if (total === 0) return '0 %';
  return `${((100 * n) / total).toFixed(n === total || n === 0 ? 0 : 1)} %`;
}
