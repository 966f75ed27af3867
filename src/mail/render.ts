/**
 * Renders templates/<id>/{subject.txt,text.txt,html.html} with variables validated by the
 * template's zod schema. `{{name}}` only: values are escaped in the HTML part, subjects are one
 * line, and a template that names a variable it was not given is an error, never "undefined".
 * A section `{{#name}}…{{/name}}` is kept when the variable is a non-empty string and dropped when
 * it is empty (the preliminary notice's wording cases; sections do not nest).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPLATE_SCHEMAS, type TemplateId, type TemplateVars } from '../../templates/schemas.js';
import { packageRoot } from '../paths.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export class TemplateError extends Error {
  readonly code = 'TEMPLATE_INVALID';
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'TemplateError';
  }
}

const cache = new Map<string, { subject: string; text: string; html: string }>();

function parts(id: TemplateId): { subject: string; text: string; html: string } {
  let p = cache.get(id);
  if (!p) {
    const dir = join(packageRoot(), 'templates', id);
    p = {
      subject: readFileSync(join(dir, 'subject.txt'), 'utf8').trim(),
      text: readFileSync(join(dir, 'text.txt'), 'utf8'),
      html: readFileSync(join(dir, 'html.html'), 'utf8'),
    };
    cache.set(id, p);
  }
  return p;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function fill(template: string, vars: Record<string, string>, escape: (s: string) => string, id: string): string {
  const kept = template.replace(/\{\{#([a-zA-Z][a-zA-Z0-9]*)\}\}([\s\S]*?)\{\{\/\1\}\}/g, (_m, name: string, inner: string) => {
    const v = vars[name];
    if (v === undefined) throw new TemplateError(`template ${id} has a section {{#${name}}}, whose variable it was not given`);
    return v === '' ? '' : inner;
  });
  return kept.replace(/\{\{\s*([a-zA-Z][a-zA-Z0-9]*)\s*\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new TemplateError(`template ${id} uses {{${name}}}, which it was not given`);
    return escape(v);
  });
}

export function renderTemplate<T extends TemplateId>(id: T, vars: TemplateVars<T>): RenderedMail {
  const parsed = TEMPLATE_SCHEMAS[id].safeParse(vars);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TemplateError(`template ${id}: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid variables'}`);
  }
  const v = parsed.data as Record<string, string>;
  const p = parts(id);
  return {
    subject: fill(p.subject, v, (s) => s.replace(/\s+/g, ' '), id),
    text: fill(p.text, v, (s) => s, id),
    html: fill(p.html, v, escapeHtml, id),
  };
}
