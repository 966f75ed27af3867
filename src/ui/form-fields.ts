/**
 * The one way a UI form builds a field: its label, the input, a visible hint and the field's own
 * error next to it (linked with aria-describedby, marked aria-invalid). Every form uses these.
 *
 * Dates and times are Danish whatever the browser's locale: a `type="date"` or `type="time"` input
 * is drawn by the browser in the browser's language (mm/dd/yyyy, "12:00 AM" in an English
 * browser), so these are text inputs showing dd.mm.åååå and 24-hour tt:mm, with the format written
 * beside them, parsed on the server (format.ts parseFormDate, parseFormTime, localDateTimeToIso)
 * with a Danish error naming the field when they do not parse (issues.ts). No `pattern` or
 * `required` attribute: the browser would answer in its own language; the server answers in the
 * page's (forms carry `novalidate` for the same reason). `aria-required` still tells assistive technology.
 *
 * The record forms draw their fields from a field description (records/kinds.ts `describeField`:
 * the schema that drives validation, storage and the importer's columns) through `renderField`,
 * which picks one of these.
 */
import { formatDanishDate, formatLocalInstant, parseIsoDate, parseWhen, type Lang } from '../domain/index.js';
import type { FieldSpec } from '../records/kinds.js';
import { fmtShortDay, formDateTimeValue, localDateTimeToIso, parseFormDate } from './format.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import { t } from './i18n.js';
import type { FormBody } from './web.js';

export interface FieldBase {
  name: string;
  label: HtmlValue;
  /** Default `f-<name>`. */
  id?: string;
  /** The field's error, already in the reader's language (issues.ts fieldErrors). */
  error?: string | undefined;
  /** Shown under the input; date and time fields show their format when none is given. */
  hint?: HtmlValue;
  /** false: no hint at all (a table cell whose column heading says the format). */
  showHint?: boolean;
  required?: boolean;
  /** A label for screen readers only (a table cell under its column heading). */
  hiddenLabel?: boolean;
  /** Ids of help texts elsewhere on the page that describe this field too. */
  describedBy?: string;
  /** Extra wrapper class (e.g. "check"). */
  className?: string;
}

export interface Option {
  value: string;
  label: string;
}

/** A field's default id, `f-<name>`: what an error summary links to. */
export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function idOf(o: FieldBase): string {
  return o.id ?? fieldId(o.name);
}

interface Parts {
  id: string;
  /** id and name, first in every input. */
  attrs: SafeHtml;
  /** aria-describedby, aria-invalid, aria-required: last in every input. */
  aria: SafeHtml;
  label: SafeHtml;
  after: SafeHtml;
}

function parts(o: FieldBase, defaultHint?: HtmlValue): Parts {
  const id = idOf(o);
  const hint = o.showHint === false ? undefined : (o.hint ?? defaultHint);
  const hasHint = hint !== undefined && hint !== null && hint !== '';
  const described = [o.describedBy, hasHint ? `${id}-hint` : '', o.error ? `${id}-err` : ''].filter(Boolean).join(' ');
  const attrs = html`id="${id}" name="${o.name}"`;
  const aria = html`${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}${o.required ? html` aria-required="true"` : ''}`;
  const label = html`<label for="${id}"${o.hiddenLabel ? html` class="visually-hidden"` : ''}>${o.label}</label>`;
  const after = html`${hasHint ? html`<span class="small muted field-hint" id="${id}-hint">${hint}</span>` : ''}${o.error ? html`<span class="field-error" id="${id}-err">${o.error}</span>` : ''}`;
  return { id, attrs, aria, label, after };
}

function wrap(o: FieldBase, inner: SafeHtml): SafeHtml {
  return html`<div class="field${o.className ? ` ${o.className}` : ''}${o.error ? ' has-error' : ''}">${inner}</div>`;
}

export interface TextOptions extends FieldBase {
  value?: string | number | null | undefined;
  type?: 'text' | 'email' | 'search' | 'number' | 'password';
  size?: number;
  maxlength?: number | undefined;
  min?: number;
  max?: number;
  placeholder?: string;
  inputmode?: 'numeric' | 'decimal' | 'email' | 'text';
  autocomplete?: string;
  spellcheck?: boolean;
  readonly?: boolean;
}

function inputExtras(o: Pick<TextOptions, 'size' | 'maxlength' | 'min' | 'max' | 'placeholder' | 'inputmode' | 'autocomplete' | 'spellcheck' | 'readonly'>): SafeHtml {
  return html`${o.spellcheck !== undefined ? html` spellcheck="${o.spellcheck ? 'true' : 'false'}"` : ''}${o.readonly ? html` readonly` : ''}${o.size ? html` size="${String(o.size)}"` : ''}${o.maxlength ? html` maxlength="${String(o.maxlength)}"` : ''}${o.min !== undefined ? html` min="${String(o.min)}"` : ''}${o.max !== undefined ? html` max="${String(o.max)}"` : ''}${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}`;
}

