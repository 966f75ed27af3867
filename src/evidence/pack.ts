/**
 * The evidence pack of one record (issue 12, section 3): what the area office hands the Ombudsman
 * when asked how a case was handled. One ZIP with a readable PDF and the same data as JSON, the
 * hash input of every audit entry involved, SHA256SUMS over all of it, and the "evidence exported"
 * audit entry that records SHA256SUMS's hash. The layout is in format.ts; the offline check in verify.ts.
 *
 * Personal values are shown as the exporter's role sees them on the record page: names and free
 * text to every role in scope, CPR numbers (also inside free text) only to area and institution
 * tokens (`mayseeCpr`). The audit log itself never holds a CPR number (records/service.ts).
 */
import { and, asc, desc, eq, inArray, lte } from 'drizzle-orm';
import { appendAudit, auditHead, canonicalJson, entryHashInput, PERSONAL_KEY, readAudit, type AuditRow } from '../db/audit.js';
import { sha256Hex } from '../db/audit-hash.js';
import { auditLog, auditPersonal, deadlines, noticeArchive, notifications } from '../db/schema.js';
import { ruleById, scrubCpr, type Deadline } from '../domain/index.js';
import { ServiceError } from '../records/errors.js';
import { KINDS, type RecordTypeName } from '../records/kinds.js';
import { getRecord, mayseeCpr, type Actor, type ServiceContext } from '../records/service.js';
import { SETTINGS } from '../records/settings.js';
import { auditFile, DATA_FILES, EXPORT_ACTION_SUFFIX, exportFile, FORMAT, messageFile, PDF_FILE, README_FILE, SUMS_FILE, sumsLine, type ExportRecordPayload, type PackAuditEntry } from './format.js';
import { renderPdf } from './pdf.js';
import { readmeText } from './readme.js';
import { writeZip } from './zip.js';

/** Roles that may export: the offices that answer for their records, and administrators. */
export function mayExport(actor: Actor): boolean {
  return actor.role === 'admin' || actor.role === 'area' || actor.role === 'institution';
}

export interface SettingVersion {
  /** The value in force, or null: not set, the catalogue's defaults apply. */
  value: unknown;
  /** When that value was set, and the audit entry that set it (in the pack). */
  since: string | null;
  auditId: number | null;
}

export interface EvidenceDeadline {
  key: string;
  rule: string;
  title: string;
  basis: 'law' | 'policy';
  obligation: string;
  citation: string;
  responsible: string | null;
  startDate: string;
  dueDate: string;
  dueAt: string;
  originalDueDate: string | null;
  status: string;
  completedAt: string | null;
  /** The engine's explanation at export, day by day (counted and skipped days), masked as the role sees it. */
  explanation: string;
  details: Pick<Deadline, 'suspended' | 'suspendedReason' | 'delayNotifiedLate' | 'delayNotices' | 'postponedLate' | 'postponementDecidedAt' | 'endedBy' | 'endedAt' | 'immediate' | 'completion'>;
  /** The row the worker planned its mails from: as stored, when it was computed, under which calendar. */
  stored: { status: string; dueDate: string; computedAt: string; active: boolean; calendarVersion: string; catalogueVersion: string; explanation: string } | null;
  /** Every setting as it stood at `stored.computedAt` (from the audited settings changes). */
  settingsInForce: { at: string; values: Record<string, SettingVersion> } | null;
}

/** A preliminary notice as archived (src/worker/notice.ts): `file` is its .eml in the pack, if included. */
export interface EvidenceArchivedMessage {
  id: string;
  notificationId: string;
  recipient: string;
  messageId: string;
  sha256: string;
  bytes: number;
  smtpResponse: string;
  sentAt: string;
  erasedAt: string | null;
  file: string | null;
}

