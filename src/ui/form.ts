/**
 * Form fields as the UI draws them: a label, the control, a hint and the field's own error right
 * next to it (aria-describedby names hint and error, aria-invalid marks the control). Dates are
 * text in the Danish form dd.mm.åååå, parsed on the server, whatever a browser's locale would make
 * of a date input. The service's validation messages are shown in the reader's language.
 */
import { formatIsoDate, parseDanishDate, type Lang } from '../domain/index.js';
import type { FieldIssue } from '../records/errors.js';
import { html, type SafeHtml } from './html.js';
import { t } from './i18n.js';

export interface FieldBase {
  name: string;
  label: string;
  /** The element id; the name when not given (rows of repeated fields need their own). */
  id?: string;
  hint?: string | undefined;
  error?: string | undefined;
  /** Adds "(valgfri)" to the label; a required field says nothing (most are required). */
  optional?: boolean;
  /** The `required` attribute; by default every field not optional. A field required only with others (a row's dates) says false. */
  required?: boolean;
  lang: Lang;
}

function ids(o: FieldBase): { id: string; hintId: string; errId: string; describedBy: string } {
  const id = o.id ?? o.name;
  const hintId = `hint-${id}`;
  const errId = `err-${id}`;
  const describedBy = [o.hint ? hintId : '', o.error ? errId : ''].filter(Boolean).join(' ');
  return { id, hintId, errId, describedBy };
}

function labelEl(o: FieldBase, id: string): SafeHtml {
  return html`<label for="${id}">${o.label}${o.optional ? html` <span class="muted small">${t(o.lang).form.optional}</span>` : ''}</label>`;
}

function aria(o: FieldBase, describedBy: string): SafeHtml {
  return html`${o.error ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''}`;
}

function after(o: FieldBase, hintId: string, errId: string): SafeHtml {
  return html`${o.hint ? html`<span class="small muted" id="${hintId}">${o.hint}</span>` : ''}${o.error ? html`<span class="field-error" id="${errId}">${o.error}</span>` : ''}`;
}

export function inputField(o: FieldBase & { value?: string | null | undefined; type?: 'text' | 'email'; size?: number; maxlength?: number; autocomplete?: string; pattern?: string; readonly?: boolean }): SafeHtml {
  const { id, hintId, errId, describedBy } = ids(o);
  return html`<div class="field">${labelEl(o, id)}<input type="${o.type ?? 'text'}" id="${id}" name="${o.name}" value="${o.value ?? ''}"${o.size ? html` size="${String(o.size)}"` : ''}${o.maxlength ? html` maxlength="${String(o.maxlength)}"` : ''}${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.pattern ? html` pattern="${o.pattern}"` : ''}${o.readonly ? html` readonly` : ''}${(o.required ?? !o.optional) ? html` required` : ''}${aria(o, describedBy)}>${after(o, hintId, errId)}</div>`;
}

export interface Option {
  value: string;
  label: string;
}

export function selectField(o: FieldBase & { value?: string | null | undefined; options: readonly Option[] }): SafeHtml {
  const { id, hintId, errId, describedBy } = ids(o);
  const opts = o.options.map((p) => html`<option value="${p.value}"${(o.value ?? '') === p.value ? html` selected` : ''}>${p.label}</option>`);
  return html`<div class="field">${labelEl(o, id)}<select id="${id}" name="${o.name}"${aria(o, describedBy)}>${opts}</select>${after(o, hintId, errId)}</div>`;
}

export function checkboxField(o: FieldBase & { checked: boolean }): SafeHtml {
  const { id, hintId, errId, describedBy } = ids(o);
  return html`<div class="field check-field"><span><input type="checkbox" id="${id}" name="${o.name}" value="1"${o.checked ? html` checked` : ''}${aria(o, describedBy)}> <label for="${id}">${o.label}</label></span>${after(o, hintId, errId)}</div>`;
}

/** A date as text, dd.mm.åååå (the pattern also allows d.m.åååå); the hint says so unless another is given. */
export function dateField(o: FieldBase & { value?: string | null | undefined }): SafeHtml {
  return inputField({ ...o, hint: o.hint ?? t(o.lang).form.dateHint, size: 10, maxlength: 10, autocomplete: 'off', pattern: '\\d{1,2}\\.\\d{1,2}\\.\\d{4}' });
}

/** A date field's value as YYYY-MM-DD: undefined when empty, null when it is not a date. */
export function parseDateField(v: string | undefined): string | null | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const day = parseDanishDate(v);
  return day === undefined ? null : formatIsoDate(day);
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
 * The summary lists each issue under its field's label, for web.ts errorSummary.
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