export function textField(o: TextOptions): SafeHtml {
  const p = parts(o);
  const value = o.value === null || o.value === undefined ? '' : String(o.value);
  return wrap(o, html`${p.label}<input type="${o.type ?? 'text'}" ${p.attrs} value="${value}"${inputExtras(o)}${p.aria}>${p.after}`);
}

export function textareaField(o: FieldBase & { value?: string | null | undefined; rows?: number; maxlength?: number | undefined }): SafeHtml {
  const p = parts(o);
  return wrap(o, html`${p.label}<textarea ${p.attrs} rows="${String(o.rows ?? 3)}"${o.maxlength ? html` maxlength="${String(o.maxlength)}"` : ''}${p.aria}>${o.value ?? ''}</textarea>${p.after}`);
}

export function selectField(o: FieldBase & { options: readonly Option[]; value?: string | null | undefined }): SafeHtml {
  const p = parts(o);
  const opts = o.options.map((x) => html`<option value="${x.value}"${x.value === (o.value ?? '') ? html` selected` : ''}>${x.label}</option>`);
  return wrap(o, html`${p.label}<select ${p.attrs}${p.aria}>${opts}</select>${p.after}`);
}

export function checkboxField(o: FieldBase & { checked: boolean; value?: string }): SafeHtml {
  const p = parts(o);
  return wrap({ ...o, className: `check${o.className ? ` ${o.className}` : ''}` }, html`<span><input type="checkbox" ${p.attrs} value="${o.value ?? '1'}"${o.checked ? html` checked` : ''}${p.aria}> ${p.label}</span>${p.after}`);
}

/** A stored day (`YYYY-MM-DD`) as the date field shows it; anything else (what was typed) as it is. */
export function dateFieldValue(v: string | null | undefined): string {
  if (!v) return '';
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? fmtShortDay(v) : v;
}

/** An instant (or a datetime-local `YYYY-MM-DDTHH:MM`) as the date-time field shows it; what was typed stays as it is. */
export function dateTimeFieldValue(v: string | Date | null | undefined): string {
  if (v === null || v === undefined || v === '') return '';
  if (v instanceof Date) return formDateTimeValue(v);
  const local = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?$/.exec(v);
  if (local) return `${fmtShortDay(local[1] as string)} ${local[2] as string}`;
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*(Z|[+-]\d{2}:?\d{2})$/.test(v)) return formDateTimeValue(v);
  return v;
}

/** A day, shown and typed dd.mm.åååå (parse with format.ts parseFormDate). */
export function dateField(lang: Lang, o: FieldBase & { value?: string | null | undefined }): SafeHtml {
  const f = t(lang).ff;
  const p = parts(o, f.dateHint);
  return wrap(o, html`${p.label}<input type="text" ${p.attrs} value="${dateFieldValue(o.value)}" size="10" maxlength="10" placeholder="${f.datePlaceholder}" autocomplete="off" class="date"${p.aria}>${p.after}`);
}

/** A local date and time in Copenhagen, shown and typed dd.mm.åååå tt:mm (parse with format.ts localDateTimeToIso). */
export function dateTimeField(lang: Lang, o: FieldBase & { value?: string | Date | null | undefined }): SafeHtml {
  const f = t(lang).ff;
  const p = parts(o, f.dateTimeHint);
  return wrap(o, html`${p.label}<input type="text" ${p.attrs} value="${dateTimeFieldValue(o.value)}" size="16" maxlength="22" placeholder="${f.dateTimePlaceholder}" autocomplete="off" class="datetime"${p.aria}>${p.after}`);
}

/** A month (`YYYY-MM` stored), shown and typed mm.åååå (parse with format.ts parseFormMonth). */
export function monthField(lang: Lang, o: FieldBase & { value?: string | null | undefined }): SafeHtml {
  const f = t(lang).ff;
  const p = parts(o, f.monthHint);
  const iso = /^(\d{4})-(\d{2})$/.exec(o.value ?? '');
  return wrap(o, html`${p.label}<input type="text" ${p.attrs} value="${iso ? `${iso[2] as string}.${iso[1] as string}` : (o.value ?? '')}" size="7" maxlength="7" placeholder="${f.monthPlaceholder}" autocomplete="off" class="month"${p.aria}>${p.after}`);
}

/** A time of day, 24-hour tt:mm (parse with format.ts parseFormTime). */
export function timeField(lang: Lang, o: FieldBase & { value?: string | null | undefined }): SafeHtml {
  const f = t(lang).ff;
  const p = parts(o, f.timeHint);
  return wrap(o, html`${p.label}<input type="text" ${p.attrs} value="${o.value ?? ''}" size="5" maxlength="5" placeholder="${f.timePlaceholder}" autocomplete="off" class="time"${p.aria}>${p.after}`);
}

/** The label of a field that may stay empty: "Stilling (valgfri)". */
export function optionalLabel(lang: Lang, label: string): SafeHtml {
  return html`${label} <span class="muted small">${t(lang).ff.optional}</span>`;
}

/** A date field's value as YYYY-MM-DD: undefined when empty, null when it is not a date. */
export function parseDateField(v: string | undefined): string | null | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  return parseFormDate(v) ?? null;
}

