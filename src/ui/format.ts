/** Dates, times and badges as the UI shows them: Copenhagen local time, Danish date order. */
import { formatLocalInstant, instantOfLocal, longDate, notificationStageName, parseIsoDate, ruleById, type Lang, type StageConfig } from '../domain/index.js';
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

/**
 * An outbox stage in plain words with its rule: "Opfølgende samtale …: Påmindelse 2 arbejdsdage
 * før" for `cell.follow-up-conversation:reminder-2`. `stagesOf` gives the stages in force per rule
 * (data/mails.ts stageTitles reads them from the settings).
 */
export function stageTitle(stage: string, lang: Lang, stagesOf?: (rule: string) => readonly StageConfig[]): string {
  const name = notificationStageName(stage, lang, stagesOf);
  const sep = stage.lastIndexOf(':');
  const rule = ruleById(sep < 0 ? '' : (stage.slice(0, sep).split('#')[0] ?? ''));
  return rule ? `${rule.title[lang]}: ${name}` : name;
}

export function ruleResponsible(ruleId: string, lang: Lang): string {
  return ruleById(ruleId)?.responsible[lang] ?? '';
}

/**
 * A day typed in a form → `YYYY-MM-DD`; undefined when it is not a real date. Forms show dates the
 * Danish way (dd.mm.åååå) whatever the browser's locale, so that is what people type; the ISO form
 * (what an API client or an older bookmark sends) is accepted too. "1.4.2026", "01-04-2026" and
 * "01/04/2026" are the same day.
 */
export function parseFormDate(value: string): string | undefined {
  const s = value.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  const dk = /^(\d{1,2})[./-](\d{1,2})[./-](\d{4})$/.exec(s);
  const text = iso ? s : dk ? `${dk[3]}-${(dk[2] as string).padStart(2, '0')}-${(dk[1] as string).padStart(2, '0')}` : undefined;
  return text !== undefined && parseIsoDate(text) !== undefined ? text : undefined;
}

/** A month typed in a form: "11.2026" (the forms' Danish mm.åååå), "11-2026" or "2026-11" → `YYYY-MM`. */
export function parseFormMonth(value: string): string | undefined {
  const s = value.trim();
  const iso = /^(\d{4})-(\d{1,2})$/.exec(s);
  const dk = /^(\d{1,2})[./-](\d{4})$/.exec(s);
  const year = iso ? iso[1] : dk?.[2];
  const month = Number(iso ? iso[2] : dk?.[1]);
  return year !== undefined && month >= 1 && month <= 12 ? `${year}-${String(month).padStart(2, '0')}` : undefined;
}

/** A time of day typed in a form (24-hour: "8:00", "08.00", "0800") → `HH:MM`; undefined when it is none. */
export function parseFormTime(value: string): string | undefined {
  const m = /^(\d{1,2})(?:[:.]?(\d{2}))$/.exec(value.trim().replace(/^kl\.?\s*/i, ''));
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h <= 23 && min <= 59 ? `${String(h).padStart(2, '0')}:${m[2] as string}` : undefined;
}

/**
 * A local date and time typed in a form, in Copenhagen → an instant with offset; undefined when
 * malformed. "18.11.2026 14:05" and "18.11.2026 kl. 14.05" (the forms' Danish format) and
 * "2026-11-18T14:05" (datetime-local, ISO) all read the same.
 */
export function localDateTimeToIso(value: string): string | undefined {
  const m = /^(\S+?)(?:[T ]|\s+kl\.?\s*|,\s*)(\S+)$/i.exec(value.trim());
  if (!m) return undefined;
  const date = parseFormDate(m[1] as string);
  // datetime-local may carry seconds ("14:05:00"); a form's minute is what counts.
  const time = parseFormTime((m[2] as string).replace(/^(\d{1,2}[:.]\d{2}):\d{2}$/, '$1'));
  const day = date === undefined ? undefined : parseIsoDate(date);
  if (day === undefined || time === undefined) return undefined;
  return formatLocalInstant(instantOfLocal(day, minutesOfDay(time) * 60_000));
}

function minutesOfDay(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** The value for a datetime-local input showing `now` in Copenhagen. */
export function localDateTimeValue(now: Date): string {
  return formatLocalInstant(now.getTime()).slice(0, 16);
}

const MONTHS: Record<Lang, readonly string[]> = {
  da: ['januar', 'februar', 'marts', 'april', 'maj', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'december'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** "november 2026" from "2026-11"; `short`: "nov." / "Nov" without the year. */
export function fmtMonth(month: string, lang: Lang, short = false): string {
  const [y, m] = month.split('-');
  const name = MONTHS[lang][Number(m) - 1] ?? m ?? month;
  if (short) return lang === 'da' ? (name.length > 4 ? `${name.slice(0, 3)}.` : name) : name.slice(0, 3);
  return `${name} ${y ?? ''}`;
}

/** "18.11.2026 14:05": an instant as a form's Danish date-time field shows it (Copenhagen, 24-hour). */
export function formDateTimeValue(v: Date | string): string {
  const ms = toMs(v);
  if (!Number.isFinite(ms)) return String(v);
  const local = formatLocalInstant(ms);
  return `${fmtShortDay(local.slice(0, 10))} ${local.slice(11, 16)}`;
}