export interface EvidenceMail {
  id: string;
  stage: string;
  kind: string;
  template: string;
  recipient: string;
  status: string;
  plannedAt: string;
  sentAt: string | null;
  attempts: number;
  messageId: string | null;
  smtpResponse: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EvidenceExtension {
  kind: 'delay_notice' | 'postponement';
  /** When it was given or decided. */
  at: string | null;
  /** The new expected date (delay) or the new date of the conversation (postponement). */
  newDate: string | null;
  reason: string | null;
  /** A delay notice given on or before the deadline then in force (§ 7 stk. 2). */
  inTime?: boolean;
}

export interface HistoryEntry {
  auditId: number;
  at: string;
  actor: string;
  action: string;
  changes: Array<{ field: string; before: unknown; after: unknown }>;
}

export interface EvidenceData {
  format: string;
  exportedAt: string;
  exportedBy: { name: string; role: string };
  record: { type: RecordTypeName; id: string; journalNumber: string; institutionId: string; areaId: string };
  facts: Record<string, unknown>;
  findings: { immediate: unknown; notInForce: unknown; incomplete: unknown; warnings: unknown };
  extensions: EvidenceExtension[];
  deadlines: EvidenceDeadline[];
  mails: EvidenceMail[];
  archived: EvidenceArchivedMessage[];
  history: HistoryEntry[];
  audit: { headWhenRead: { id: number; hash: string } | null; entries: PackAuditEntry[] };
  /** Closure days from the configuration (FRISTVAGT_CLOSURE_DAYS): not versioned, as they stand at export. */
  configClosureDays: readonly string[];
}

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const VIEW_LISTS = new Set(['deadlines', 'immediate', 'notInForce', 'incomplete', 'warnings']);
const HISTORY_SKIP = new Set(['updatedAt', 'version', 'createdAt']);

/** Every string in a value with CPR-shaped numbers masked. */
function maskDeep(v: unknown): unknown {
  if (typeof v === 'string') return scrubCpr(v);
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskDeep(x)]));
  return v;
}

/** The version of each setting in force at `at`: the newest audited change not after it. */
function settingsAt(changes: ReadonlyArray<{ id: number; at: Date; entityId: string; after: unknown }>, at: Date): Record<string, SettingVersion> {
  const out: Record<string, SettingVersion> = {};
  for (const key of Object.keys(SETTINGS)) {
    let found: SettingVersion = { value: null, since: null, auditId: null };
    for (const c of changes) if (c.entityId === key && c.at.getTime() <= at.getTime()) found = { value: c.after, since: c.at.toISOString(), auditId: c.id };
    out[key] = found;
  }
  return out;
}

function historyOf(rows: readonly AuditRow[], mask: (v: unknown) => unknown): HistoryEntry[] {
  return rows.map((a) => {
    const before = (a.before ?? {}) as Record<string, unknown>;
    const after = (a.after ?? {}) as Record<string, unknown>;
    const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !HISTORY_SKIP.has(k));
    const changes = fields
      .filter((k) => canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null))
      .map((field) => ({ field, before: mask(a.before === null ? null : (before[field] ?? null)), after: mask(after[field] ?? null) }));
    return { auditId: a.id, at: a.at.toISOString(), actor: a.actor, action: a.action, changes };
  });
}

