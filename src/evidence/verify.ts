/**
 * The offline check of an evidence pack (`fristvagt evidence verify <pack.zip>`): every file against
 * SHA256SUMS, SHA256SUMS against the "evidence exported" audit entry, and every audit entry's hash
 * recomputed from its hash input. No database: only what the pack holds. docs/SECURITY.md says what
 * this proves and what only the database's `fristvagt audit verify` can.
 */
import { canonicalJson, personalSideMatches, sha256Hex } from '../db/audit-hash.js';
import { ARCHIVED_ACTION, AUDIT_FILE_RE, auditFile, MESSAGE_FILE_RE, DATA_FILES, EXPORT_ACTION_SUFFIX, EXPORT_FILE_RE, FORMAT, SUMS_FILE, type ExportRecordPayload, type PackAuditEntry } from './format.js';
import { PackFormatError, readZip } from './zip.js';

export interface PackReport {
  ok: boolean;
  /** Each names the file or audit entry (`#id`) and what differs. */
  problems: string[];
  files: number;
  entries: number[];
  record?: { type: string; id: string; journalNumber: string };
  /** Entry id → hash as the pack gives it (the export entry's is the sha256 of its hash input). */
  hashes: Map<number, string>;
  /** The export entry: its hash is the audit chain's head right after the export. */
  head?: { id: number; hash: string; at: string; actor: string; manifestSha256: string };
}

const HEX64 = /^[0-9a-f]{64}$/;

interface ParsedInput {
  prevHash: string;
  body: Record<string, unknown>;
}

/** A hash input file: `<prev hash>\n<canonical JSON>`; undefined (with a problem) when it is not. */
function parseHashInput(text: string, name: string, problems: string[]): ParsedInput | undefined {
  const nl = text.indexOf('\n');
  const prevHash = nl < 0 ? text : text.slice(0, nl);
  if (nl < 0 || !HEX64.test(prevHash)) {
    problems.push(`${name}: the first line is not a previous entry's hash (64 hex digits)`);
    return undefined;
  }
  const json = text.slice(nl + 1);
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch {
    problems.push(`${name}: the entry after the first line is not JSON`);
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    problems.push(`${name}: the entry is not a JSON object`);
    return undefined;
  }
  if (canonicalJson(body) !== json) problems.push(`${name}: the entry is not in canonical form (keys sorted, no spaces), so it was edited`);
  return { prevHash, body: body as Record<string, unknown> };
}

function parseJson(files: Map<string, Buffer>, name: string, problems: string[]): unknown {
  const buf = files.get(name);
  if (!buf) {
    problems.push(`${name} is missing`);
    return undefined;
  }
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    problems.push(`${name}: not valid JSON`);
    return undefined;
  }
}


