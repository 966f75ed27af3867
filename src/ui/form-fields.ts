/**
 * Form fields from a field description (records/kinds.ts `describeField`): the schema that drives
 * validation, storage and the importer's columns also decides each field's input. Dates and
 * times are Danish whatever the browser's locale: text inputs with a dd.mm.åååå (tt:mm) pattern
 * and a hint, read here in Europe/Copenhagen (never `type="date"`, whose format follows the
 * browser). Each field carries its hint and its error next to it (aria-describedby); the form's
 * summary at the top links to them (web.ts errorSummary).
 */
import { formatDanishDate, formatLocalInstant, instantOfLocal, parseIsoDate, parseWhen } from '../domain/index.js';
import type { FieldSpec } from '../records/kinds.js';
import { html, type SafeHtml } from './html.js';
import { t, type Lang } from './i18n.js';
import type { FormBody } from './web.js';

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

const DANISH_DATE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const DANISH_INSTANT = /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+|\s*T\s*)(?:kl\.?\s*)?(\d{1,2})[:.](\d{2})$/i;
const ISO_LOCAL = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?$/;

function isoDay(d: string, m: string, y: string): string | undefined {
  const text = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  return parseIsoDate(text) === undefined ? undefined : text;
}

/** `24.11.2026` (or the API's `2026-11-24`) → `2026-11-24`; undefined when it is not a real date. */
export function parseDanishDate(text: string): string | undefined {
  const s = text.trim();
  const m = DANISH_DATE.exec(s);
  if (m) return isoDay(m[1] as string, m[2] as string, m[3] as string);
  return parseIsoDate(s) === undefined ? undefined : s;
}

function localInstant(day: string, h: number, min: number): string | undefined {
  const d = parseIsoDate(day);
  if (d === undefined || h > 23 || min > 59) return undefined;
  return formatLocalInstant(instantOfLocal(d, (h * 60 + min) * 60_000));
}

/**
 * `24.11.2026 14:05` (also `kl. 14.05`) in Copenhagen → an instant with offset; a date alone stays
 * a date (the API reads it as that day). The API's own forms (`2026-11-24T14:05`, with an
 * offset) are read too. Undefined when it is neither.
 */
export function parseDanishInstant(text: string): string | undefined {
  const s = text.trim();
  const m = DANISH_INSTANT.exec(s);
  if (m) {
    const day = isoDay(m[1] as string, m[2] as string, m[3] as string);
    return day === undefined ? undefined : localInstant(day, Number(m[4]), Number(m[5]));
  }
  const date = parseDanishDate(s);
  if (date) return date;
  const local = ISO_LOCAL.exec(s);
  if (local) return localInstant(local[1] as string, Number(local[2]), Number(local[3]));
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

/** One field: label, hint, the error (when there is one) and the input, tied together for assistive technology. */
export function renderField(f: FormField, lang: Lang, idPrefix = 'f'): SafeHtml {
  const rf = t(lang).rf;
  const { spec } = f;
  const id = `${idPrefix}-${spec.name}`;
  const hintId = f.hint ? `${id}-hint` : '';
  const errId = f.error ? `${id}-err` : '';
  const described = [hintId, errId].filter(Boolean).join(' ');
  // A flag is always answered (unticked is no): never `required`, which on a checkbox means "must be ticked".
  const flag = spec.input === 'boolean' && !spec.nullable;
  const aria = html`${described ? html` aria-describedby="${described}"` : ''}${f.error ? html` aria-invalid="true"` : ''}${spec.required && !flag ? html` required` : ''}`;
  const hint = f.hint ? html`<span class="small muted rf-hint" id="${hintId}">${f.hint}</span>` : '';
  const error = f.error ? html`<span class="field-error" id="${errId}">${f.error}</span>` : '';
  const req = spec.required ? html` <span class="rf-req">(${rf.required})</span>` : '';
  if (flag) {
    return html`<div class="field check rf-field"><span><input type="checkbox" id="${id}" name="${spec.name}" value="true"${f.text === 'true' ? html` checked` : ''}${aria}> <label for="${id}">${f.label}</label></span>${hint}${error}</div>`;
  }
  let input: SafeHtml;
  if (spec.input === 'boolean') {
    const opts: Array<[string, string]> = [['', rf.notStated], ['true', t(lang).yes], ['false', t(lang).no]];
    input = html`<select id="${id}" name="${spec.name}"${aria}>${opts.map(([v, l]) => html`<option value="${v}"${f.text === v ? html` selected` : ''}>${l}</option>`)}</select>`;
  } else if (f.options) {
    const blank = spec.required && f.options.some(([v]) => v === f.text) ? [] : [['', spec.required ? rf.choose : rf.notStated] as const];
    input = html`<select id="${id}" name="${spec.name}"${aria}>${[...blank, ...f.options].map(([v, l]) => html`<option value="${v}"${f.text === v ? html` selected` : ''}>${l}</option>`)}</select>`;
  } else if (spec.input === 'longtext') {
    input = html`<textarea id="${id}" name="${spec.name}" rows="3"${spec.max ? html` maxlength="${String(spec.max)}"` : ''}${aria}>${f.text}</textarea>`;
  } else {
    const pattern = spec.input === 'instant' ? '\\d{1,2}\\.\\d{1,2}\\.\\d{4}( \\d{1,2}[:.]\\d{2})?' : spec.input === 'date' ? '\\d{1,2}\\.\\d{1,2}\\.\\d{4}' : '';
    const size = spec.input === 'instant' ? '16' : spec.input === 'date' ? '10' : spec.input === 'cpr' ? '11' : '30';
    input = html`<input type="text" id="${id}" name="${spec.name}" value="${f.text}" size="${size}"${spec.max ? html` maxlength="${String(spec.max)}"` : ''}${pattern ? html` pattern="${pattern}" inputmode="text"` : ''} autocomplete="off" spellcheck="${spec.input === 'text' ? 'true' : 'false'}"${aria}>`;
  }
  return html`<div class="field rf-field${spec.input === 'longtext' ? ' rf-wide' : ''}"><label for="${id}">${f.label}${req}</label>${hint}${error}${input}</div>`;
}

/**
 * A Danish date (or date and time) text input with its format hint, for the forms written out by
 * hand (the record page's quick steps); `attrs` are the caller's further attributes.
 */
export function danishDateInput(o: { id: string; name: string; value: string; kind: 'instant' | 'date'; lang: Lang; attrs?: SafeHtml }): SafeHtml {
  const rf = t(o.lang).rf;
  const pattern = o.kind === 'instant' ? '\\d{1,2}\\.\\d{1,2}\\.\\d{4}( \\d{1,2}[:.]\\d{2})?' : '\\d{1,2}\\.\\d{1,2}\\.\\d{4}';
  return html`<input type="text" id="${o.id}" name="${o.name}" value="${o.value}" size="${o.kind === 'instant' ? '16' : '10'}" pattern="${pattern}" autocomplete="off" spellcheck="false" aria-describedby="${o.id}-hint"${o.attrs ?? ''}><span class="small muted rf-hint" id="${o.id}-hint">${o.kind === 'instant' ? rf.hintInstant : rf.hintDate}</span>`;
}
