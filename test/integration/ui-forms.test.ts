/**
 * The record forms over HTTP (src/ui/pages/record-form.ts): the same writes as the API (the
 * stored record, its audit entry and deadlines equal what POST /api/… gives), a preview that
 * writes nothing, a double submit that is one write, the API's roles and scopes and CSRF on
 * every form, and field errors in Danish next to the field.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, incidents } from '../../src/db/schema.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

async function count(t: TestApp, table: string): Promise<number> {
  const res = await t.db.database.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
  return ((Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>)[0]?.n ?? -1;
}
const writes = (t: TestApp) => Promise.all(['incidents', 'audit_log', 'deadlines', 'incident_delay_notices'].map((table) => count(t, table)));

describe('record forms over HTTP (Postgres)', () => {
  let t: TestApp;
  let tokens: Record<string, { id: string; token: string }>;
  const client = async (name: string): Promise<Client> => {
    const c = new Client(t);
    await c.login(tokens[name]?.token as string);
    return c;
  };

  beforeAll(async () => {
    t = await startTestApp('postgres', '2026-11-18T10:00:00+01:00');
    await seedMasterData(t);
    tokens = await createTokens(t, { reader: { role: 'reader' }, vestre: { role: 'institution', institutionId: 'vestre' }, aalborg: { role: 'institution', institutionId: 'aalborg' } });
  });
  afterAll(async () => t?.close());

  const form = { institutionId: 'vestre', journalNumber: 'UIF-1', kind: 'qualified_self_harm', occurredAt: '17.11.2026 22:15', registeredAt: '', description: '', inmateName: '', cpr: '', preliminaryNoticeSentAt: '' };

  it('previews without writing, refuses in Danish next to the field, and creates what the API creates', async () => {
    const c = await client('vestre');
    const page = await c.get('/records/incidents/new');
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="record-form-occurredAt"');
    expect(page.body).not.toMatch(/type="(date|datetime-local)"/);
    const before = await writes(t);

    const preview = await c.post('/records/incidents/new', { ...form, intent: 'preview', _idem: 'k1' });
    expect(preview.status).toBe(200);
    expect(preview.body).toContain('id="deadline-preview"');
    expect(preview.body).toContain('data-rule="incident.preliminary-notice"');
    expect(await writes(t)).toEqual(before);

    const bad = await c.post('/records/incidents/new', { ...form, journalNumber: '', occurredAt: '17.11.2026 22:15', preliminaryNoticeSentAt: '17.11.2026 21:00', intent: 'save', _idem: 'k1' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('<span class="field-error" id="record-form-journalNumber-err">Skal udfyldes.</span>');
    expect(bad.body).toContain('aria-describedby="record-form-journalNumber-err"');
    expect(await writes(t)).toEqual(before);

    // The engine's cross-field rule, as the API applies it, in Danish by the field.
    const order = await c.post('/records/incidents/new', { ...form, preliminaryNoticeSentAt: '17.11.2026 21:00', intent: 'save', _idem: 'k1' });
    expect(order.status).toBe(400);
    expect(order.body).toContain('Ligger før «Tidspunkt for hændelsen» (tirsdag 17.11.2026 kl. 22:15).');
    expect(await writes(t)).toEqual(before);

    const saved = await c.post('/records/incidents/new', { ...form, intent: 'save', _idem: 'k1' });
    expect(saved.status).toBe(303);
    const id = /\/records\/incidents\/([0-9a-f-]{36})\?done=created$/.exec(saved.headers['location'] as string)?.[1] as string;
    // A second click of the same form is the same write.
    const again = await c.post('/records/incidents/new', { ...form, intent: 'save', _idem: 'k1' });
    expect(again.headers['location']).toBe(saved.headers['location']);
    expect(await count(t, 'incidents')).toBe((before[0] as number) + 1);

    const api = await t.req('GET', `/api/incidents/${id}`);
    expect(api.json).toMatchObject({ journalNumber: 'UIF-1', kind: 'qualified_self_harm', occurredAt: '2026-11-17T22:15:00.000+01:00', description: null, inmateName: null, mediaAttention: false });
    const [audit] = await t.db.database.db.select().from(auditLog).where(eq(auditLog.entityId, id));
    expect(audit?.action).toBe('incident.create');
    // The same body through the API gives the same record and deadlines.
    const twin = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'UIF-1-API', kind: 'qualified_self_harm', occurredAt: '2026-11-17T22:15:00+01:00' } });
    const strip = (v: { deadlines: Array<Record<string, unknown>> }) => v.deadlines.map(({ rule, dueDate, status }) => ({ rule, dueDate, status }));
    expect(strip(twin.json)).toEqual(strip(api.json));
  });

  it('corrects the details with a patch of what changed, previewed first', async () => {
    const [inc] = await t.db.database.db.select().from(incidents).where(eq(incidents.journalNumber, 'UIF-1'));
    const url = `/records/incidents/${inc?.id}/edit`;
    const c = await client('vestre');
    const page = await c.get(url);
    expect(page.body).toContain('value="17.11.2026 22:15"');
    const fields = (extra: Record<string, string>) => ({ journalNumber: 'UIF-1', kind: 'qualified_self_harm', description: '', occurredAt: '17.11.2026 22:15', registeredAt: '18.11.2026 10:00', inmateName: '', cpr: '', version: String(inc?.version), ...extra });
    const before = await writes(t);
    const same = await c.post(url, { ...fields({}), intent: 'save', _idem: 'p1' });
    expect(same.status).toBe(200);
    expect(same.body).toContain('Du har ikke ændret noget.');
    const cleared = await c.post(url, { ...fields({ occurredAt: '' }), intent: 'save', _idem: 'p1' });
    expect(cleared.status).toBe(400);
    expect(cleared.body).toContain('<span class="field-error" id="edit-form-occurredAt-err">Skal udfyldes.</span>');
    const preview = await c.post(url, { ...fields({ occurredAt: '16.11.2026 22:15' }), intent: 'preview', _idem: 'p1' });
    expect(preview.body).toContain('id="deadline-preview"');
    expect(preview.body).toContain('torsdag 19.11.2026');
    expect(await writes(t)).toEqual(before);
    const saved = await c.post(url, { ...fields({ occurredAt: '16.11.2026 22:15', description: 'Rettet tidspunkt' }), intent: 'save', _idem: 'p1' });
    expect(saved.status).toBe(303);
    const api = await t.req('GET', `/api/incidents/${inc?.id}`);
    expect(api.json).toMatchObject({ occurredAt: '2026-11-16T22:15:00.000+01:00', description: 'Rettet tidspunkt', version: (inc?.version as number) + 1 });
    const [audit] = await t.db.database.db.select().from(auditLog).where(eq(auditLog.action, 'incident.update'));
    expect(audit?.entityId).toBe(inc?.id);
    // A form from before that write is stale: refused (409 naming the version), nothing written.
    const stale = await c.post(url, { ...fields({ description: 'Endnu en rettelse' }), intent: 'save', _idem: 'p2' });
    expect(stale.status).toBe(400);
    expect(stale.body).toMatch(/[Ss]agen er ændret af en anden, siden du åbnede den\./);
  });

  it('records an event, corrects it and refuses the other roles, scopes and a missing CSRF token', async () => {
    const [inc] = await t.db.database.db.select().from(incidents).where(eq(incidents.journalNumber, 'UIF-1'));
    const base = `/records/incidents/${inc?.id}`;
    const c = await client('vestre');
    await c.get(`${base}/events/new?type=delay_notified`);
    const noted = await c.post(`${base}/events/new`, { type: 'delay_notified', at: '18.11.2026 09:00', expectedDate: '20.01.2027', reason: 'Afventer obduktion', intent: 'save', _idem: 'e1' });
    expect(noted.status).toBe(303);
    const [ev] = (await t.req('GET', `/api/incidents/${inc?.id}/events`)).json.items;
    expect(ev).toMatchObject({ type: 'delay_notified', values: { expectedDate: '2027-01-20' } });

    const correction = await c.get(`${base}/events/${ev.id}`);
    expect(correction.body).toContain('value="20.01.2027"');
    const before = await writes(t);
    for (const [who, status] of [['reader', 403], ['aalborg', 403]] as const) {
      const other = await client(who);
      expect((await other.get(`${base}/events/${ev.id}`)).status, who).toBe(status);
      expect((await other.post(`${base}/events/${ev.id}/correct`, { at: '18.11.2026 09:00', expectedDate: '25.01.2027', reason: 'Afventer obduktion', correctionReason: 'Forkert dato', intent: 'save' })).status, who).toBe(status);
      expect((await other.get('/records/incidents/new')).status, who).toBe(who === 'reader' ? 403 : 200);
    }
    expect((await c.post(`${base}/events/${ev.id}/correct`, { at: '18.11.2026 09:00', expectedDate: '25.01.2027', reason: 'Afventer obduktion', correctionReason: 'Forkert dato', intent: 'save' }, null)).status).toBe(403);
    const noReason = await c.post(`${base}/events/${ev.id}/undo`, { correctionReason: '', intent: 'save' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('<span class="field-error" id="undo-form-correctionReason-err">Skal udfyldes.</span>');
    expect(await writes(t)).toEqual(before);

    // The event's own reason and the correction's reason are two fields.
    const fixed = await c.post(`${base}/events/${ev.id}/correct`, { at: '18.11.2026 09:00', expectedDate: '25.01.2027', reason: 'Afventer obduktion', correctionReason: 'Forkert forventet dato', intent: 'save', _idem: 'c1' });
    expect(fixed.status, fixed.body.slice(0, 500)).toBe(303);
    expect(fixed.headers['location']).toBe(`${base}?done=corrected`);
    const api = await t.req('GET', `/api/incidents/${inc?.id}`);
    expect(api.json.delayNotices).toMatchObject([{ expectedDate: '2027-01-25', reason: 'Afventer obduktion' }]);
    expect(api.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.final-report')).toMatchObject({ dueDate: '2027-01-25' });
    const page = await c.get(fixed.headers['location'] as string);
    expect(page.body).toContain('Handlingen er rettet.');
    expect(page.body).toContain('Forkert forventet dato');
    // English second: the same forms, every text from the English dictionary.
    const en = await c.get(`${base}/events/${ev.id}?lang=en`);
    expect(en.status).toBe(200);
    expect(en.body).toContain('Correct or undo “Delay notified”');
    expect((await c.get('/records/action-plans/new')).body).toContain('New action plan');
    await c.get('/?lang=da');
  });
});