/** Checks the files of an unpacked pack. */
export function verifyFiles(files: Map<string, Buffer>): PackReport {
  const problems: string[] = [];
  const hashes = new Map<number, string>();
  const report = (extra: Partial<PackReport> = {}): PackReport => ({ ok: problems.length === 0, problems, files: files.size, entries: [], hashes, ...extra });

  // 1. Every file against SHA256SUMS.
  const sums = files.get(SUMS_FILE);
  if (!sums) {
    problems.push(`${SUMS_FILE} is missing: this is not a fristvagt evidence pack`);
    return report();
  }
  const listed = new Set<string>();
  sums.toString('utf8').split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) {
      problems.push(`${SUMS_FILE} line ${i + 1}: not "<sha256>  <file>"`);
      return;
    }
    const [, want, path] = m as unknown as [string, string, string];
    listed.add(path);
    const file = files.get(path);
    if (!file) problems.push(`file ${path}: listed in ${SUMS_FILE} but missing`);
    else {
      const got = sha256Hex(file);
      if (got !== want) problems.push(`file ${path}: sha256 is ${got}, ${SUMS_FILE} says ${want} (the file was changed)`);
    }
  });
  const exportFiles = [...files.keys()].filter((f) => EXPORT_FILE_RE.test(f));
  for (const name of files.keys()) {
    if (name !== SUMS_FILE && !listed.has(name) && !EXPORT_FILE_RE.test(name)) problems.push(`file ${name}: not listed in ${SUMS_FILE}`);
  }

  // 2. SHA256SUMS against the export entry; the export entry's hash is the chain head.
  const recordJson = parseJson(files, DATA_FILES.record, problems) as { format?: unknown; record?: { type?: unknown; id?: unknown; journalNumber?: unknown } } | undefined;
  const rec = recordJson?.record;
  const record = rec && typeof rec.type === 'string' && typeof rec.id === 'string' ? { type: rec.type, id: rec.id, journalNumber: String(rec.journalNumber ?? '') } : undefined;
  if (recordJson && recordJson.format !== FORMAT) problems.push(`${DATA_FILES.record}: format is ${JSON.stringify(recordJson.format)}, expected ${FORMAT}`);
  if (recordJson && !record) problems.push(`${DATA_FILES.record}: names no record (type and id)`);
  let head: PackReport['head'];
  let exportPayload: Partial<ExportRecordPayload> | undefined;
  if (exportFiles.length !== 1) problems.push(`the pack must hold exactly one export/<id>.txt (the "evidence exported" audit entry), it holds ${exportFiles.length}`);
  else {
    const name = exportFiles[0] as string;
    const id = Number(EXPORT_FILE_RE.exec(name)?.[1]);
    const buf = files.get(name) as Buffer;
    const parsed = parseHashInput(buf.toString('utf8'), `export entry #${id} (${name})`, problems);
    if (parsed) {
      const b = parsed.body;
      exportPayload = (b['after'] ?? {}) as Partial<ExportRecordPayload>;
      const manifest = sha256Hex(sums);
      if (typeof b['action'] !== 'string' || !b['action'].endsWith(EXPORT_ACTION_SUFFIX)) problems.push(`export entry #${id}: action is ${JSON.stringify(b['action'])}, not an evidence export`);
      if (exportPayload.manifestSha256 !== manifest) problems.push(`export entry #${id}: records manifest sha256 ${String(exportPayload.manifestSha256)}, but ${SUMS_FILE} hashes to ${manifest} (${SUMS_FILE} was changed)`);
      if (record && (b['entityType'] !== record.type || b['entityId'] !== record.id)) problems.push(`export entry #${id}: is the export of ${String(b['entityType'])} ${String(b['entityId'])}, the pack's data is ${record.type} ${record.id}`);
      head = { id, hash: sha256Hex(buf), at: String(b['at']), actor: String(b['actor']), manifestSha256: manifest };
      hashes.set(id, head.hash);
    }
  }

  // 3. Every audit entry's hash from its hash input, and the listing in data/audit.json against it.
  const audit = parseJson(files, DATA_FILES.audit, problems) as { entries?: PackAuditEntry[] } | undefined;
  const entries = Array.isArray(audit?.entries) ? audit.entries : [];
  if (audit && !Array.isArray(audit.entries)) problems.push(`${DATA_FILES.audit}: has no list of entries`);
  const seen = new Set<number>();
  const archivedHashes = new Set<string>();
  for (const e of entries) {
    const id = Number(e.id);
    const tag = `audit entry #${id}`;
    seen.add(id);
    const name = auditFile(id);
    if (e.hashInput !== name) problems.push(`${tag}: ${DATA_FILES.audit} names ${String(e.hashInput)} as its hash input, expected ${name}`);
    const buf = files.get(name);
    if (!buf) {
      problems.push(`${tag}: its hash input ${name} is missing`);
      continue;
    }
    const recomputed = sha256Hex(buf);
    hashes.set(id, recomputed);
    if (recomputed !== e.hash) problems.push(`${tag}: hash recomputed from ${name} is ${recomputed}, ${DATA_FILES.audit} says ${String(e.hash)} (the entry or its hash was changed)`);
    const parsed = parseHashInput(buf.toString('utf8'), `${tag} (${name})`, problems);
    if (!parsed) continue;
    if (parsed.prevHash !== e.prevHash) problems.push(`${tag}: prev_hash in ${name} is ${parsed.prevHash}, ${DATA_FILES.audit} says ${String(e.prevHash)}`);
    const after = parsed.body['after'] as { sha256?: unknown } | null | undefined;
    if (parsed.body['action'] === ARCHIVED_ACTION && typeof after?.sha256 === 'string') archivedHashes.add(after.sha256);
    for (const f of ['at', 'actor', 'action', 'entityType', 'entityId'] as const) {
      if (parsed.body[f] !== e[f]) problems.push(`${tag}: ${f} in ${DATA_FILES.audit} is ${JSON.stringify(e[f])}, the hashed entry says ${JSON.stringify(parsed.body[f])}`);
    }
    if (e.reason === 'record' && record && (e.entityType !== record.type || e.entityId !== record.id)) problems.push(`${tag}: listed as an entry of the record but belongs to ${e.entityType} ${e.entityId}`);
    for (const p of Array.isArray(e.personal) ? e.personal : []) {
      if (typeof p.salt !== 'string') continue;
      for (const side of ['before', 'after'] as const) {
        if (!personalSideMatches(parsed.body[side], p.field, p.salt, p[side])) problems.push(`${tag}: the ${side} value of ${p.field} in ${DATA_FILES.audit} does not match its digest in the hashed entry`);
      }
    }
  }
  for (const name of files.keys()) {
    const m = AUDIT_FILE_RE.exec(name);
    if (m && !seen.has(Number(m[1]))) problems.push(`file ${name}: an audit entry not listed in ${DATA_FILES.audit}`);
  }
  // An archived notice is proved by the chain itself: its sha256 is in a hashed entry of the pack.
  for (const [name, data] of files) {
    if (!MESSAGE_FILE_RE.test(name)) continue;
    const digest = sha256Hex(data);
    if (!archivedHashes.has(digest)) problems.push(`file ${name}: its sha256 ${digest} is in no hashed ${ARCHIVED_ACTION} entry of the pack (the message is not the one archived)`);
  }
  const ids = [...seen].sort((a, b) => a - b);
  if (exportPayload && Array.isArray(exportPayload.auditEntries)) {
    const recorded = [...exportPayload.auditEntries].map(Number).sort((a, b) => a - b);
    if (canonicalJson(recorded) !== canonicalJson(ids)) problems.push(`export entry #${head?.id ?? '?'}: records audit entries ${recorded.map((i) => `#${i}`).join(', ')}, ${DATA_FILES.audit} lists ${ids.map((i) => `#${i}`).join(', ')}`);
  }
  return report({ entries: ids, ...(record ? { record } : {}), ...(head ? { head } : {}) });
}

