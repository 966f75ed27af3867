/**
 * The pack's PDF, for a case worker in Danish: title with journal number, the record's facts, the
 * deadlines table (rule, citation, law/policy, due date, status, met/breached) with each
 * explanation and the settings in force, extensions and postponements, the mails, the edit
 * history and the audit hashes. A4, page numbers, generated-at. pdfkit with its built-in Helvetica
 * (WinAnsi: Danish letters, §, dashes), so nothing is read from the host's fonts.
 */
import PDFDocument from 'pdfkit';
import { fmtDay, fmtInstant } from '../ui/format.js';
import { t } from '../ui/i18n.js';
import { KIND_LABELS } from '../ui/pages/record.js';
import type { EvidenceData, EvidenceDeadline, SettingVersion } from './pack.js';

const d = t('da');
const MARGIN = { top: 50, bottom: 56, left: 45, right: 45 };
const GREY = '#666666';
const LINE = '#bbbbbb';

/** WinAnsi, the standard fonts' encoding, has these beyond Latin-1; anything else prints as "?" (the JSON keeps it). */
const WIN_ANSI_EXTRA = new Set([...'€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ']);
export function winAnsi(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    out += (c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xff) || ch === '\n' || WIN_ANSI_EXTRA.has(ch) ? ch : ch === '→' ? '->' : '?';
  }
  return out;
}

type Doc = PDFKit.PDFDocument;

interface Column {
  header: string;
  width: number;
  mono?: boolean;
}

function bottom(doc: Doc): number {
  return doc.page.height - MARGIN.bottom;
}

function heading(doc: Doc, text: string): void {
  if (doc.y + 60 > bottom(doc)) doc.addPage();
  doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).fillColor('black').text(winAnsi(text), MARGIN.left, doc.y, { width: contentWidth(doc) }).moveDown(0.3);
}

function contentWidth(doc: Doc): number {
  return doc.page.width - MARGIN.left - MARGIN.right;
}

