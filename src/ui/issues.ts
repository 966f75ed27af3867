/**
 * Validation issues as the UI shows them: in Danish (the service, the engine and the schemas
 * speak English, as the API does; ISSUES_DA in i18n.ts has their Danish texts), with dates and
 * times as a Danish reader writes them, and the field named by its label.
 */
import { scrubCpr } from '../domain/index.js';
import { fmtDay, fmtInstant } from './format.js';
import { ISSUES_DA, t, type Lang } from './i18n.js';
import { KIND_LABELS } from './pages/record.js';

/** A field path's label: `delayNotices[0].notifiedAt` is the list's label. */
export function fieldLabel(lang: Lang, path: string): string {
  const d = t(lang);
  return d.fields[path] ?? d.fields[path.replace(/^event\./, '')] ?? d.fields[path.split(/[[.]/)[0] ?? ''] ?? path;
}

/** A value quoted in a message: an instant, a date or a kind, as the page shows it. */
function valueText(lang: Lang, text: string): string {
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) return fmtInstant(text, lang);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return fmtDay(text, lang);
  return KIND_LABELS[lang][text] ?? text;
}

/** An issue's message in the reader's language; a message with no Danish text yet is shown as given, marked. */
export function issueMessage(lang: Lang, text: string, label: (path: string) => string = (p) => fieldLabel(lang, p)): string {
  const message = scrubCpr(text);
  if (lang !== 'da') return message;
  for (const [pattern, text] of ISSUES_DA) {
    const m = pattern.exec(message);
    if (m) return text(m, { label, value: (v) => valueText(lang, v) });
  }
  return translated(message) ? message : `Ikke gyldig (${message}).`;
}

/** Messages the UI wrote in Danish already (the notice's, the forms' own). */
function translated(message: string): boolean {
  return /[æøåÆØÅ]|^(Skal|Må|Vælg|Ikke|Er|Ligger|Feltet|Findes|Henviser|Kan|Den|En|Handlingen|Sagen)\b/.test(message);
}