/** Reads everything the pack shows, as `actor` may see it. Refuses a reader token and a record out of scope. */
export async function collectEvidence(ctx: ServiceContext, type: RecordTypeName, id: string, actor: Actor): Promise<EvidenceData> {
  if (!mayExport(actor)) throw new ServiceError('FORBIDDEN', `${actor.role} tokens may not export evidence packs (admin, area and institution tokens may)`);
  const db = ctx.db;
  const now = ctx.clock();
  // The head first: every entry read below is at or before it.
  const head = (await auditHead(db)) ?? null;
  const upTo = head?.id ?? 0;
  const view = await getRecord(ctx, type, id, actor, 'da');
  const showCpr = mayseeCpr(actor);
  const mask = showCpr ? (v: unknown) => v : maskDeep;

  const ofRecord = and(eq(auditLog.entityType, type), eq(auditLog.entityId, id), lte(auditLog.id, upTo));
  const [restored, settingChanges, stored, mails, archive] = await Promise.all([
    readAudit(db, ofRecord, null),
    db.select().from(auditLog).where(and(eq(auditLog.entityType, 'setting'), eq(auditLog.action, 'settings.update'), lte(auditLog.id, upTo))).orderBy(asc(auditLog.id)),
    db.select().from(deadlines).where(and(eq(deadlines.recordType, type), eq(deadlines.recordId, id))).orderBy(asc(deadlines.dueDate), asc(deadlines.key)),
    db.select().from(notifications).where(and(eq(notifications.recordType, type), eq(notifications.recordId, id))).orderBy(asc(notifications.plannedAt), asc(notifications.stage), asc(notifications.recipient)),
    db.select({ id: noticeArchive.id, notificationId: noticeArchive.notificationId, recipient: noticeArchive.recipient, messageId: noticeArchive.messageId, sha256: noticeArchive.sha256, bytes: noticeArchive.bytes, smtpResponse: noticeArchive.smtpResponse, sentAt: noticeArchive.sentAt, erasedAt: noticeArchive.erasedAt }).from(noticeArchive).where(and(eq(noticeArchive.recordType, type), eq(noticeArchive.recordId, id))).orderBy(asc(noticeArchive.sentAt), asc(noticeArchive.recipient)),
  ]);

  // Deadlines: the engine's view at export beside the stored row the worker planned from.
  const engine = new Map(view.deadlines.map((d) => [d.key, d]));
  const usedSettings = new Set<number>();
  const evidenceDeadlines: EvidenceDeadline[] = stored.map((row) => {
    const d = engine.get(row.key);
    engine.delete(row.key);
    const values = settingsAt(settingChanges, row.computedAt);
    for (const v of Object.values(values)) if (v.auditId !== null) usedSettings.add(v.auditId);
    return {
      key: row.key, rule: row.ruleId, title: d?.title ?? ruleById(row.ruleId)?.title.da ?? row.ruleId, basis: row.basis, obligation: row.obligation, citation: d?.citation ?? row.citation,
      responsible: d?.responsible ?? null, startDate: d?.startDate ?? row.startDate, dueDate: d?.dueDate ?? row.dueDate, dueAt: d?.dueAt ?? row.dueAt.toISOString(),
      originalDueDate: d?.originalDueDate ?? row.originalDueDate, status: d?.status ?? row.status, completedAt: d?.completedAt ?? iso(row.completedAt),
      explanation: d?.explanation ?? (mask(row.explanation) as string),
      details: detailsOf(d),
      stored: { status: row.status, dueDate: row.dueDate, computedAt: row.computedAt.toISOString(), active: row.active, calendarVersion: row.calendarVersion, catalogueVersion: row.catalogueVersion, explanation: mask(row.explanation) as string },
      settingsInForce: { at: row.computedAt.toISOString(), values },
    };
  });
  // A deadline the engine finds that no plan has stored yet (the worker has not caught up).
  for (const d of engine.values()) {
    evidenceDeadlines.push({
      key: d.key, rule: d.rule, title: d.title, basis: d.basis, obligation: d.obligation, citation: d.citation, responsible: d.responsible, startDate: d.startDate, dueDate: d.dueDate, dueAt: d.dueAt,
      originalDueDate: d.originalDueDate ?? null, status: d.status, completedAt: d.completedAt, explanation: d.explanation, details: detailsOf(d), stored: null, settingsInForce: null,
    });
  }

  // The audit entries: the record's own, and the settings changes in force for a deadline.
  const recordIds = restored.map((r) => r.id);
  const settingIds = [...usedSettings];
  const rawIds = [...recordIds, ...settingIds];
  const [raw, personal] = rawIds.length === 0 ? [[], []] : await Promise.all([
    db.select().from(auditLog).where(inArray(auditLog.id, rawIds)).orderBy(asc(auditLog.id)),
    db.select().from(auditPersonal).where(inArray(auditPersonal.auditId, recordIds.length > 0 ? recordIds : [0])),
  ]);
  const restoredById = new Map(restored.map((r) => [r.id, r]));
  const entries: PackAuditEntry[] = raw.map((r) => {
    const shownEntry = restoredById.get(r.id);
    const sealedFields = new Set<string>();
    for (const side of [r.before, r.after]) {
      if (side && typeof side === 'object') for (const [k, v] of Object.entries(side)) if (v && typeof v === 'object' && PERSONAL_KEY in v) sealedFields.add(k);
    }
    const rows = new Map(personal.filter((p) => p.auditId === r.id).map((p) => [p.field, p]));
    const personalList: PackAuditEntry['personal'] = [...sealedFields].sort().map((field) => {
      const b = (shownEntry?.before as Record<string, unknown> | null)?.[field] ?? null;
      const a = (shownEntry?.after as Record<string, unknown> | null)?.[field] ?? null;
      const p = rows.get(field);
      if (!p) return { field, shown: 'erased', salt: null, before: null, after: null };
      const mb = mask(b);
      const ma = mask(a);
      if (canonicalJson(mb) !== canonicalJson(b) || canonicalJson(ma) !== canonicalJson(a)) return { field, shown: 'masked', salt: null, before: mb, after: ma };
      return { field, shown: 'as-stored', salt: p.salt, before: b, after: a };
    });
    return {
      id: r.id, at: r.at.toISOString(), actor: r.actor, action: r.action, entityType: r.entityType, entityId: r.entityId, prevHash: r.prevHash, hash: r.hash,
      hashInput: auditFile(r.id), reason: r.entityType === 'setting' ? 'setting' : 'record', personal: personalList,
    };
  });

  const facts = Object.fromEntries(Object.entries(view).filter(([k]) => !VIEW_LISTS.has(k)));
  return {
    format: FORMAT,
    exportedAt: now.toISOString(),
    exportedBy: { name: actor.name, role: actor.role },
    record: { type, id, journalNumber: String(view['journalNumber']), institutionId: String(view['institutionId']), areaId: String(view['areaId']) },
    facts,
    findings: { immediate: view['immediate'] ?? [], notInForce: view['notInForce'] ?? [], incomplete: view['incomplete'] ?? [], warnings: view['warnings'] ?? [] },
    extensions: extensionsOf(view, view.deadlines),
    deadlines: evidenceDeadlines,
    mails: mails.map((n) => ({
      id: n.id, stage: n.stage, kind: n.kind, template: n.template, recipient: n.recipient, status: n.status, plannedAt: n.plannedAt.toISOString(), sentAt: iso(n.sentAt),
      attempts: n.attempts, messageId: n.messageId, smtpResponse: n.smtpResponse, lastError: n.lastError, createdAt: n.createdAt.toISOString(), updatedAt: n.updatedAt.toISOString(),
    })),
    // The message itself holds the CPR number: in the pack only for the roles that may see it.
    archived: archive.map((a) => ({ ...a, sentAt: a.sentAt.toISOString(), erasedAt: iso(a.erasedAt), file: showCpr && a.erasedAt === null ? messageFile(a.id) : null })),
    history: historyOf(restored, mask),
    audit: { headWhenRead: head, entries },
    configClosureDays: ctx.closureDays,
  };
}