/** Unpacks and checks a pack; a file that is no ZIP at all is a problem of its own. */
export async function verifyPack(zip: Buffer): Promise<PackReport> {
  let files: Map<string, Buffer>;
  try {
    files = await readZip(zip);
  } catch (err) {
    if (err instanceof PackFormatError) return { ok: false, problems: [err.message], files: 0, entries: [], hashes: new Map() };
    throw err;
  }
  return verifyFiles(files);
}

/** What the command prints. */
export function formatReport(r: PackReport): string {
  const what = r.record ? `${r.record.type} ${r.record.journalNumber} (${r.record.id})` : 'unknown record';
  if (!r.ok) return `evidence pack BROKEN (${what}):\n${r.problems.map((p) => `  - ${p}`).join('\n')}`;
  const head = r.head as NonNullable<PackReport['head']>;
  return [
    `evidence pack ok: ${what}`,
    `  ${r.files} files; every file listed in ${SUMS_FILE} matches`,
    `  ${r.entries.length} audit entries recomputed from their hash inputs (${r.entries.map((i) => `#${i}`).join(', ')})`,
    `  exported ${head.at} by ${head.actor}: export entry #${head.id} records ${SUMS_FILE} sha256 ${head.manifestSha256}`,
    `  chain head at export: #${head.id} ${head.hash}`,
    `  (the office confirms the head with "fristvagt audit verify" and the entry #${head.id} in its audit log)`,
  ].join('\n');
}
