/**
 * The layout of an evidence pack, shared by the exporter (pack.ts) and the offline check
 * (verify.ts). Node built-ins only: `fristvagt evidence verify` loads no database library.
 *
 *   LAESMIG.txt            how to check the pack by hand (Danish, then English)
 *   bevismappe.pdf         the readable report
 *   data/record.json       the record as the exporter's role may see it, extensions and postponements
 *   data/deadlines.json    every deadline: due date, status, explanation, citation, basis, settings in force
 *   data/mails.json        every notification row of the record (planned, sent, cancelled, failed),
 *                          and the archived preliminary notices (Message-ID, sha256, SMTP reply)
 *   messages/<id>.eml      each archived preliminary notice byte for byte as the SMTP server accepted
 *                          it (for roles that may see the CPR number, until retention erased it);
 *                          its sha256 is in the hashed audit entry `incident.preliminary_notice_archived`
 *   data/history.json      the record's edits: who, when, each field before and after
 *   data/audit.json        the audit entries involved: id, hashes, hash-input file, personal values
 *   audit/<id>.txt         each entry's hash input: sha256sum of the file is the entry's hash
 *   SHA256SUMS             sha256 of every file above (`sha256sum -c SHA256SUMS`)
 *   export/<id>.txt        hash input of the "evidence exported" audit entry, whose JSON holds the
 *                          sha256 of SHA256SUMS; sha256sum of this file is the chain head at export
 */
export const FORMAT = 'fristvagt-evidence/1';
export const SUMS_FILE = 'SHA256SUMS';
export const README_FILE = 'LAESMIG.txt';
export const PDF_FILE = 'bevismappe.pdf';
export const DATA_FILES = { record: 'data/record.json', deadlines: 'data/deadlines.json', mails: 'data/mails.json', history: 'data/history.json', audit: 'data/audit.json' } as const;

/** The audit action of an export: `<record type>.evidence_export`. */
export const EXPORT_ACTION_SUFFIX = '.evidence_export';

export function auditFile(id: number): string {
  return `audit/${id}.txt`;
}
export function exportFile(id: number): string {
  return `export/${id}.txt`;
}
export function messageFile(archiveId: string): string {
  return `messages/${archiveId}.eml`;
}
export const MESSAGE_FILE_RE = /^messages\/[0-9a-f-]{36}\.eml$/;
/** The audit action that records an archived notice's sha256 (src/worker/notice.ts). */
export const ARCHIVED_ACTION = 'incident.preliminary_notice_archived';
export const AUDIT_FILE_RE = /^audit\/([1-9][0-9]*)\.txt$/;
export const EXPORT_FILE_RE = /^export\/([1-9][0-9]*)\.txt$/;

/** One line of SHA256SUMS as sha256sum writes it (text mode: two spaces). */
export function sumsLine(sha256: string, path: string): string {
  return `${sha256}  ${path}\n`;
}

/** What the export entry's `after` holds (no personal data: ids, a journal number, hashes). */
export interface ExportRecordPayload {
  format: string;
  recordType: string;
  recordId: string;
  journalNumber: string;
  /** sha256 of the SHA256SUMS file: ties every file of the pack to this entry. */
  manifestSha256: string;
  files: number;
  /** The audit entries whose hash inputs the pack holds. */
  auditEntries: number[];
  /** The newest entry when the data was read: the export entry follows it, or entries written meanwhile. */
  headWhenRead: { id: number; hash: string } | null;
}

/** One entry of data/audit.json. */
export interface PackAuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  prevHash: string;
  hash: string;
  /** The file holding this entry's hash input. */
  hashInput: string;
  /** Why the entry is in the pack: `record` (an edit of the record or an earlier export) or `setting` (settings in force for a deadline). */
  reason: 'record' | 'setting';
  /**
   * Personal values sealed in the entry (`{"$personal": sha256(salt + "\n" + canonical JSON of the value)}`).
   * The salt is given only when the values are shown as stored, so the digest can be checked;
   * a masked or erased value comes without it.
   */
  personal: Array<{ field: string; shown: 'as-stored' | 'masked' | 'erased'; salt: string | null; before: unknown; after: unknown }>;
}
