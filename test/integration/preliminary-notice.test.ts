/** The § 6 stk. 3 notice: preview, missing fields, sending to three recipients over TLS, deadline met. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { Client } from '../support/ui-client.js';

describe('preliminary notice', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let token = '';
  let mailer: ReturnType<typeof createSmtpMailer>;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false });
    // The sink offers STARTTLS with a self-signed certificate; the notice transport must insist on it.
    t = await startTestApp('postgres', '2026-03-28T10:00:00+01:00', { mailer });
    await seedMasterData(t);
    await t.req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: 'post@ombudsmand.test', directorate: 'csf@direktorat.test', admins: ['drift@kf.test'] } } });
    token = (await t.req('POST', '/api/tokens', { body: { role: 'area', areaId: 'hovedstaden' } })).json.token;
  });
  afterAll(async () => {
    await t?.close();
    mailer?.close();
    await sink?.close();
  });

  it('lists what is missing, previews the § 6 stk. 3 contents, sends once over TLS and meets the deadline', async () => {
    const inc = await t.req('POST', '/api/incidents', { token, body: { institutionId: 'vestre', journalNumber: 'SM-77', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00' } });
    const id = inc.json.id as string;
    const missing = await t.req('POST', `/api/incidents/${id}/preliminary-notice`, { token });
    expect(missing.status).toBe(400);
    expect(missing.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['inmateName', 'cpr', 'description']);
    expect(sink.received).toHaveLength(0);

    await t.req('PATCH', `/api/incidents/${id}`, { token, body: { inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen ved morgentællingen.' } });
    const adminPreview = await t.req('GET', `/api/incidents/${id}/preliminary-notice`);
    expect(adminPreview.status).toBe(403); // the admin role does not see CPR numbers
    const preview = await t.req('GET', `/api/incidents/${id}/preliminary-notice`, { token });
    expect(preview.status).toBe(200);
    expect(preview.json.recipients).toEqual(['omraade.hovedstaden@kriminalforsorgen.test', 'post@ombudsmand.test', 'csf@direktorat.test']);
    expect(preview.json.mail.subject).not.toMatch(/\d{6}-?\d{4}/);
    for (const part of ['Demo Person', '010190-4321', 'Dødsfald', 'fredag 27.03.2026 kl. 14:00', 'Fundet livløs', 'SM-77', 'Cirkulære om dødsfald m.v. § 6, stk. 2']) expect(preview.json.mail.text).toContain(part);

    const sent = await t.req('POST', `/api/incidents/${id}/preliminary-notice`, { token });
    expect(sent.status, JSON.stringify(sent.json)).toBe(200);
    expect(sent.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice')).toMatchObject({ status: 'met' });
    expect(sent.json.preliminaryNoticeSentAt).toBe('2026-03-28T10:00:00.000+01:00');
    await sink.waitFor((all) => all.length === 3);
    expect(sink.received.map((m) => m.to[0]).sort()).toEqual(['csf@direktorat.test', 'omraade.hovedstaden@kriminalforsorgen.test', 'post@ombudsmand.test']);
    for (const m of sink.received) {
      expect(m.secure).toBe(true);
      expect(m.text).toContain('010190-4321');
      expect(m.subject).not.toMatch(/\d{6}-?\d{4}/);
    }
    const again = await t.req('POST', `/api/incidents/${id}/preliminary-notice`, { token });
    expect(again.status).toBe(409);
    expect(sink.received).toHaveLength(3);
    expect(t.logs.join('')).not.toContain('4321');
  });

  it('is previewed and sent from the web UI by a filing role, once, behind the CSRF check', async () => {
    const inc = await t.req('POST', '/api/incidents', { token, body: { institutionId: 'vestre', journalNumber: 'SM-78', kind: 'suicide', occurredAt: '2026-03-27T20:00:00+01:00' } });
    const id = inc.json.id as string;
    const url = `/records/incidents/${id}/notice`;
    const ui = new Client(t);
    await ui.login(token);
    const before = sink.received.length;

    // Fields the notice needs are missing: the page lists them and the send button is disabled.
    const incomplete = await ui.get(url);
    expect(incomplete.status).toBe(200);
    for (const s of ['inmateName', 'cpr', 'description', 'disabled']) expect(incomplete.body).toContain(s);
    expect((await ui.post(url, {})).status).toBe(400);
    expect(sink.received).toHaveLength(before);

    await t.req('PATCH', `/api/incidents/${id}`, { token, body: { inmateName: 'Demo Persson', cpr: '020290-1234', description: 'Fundet i cellen.' } });
    const ready = await ui.get(url);
    expect(ready.body).toContain('020290-1234');
    expect(ready.body).not.toContain('disabled');
    expect((await ui.post(url, {}, 'forged')).status).toBe(403);
    expect(sink.received).toHaveLength(before);

    const sent = await ui.post(url, {});
    expect(sent.status).toBe(303);
    expect(sent.headers['location']).toBe(`/records/incidents/${id}?done=notice`);
    await sink.waitFor((all) => all.length === before + 3);
    expect(sink.received.slice(before).every((m) => m.secure && m.text.includes('020290-1234'))).toBe(true);
    const record = await t.req('GET', `/api/incidents/${id}`, { token });
    expect(record.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice')).toMatchObject({ status: 'met' });
    expect((await ui.post(url, {})).status).toBe(409);
    expect(sink.received).toHaveLength(before + 3);
    expect(t.logs.join('')).not.toContain('1234');
  });
});
