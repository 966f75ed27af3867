/**
 * The evidence pack end to end (issue 12, section 3): a record created through the service, its
 * mails planned and sent by the worker to a real SMTP sink, one reminder cancelled by the step it
 * asked for, the pack downloaded through the HTTP API and the web UI, checked by the `fristvagt
 * evidence verify` process, and then changed one byte at a time: each change is named.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { sha256Hex } from '../../src/db/audit-hash.js';
import { auditLog, notifications } from '../../src/db/schema.js';
import { readZip, writeZip } from '../../src/evidence/zip.js';
import { createLogger } from '../../src/logger.js';
import { createArea, createInstitution } from '../../src/records/masterdata.js';
import { createRecord, recordEvent } from '../../src/records/service.js';
import { putSetting } from '../../src/records/settings.js';
import { createToken } from '../../src/records/tokens.js';
import { runCli } from '../support/cli.js';
import type { TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';
import { planRecord } from '../../src/worker/planner.js';
import { sendNotification } from '../../src/worker/send.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { ADMIN, startWorkerHarness, type WorkerHarness } from '../support/worker.js';

const ADMIN_TOKEN = 'test-admin-token-evidence-0123456789';
const CPR = '0101904321';
const dir = mkdtempSync(join(tmpdir(), 'fristvagt-evidence-'));

describe('evidence pack', () => {
  let h: WorkerHarness;
  let app: FastifyInstance;
  const logs: string[] = [];
  let incidentId = '';
  let areaToken = '';
  let readerToken = '';
  let otherAreaToken = '';
  let areaPack: Buffer;
  let packFile = '';

  const download = async (token: string, id = incidentId) => {
    const res = await app.inject({ method: 'GET', url: `/api/incidents/${id}/evidence`, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, headers: res.headers, body: res.rawPayload, json: res.headers['content-type']?.toString().includes('json') ? (JSON.parse(res.body) as { error: { code: string } }) : null };
  };
  const sentTo = (addr: string, subject: RegExp) => h.sink.received.filter((m) => m.to.includes(addr) && subject.test(m.subject));
  const verifyCli = async (zip: Buffer, name: string) => {
    const file = join(dir, name);
    writeFileSync(file, zip);
    return runCli(['evidence', 'verify', file]);
  };
  /** The pack with one file replaced (re-zipped, as someone editing it would). */
  const tampered = async (zip: Buffer, change: (files: Map<string, Buffer>) => void): Promise<Buffer> => {
    const files = await readZip(zip);
    change(files);
    return writeZip([...files.entries()].map(([path, data]) => ({ path, data })), new Date('2026-04-01T00:00:00Z'));
  };
  const flipByte = (buf: Buffer, at: number): Buffer => {
    const out = Buffer.from(buf);
    out[at] = (out[at] as number) ^ 0x01;
    return out;
  };

  beforeAll(async () => {
    h = await startWorkerHarness('postgres', '2026-03-27T15:00:00+01:00');
    await h.start();
    app = await buildServer({
      database: h.db.database,
      config: { FRISTVAGT_ADMIN_TOKEN: ADMIN_TOKEN, FRISTVAGT_BODY_LIMIT: 64 * 1024, FRISTVAGT_CLOSURE_DAYS: [] },
      clock: () => h.clock.now,
      logger: createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, cb) { logs.push(c.toString()); cb(); } }) }),
    });
    await app.ready();
    const db = h.db.database.db;
    areaToken = (await createToken(db, { name: 'Områdekontor Hovedstaden', role: 'area', areaId: 'hovedstaden' }, ADMIN, h.clock.now)).token;
    readerToken = (await createToken(db, { name: 'Læser', role: 'reader' }, ADMIN, h.clock.now)).token;
    await createArea(h.ctx, { id: 'nord', name: 'Kriminalforsorgen Nord', officeEmail: 'nord@kf.test', directorName: 'Direktør Nord', directorEmail: 'dir.nord@kf.test' }, ADMIN);
    otherAreaToken = (await createToken(db, { name: 'Nord', role: 'area', areaId: 'nord' }, ADMIN, h.clock.now)).token;
    // A settings change before the record: the pack names it as the version in force for its deadlines.
    await putSetting(h.ctx, 'closureDays', { value: ['2026-12-24'] }, ADMIN);

    const w = h.workers[0]!;
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'EV-1', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', inmateName: 'Demo Person', cpr: CPR, description: `Fundet i cellen; journal nævner ${CPR}.` }, ADMIN);
    incidentId = inc.id;
    await w.deps.planAndEnqueue('incident', inc.id);
    await h.sink.waitFor(() => sentTo('direktor@kf.test', /^Ny hændelse: dødsfald/).length === 1);
    h.clock.now = new Date('2026-03-30T08:00:00+02:00');
    await w.sweep();
    await h.sink.waitFor(() => sentTo('direktor@kf.test', /^Påmindelse: Foreløbig underretning/).length === 1);
    // The notice is filed: its later reminders and escalations are cancelled.
    h.clock.now = new Date('2026-03-30T10:00:00+02:00');
    await recordEvent(h.ctx, 'incident', inc.id, { type: 'preliminary_notice_sent', at: '2026-03-30T09:30:00+02:00' }, { id: 'area', name: 'Områdekontor Hovedstaden', role: 'area', areaId: 'hovedstaden' });
    await w.deps.planAndEnqueue('incident', inc.id);
  });
  afterAll(async () => {
    await app?.close();
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads through the API as a ZIP whose export is audited, and `evidence verify` says ok naming the chain head', async () => {
    const res = await download(areaToken);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe('attachment; filename="bevismappe-EV-1.zip"');
    areaPack = res.body;
    const [exportRow] = await h.db.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    expect(exportRow).toMatchObject({ action: 'incident.evidence_export', entityType: 'incident', entityId: incidentId });
    expect(exportRow!.actor).toMatch(/^token:Områdekontor Hovedstaden:/);
    expect(String(res.headers['x-evidence-export-entry'])).toBe(String(exportRow!.id));

    packFile = join(dir, 'pack.zip');
    writeFileSync(packFile, areaPack);
    const out = await runCli(['evidence', 'verify', packFile]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('evidence pack ok: incident EV-1');
    expect(out.stdout).toContain(`chain head at export: #${exportRow!.id} ${exportRow!.hash}`);
    // The office's side: the whole chain verifies and the pack's entries are in its log.
    const office = await runCli(['evidence', 'verify', packFile, '--database'], '', { DATABASE_URL: h.db.url ?? '' });
    expect(office.code).toBe(0);
    expect(office.stdout).toMatch(new RegExp(`database: audit chain ok \\(\\d+ entries\\); the export entry #${exportRow!.id} and 4 audit entries of the pack are in the log with the same hashes`));
    // The manifest hash the audit log holds is the pack's SHA256SUMS.
    const files = await readZip(areaPack);
    expect((exportRow!.after as { manifestSha256: string }).manifestSha256).toBe(sha256Hex(files.get('SHA256SUMS')!));
    // By hand: sha256sum -c SHA256SUMS in the unpacked pack.
    const unpacked = join(dir, 'unpacked');
    for (const [name, data] of files) {
      execFileSync('mkdir', ['-p', join(unpacked, name, '..')]);
      writeFileSync(join(unpacked, name), data);
    }
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: unpacked, encoding: 'utf8' })).not.toMatch(/FAILED/);
    const exportHash = execFileSync('sha256sum', [`export/${exportRow!.id}.txt`], { cwd: unpacked, encoding: 'utf8' }).split(' ')[0];
    expect(exportHash).toBe(exportRow!.hash);
    // No CPR number in what was logged.
    expect(logs.join('')).not.toContain(CPR);
  });

  it('holds the record, its history, deadlines with settings in force, and every mail with Message-ID and SMTP reply', async () => {
    const files = await readZip(areaPack);
    const record = JSON.parse(files.get('data/record.json')!.toString()) as { facts: Record<string, unknown>; record: { journalNumber: string } };
    expect(record.record.journalNumber).toBe('EV-1');
    // The area office files the notices: it sees the CPR number and the name.
    expect(record.facts['cpr']).toBe('010190-4321');
    expect(record.facts['inmateName']).toBe('Demo Person');

    const { deadlines } = JSON.parse(files.get('data/deadlines.json')!.toString()) as { deadlines: Array<{ key: string; status: string; citation: string; basis: string; explanation: string; stored: { computedAt: string } | null; settingsInForce: { values: Record<string, { value: unknown; auditId: number | null }> } | null }> };
    const notice = deadlines.find((d) => d.key === 'incident.preliminary-notice')!;
    expect(notice).toMatchObject({ status: 'met', basis: 'law', citation: 'Cirkulære om dødsfald m.v. § 6, stk. 2' });
    expect(notice.explanation).toContain('Hændelsen skete');
    expect(notice.stored?.computedAt).toBeTruthy();
    expect(notice.settingsInForce?.values['closureDays']?.value).toEqual(['2026-12-24']);
    const settingEntry = notice.settingsInForce!.values['closureDays']!.auditId!;

    const { mails } = JSON.parse(files.get('data/mails.json')!.toString()) as { mails: Array<{ stage: string; status: string; recipient: string; messageId: string | null; smtpResponse: string | null; sentAt: string | null; attempts: number }> };
    const rows = await h.db.database.db.select().from(notifications).where(eq(notifications.recordId, incidentId));
    expect(mails).toHaveLength(rows.length);
    const sent = mails.filter((m) => m.status === 'sent');
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const m of sent) {
      expect(m.messageId).toMatch(/^<notification-/);
      expect(m.smtpResponse).toMatch(/^250/);
      expect(m.attempts).toBeGreaterThanOrEqual(1);
      // The Message-ID is the one the SMTP server received.
      expect(h.sink.received.some((r) => r.messageId === m.messageId)).toBe(true);
    }
    expect(mails.some((m) => m.status === 'cancelled' && m.stage.startsWith('incident.preliminary-notice:'))).toBe(true);

    const { history } = JSON.parse(files.get('data/history.json')!.toString()) as { history: Array<{ action: string; actor: string; changes: Array<{ field: string; before: unknown; after: unknown }> }> };
    expect(history.map((x) => x.action)).toEqual(['incident.create', 'incident.event.preliminary_notice_sent']);
    expect(history[1]!.changes).toContainEqual({ field: 'preliminaryNoticeSentAt', before: null, after: '2026-03-30T09:30:00.000+02:00' });
    expect(history[1]!.actor).toBe('Områdekontor Hovedstaden');

    const audit = JSON.parse(files.get('data/audit.json')!.toString()) as { entries: Array<{ id: number; reason: string; personal: Array<{ field: string; shown: string; salt: string | null; after: unknown }> }> };
    // The settings in force (the harness's recipients, then closureDays), then the record's own entries.
    expect(audit.entries.map((e) => e.reason)).toEqual(['setting', 'setting', 'record', 'record']);
    expect(audit.entries.map((e) => e.id)).toContain(settingEntry);
    const name = audit.entries[2]!.personal.find((p) => p.field === 'inmateName')!;
    expect(name).toMatchObject({ shown: 'as-stored', after: 'Demo Person' });
    expect(name.salt).toMatch(/^[0-9a-f]{32}$/);
  });

  it('shows an admin the record with CPR numbers masked, also in free text, and without the salt of a masked value', async () => {
    const res = await download(ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const files = await readZip(res.body);
    for (const [name, data] of files) if (name.endsWith('.json') || name.endsWith('.txt')) expect(data.toString('utf8'), name).not.toContain(CPR);
    const record = JSON.parse(files.get('data/record.json')!.toString()) as { facts: Record<string, unknown> };
    expect(record.facts['cpr']).toBe('XXXXXX-XXXX');
    expect(record.facts['description']).toBe('Fundet i cellen; journal nævner XXXXXX-XXXX.');
    const audit = JSON.parse(files.get('data/audit.json')!.toString()) as { entries: Array<{ personal: Array<{ field: string; shown: string; salt: string | null }> }> };
    const description = audit.entries.flatMap((e) => e.personal).find((p) => p.field === 'description')!;
    expect(description).toMatchObject({ shown: 'masked', salt: null });
    const pdfText = pdfToText(files.get('bevismappe.pdf')!);
    expect(pdfText).not.toContain('0101904321');
    expect(pdfText).not.toContain('010190-4321');
    expect((await verifyCli(res.body, 'admin.zip')).code).toBe(0);
  });

  it('refuses a reader token and an area office outside the record, and writes no audit entry for them', async () => {
    const [before] = await h.db.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    const reader = await download(readerToken);
    expect(reader.status).toBe(403);
    expect(reader.json?.error.code).toBe('FORBIDDEN');
    const other = await download(otherAreaToken);
    expect([403, 404]).toContain(other.status);
    expect((await download(areaToken, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const [after] = await h.db.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    expect(after!.id).toBe(before!.id);
  });

  it('an institution exports its own records (with CPR numbers, as it files the notices), not another institution\'s', async () => {
    const db = h.db.database.db;
    await createInstitution(h.ctx, { id: 'nord-arrest', areaId: 'nord', name: 'Arresthus Nord', kind: 'local_jail', dutyManagerEmail: 'vagt.nord@kf.test' }, ADMIN);
    const own = (await createToken(db, { name: 'Vestre', role: 'institution', institutionId: 'vestre' }, ADMIN, h.clock.now)).token;
    const other = (await createToken(db, { name: 'Arresthus Nord', role: 'institution', institutionId: 'nord-arrest' }, ADMIN, h.clock.now)).token;
    const res = await download(own);
    expect(res.status).toBe(200);
    const record = JSON.parse((await readZip(res.body)).get('data/record.json')!.toString()) as { facts: Record<string, unknown> };
    expect(record.facts['cpr']).toBe('010190-4321');
    expect([403, 404]).toContain((await download(other)).status);
  });

  it('the PDF opens, shows the deadlines table in Danish with page numbers, and its first page is not blank', async () => {
    const files = await readZip(areaPack);
    const pdf = files.get('bevismappe.pdf')!;
    const text = pdfToText(pdf);
    expect(text).toContain('Bevismappe: Hændelse EV-1');
    expect(text).toMatch(/Regel\s+Hjemmel\s+Grundlag\s+Frist\s+Status\s+Overholdt\?/);
    expect(text).toMatch(/Foreløbig underretning\s+Cirkulære om dødsfald m\.v\.\s+Lov\s+onsdag 01\.04\.2026\s+Overholdt\s+Ja, mandag/);
    expect(text).toContain('Foreløbig underretning');
    expect(text).toContain('Cirkulære om dødsfald m.v. § 6, stk. 2');
    expect(text).toMatch(/Art\s+Dødsfald/);
    expect(text).toContain('Mails');
    expect(text).toContain('Ændringshistorik');
    expect(text).toContain('Revisionslog og kontrol');
    expect(text).toMatch(/Side 1 af \d+/);
    expect(text).toContain('010190-4321');
    // Rendered as a page image: a share of dark pixels, as a page of text has.
    const pdfFile = join(dir, 'pack.pdf');
    writeFileSync(pdfFile, pdf);
    execFileSync('pdftoppm', ['-gray', '-r', '40', '-f', '1', '-l', '1', pdfFile, join(dir, 'page')]);
    execFileSync('pdftoppm', ['-png', '-r', '70', '-f', '1', '-l', '2', pdfFile, join(dir, 'page')]);
    const pgm = readFileSync(join(dir, 'page-1.pgm'));
    const pixels = pgmPixels(pgm);
    const dark = pixels.filter((p) => p < 128).length / pixels.length;
    expect(dark).toBeGreaterThan(0.01);
    expect(dark).toBeLessThan(0.5);
    // To look at the pages: FRISTVAGT_KEEP_EVIDENCE=<dir> keeps the PDF and its first two pages as PNG there.
    const keep = process.env['FRISTVAGT_KEEP_EVIDENCE'];
    if (keep) for (const f of ['pack.pdf', 'page-1.png', 'page-2.png']) writeFileSync(join(keep, f), readFileSync(join(dir, f)));
  });

  it('fails, naming the file, when one byte of the JSON is changed', async () => {
    const zip = await tampered(areaPack, (files) => files.set('data/deadlines.json', flipByte(files.get('data/deadlines.json')!, 40)));
    const out = await verifyCli(zip, 'json.zip');
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('evidence pack BROKEN');
    expect(out.stdout).toMatch(/file data\/deadlines\.json: sha256 is [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64} \(the file was changed\)/);
  });

  it('fails, naming the export entry, when the JSON and SHA256SUMS are both rewritten', async () => {
    const zip = await tampered(areaPack, (files) => {
      files.set('data/mails.json', Buffer.from(files.get('data/mails.json')!.toString().replace('"cancelled"', '"sent"')));
      const sums = files.get('SHA256SUMS')!.toString().split('\n').map((l) => (l.endsWith('  data/mails.json') ? `${sha256Hex(files.get('data/mails.json')!)}  data/mails.json` : l));
      files.set('SHA256SUMS', Buffer.from(sums.join('\n')));
    });
    const out = await verifyCli(zip, 'sums.zip');
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/export entry #\d+: records manifest sha256 [0-9a-f]{64}, but SHA256SUMS hashes to [0-9a-f]{64}/);
  });

  it('fails, naming the entry, when one byte of an audit entry is changed', async () => {
    const files = await readZip(areaPack);
    const name = [...files.keys()].filter((f) => f.startsWith('audit/')).sort().at(-1)!;
    const id = /audit\/(\d+)\.txt/.exec(name)![1];
    const entry = files.get(name)!;
    const at = entry.indexOf('preliminary_notice_sent') + 3;
    const zip = await tampered(areaPack, (f) => f.set(name, flipByte(entry, at)));
    const out = await verifyCli(zip, 'entry.zip');
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`audit entry #${id}: hash recomputed from audit/${id}.txt is`);
  });

  it('fails, naming the entry, when one character of a hash is changed', async () => {
    const files = await readZip(areaPack);
    const audit = JSON.parse(files.get('data/audit.json')!.toString()) as { entries: Array<{ id: number; hash: string; prevHash: string }> };
    const target = audit.entries[1]!;
    const zip = await tampered(areaPack, (f) => {
      const text = f.get('data/audit.json')!.toString();
      const flipped = `${target.hash[0] === 'a' ? 'b' : 'a'}${target.hash.slice(1)}`;
      f.set('data/audit.json', Buffer.from(text.replace(`"hash": "${target.hash}"`, `"hash": "${flipped}"`)));
    });
    const out = await verifyCli(zip, 'hash.zip');
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(`audit entry #${target.id}: hash recomputed from audit/${target.id}.txt is ${target.hash}, data/audit.json says`);

    // A changed previous hash in the hash input (the chain link) is named too.
    const name = `audit/${target.id}.txt`;
    const input = files.get(name)!;
    const changed = Buffer.from(input);
    changed[5] = changed[5] === 0x30 ? 0x31 : 0x30;
    const zip2 = await tampered(areaPack, (f) => f.set(name, changed));
    const out2 = await verifyCli(zip2, 'prev.zip');
    expect(out2.code).toBe(1);
    expect(out2.stdout).toContain(`audit entry #${target.id}: prev_hash in ${name} is`);
  });

  it('--database fails on a database that does not hold the pack\'s entries', async () => {
    const env = { DATABASE_URL: '', FRISTVAGT_DATA_DIR: join(dir, 'other-db') };
    expect((await runCli(['migrate'], '', env)).code).toBe(0);
    const out = await runCli(['evidence', 'verify', packFile, '--database'], '', env);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('evidence pack ok');
    expect(out.stdout).toMatch(/database: the pack does NOT match this database:\n {2}- audit entry #\d+: not in this database's audit log/);
    expect(out.stdout).toMatch(/- export entry #\d+: not in this database's audit log/);
  });

  it('fails on a pack damaged byte-wise, and on a file that is no pack', async () => {
    const out = await verifyCli(flipByte(areaPack, Math.floor(areaPack.length / 2)), 'raw.zip');
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('evidence pack BROKEN');
    const junk = await verifyCli(Buffer.from('not a zip'), 'junk.zip');
    expect(junk.code).toBe(1);
    expect(junk.stdout).toContain('not a readable ZIP file');
    const missing = await runCli(['evidence', 'verify', join(dir, 'no-such.zip')]);
    expect(missing.code).toBe(2);
  });

  it('`fristvagt evidence export` writes a pack as the operator, with a postponement and its reason and time', async () => {
    h.clock.now = new Date('2026-03-30T10:30:00+02:00');
    const cell = await createRecord(h.ctx, 'security_cell_placement', { institutionId: 'vestre', journalNumber: 'EV-CELL-1', placedAt: '2026-03-28T20:00:00+01:00', endedAt: '2026-03-29T06:00:00+02:00' }, ADMIN);
    await recordEvent(h.ctx, 'security_cell_placement', cell.id, { type: 'follow_up_postponed', reason: 'Den indsatte er indlagt', newDate: '2026-04-08', at: '2026-03-30T09:00:00+02:00' }, ADMIN);
    const file = join(dir, 'cli-export.zip');
    const env = { DATABASE_URL: h.db.url ?? '' };
    const out = await runCli(['evidence', 'export', 'security_cell_placement', cell.id, '--out', file], '', env);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const [row] = await h.db.database.db.select().from(auditLog).orderBy(desc(auditLog.id)).limit(1);
    expect(row).toMatchObject({ actor: 'cli', action: 'security_cell_placement.evidence_export', entityId: cell.id });
    expect(out.stdout).toContain(`wrote ${file}`);
    expect(out.stdout).toContain(`export entry #${row!.id}, chain head ${row!.hash}`);
    const verified = await runCli(['evidence', 'verify', file]);
    expect(verified.code).toBe(0);
    const files = await readZip(readFileSync(file));
    const record = JSON.parse(files.get('data/record.json')!.toString()) as { extensions: unknown[] };
    expect(record.extensions).toEqual([{ kind: 'postponement', at: '2026-03-30T09:00:00.000+02:00', newDate: '2026-04-08', reason: 'Den indsatte er indlagt' }]);
    expect(pdfToText(files.get('bevismappe.pdf')!)).toMatch(/Opfølgende samtale\s+mandag 30\.03\.2026 kl\. 09:00\s+onsdag 08\.04\.2026\s+Den indsatte er indlagt\s+–\s+udsat/);
    // The collection name works as well; an unknown id or type is a usage error (exit 2).
    expect((await runCli(['evidence', 'export', 'security-cell-placements', '00000000-0000-4000-8000-000000000000', '--out', file], '', env)).code).toBe(2);
    expect((await runCli(['evidence', 'export', 'nothing', cell.id], '', env)).code).toBe(2);
  });

  it('a mail the server refused is in the pack as failed, with attempts and the refusal', async () => {
    const inc = await createRecord(h.ctx, 'incident', { institutionId: 'vestre', journalNumber: 'EV-2', kind: 'death', occurredAt: '2026-03-30T08:00:00+02:00' }, ADMIN);
    const db = h.db.database.db;
    await planRecord(db, { closureDays: [], now: h.clock.now, settings: await loadWorkerSettings(db) }, 'incident', inc.id);
    const [alert] = (await db.select().from(notifications).where(eq(notifications.recordId, inc.id))).filter((n) => n.stage === 'alert:area-director');
    h.sink.refuseRcpt = (addr) => (addr === 'direktor@kf.test' ? 550 : undefined);
    try {
      await sendNotification(h.workers[0]!.deps.send, alert!.id);
    } finally {
      h.sink.refuseRcpt = undefined;
    }
    const res = await download(areaToken, inc.id);
    expect(res.status).toBe(200);
    const files = await readZip(res.body);
    const { mails } = JSON.parse(files.get('data/mails.json')!.toString()) as { mails: Array<{ id: string; status: string; attempts: number; lastError: string | null; messageId: string | null }> };
    const failed = mails.find((m) => m.id === alert!.id)!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, messageId: null });
    expect(failed.lastError).toMatch(/SMTP 550/);
    expect(pdfToText(files.get('bevismappe.pdf')!)).toMatch(/alert:area-director\s+direktor@kf\.test[\s\S]*Fejlet[\s\S]*Fejl: /);
  });

  it('the record page links the pack for an area office and the link downloads it', async () => {
    const client = new Client({ app } as unknown as TestApp);
    expect((await client.login(areaToken)).status).toBe(303);
    const page = await client.get(`/records/incidents/${incidentId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`href="/records/incidents/${incidentId}/evidence"`);
    expect(page.body).toContain('Bevismappe (ZIP)');
    const res = await app.inject({ method: 'GET', url: `/records/incidents/${incidentId}/evidence`, headers: { cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } });
    expect(res.statusCode).toBe(200);
    expect((await verifyCli(res.rawPayload, 'ui.zip')).code).toBe(0);
    // The timeline names the exports.
    expect((await client.get(`/records/incidents/${incidentId}`)).body).toContain('Bevismappe udleveret');
  });
});

function pdfToText(pdf: Buffer): string {
  return execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' });
}

/** The pixels of a binary PGM (P5, 8 bit). */
function pgmPixels(buf: Buffer): Uint8Array {
  const header = buf.subarray(0, 64).toString('latin1');
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header);
  if (!m) throw new Error('not a PGM');
  return new Uint8Array(buf.subarray(m[0].length));
}
