/** No notice leaves with an external address unset (needs recipients.ombudsman/directorate nullable, src/worker/settings.ts). */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifications } from '../../src/db/schema.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';
import { Client } from '../support/ui-client.js';

describe('preliminary notice with an external address unset', () => {
  let t: TestApp;
  let sink: SmtpSink;
  let mailer: ReturnType<typeof createSmtpMailer>;
  beforeAll(async () => {
    sink = await startSmtpSink();
    mailer = createSmtpMailer({ url: sink.url, requireTls: false, rejectUnauthorized: false });
    t = await startTestApp('postgres', '2026-03-28T10:00:00+01:00', { mailer });
    await seedMasterData(t);
  });
  afterAll(async () => {
    await t?.close();
    mailer?.close();
    await sink?.close();
  });

  it('names the unset address in the preview, refuses the send naming the field, and writes and sends nothing', async () => {
    const set = await t.req('PUT', '/api/settings/recipients', { body: { value: { ombudsman: null, directorate: 'csf@direktorat.test', admins: ['drift@kf.test'] } } });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    const token = (await t.req('POST', '/api/tokens', { body: { role: 'area', areaId: 'hovedstaden' } })).json.token as string;
    const inc = await t.req('POST', '/api/incidents', { token, body: { institutionId: 'vestre', journalNumber: 'SM-U1', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', inmateName: 'Demo Person', cpr: '010190-4321', description: 'Fundet livløs i cellen.' } });
    const id = inc.json.id as string;
    const start = await t.req('GET', `/api/incidents/${id}/preliminary-notice`, { token });
    expect(start.json.recipients[1]).toEqual({ role: 'ombudsman', address: null });
    expect(start.json.unset).toEqual(['recipients.ombudsman']);
    const fields = { ...start.json.fields, senderName: 'Hanne Jurist', senderTitle: 'Jurist' };
    const preview = await t.req('POST', `/api/incidents/${id}/preliminary-notice/preview`, { token, body: fields });
    expect(preview.status).toBe(200);
    expect(preview.json.hash).toBeNull();
    const sent = await t.req('POST', `/api/incidents/${id}/preliminary-notice`, { token, body: { ...fields, previewHash: 'a'.repeat(64) } });
    expect(sent.status).toBe(400);
    expect(sent.json.error.issues.map((i: { path: string }) => i.path)).toEqual(['recipients.ombudsman']);

    const ui = new Client(t);
    await ui.login(token);
    const page = await ui.post(`/records/incidents/${id}/notice`, { ...fields, step: 'preview' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Folketingets Ombudsmand: e-mailadressen er ikke sat. En administrator skal angive den under Indstillinger › Modtagere');
    expect(page.body).toContain('id="notice-send" disabled');
    const refused = await ui.post(`/records/incidents/${id}/notice`, { ...fields, step: 'send', previewHash: 'a'.repeat(64) });
    expect(refused.status).toBe(400);
    expect(await t.db.database.db.select().from(notifications).where(eq(notifications.recordId, id))).toHaveLength(0);
    expect(sink.received).toHaveLength(0);
  });
});
