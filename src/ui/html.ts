/**
 * A tiny tagged-template HTML builder that escapes every interpolated value unless it is already
 * SafeHtml. Pages are built only from html`` fragments, so forgetting to escape is not possible
 * by accident: the only way around it is raw(), kept for compile-time constants (CSS, JS).
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false || v === true) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Trusted markup only (constants written in this code base), never data. */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}

export function join(parts: readonly HtmlValue[], sep: HtmlValue = ''): SafeHtml {
  const sepText = render(sep);
  return new SafeHtml(parts.map(render).join(sepText));
}

/** A query string from defined, non-empty values (already URL-encoded; escape again when placed in an attribute). */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}