function detailsOf(d: Deadline | undefined): EvidenceDeadline['details'] {
  if (!d) return {};
  const out: EvidenceDeadline['details'] = {};
  for (const k of ['suspended', 'suspendedReason', 'delayNotifiedLate', 'delayNotices', 'postponedLate', 'postponementDecidedAt', 'endedBy', 'endedAt', 'immediate', 'completion'] as const) {
    if (d[k] !== undefined) (out as Record<string, unknown>)[k] = d[k];
  }
  return out;
}

/** Delay notices (incidents) and a postponed follow-up conversation (security cell), with reason and time. */
function extensionsOf(view: Record<string, unknown>, list: readonly Deadline[]): EvidenceExtension[] {
  const out: EvidenceExtension[] = [];
  const judged = list.flatMap((d) => d.delayNotices ?? []);
  for (const n of (view['delayNotices'] as Array<{ notifiedAt: string; expectedDate: string; reason?: string | null }> | undefined) ?? []) {
    const j = judged.find((x) => x.notifiedAt === n.notifiedAt && x.expectedDate === n.expectedDate);
    out.push({ kind: 'delay_notice', at: n.notifiedAt, newDate: n.expectedDate, reason: n.reason ?? null, ...(j ? { inTime: j.inTime } : {}) });
  }
  if (typeof view['followUpPostponedReason'] === 'string') {
    out.push({ kind: 'postponement', at: (view['followUpPostponedAt'] as string | null) ?? null, newDate: (view['followUpRescheduledTo'] as string | null) ?? null, reason: view['followUpPostponedReason'] });
  }
  return out;
}

export interface EvidencePack {
  zip: Buffer;
  /** A download name without personal data: the journal number (CPR-shaped ones are refused at input, and masked here too). */
  fileName: string;
  exportEntry: { id: number; hash: string };
  manifestSha256: string;
}

