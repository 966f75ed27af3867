/**
 * The offline check of an evidence pack on packs built here from the same hashing functions the
 * audit log uses: what it accepts, and each kind of change it names. The real export (database,
 * worker, SMTP, HTTP, CLI) is test/integration/evidence.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, entryHashInput, GENESIS_HASH, personalDigest, sha256Hex } from '../../src/db/audit-hash.js';
import { DATA_FILES, SUMS_FILE, sumsLine, type PackAuditEntry } from '../../src/evidence/format.js';
import { verifyFiles, verifyPack } from '../../src/evidence/verify.js';
import { readZip, writeZip } from '../../src/evidence/zip.js';

const RECORD = { type: 'incident', id: '11111111-1111-4111-8111-111111111111', journalNumber: 'U-1' };
const SALT = '0123456789abcdef0123456789abcdef';

interface Built {
  files: Map<string, Buffer>;
  entries: PackAuditEntry[];
}

/** Two entries of the record with one sealed personal value, SHA256SUMS and the export entry. */
function build(opts: { personalValue?: string; exportOf?: string; extra?: (files: Map<string, Buffer>) => void } = {}): Built {
  const at = new Date('2026-03-27T14:00:00.000Z');
  const e1 = { at, actor: 'test', action: 'incident.create', entityType: 'incident', entityId: RECORD.id, before: null, after: { journalNumber: 'U-1', inmateName: { $personal: personalDigest(SALT, 'Demo Person') } } };
  const h1 = entryHash(GENESIS_HASH, e1);
  const e2 = { at: new Date('2026-03-28T08:00:00.000Z'), actor: 'test', action: 'incident.event.closed', entityType: 'incident', entityId: RECORD.id, before: { closedAt: null }, after: { closedAt: '2026-03-28T08:00:00.000Z' } };
  const h2 = entryHash(h1, e2);
  const entries: PackAuditEntry[] = [
    { id: 1, at: at.toISOString(), actor: 'test', action: e1.action, entityType: 'incident', entityId: RECORD.id, prevHash: GENESIS_HASH, hash: h1, hashInput: 'audit/1.txt', reason: 'record', personal: [{ field: 'inmateName', shown: 'as-stored', salt: SALT, before: null, after: opts.personalValue ?? 'Demo Person' }] },
    { id: 2, at: e2.at.toISOString(), actor: 'test', action: e2.action, entityType: 'incident', entityId: RECORD.id, prevHash: h1, hash: h2, hashInput: 'audit/2.txt', reason: 'record', personal: [] },
  ];
  const files = new Map<string, Buffer>([
    [DATA_FILES.record, Buffer.from(JSON.stringify({ format: 'fristvagt-evidence/1', record: RECORD }))],
    [DATA_FILES.audit, Buffer.from(JSON.stringify({ entries }))],
    ['audit/1.txt', Buffer.from(entryHashInput(GENESIS_HASH, e1))],
    ['audit/2.txt', Buffer.from(entryHashInput(h1, e2))],
  ]);
  opts.extra?.(files);
  const sums = Buffer.from([...files].map(([p, d]) => sumsLine(sha256Hex(d), p)).join(''));
  files.set(SUMS_FILE, sums);
  const exp = { at: new Date('2026-04-01T10:00:00.000Z'), actor: 'token:Område:abcd', action: 'incident.evidence_export', entityType: 'incident', entityId: opts.exportOf ?? RECORD.id, before: null, after: { manifestSha256: sha256Hex(sums), auditEntries: [1, 2] } };
  files.set('export/3.txt', Buffer.from(entryHashInput(h2, exp)));
  return { files, entries };
}

describe('evidence verify (offline)', () => {
  it('accepts a consistent pack and names the chain head: the export entry hash', () => {
    const { files } = build();
    const r = verifyFiles(files);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.entries).toEqual([1, 2]);
    expect(r.head?.id).toBe(3);
    expect(r.head?.hash).toBe(sha256Hex(files.get('export/3.txt')!));
  });

  it('round-trips through the ZIP writer and reader', async () => {
    const { files } = build();
    const zip = await writeZip([...files].map(([path, data]) => ({ path, data })), new Date('2026-04-01T10:00:00Z'));
    expect((await readZip(zip)).get('audit/2.txt')).toEqual(files.get('audit/2.txt'));
    expect((await verifyPack(zip)).ok).toBe(true);
  });

  it('names a personal value that does not match its digest', () => {
    const r = verifyFiles(build({ personalValue: 'Other Person' }).files);
    expect(r.ok).toBe(false);
    expect(r.problems).toContain('audit entry #1: the after value of inmateName in data/audit.json does not match its digest in the hashed entry');
  });

  it('names an export entry of another record, a file not in SHA256SUMS, and a hash input not in canonical form', () => {
    expect(verifyFiles(build({ exportOf: '22222222-2222-4222-8222-222222222222' }).files).problems).toContainEqual(expect.stringMatching(/^export entry #3: is the export of incident 2222/));
    const { files } = build();
    files.set('data/extra.json', Buffer.from('{}'));
    expect(verifyFiles(files).problems).toContain('file data/extra.json: not listed in SHA256SUMS');
    // Pretty-printed JSON hashes differently: a hash input must be byte for byte what was hashed.
    const pretty = build({
      extra: (f) => {
        const [prev, body] = f.get('audit/2.txt')!.toString().split('\n') as [string, string];
        f.set('audit/2.txt', Buffer.from(`${prev}\n${JSON.stringify(JSON.parse(body), null, 1)}`));
      },
    });
    expect(verifyFiles(pretty.files).problems).toContainEqual(expect.stringMatching(/^audit entry #2 \(audit\/2\.txt\): the entry is not in canonical form/));
  });

  it('names a missing export entry and a missing SHA256SUMS', () => {
    const { files } = build();
    files.delete('export/3.txt');
    expect(verifyFiles(files).problems).toContain('the pack must hold exactly one export/<id>.txt (the "evidence exported" audit entry), it holds 0');
    files.delete(SUMS_FILE);
    expect(verifyFiles(files).problems).toEqual(['SHA256SUMS is missing: this is not a fristvagt evidence pack']);
  });

  it('hash inputs are the canonical JSON the audit chain hashes', () => {
    const e = { at: new Date('2026-01-01T00:00:00Z'), actor: 'a', action: 'x', entityType: 't', entityId: 'i', before: { b: 1, a: 2 }, after: null };
    expect(entryHashInput(GENESIS_HASH, e)).toBe(`${GENESIS_HASH}\n${canonicalJson({ action: 'x', actor: 'a', after: null, at: '2026-01-01T00:00:00.000Z', before: { a: 2, b: 1 }, entityId: 'i', entityType: 't' })}`);
    expect(sha256Hex(entryHashInput(GENESIS_HASH, e))).toBe(entryHash(GENESIS_HASH, e));
  });
});
