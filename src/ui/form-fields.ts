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
 */
import type { Lang } from '../domain/index.js';
import { fmtShortDay, formDateTimeValue } from './format.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import { t } from './i18n.js';

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

function idOf(o: FieldBase): string {
  return o.id ?? `f-${o.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
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
  maxlength?: number;
  min?: number;
  max?: number;
  placeholder?: string;
  inputmode?: 'numeric' | 'decimal' | 'email' | 'text';
  autocomplete?: string;
}

function inputExtras(o: Pick<TextOptions, 'size' | 'maxlength' | 'min' | 'max' | 'placeholder' | 'inputmode' | 'autocomplete'>): SafeHtml {
  return html`${o.size ? html` size="${String(o.size)}"` : ''}${o.maxlength ? html` maxlength="${String(o.maxlength)}"` : ''}${o.min !== undefined ? html` min="${String(o.min)}"` : ''}${o.max !== undefined ? html` max="${String(o.max)}"` : ''}${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}`;
}

export function textField(o: TextOptions): SafeHtml {
  const p = parts(o);
  const value = o.value === null || o.value === undefined ? '' : String(o.value);
  return wrap(o, html`${p.label}<input type="${o.type ?? 'text'}" ${p.attrs} value="${value}"${inputExtras(o)}${p.aria}>${p.after}`);
}

export function textareaField(o: FieldBase & { value?: string | null | undefined; rows?: number; maxlength?: number }): SafeHtml {
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