/** The archived messages the pack includes, as stored (byte for byte). */
async function archivedFiles(ctx: ServiceContext, archived: readonly EvidenceArchivedMessage[]): Promise<Array<{ path: string; data: Buffer }>> {
  const wanted = archived.filter((a) => a.file !== null);
  if (wanted.length === 0) return [];
  const rows = await ctx.db.select({ id: noticeArchive.id, mime: noticeArchive.mime }).from(noticeArchive).where(inArray(noticeArchive.id, wanted.map((a) => a.id)));
  return rows.flatMap((r) => (r.mime ? [{ path: messageFile(r.id), data: r.mime }] : []));
}

const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v, null, 2)}\n`, 'utf8');

/** Collects, renders, records the export in the audit log and zips: one pack per call. */
export async function exportEvidence(ctx: ServiceContext, type: RecordTypeName, id: string, actor: Actor): Promise<EvidencePack> {
  const data = await collectEvidence(ctx, type, id, actor);
  const byId = new Map(data.audit.entries.map((e) => [e.id, e]));
  const rawEntries = data.audit.entries.length === 0 ? [] : await ctx.db.select().from(auditLog).where(inArray(auditLog.id, [...byId.keys()])).orderBy(asc(auditLog.id));
  const pdf = await renderPdf(data);
  const files: Array<{ path: string; data: Buffer }> = [
    { path: README_FILE, data: Buffer.from(readmeText(), 'utf8') },
    { path: PDF_FILE, data: pdf },
    { path: DATA_FILES.record, data: json({ format: data.format, exportedAt: data.exportedAt, exportedBy: data.exportedBy, record: data.record, facts: data.facts, findings: data.findings, extensions: data.extensions, configClosureDays: data.configClosureDays }) },
    { path: DATA_FILES.deadlines, data: json({ record: data.record, deadlines: data.deadlines }) },
    { path: DATA_FILES.mails, data: json({ record: data.record, mails: data.mails, archived: data.archived }) },
    { path: DATA_FILES.history, data: json({ record: data.record, history: data.history }) },
    { path: DATA_FILES.audit, data: json({ record: data.record, headWhenRead: data.audit.headWhenRead, entries: data.audit.entries }) },
    ...rawEntries.map((r) => ({ path: auditFile(r.id), data: Buffer.from(entryHashInput(r.prevHash, r), 'utf8') })),
    ...(await archivedFiles(ctx, data.archived)),
  ];
  const sums = Buffer.from(files.map((f) => sumsLine(sha256Hex(f.data), f.path)).join(''), 'utf8');
  const manifestSha256 = sha256Hex(sums);
  const payload: ExportRecordPayload = {
    format: FORMAT, recordType: type, recordId: id, journalNumber: data.record.journalNumber, manifestSha256, files: files.length,
    auditEntries: data.audit.entries.map((e) => e.id), headWhenRead: data.audit.headWhenRead,
  };
  const action = `${type}${EXPORT_ACTION_SUFFIX}`;
  const now = new Date(data.exportedAt);
  const entry = await ctx.db.transaction(async (tx) => {
    await appendAudit(tx, { actor: actor.name, action, entityType: type, entityId: id, before: null, after: payload }, now);
    const [row] = await tx.select().from(auditLog).where(and(eq(auditLog.entityType, type), eq(auditLog.entityId, id), eq(auditLog.action, action))).orderBy(desc(auditLog.id)).limit(1);
    return row;
  });
  if (!entry) throw new Error('the export audit entry was not written');
  const exportInput = Buffer.from(entryHashInput(entry.prevHash, entry), 'utf8');
  // The bytes must hash to what the chain stores, or the pack would lie about the head.
  if (sha256Hex(exportInput) !== entry.hash) throw new Error(`export entry #${entry.id}: its hash input does not reproduce its stored hash`);
  const zip = await writeZip([...files, { path: SUMS_FILE, data: sums }, { path: exportFile(entry.id), data: exportInput }], now);
  const safeJournal = scrubCpr(data.record.journalNumber).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || KINDS[type].collection;
  return { zip, fileName: `bevismappe-${safeJournal}.zip`, exportEntry: { id: entry.id, hash: entry.hash }, manifestSha256 };
}
