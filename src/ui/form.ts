/**
 * Form fields as the master data pages draw them: a label, the control, a hint and the field's own
 * error right next to it (aria-describedby names hint and error, aria-invalid marks the control).
 * Dates are text in the Danish form dd.mm.åååå, parsed on the server, whatever a browser's locale
 * would make of a date input. No `pattern` or `required` attribute (forms carry `novalidate`: the
 * server answers, in the page's language); `aria-required` tells assistive technology.
 *
 * The same API, ids (`f-<name>`, `…-hint`, `…-err`) and markup as the shared helper being written
 * on the shell branch (src/ui/form-fields.ts and issues.ts there), so that this file can give way
 * to it at the merge: textField, selectField, checkboxField, dateField(lang, …).
 */
import { formatIsoDate, parseDanishDate, type Lang } from '../domain/index.js';
import type { FieldIssue } from '../records/errors.js';
import { html, type HtmlValue, type SafeHtml } from './html.js';
import { t } from './i18n.js';

export interface FieldBase {
  name: string;
  label: HtmlValue;
  /** Default `f-<name>`. */
  id?: string;
  /** The field's error, already in the reader's language (fieldErrors). */
  error?: string | undefined;
  /** Shown under the control; a date field shows its format when none is given. */
  hint?: HtmlValue;
  required?: boolean;
  /** Extra wrapper class. */
  className?: string;
}

export interface Option {
  value: string;
  label: string;
}

export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

function parts(o: FieldBase, defaultHint?: HtmlValue): { attrs: SafeHtml; label: SafeHtml; after: SafeHtml } {
  const id = o.id ?? fieldId(o.name);
  const hint = o.hint ?? defaultHint;
  const hasHint = hint !== undefined && hint !== null && hint !== '';
  const described = [hasHint ? `${id}-hint` : '', o.error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return {
    attrs: html`id="${id}" name="${o.name}"${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}${o.required ? html` aria-required="true"` : ''}`,
    label: html`<label for="${id}">${o.label}</label>`,
    after: html`${hasHint ? html`<span class="small muted field-hint" id="${id}-hint">${hint}</span>` : ''}${o.error ? html`<span class="field-error" id="${id}-err">${o.error}</span>` : ''}`,
  };
}

function wrap(o: FieldBase, inner: SafeHtml): SafeHtml {
  return html`<div class="field${o.className ? ` ${o.className}` : ''}${o.error ? ' has-error' : ''}">${inner}</div>`;
}

export function textField(o: FieldBase & { value?: string | null | undefined; type?: 'text' | 'email'; size?: number; maxlength?: number; autocomplete?: string; readonly?: boolean }): SafeHtml {
  const p = parts(o);
  return wrap(o, html`${p.label}<input type="${o.type ?? 'text'}" ${p.attrs} value="${o.value ?? ''}"${o.size ? html` size="${String(o.size)}"` : ''}${o.maxlength ? html` maxlength="${String(o.maxlength)}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.readonly ? html` readonly` : ''}>${p.after}`);
}

export function selectField(o: FieldBase & { options: readonly Option[]; value?: string | null | undefined }): SafeHtml {
  const p = parts(o);
  const opts = o.options.map((x) => html`<option value="${x.value}"${x.value === (o.value ?? '') ? html` selected` : ''}>${x.label}</option>`);
  return wrap(o, html`${p.label}<select ${p.attrs}>${opts}</select>${p.after}`);
}

export function checkboxField(o: FieldBase & { checked: boolean; value?: string }): SafeHtml {
  const p = parts(o);
  return wrap({ ...o, className: `check${o.className ? ` ${o.className}` : ''}` }, html`<span><input type="checkbox" ${p.attrs} value="${o.value ?? '1'}"${o.checked ? html` checked` : ''}> ${p.label}</span>${p.after}`);
}

/** A day, typed dd.mm.åååå (read with parseDateField); the hint says so unless another is given. */
export function dateField(lang: Lang, o: FieldBase & { value?: string | null | undefined }): SafeHtml {
  const p = parts(o, t(lang).form.dateHint);
  return wrap(o, html`${p.label}<input type="text" ${p.attrs} value="${o.value ?? ''}" size="10" maxlength="10" autocomplete="off" class="date">${p.after}`);
}

/** A date field's value as YYYY-MM-DD: undefined when empty, null when it is not a date. */
export function parseDateField(v: string | undefined): string | null | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const day = parseDanishDate(v);
  return day === undefined ? null : formatIsoDate(day);
}

/** The label of a field that may stay empty: "Stilling (valgfri)". */
export function optionalLabel(lang: Lang, label: string): SafeHtml {
  return html`${label} <span class="muted small">${t(lang).form.optional}</span>`;
}

/** The service's messages (src/records: zod and its own), each to a key of the dictionary's form.issues. */
const ISSUES: ReadonlyArray<[RegExp, string]> = [
  [/^is required$/, 'required'],
  [/^Too small: expected string to have >=1 characters?$/, 'required'],
  [/^not a valid e-mail address$/, 'email'],
  [/^must be lower-case letters, digits and dashes$/, 'slug'],
  [/^already exists$/, 'exists'],
  [/^refers to something that does not exist$/, 'missingRef'],
  [/^is before from$/, 'untilBeforeFrom'],
  [/^must be an institution of area /, 'sameAreaInstitution'],
  [/^must be a staff member of area /, 'sameAreaSubstitute'],
  [/^cannot be the staff member themself$/, 'self'],
  [/^Invalid option|^Invalid UUID$/, 'choose'],
  [/^not a date/, 'date'],
  [/^is required for role area$/, 'requiredForArea'],
  [/^is only for role area$/, 'onlyForArea'],
  [/^is required for role institution$/, 'requiredForInstitution'],
  [/^is only for role institution$/, 'onlyForInstitution'],
  [/^unknown area /, 'unknownArea'],
  [/^unknown institution /, 'unknownInstitution'],
  [/NUL character/, 'nul'],
  [/^unknown field$/, 'unknownField'],
];

/**
 * A validation message in the reader's language. `empty`: the field was left empty, so whatever the
 * schema says of an empty value (not an e-mail address, not a slug, no option) means "required".
 */
export function issueText(lang: Lang, message: string, empty = false): string {
  const f = t(lang).form;
  const tooLong = /^Too big: expected string to have <=(\d+) characters?$/.exec(message);
  if (tooLong) return f.tooLong(Number(tooLong[1]));
  const key = ISSUES.find(([re]) => re.test(message))?.[1];
  if (empty && (key === undefined || ['email', 'slug', 'choose', 'required', 'date'].includes(key))) return f.issues['required'] ?? message;
  return key ? (f.issues[key] ?? message) : `${f.issues['invalid'] ?? ''} (${message})`;
}

/**
 * The service's issues as errors by form field: `fieldOf` maps an issue path to the field's name
 * (undefined: no such field, listed in the summary only); `valueOf` says whether it was left empty.
 * The summary has each issue under its field's name, in the reader's language.
 */
export function fieldErrors(lang: Lang, issues: readonly FieldIssue[], fieldOf: (path: string) => string | undefined, valueOf: (name: string) => string | undefined): { byField: Map<string, string>; summary: FieldIssue[] } {
  const byField = new Map<string, string>();
  const summary: FieldIssue[] = [];
  for (const i of issues) {
    const name = fieldOf(i.path);
    const text = issueText(lang, i.message, name !== undefined && (valueOf(name) ?? '') === '');
    if (name !== undefined && !byField.has(name)) byField.set(name, text);
    summary.push({ path: name ?? i.path, message: text });
  }
  return { byField, summary };
}
