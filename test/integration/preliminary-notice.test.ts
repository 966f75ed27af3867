/**
 * The § 6 stk. 3 notice against a real SMTP server: prefilled fields, preview with the edited
 * fields and its hash, a send that carries exactly that hash (anything else sends nothing), three
 * messages over TLS signed by a person, the late wording, and the archive: each message as the
 * server received it, byte for byte, with its sha256 in the audit log, downloadable by the CPR
 * roles only, and erased by retention (the hash stays).
 */
import { createHash } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, verifyAudit } from '../../src/db/audit.js';
import { auditLog, noticeArchive, notifications } from '../../src/db/schema.js';
import { readZip, writeZip } from '../../src/evidence/zip.js';
import { verifyPack } from '../../src/evidence/verify.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { anonymiseExpired } from '../../src/records/retention.js';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { Client } from '../support/ui-client.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const SENDER = { senderName: 'Hanne Jurist', senderTitle: 'Jurist, Kriminalforsorgen Hovedstaden' };

describe('preliminary notice', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let token = '';
  let readerToken = '';
  let mailer: ReturnType<typeof createSmtpMailer>;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false });
    // The sink offers STARTTLS with a self-signed certificate; the notice transport must insist on it.
    t = await startTestApp('postgres', '2026-03-28T10:00:00+01:00', { mailer });
    await seedMasterData(t);
    await t.req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: 'post@ombudsmand.test', directorate: 'csf@direktorat.test', admins: ['drift@kf.test'] } } });
    token = (await t.req('POST', '/api/tokens', { body: { role: 'area', areaId: 'hovedstaden' } })).json.token;
    readerToken = (await t.req('POST', '/api/tokens', { body: { role: 'reader' } })).json.token;
  });
  afterAll(async () => {
    await t?.close();
    mailer?.close();
    await sink?.close();
  });

  async function incident(journalNumber: string, body: Record<string, unknown>): Promise<string> {
    const inc = await t.req('POST', '/api/incidents', { token, body: { institutionId: 'vestre', journalNumber, kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', ...body } });
    expect(inc.status, JSON.stringify(inc.json)).toBe(201);
    return inc.json.id as string;
  }

  async function download(url: string, tok: string): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
    const res = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tok}` } });
    return { status: res.statusCode, body: res.rawPayload, headers: res.headers };
  }

  it('prefills, previews the edited text with its hash, sends only that, signed by a person, and archives each message as received', async () => {
    const id = await incident('SM-77', {});
    const base = `/api/incidents/${id}/preliminary-notice`;
    const start = await t.req('GET', base, { token });
    expect(start.status).toBe(200);
    expect(start.json.missing).toEqual(['inmateName', 'cpr', 'description']);
    expect(start.json.mail).toBeNull();
    const missing = await t.req('POST', base, { token, body: { ...SENDER, occurredAt: 'fredag 27.03.2026 kl. 14:00', description: 'Fundet livløs i cellen.', previewHash: '0'.repeat(64) } });
    expect(missing.status).toBe(400);
    expect(missing.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['inmateName', 'cpr', 'description']);

    await t.req('PATCH', `/api/incidents/${id}`, { token, body: { inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen ved morgentællingen.' } });
    expect((await t.req('GET', base)).status).toBe(403); // the admin role does not see CPR numbers
    const prefilled = await t.req('GET', base, { token });
    expect(prefilled.json.recipients).toEqual([
      { role: 'area_office', address: 'omraade.hovedstaden@kriminalforsorgen.test' },
      { role: 'ombudsman', address: 'post@ombudsmand.test' },
      { role: 'directorate', address: 'csf@direktorat.test' },
    ]);
    expect(prefilled.json.fields).toMatchObject({ occurredAt: 'fredag 27.03.2026 kl. 14:00', description: 'Fundet livløs i cellen ved morgentællingen.', senderName: '', senderTitle: '' });
    expect(prefilled.json.late).toBe(false);

    // Field errors name the field; an unknown field is refused.
    const bad = await t.req('POST', `${base}/preview`, { token, body: { ...prefilled.json.fields, senderName: '', description: 'x'.repeat(4001), extra: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['description', 'extra', 'senderName', 'senderTitle']);

    const fields = { ...prefilled.json.fields, ...SENDER, description: 'Fundet livløs i cellen ved morgentællingen kl. 06:10.', remarks: 'Pårørende er underrettet.' };
    const preview = await t.req('POST', `${base}/preview`, { token, body: fields });
    expect(preview.status, JSON.stringify(preview.json)).toBe(200);
    expect(preview.json.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(preview.json.mail.subject).not.toMatch(/\d{6}-?\d{4}/);
    for (const part of ['Demo Person', '010190-4321', 'Dødsfald', 'fredag 27.03.2026 kl. 14:00', 'kl. 06:10', 'SM-77', 'Cirkulære om dødsfald m.v. § 6, stk. 2', 'Øvrige bemærkninger: Pårørende er underrettet.', 'sendes til områdekontoret senest fredag 24.04.2026', 'Med venlig hilsen\nHanne Jurist\nJurist, Kriminalforsorgen Hovedstaden']) {
      expect(preview.json.mail.text).toContain(part);
    }
    expect(preview.json.mail.text).not.toMatch(/token:|efter fristen/);
    expect(sink.received).toHaveLength(0);

    // Without the hash, or with the hash of another text, nothing is sent and nothing is written.
    const noHash = await t.req('POST', base, { token, body: fields });
    expect(noHash.status).toBe(400);
    expect(noHash.json.error.issues[0].path).toBe('previewHash');
    const edited = await t.req('POST', base, { token, body: { ...fields, remarks: 'Ændret i en anden fane.', previewHash: preview.json.hash } });
    expect(edited.status).toBe(409);
    expect(edited.json.error.issues[0].path).toBe('previewHash');
    expect(await t.db.database.db.select().from(notifications).where(eq(notifications.recordId, id))).toHaveLength(0);
    expect(sink.received).toHaveLength(0);

    const sent = await t.req('POST', base, { token, body: { ...fields, previewHash: preview.json.hash } });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.record.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice')).toMatchObject({ status: 'met' });
    expect(sent.json.record.preliminaryNoticeSentAt).toBe('2026-03-28T10:00:00.000+01:00');
    await sink.waitFor((all) => all.length === 3);
    expect(sink.received.map((m) => m.to[0]).sort()).toEqual(['csf@direktorat.test', 'omraade.hovedstaden@kriminalforsorgen.test', 'post@ombudsmand.test']);

    // The archive: per recipient, the bytes the server received, with their sha256, Message-ID and reply.
    const list = await t.req('GET', `${base}/messages`, { token });
    expect(list.status).toBe(200);
    expect(list.json.items).toHaveLength(3);
    expect(sent.json.messages).toEqual(list.json.items);
    const audits = await readAudit(t.db.database.db, and(eq(auditLog.entityId, id), eq(auditLog.action, 'incident.preliminary_notice_archived')));
    expect(audits).toHaveLength(3);
    const rows = await t.db.database.db.select().from(notifications).where(eq(notifications.recordId, id));
    for (const m of sink.received) {
      expect(m.secure).toBe(true);
      expect(m.subject).not.toMatch(/\d{6}-?\d{4}/);
      const parsed = await simpleParser(m.raw);
      expect(parsed.text).toContain('010190-4321');
      expect(parsed.text).toContain('Hanne Jurist');
      const item = list.json.items.find((i: { recipient: string }) => i.recipient === m.to[0]);
      expect(item.messageId).toBe(parsed.messageId);
      expect(item.sha256).toBe(sha(m.raw));
      expect(item.bytes).toBe(m.raw.length);
      expect(item.smtpResponse).toMatch(/^250 /);
      expect(rows.find((r) => r.recipient === m.to[0])).toMatchObject({ status: 'sent', messageId: parsed.messageId, smtpResponse: item.smtpResponse });
      const audit = audits.find((a) => (a.after as { recipient: string }).recipient === m.to[0]);
      expect(audit?.after).toMatchObject({ sha256: sha(m.raw), messageId: parsed.messageId, smtpResponse: item.smtpResponse, senderName: 'Hanne Jurist' });
      const eml = await download(`${base}/messages/${item.id}`, token);
      expect(eml.status).toBe(200);
      expect(eml.headers['content-type']).toBe('message/rfc822');
      expect(eml.headers['content-disposition']).toMatch(/^attachment; filename="foreloebig-underretning-SM-77-.*\.eml"$/);
      expect(eml.body.equals(m.raw)).toBe(true);
      // A reader may list the archive but not download the CPR number.
      expect((await download(`${base}/messages/${item.id}`, readerToken)).status).toBe(403);
    }
    expect((await verifyAudit(t.db.database.db)).ok).toBe(true);

    const again = await t.req('POST', base, { token, body: { ...fields, previewHash: preview.json.hash } });
    expect(again.status).toBe(409);
    expect(sink.received).toHaveLength(3);
    expect(t.logs.join('')).not.toContain('4321');
  });

  it("puts each archived message in the record's evidence pack, proved by the hashed audit entry; a changed byte is named", async () => {
    const id = await incident('SM-EV', { inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen ved morgentællingen.' });
    const base = `/api/incidents/${id}/preliminary-notice`;
    const fields = { ...(await t.req('GET', base, { token })).json.fields, ...SENDER };
    const preview = await t.req('POST', `${base}/preview`, { token, body: fields });
    const before = sink.received.length;
    expect((await t.req('POST', base, { token, body: { ...fields, previewHash: preview.json.hash } })).status).toBe(200);
    await sink.waitFor((all) => all.length === before + 3);
    const mine = sink.received.slice(before);
    const pack = await download(`/api/incidents/${id}/evidence`, token);
    expect(pack.status).toBe(200);
    const files = await readZip(pack.body);
    const mails = JSON.parse(files.get('data/mails.json')!.toString()) as { archived: Array<{ sha256: string; file: string | null; smtpResponse: string }> };
    expect(mails.archived).toHaveLength(3);
    // The .eml files are the bytes the SMTP server received, and the pack verifies.
    expect(mails.archived.map((a) => sha(files.get(a.file!)!)).sort()).toEqual(mine.map((m) => sha(m.raw)).sort());
    expect((await verifyPack(pack.body)).problems).toEqual([]);
    // One byte of a message changed (and SHA256SUMS rewritten to match): the chain's hash names it.
    const target = mails.archived[0]!.file!;
    const changed = Buffer.from(files.get(target)!);
    changed.writeUInt8(changed.readUInt8(changed.length - 5) ^ 1, changed.length - 5);
    files.set(target, changed);
    const sums = [...files.entries()].filter(([p]) => p !== 'SHA256SUMS' && !p.startsWith('export/')).map(([p, d]) => `${sha(d)}  ${p}\n`).join('');
    files.set('SHA256SUMS', Buffer.from(sums));
    const report = await verifyPack(await writeZip([...files.entries()].map(([path, data]) => ({ path, data })), new Date('2026-04-01T00:00:00Z')));
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toContain(`file ${target}: its sha256`);
    // A reader's pack would carry no message at all (the CPR number); readers may not export packs.
    expect((await download(`/api/incidents/${id}/evidence`, readerToken)).status).toBe(403);
  });

  it('sent late, says so with the date it was due and never promises a past date for the final report', async () => {
    const person = { inmateName: 'Sen Person', cpr: '030390-1234', description: 'Fundet i cellen ved aftenrunden.' };
    // 20 February: the notice was due Wednesday 25 February, the final report Friday 20 March (both past on 28 March).
    const overdue = await incident('SM-90', { ...person, occurredAt: '2026-02-20T09:00:00+01:00' });
    const draft = (await t.req('GET', `/api/incidents/${overdue}/preliminary-notice`, { token })).json;
    expect(draft).toMatchObject({ late: true, noticeDueDate: '2026-02-25', finalReport: { kind: 'overdue', date: '2026-03-20' } });
    const fields = { ...draft.fields, ...SENDER, lateReason: 'Sagen blev først oprettet i selvmordsmodulet den 27. marts.' };
    const preview = await t.req('POST', `/api/incidents/${overdue}/preliminary-notice/preview`, { token, body: fields });
    const text = preview.json.mail.text as string;
    expect(text).toContain('Underretningen sendes efter fristen: efter Cirkulære om dødsfald m.v. § 6, stk. 2 skulle den være sendt senest onsdag 25.02.2026.');
    expect(text).toContain('Årsagen til forsinkelsen: Sagen blev først oprettet');
    expect(text).toContain('Endelig elektronisk indberetning er forsinket: den skulle have foreligget senest fredag 20.03.2026 og er endnu ikke sendt.');
    expect(text).not.toContain('følger senest');
    expect(text).not.toContain('sendes til områdekontoret senest');
    const before = sink.received.length;
    const sent = await t.req('POST', `/api/incidents/${overdue}/preliminary-notice`, { token, body: { ...fields, previewHash: preview.json.hash } });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    await sink.waitFor((all) => all.length === before + 3);
    for (const m of sink.received.slice(before)) expect(m.text).toContain('Underretningen sendes efter fristen');
    expect(sent.json.record.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice')).toMatchObject({ status: 'met_late' });

    // A delay told in time: the notice promises the expected date, which is still ahead.
    const delayed = await incident('SM-91', { ...person, occurredAt: '2026-02-20T09:00:00+01:00', delayNotices: [{ notifiedAt: '2026-03-10T10:00:00+01:00', expectedDate: '2026-04-15', reason: 'Afventer obduktion' }] });
    const d2 = (await t.req('GET', `/api/incidents/${delayed}/preliminary-notice`, { token })).json;
    expect(d2.finalReport).toEqual({ kind: 'delayed', date: '2026-04-15' });
    const p2 = await t.req('POST', `/api/incidents/${delayed}/preliminary-notice/preview`, { token, body: { ...d2.fields, ...SENDER } });
    expect(p2.json.mail.text).toContain('den forventes at foreligge senest onsdag 15.04.2026');
  });

  it('is edited, previewed and confirmed in the web UI, once, behind the CSRF check; a changed text is shown again, not sent', async () => {
    const id = await incident('SM-78', { kind: 'suicide', occurredAt: '2026-03-27T20:00:00+01:00' });
    const url = `/records/incidents/${id}/notice`;
    const ui = new Client(t);
    await ui.login(token);
    const before = sink.received.length;

    const incomplete = await ui.get(url);
    expect(incomplete.status).toBe(200);
    for (const s of ['inmateName', 'cpr', 'description']) expect(incomplete.body).toContain(`(${s})`);
    await t.req('PATCH', `/api/incidents/${id}`, { token, body: { inmateName: 'Demo Persson', cpr: '020290-1234', description: 'Fundet i cellen af personalet.' } });
    const form = await ui.get(url);
    expect(form.body).toContain('value="fredag 27.03.2026 kl. 20:00"');
    expect(form.body).toContain('Fundet i cellen af personalet.</textarea>');

    const fields = { occurredAt: 'fredag 27.03.2026 kl. 20:00', description: 'Fundet i cellen af personalet kl. 20:05.', remarks: '', lateReason: '', senderName: '', senderTitle: 'Vagthavende' };
    // The first POST never sends: a missing name comes back, in Danish, next to its field.
    const invalid = await ui.post(url, { ...fields, step: 'preview' });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatch(/<span class="field-error" id="err-senderName">Skal udfyldes\.<\/span>/);
    expect(invalid.body).toContain('aria-invalid="true" aria-describedby="hint-senderName err-senderName"');
    const preview = await ui.post(url, { ...fields, senderName: 'Ole Vagt', step: 'preview' });
    expect(preview.status).toBe(200);
    for (const s of ['Områdekontoret:</strong> omraade.hovedstaden@kriminalforsorgen.test', 'Folketingets Ombudsmand:</strong> post@ombudsmand.test', 'Direktoratet (Center for Straffuldbyrdelse):</strong> csf@direktorat.test', '020290-1234', 'kl. 20:05', 'Ole Vagt\nVagthavende']) expect(preview.body).toContain(s);
    const hash = /name="previewHash" value="([0-9a-f]{64})"/.exec(preview.body)?.[1] ?? '';
    expect(hash).toHaveLength(64);
    expect(sink.received).toHaveLength(before);

    const confirm = { ...fields, senderName: 'Ole Vagt', previewHash: hash, step: 'send' };
    expect((await ui.post(url, confirm, 'forged')).status).toBe(403);
    // Another tab changed the record since: the new text is shown with its own hash, nothing is sent.
    await t.req('PATCH', `/api/incidents/${id}`, { token, body: { inmateName: 'Demo Persson-Hansen' } });
    const changed = await ui.post(url, confirm);
    expect(changed.status).toBe(409);
    expect(changed.body).toContain('id="notice-changed"');
    expect(changed.body).toContain('Demo Persson-Hansen');
    const newHash = /name="previewHash" value="([0-9a-f]{64})"/.exec(changed.body)?.[1] ?? '';
    expect(newHash).not.toBe(hash);
    expect(sink.received).toHaveLength(before);

    const sent = await ui.post(url, { ...confirm, previewHash: newHash });
    expect(sent.status).toBe(303);
    expect(sent.headers['location']).toBe(`/records/incidents/${id}?done=notice`);
    await sink.waitFor((all) => all.length === before + 3);
    const mine = sink.received.slice(before);
    expect(mine.every((m) => m.secure && m.text.includes('020290-1234') && m.text.includes('Ole Vagt'))).toBe(true);

    // The record page lists the archive; each .eml is the message the server received.
    const record = await ui.get(`/records/incidents/${id}`);
    const links = [...record.body.matchAll(/href="(\/records\/incidents\/[^"]+\/notice\/messages\/[0-9a-f-]{36})"/g)].map((m) => m[1] as string);
    expect(links).toHaveLength(3);
    const cookie = [...ui.cookies.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const bodies = await Promise.all(links.map(async (l) => (await t.app.inject({ method: 'GET', url: l, headers: { cookie } })).rawPayload));
    expect(bodies.map(sha).sort()).toEqual(mine.map((m) => sha(m.raw)).sort());
    for (const m of mine) expect(record.body).toContain(sha(m.raw));

    expect((await ui.post(url, { ...confirm, previewHash: newHash })).status).toBe(409);
    expect(sink.received).toHaveLength(before + 3);
    expect(t.logs.join('')).not.toContain('1234');
  });

  it('retention erases the archived messages with the record; their hashes, Message-IDs and replies stay', async () => {
    const db = t.db.database.db;
    const [archived] = await db.select().from(noticeArchive).limit(1);
    const id = archived?.recordId as string;
    await t.req('POST', `/api/incidents/${id}/events`, { token, body: { type: 'closed', at: '2026-03-28T10:00:00+01:00' } });
    const res = await anonymiseExpired(db, { now: new Date('2032-01-01T00:00:00Z'), years: 5 });
    expect(res.records.map((r) => r.id)).toContain(id);
    const rows = await db.select().from(noticeArchive).where(eq(noticeArchive.recordId, id));
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.mime).toBeNull();
      expect(r.erasedAt).not.toBeNull();
      expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect((await download(`/api/incidents/${id}/preliminary-notice/messages/${r.id}`, token)).status).toBe(404);
    }
    // Nothing left to erase: a second run leaves the record alone.
    expect((await anonymiseExpired(db, { now: new Date('2032-01-01T00:00:00Z'), years: 5 })).records.map((r) => r.id)).not.toContain(id);
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});