// --- Fields from a record kind's field description (the record forms, src/ui/pages/record-form.ts) ---

export interface FormField {
  spec: FieldSpec;
  label: string;
  hint?: string | undefined;
  /** A select's choices: [value, label]. */
  options?: ReadonlyArray<readonly [string, string]> | undefined;
  /** What the input shows: prefilled from the record, or as posted. */
  text: string;
  error?: string | undefined;
}

/** `24.11.2026` (or the API's `2026-11-24`) → `2026-11-24`; undefined when it is not a real date (format.ts parseFormDate). */
export const parseDanishDate = parseFormDate;

/**
 * `24.11.2026 14:05` (also `kl. 14.05`) in Copenhagen → an instant with offset (format.ts
 * localDateTimeToIso); a date alone stays a date (the API reads it as that day). The API's own
 * forms (with an offset) are read too. Undefined when it is neither.
 */
export function parseDanishInstant(text: string): string | undefined {
  const s = text.trim();
  const date = parseFormDate(s);
  if (date) return date;
  const local = localDateTimeToIso(s.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2'));
  if (local) return local;
  const w = parseWhen(s);
  return w && w.ms !== null ? s : undefined;
}

/** A stored value as the input shows it: dates and instants the Danish way, flags as `true`/`false`. */
export function fieldText(spec: FieldSpec, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const s = String(value);
  if (spec.input === 'date') {
    const d = parseIsoDate(s.slice(0, 10));
    return d === undefined ? s : formatDanishDate(d);
  }
  if (spec.input === 'instant') {
    const w = parseWhen(s);
    if (!w) return s;
    const day = formatDanishDate(w.day);
    return w.ms === null ? day : `${day} ${formatLocalInstant(w.ms).slice(11, 16)}`;
  }
  return s;
}

/** The posted text of a field (a checkbox: `true` when ticked). */
export function postedText(spec: FieldSpec, body: FormBody, name = spec.name): string {
  const v = body[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (spec.input === 'boolean' && !spec.nullable) return s === 'true' ? 'true' : 'false';
  return typeof s === 'string' ? s.trim() : '';
}

export type FieldValue = { value: unknown } | { empty: true } | { error: 'instant' | 'date' | 'boolean' };

/** The API value of a field's text: empty, a value, or a format error (in the forms' words: FORMATS in i18n). */
export function fieldValue(spec: FieldSpec, text: string): FieldValue {
  if (text === '') return { empty: true };
  switch (spec.input) {
    case 'instant': {
      const v = parseDanishInstant(text);
      return v === undefined ? { error: 'instant' } : { value: v };
    }
    case 'date': {
      const v = parseDanishDate(text);
      return v === undefined ? { error: 'date' } : { value: v };
    }
    case 'boolean':
      return text === 'true' ? { value: true } : text === 'false' ? { value: false } : { error: 'boolean' };
    default:
      return { value: text };
  }
}

/** The hint every input of a kind has, and the one a form adds: how to write it, what empty means. */
export function defaultHint(spec: FieldSpec, lang: Lang, extra?: string): string | undefined {
  const rf = t(lang).rf;
  const parts = [extra ?? '', spec.input === 'instant' ? rf.hintInstant : spec.input === 'date' ? rf.hintDate : spec.input === 'cpr' ? rf.hintCpr : '', spec.input === 'longtext' && spec.max ? rf.hintMax(spec.max) : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

/** One record field: the shared field of its kind, with its label (marked when required), hint and error. */
export function renderField(f: FormField, lang: Lang, idPrefix = 'f'): SafeHtml {
  const rf = t(lang).rf;
  const { spec } = f;
  const base = { name: spec.name, id: `${idPrefix}-${spec.name}`, hint: f.hint, error: f.error, className: `rf-field${spec.input === 'longtext' ? ' rf-wide' : ''}` };
  // A flag is always answered (unticked is no): never required.
  if (spec.input === 'boolean' && !spec.nullable) return checkboxField({ ...base, label: f.label, checked: f.text === 'true', value: 'true' });
  const label = spec.required ? html`${f.label} <span class="rf-req">(${rf.required})</span>` : f.label;
  const o = { ...base, label, required: spec.required };
  if (spec.input === 'boolean') return selectField({ ...o, value: f.text, options: [{ value: '', label: rf.notStated }, { value: 'true', label: t(lang).yes }, { value: 'false', label: t(lang).no }] });
  if (f.options) {
    const blank = spec.required && f.options.some(([v]) => v === f.text) ? [] : [{ value: '', label: spec.required ? rf.choose : rf.notStated }];
    return selectField({ ...o, value: f.text, options: [...blank, ...f.options.map(([value, l]) => ({ value, label: l }))] });
  }
  if (spec.input === 'longtext') return textareaField({ ...o, value: f.text, maxlength: spec.max });
  const size = spec.input === 'instant' ? 16 : spec.input === 'date' ? 10 : spec.input === 'cpr' ? 11 : 30;
  return textField({ ...o, value: f.text, size, maxlength: spec.max, autocomplete: 'off', spellcheck: spec.input === 'text' });
}
