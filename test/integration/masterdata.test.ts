/**
 * The master data service functions the UI's master data pages needed beyond the API's: one area
 * and one institution in the caller's scope, the token list (admins only, never the token), and
 * the re-planning of the open records a change of recipients, address, substitute or absence
 * concerns (their change_seq moves, which the change feed and the sweep plan from). On Postgres.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionPlans, apiTokens, incidents, notifications } from '../../src/db/schema.js';
import { planRecord } from '../../src/worker/planner.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';

const NOW = '2026-11-18T10:00:00+01:00'; // a Wednesday

describe('master data for the UI (Postgres)', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp('postgres', NOW);
    await seedMasterData(t);
    const created = await createTokens(t, {
      reader: { role: 'reader' },
      area: { role: 'area', areaId: 'hovedstaden' },
      institution: { role: 'institution', institutionId: 'vestre' },
    });
    for (const [name, { token }] of Object.entries(created)) tokens[name] = token;
  });
  afterAll(async () => t?.close());

  it('GET /api/areas/:id answers in the caller\'s scope: 403 for another area, 404 for none', async () => {
    expect((await t.req('GET', '/api/areas/nordjylland')).json).toMatchObject({ id: 'nordjylland', officeEmail: 'omraade.nordjylland@kriminalforsorgen.test' });
    expect((await t.req('GET', '/api/areas/nordjylland', { token: tokens['reader'] as string })).status).toBe(200);
    expect((await t.req('GET', '/api/areas/hovedstaden', { token: tokens['area'] as string })).status).toBe(200);
    expect((await t.req('GET', '/api/areas/hovedstaden', { token: tokens['institution'] as string })).status).toBe(200);
    for (const token of [tokens['area'], tokens['institution']] as string[]) {
      const res = await t.req('GET', '/api/areas/nordjylland', { token });
      expect(res.status).toBe(403);
      expect(res.json.error.code).toBe('FORBIDDEN');
    }
    expect((await t.req('GET', '/api/areas/findes-ikke')).status).toBe(404);
    expect((await t.req('GET', '/api/areas/Ikke%20et%20id')).status).toBe(404);
    expect((await t.req('GET', '/api/areas/hovedstaden', { token: null })).status).toBe(401);
  });

  it('GET /api/institutions/:id answers in the caller\'s scope', async () => {
    expect((await t.req('GET', '/api/institutions/aalborg')).json).toMatchObject({ id: 'aalborg', areaId: 'nordjylland' });
    expect((await t.req('GET', '/api/institutions/vestre', { token: tokens['area'] as string })).status).toBe(200);
    expect((await t.req('GET', '/api/institutions/vestre', { token: tokens['institution'] as string })).status).toBe(200);
    expect((await t.req('GET', '/api/institutions/aalborg', { token: tokens['area'] as string })).status).toBe(403);
    expect((await t.req('GET', '/api/institutions/aalborg', { token: tokens['institution'] as string })).status).toBe(403);
    expect((await t.req('GET', '/api/institutions/findes-ikke')).status).toBe(404);
  });

  it('GET /api/tokens lists the tokens for admins only, never the token or its hash', async () => {
    const created = await t.req('POST', '/api/tokens', { body: { name: 'Til tilbagekaldelse', role: 'reader' } });
    expect(created.status).toBe(201);
    expect((await t.req('DELETE', `/api/tokens/${created.json.id}`)).status).toBe(204);
    const list = await t.req('GET', '/api/tokens');
    expect(list.status).toBe(200);
    const names = list.json.items.map((i: any) => i.name);
    expect(names).toEqual(expect.arrayContaining(['reader', 'area', 'institution', 'Til tilbagekaldelse']));
    const revoked = list.json.items.find((i: any) => i.id === created.json.id);
    expect(revoked).toMatchObject({ role: 'reader', areaId: null, institutionId: null, createdAt: new Date(NOW).toISOString() });
    expect(revoked.revokedAt).not.toBeNull();
    expect(list.json.items.find((i: any) => i.name === 'area')).toMatchObject({ role: 'area', areaId: 'hovedstaden', revokedAt: null });
    const text = JSON.stringify(list.json);
    expect(text).not.toContain(created.json.token);
    const [stored] = await t.db.database.db.select({ hash: apiTokens.tokenHash }).from(apiTokens).where(eq(apiTokens.id, created.json.id));
    expect(text).not.toContain(stored?.hash);
    expect(Object.keys(revoked).sort()).toEqual(['areaId', 'createdAt', 'expiresAt', 'id', 'institutionId', 'lastUsedAt', 'name', 'revokedAt', 'role']);
    for (const name of ['reader', 'area', 'institution']) {
      const token = tokens[name] as string;
      expect((await t.req('GET', '/api/tokens', { token })).status, name).toBe(403);
      expect((await t.req('POST', '/api/tokens', { token, body: { role: 'admin' } })).status, name).toBe(403);
      expect((await t.req('DELETE', `/api/tokens/${created.json.id}`, { token })).status, name).toBe(403);
      expect((await t.req('DELETE', '/api/tokens/not-an-id', { token })).status, name).toBe(403);
    }
    expect((await t.req('DELETE', '/api/tokens/not-an-id')).status).toBe(404);
  });

  describe('re-planning after a change of whom the mails go to', () => {
    const seqOf = async (table: typeof incidents | typeof actionPlans, id: string): Promise<{ seq: number; version: number }> => {
      const [row] = await t.db.database.db.select({ seq: table.changeSeq, version: table.version }).from(table).where(eq(table.id, id));
      return row as { seq: number; version: number };
    };
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      for (const [name, institutionId] of [['vestre', 'vestre'], ['aalborg', 'aalborg'], ['closed', 'vestre']] as const) {
        const res = await t.req('POST', '/api/incidents', { body: { institutionId, journalNumber: `RP-${name}`, kind: 'qualified_self_harm', occurredAt: '2026-11-17T09:00:00+01:00' } });
        expect(res.status, JSON.stringify(res.json)).toBe(201);
        ids[name] = res.json.id;
      }
      expect((await t.req('POST', `/api/incidents/${ids['closed']}/events`, { body: { type: 'closed', at: '2026-11-18T09:00:00+01:00' } })).status).toBe(200);
      for (const [name, email] of [['owner', 'ejer@kriminalforsorgen.test'], ['sub', 'vikar@kriminalforsorgen.test']] as const) {
        const res = await t.req('POST', '/api/staff', { body: { areaId: 'hovedstaden', institutionId: 'vestre', name: `Medarbejder ${name}`, email } });
        expect(res.status, JSON.stringify(res.json)).toBe(201);
        ids[name] = res.json.id;
      }
      expect((await t.req('PATCH', `/api/staff/${ids['owner']}`, { body: { substituteId: ids['sub'] } })).status).toBe(200);
      const plan = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'RP-HP', clientCategory: 'remand', admittedAt: '2026-11-16', ownerId: ids['owner'], ownerAssignedAt: '2026-11-16' } });
      expect(plan.status, JSON.stringify(plan.json)).toBe(201);
      ids['plan'] = plan.json.id;
    });

    it("an area's addresses re-plan its institutions' open records; its name does not", async () => {
      const before = { vestre: await seqOf(incidents, ids['vestre'] as string), aalborg: await seqOf(incidents, ids['aalborg'] as string), closed: await seqOf(incidents, ids['closed'] as string) };
      expect((await t.req('PATCH', '/api/areas/hovedstaden', { body: { name: 'Kriminalforsorgen Hovedstaden og Bornholm' } })).status).toBe(200);
      expect(await seqOf(incidents, ids['vestre'] as string)).toEqual(before.vestre);
      expect((await t.req('PATCH', '/api/areas/hovedstaden', { body: { officeEmail: 'nyt.omraadekontor@kriminalforsorgen.test' } })).status).toBe(200);
      const after = await seqOf(incidents, ids['vestre'] as string);
      expect(after.seq).toBeGreaterThan(before.vestre.seq);
      expect(after.version).toBe(before.vestre.version + 1);
      expect(await seqOf(actionPlans, ids['plan'] as string)).not.toEqual(before.vestre);
      // Another area's records, and closed ones, keep theirs.
      expect(await seqOf(incidents, ids['aalborg'] as string)).toEqual(before.aalborg);
      expect(await seqOf(incidents, ids['closed'] as string)).toEqual(before.closed);
      // The same address again changes nothing.
      expect((await t.req('PATCH', '/api/areas/hovedstaden', { body: { officeEmail: 'nyt.omraadekontor@kriminalforsorgen.test' } })).status).toBe(200);
      expect(await seqOf(incidents, ids['vestre'] as string)).toEqual(after);
    });

    it("an institution's duty manager re-plans its open records", async () => {
      const before = { vestre: await seqOf(incidents, ids['vestre'] as string), aalborg: await seqOf(incidents, ids['aalborg'] as string) };
      expect((await t.req('PATCH', '/api/institutions/aalborg', { body: { name: 'Fængsel Aalborg' } })).status).toBe(200);
      expect(await seqOf(incidents, ids['aalborg'] as string)).toEqual(before.aalborg);
      expect((await t.req('PATCH', '/api/institutions/aalborg', { body: { dutyManagerEmail: 'ny.vagt.aalborg@kriminalforsorgen.test' } })).status).toBe(200);
      expect((await seqOf(incidents, ids['aalborg'] as string)).seq).toBeGreaterThan(before.aalborg.seq);
      expect(await seqOf(incidents, ids['vestre'] as string)).toEqual(before.vestre);
    });

    it("a plan owner's absence re-plans the plan, and its reminders go to the substitute", async () => {
      const db = t.db.database.db;
      const ctx = { closureDays: [] as string[], now: new Date(NOW), settings: await loadWorkerSettings(db) };
      await planRecord(db, ctx, 'action_plan', ids['plan'] as string);
      const waiting = async () => (await db.select({ recipient: notifications.recipient, status: notifications.status, stage: notifications.stage }).from(notifications).where(eq(notifications.recordId, ids['plan'] as string))).filter((n) => n.status === 'scheduled' && n.stage.includes(':reminder-'));
      expect((await waiting()).map((n) => n.recipient)).toContain('ejer@kriminalforsorgen.test');

      const before = await seqOf(actionPlans, ids['plan'] as string);
      // A name or title is not what the planner reads.
      expect((await t.req('PATCH', `/api/staff/${ids['owner']}`, { body: { title: 'Fængselsbetjent' } })).status).toBe(200);
      expect(await seqOf(actionPlans, ids['plan'] as string)).toEqual(before);
      expect((await t.req('PATCH', `/api/staff/${ids['owner']}`, { body: { absences: [{ from: '2026-11-18', until: '2026-12-31', reason: 'orlov' }] } })).status).toBe(200);
      const moved = await seqOf(actionPlans, ids['plan'] as string);
      expect(moved.seq).toBeGreaterThan(before.seq);
      // What the worker does with the record the change feed now names.
      await planRecord(db, ctx, 'action_plan', ids['plan'] as string);
      const now = (await waiting()).map((n) => n.recipient);
      expect(now.length).toBeGreaterThan(0);
      expect(new Set(now)).toEqual(new Set(['vikar@kriminalforsorgen.test']));

      // Only the note changed: the same days, nothing to re-plan.
      expect((await t.req('PATCH', `/api/staff/${ids['owner']}`, { body: { absences: [{ from: '2026-11-18', until: '2026-12-31', reason: 'ferie' }] } })).status).toBe(200);
      expect(await seqOf(actionPlans, ids['plan'] as string)).toEqual(moved);
      // The substitute's own absence concerns the plans they stand in for.
      expect((await t.req('PATCH', `/api/staff/${ids['sub']}`, { body: { absences: [{ from: '2026-11-30', until: '2026-12-02' }] } })).status).toBe(200);
      const subAway = await seqOf(actionPlans, ids['plan'] as string);
      expect(subAway.seq).toBeGreaterThan(moved.seq);
      // Deactivated: re-planned as well.
      expect((await t.req('PATCH', `/api/staff/${ids['sub']}`, { body: { active: false } })).status).toBe(200);
      expect((await seqOf(actionPlans, ids['plan'] as string)).seq).toBeGreaterThan(subAway.seq);
    });

    it('names the substitute field when a staff member is made their own substitute', async () => {
      const res = await t.req('PATCH', `/api/staff/${ids['owner']}`, { body: { substituteId: ids['owner'] } });
      expect(res.status).toBe(400);
      expect(res.json.error.issues).toEqual([{ path: 'substituteId', message: 'cannot be the staff member themself' }]);
    });
  });
});