function para(doc: Doc, text: string, opts: { size?: number; bold?: boolean; color?: string; mono?: boolean } = {}): void {
  doc.font(opts.mono ? 'Courier' : opts.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(opts.size ?? 9).fillColor(opts.color ?? 'black');
  doc.text(winAnsi(text), MARGIN.left, doc.y, { width: contentWidth(doc) });
}

/** A table with wrapped cells; a row that does not fit starts a new page, which repeats the header. */
function table(doc: Doc, columns: Column[], rows: string[][], size = 8): void {
  const pad = 3;
  const cellFont = (c: Column, header: boolean): void => {
    doc.font(header ? 'Helvetica-Bold' : c.mono ? 'Courier' : 'Helvetica').fontSize(c.mono && !header ? size - 1.5 : size);
  };
  const heightOf = (cells: string[], header: boolean): number =>
    Math.max(...columns.map((c, i) => {
      cellFont(c, header);
      return doc.heightOfString(winAnsi(cells[i] ?? ''), { width: c.width - 2 * pad });
    })) + 2 * pad;
  const drawRow = (cells: string[], header: boolean): void => {
    const h = heightOf(cells, header);
    if (doc.y + h > bottom(doc)) {
      doc.addPage();
      if (!header) drawRow(columns.map((c) => c.header), true);
    }
    const y = doc.y;
    let x = MARGIN.left;
    if (header) doc.rect(MARGIN.left, y, columns.reduce((s, c) => s + c.width, 0), h).fill('#eeeeee');
    columns.forEach((c, i) => {
      doc.rect(x, y, c.width, h).lineWidth(0.5).stroke(LINE);
      cellFont(c, header);
      doc.fillColor('black').text(winAnsi(cells[i] ?? ''), x + pad, y + pad, { width: c.width - 2 * pad });
      x += c.width;
    });
    doc.x = MARGIN.left;
    doc.y = y + h;
  };
  drawRow(columns.map((c) => c.header), true);
  for (const r of rows) drawRow(r, false);
  doc.moveDown(0.5);
}

/** Column widths in shares of the content width. */
function cols(doc: Doc, spec: Array<[string, number, boolean?]>): Column[] {
  const total = spec.reduce((s, [, w]) => s + w, 0);
  return spec.map(([header, w, mono]) => ({ header, width: (contentWidth(doc) * w) / total, ...(mono ? { mono } : {}) }));
}

/** A table of `items`, or one line saying there are none. */
function listTable<T>(doc: Doc, items: readonly T[], none: string, spec: Array<[string, number, boolean?]>, row: (x: T) => string[]): void {
  if (items.length === 0) para(doc, none);
  else table(doc, cols(doc, spec), items.map(row));
}

/** Incident kinds, client categories and parole outcomes in words, as the record page shows them. */
const CODED = new Set(['kind', 'clientCategory', 'outcome', 'fromKind', 'toKind']);

function fmtValue(v: unknown, key = ''): string {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'string' && CODED.has(key)) return KIND_LABELS.da[v] ?? v;
  if (typeof v === 'boolean') return v ? 'Ja' : 'Nej';
  if (typeof v === 'string') {
    if (/^\d{4}-\d{2}-\d{2}T/.test(v)) return fmtInstant(v, 'da');
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return fmtDay(v, 'da');
    return v;
  }
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** Met on time, met late, breached or still open: what the Ombudsman asks first. */
function outcome(x: EvidenceDeadline): string {
  const when = x.completedAt ? `, ${fmtValue(x.completedAt)}` : '';
  const ended = x.details.endedBy === 'reclassification' ? ' (afsluttet ved omklassificering)' : '';
  if (x.status === 'met') return `Ja${x.details.completion === 'declined' ? ' (tilbud afslået)' : ''}${when}${ended}`;
  if (x.status === 'met_late') return `For sent${when}${ended}`;
  if (x.status === 'breached') return `Nej, overskredet${ended}`;
  return x.details.suspended ? 'Åben (udsat)' : 'Åben';
}

function settingsLine(values: Record<string, SettingVersion>): string {
  return Object.entries(values)
    .map(([key, v]) => `${key}: ${v.value === null ? 'ikke sat (standard)' : `${JSON.stringify(v.value)} (sat ${fmtInstant(v.since, 'da')}, post #${v.auditId})`}`)
    .join('; ');
}

const FACT_SKIP = new Set(['type', 'id', 'version', 'delayNotices', 'reclassifications', 'evaluations', 'transfers', 'paroleDecisions']);

export function renderPdf(data: EvidenceData): Promise<Buffer> {
  const generated = fmtInstant(data.exportedAt, 'da');
  const typeLabel = d.recordTypes[data.record.type] ?? data.record.type;
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    lang: 'da-DK',
    info: { Title: winAnsi(`Bevismappe ${typeLabel} ${data.record.journalNumber}`), Author: 'fristvagt', Subject: 'Bevismappe til Folketingets Ombudsmand', CreationDate: new Date(data.exportedAt) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).text(winAnsi(`Bevismappe: ${typeLabel} ${data.record.journalNumber}`));
  para(doc, `Dannet ${generated} af ${data.exportedBy.name} (${d.roles[data.exportedBy.role] ?? data.exportedBy.role}) med fristvagt. Journalnummer ${data.record.journalNumber}, sags-id ${data.record.id}.`, { color: GREY });
  para(doc, 'Mappen indeholder de samme oplysninger som data (data/*.json) og kan kontrolleres med "fristvagt evidence verify" eller sha256sum (se LAESMIG.txt og afsnittet Revisionslog nedenfor).', { color: GREY });

  heading(doc, 'Sagens oplysninger');
  const facts = Object.entries(data.facts).filter(([k, v]) => !FACT_SKIP.has(k) && v !== null && v !== undefined && v !== '' && !Array.isArray(v));
  table(doc, cols(doc, [['Oplysning', 1], ['Værdi', 2]]), facts.map(([k, v]) => [d.fields[k] ?? k, fmtValue(v, k)]));

  heading(doc, 'Frister');
  listTable(doc, data.deadlines, 'Ingen frister.', [['Regel', 3], ['Hjemmel', 2.6], ['Grundlag', 1.1], ['Frist', 2], ['Status', 1.5], ['Overholdt?', 2]], (x) => [
    x.title, x.citation, d.basisLabels[x.basis] ?? x.basis, fmtDay(x.dueDate, 'da'), d.statusLabels[x.status] ?? x.status, outcome(x),
  ]);
  for (const x of data.deadlines) {
    if (doc.y + 50 > bottom(doc)) doc.addPage();
    para(doc, `${x.title} (${x.citation})`, { bold: true });
    para(doc, `Forklaring: ${x.explanation}`);
    if (x.originalDueDate) para(doc, `Oprindelig frist: ${fmtDay(x.originalDueDate, 'da')}.`);
    if (x.stored) para(doc, `Beregnet ${fmtInstant(x.stored.computedAt, 'da')} (gemt status: ${d.statusLabels[x.stored.status] ?? x.stored.status}, frist ${fmtDay(x.stored.dueDate, 'da')}; ${x.stored.calendarVersion}; regelkatalog ${x.stored.catalogueVersion}).`, { color: GREY, size: 8 });
    if (x.settingsInForce) para(doc, `Indstillinger i kraft ved beregningen: ${settingsLine(x.settingsInForce.values)}`, { color: GREY, size: 8 });
    doc.moveDown(0.4);
  }

  heading(doc, 'Forlængelser og udsættelser');
  listTable(doc, data.extensions, 'Ingen.', [['Art', 1.5], ['Givet/besluttet', 2], ['Ny dato', 1.6], ['Begrundelse', 3], ['Rettidig', 1]], (e) => [
    e.kind === 'delay_notice' ? 'Forsinkelse meddelt' : 'Opfølgende samtale udsat', fmtValue(e.at), fmtValue(e.newDate), e.reason ?? '–', e.inTime === undefined ? '–' : e.inTime ? 'Ja' : 'Nej',
  ]);

  heading(doc, 'Mails');
  listTable(doc, data.mails, 'Ingen mails planlagt for sagen.', [['Trin', 2.2], ['Modtager', 2.2], ['Planlagt', 1.8], ['Status', 1.8], ['Forsøg', 1], ['Message-ID, SMTP-svar, fejl', 3.4]], (m) => [
    m.stage, m.recipient, fmtValue(m.plannedAt), `${d.notifStatus[m.status] ?? m.status}${m.sentAt ? ` ${fmtValue(m.sentAt)}` : ''}`, String(m.attempts),
    [m.messageId, m.smtpResponse, m.lastError ? `Fejl: ${m.lastError}` : null].filter(Boolean).join('\n') || '–',
  ]);

  if (data.archived.length > 0) {
    heading(doc, 'Foreløbig underretning: arkiverede beskeder');
    para(doc, 'Hver besked er gemt præcis som mailserveren modtog den. Dens sha256 står i den hashede revisionspost "preliminary_notice_archived"; filen i mappen (messages/<id>.eml) kan kontrolleres med sha256sum.', { size: 8 });
    listTable(doc, data.archived, 'Ingen.', [['Modtager', 2.2], ['Sendt', 1.8], ['Message-ID, SMTP-svar', 3.2], ['sha256', 3.2]], (a) => [
      a.recipient, fmtValue(a.sentAt), `${a.messageId}\n${a.smtpResponse}`, `${a.sha256}${a.file ? `\n${a.file}` : a.erasedAt ? `\nSlettet ${fmtValue(a.erasedAt)} (sletteregler)` : '\n(ikke i mappen: indeholder CPR-nummer)'}`,
    ]);
  }

  heading(doc, 'Ændringshistorik');
  if (data.history.length === 0) para(doc, 'Ingen registrerede ændringer.');
  for (const h of data.history) {
    if (doc.y + 30 > bottom(doc)) doc.addPage();
    const verb = h.action.split('.').at(-1) ?? h.action;
    para(doc, `#${h.auditId}  ${fmtValue(h.at)}  ${h.actor}: ${d.events[verb] ?? h.action}`, { bold: true });
    // A new record lists its filled fields; ids and empty lists say nothing to a reader.
    for (const c of h.changes.filter((x) => x.field !== 'id' && x.field !== 'type' && !(Array.isArray(x.after) && x.after.length === 0 && x.before === null))) para(doc, `${d.fields[c.field] ?? c.field}: før ${fmtValue(c.before, c.field)}; efter ${fmtValue(c.after, c.field)}`, { size: 8 });
    doc.moveDown(0.3);
  }

  heading(doc, 'Revisionslog og kontrol');
  para(doc, 'Hver post i revisionsloggen er hashet med sha256 over den forrige posts hash, et linjeskift og posten som kanonisk JSON. Filen audit/<nr>.txt i mappen indeholder præcis disse bytes, så "sha256sum audit/<nr>.txt" giver postens hash. SHA256SUMS har sha256 af alle filer, og dens egen sha256 står i posten "bevismappe udleveret" (export/<nr>.txt), som er revisionslogens hoved lige efter udleveringen.');
  if (data.audit.headWhenRead) para(doc, `Revisionslogens hoved, da data blev læst: post #${data.audit.headWhenRead.id}, ${data.audit.headWhenRead.hash}.`, { size: 8 });
  doc.moveDown(0.3);
  table(
    doc,
    cols(doc, [['Post', 0.7], ['Tidspunkt', 1.7], ['Handling', 2.2], ['Hash / forrige hash', 5.6, true]]),
    data.audit.entries.map((e) => [`#${e.id}`, fmtValue(e.at), `${e.action}${e.reason === 'setting' ? ' (indstilling)' : ''}`, `${e.hash}\n${e.prevHash}`]),
  );

  // Page numbers and the generated-at line, on every page once the page count is known.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const y = doc.page.height - MARGIN.bottom + 20;
    doc.page.margins.bottom = 0;
    doc.font('Helvetica').fontSize(8).fillColor(GREY).text(winAnsi(`Side ${i + 1} af ${range.count}  ·  Bevismappe ${data.record.journalNumber}  ·  dannet ${generated}`), MARGIN.left, y, { width: contentWidth(doc), align: 'center', lineBreak: false });
    doc.page.margins.bottom = MARGIN.bottom;
  }
  doc.end();
  return done;
}
