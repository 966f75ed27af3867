/**
 * Escalation handling and the work queue's writes against real Postgres (issue 13, parts 3–4):
 * the one write path (actOnEscalation) through the API and the UI's form alike — scope refusals
 * (403) that write nothing, the state transitions and their 409s, the audit entry of every action
 * (with the comment's text kept apart, erasable), idempotent retries, the escalation closing when
 * the duty is recorded; bulk registration all-or-nothing with the error naming the case, and the
 * re-plan visible at once; saved filters per actor; the person search only for the CPR roles and
 * never in a URL.
 */
import { and, eq, like } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, auditPersonal, deadlines, escalationComments, escalationHandling, notifications, savedFilters } from '../../src/db/schema.js';
import { anonymiseExpired } from '../../src/records/retention.js';
import { loadQueue } from '../../src/ui/data/queue.js';
import { planRecord } from '../../src/worker/planner.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';
import { Client } from '../support/ui-client.js';

// Monday 2 November: placements that ended this morning have their follow-up conversation due Monday 9 November.
const T0 = '2026-11-02T10:00:00+01:00';
// Tuesday 10 November, 10:00: breached yesterday; the first escalation (to the area office) is due, the second tomorrow.
const T1 = '2026-11-10T10:00:00+01:00';

describe('escalation handling and the work queue (Postgres)', () => {
  let t: TestApp;
  let AREA = '';
  let OTHER = '';
  let INST = '';
  let READER = '';
  const staffIds: Record<string, string> = {};
  const cells: Record<string, string> = {};
  let deadlineId = '';

  const plan = async (id: string): Promise<void> => {
    await planRecord(t.db.database.db, { closureDays: [], now: t.clock.now, settings: await loadWorkerSettings(t.db.database.db) }, 'security_cell_placement', id);
  };
  const followUp = async (recordId: string) => (await t.db.database.db.select().from(deadlines).where(and(eq(deadlines.recordId, recordId), eq(deadlines.ruleId, 'cell.follow-up-conversation'))))[0];
  const escAudit = async (recordId: string) => t.db.database.db.select().from(auditLog).where(and(eq(auditLog.entityId, recordId), like(auditLog.action, '%.escalation_%')));
  const act = (body: unknown, token: string, headers?: Record<string, string>) => t.req('POST', `/api/escalations/${deadlineId}/actions`, { body, token, ...(headers ? { headers } : {}) });

  beforeAll(async () => {
    t = await startTestApp('postgres', T0);
    await seedMasterData(t);
    const tok = await createTokens(t, {
      area: { role: 'area', areaId: 'hovedstaden' },
      otherArea: { role: 'area', areaId: 'nordjylland' },
      institution: { role: 'institution', institutionId: 'vestre' },
      reader: { role: 'reader' },
    });
    [AREA, OTHER, INST, READER] = [tok['area'], tok['otherArea'], tok['institution'], tok['reader']].map((x) => x?.token ?? '') as [string, string, string, string];
    for (const [key, body] of Object.entries({
      vestre: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Vera Vagtleder', email: 'vera@kf.test', title: 'Vagtleder' },
      office: { areaId: 'hovedstaden', name: 'Ole Områdekontor', email: 'ole@kf.test' },
      inactive: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Ida Inaktiv', email: 'ida@kf.test', active: false },
      north: { areaId: 'nordjylland', institutionId: 'aalborg', name: 'Niels Nord', email: 'niels@kf.test' },
    })) {
      const res = await t.req('POST', '/api/staff', { body });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      staffIds[key] = res.json.id;
    }
    for (const j of ['ESC-1', 'BULK-A', 'BULK-B']) {
      // BULK-A and BULK-B are not yet due on the 10th (ended the 4th and the 9th).
      const ended = { 'ESC-1': '2026-11-02T08:00:00+01:00', 'BULK-A': '2026-11-04T08:00:00+01:00', 'BULK-B': '2026-11-09T08:00:00+01:00' }[j];
      const res = await t.req('POST', '/api/security-cell-placements', { token: AREA, body: { institutionId: 'vestre', journalNumber: j, placedAt: '2026-11-01T20:00:00+01:00', endedAt: ended } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      cells[j] = res.json.id;
      await plan(res.json.id);
    }
    t.clock.now = new Date(T1);
    await plan(cells['ESC-1'] as string);
    deadlineId = (await followUp(cells['ESC-1'] as string))?.id as string;
    const esc = await t.db.database.db.select().from(notifications).where(and(eq(notifications.deadlineId, deadlineId), eq(notifications.kind, 'escalation')));
    // The first escalation is due (the worker would have sent it at the breach), the second is still to come.
    expect(esc.some((n) => n.plannedAt <= t.clock.now && n.status === 'scheduled'), JSON.stringify(esc)).toBe(true);
    expect(esc.some((n) => n.plannedAt > t.clock.now && n.status === 'scheduled')).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists the open escalation as unhandled, in scope only', async () => {
    const area = await t.req('GET', '/api/escalations', { token: AREA });
    expect(area.status, JSON.stringify(area.json)).toBe(200);
    expect(area.json.total).toBe(1);
    expect(area.json.items[0]).toMatchObject({ deadlineId, journalNumber: 'ESC-1', rule: 'cell.follow-up-conversation', state: 'unhandled', assignee: null, comments: [] });
    expect(area.json.items[0].escalatedAt).toMatch(/^2026-11-10T/);
    expect((await t.req('GET', '/api/escalations', { token: OTHER })).json.total).toBe(0);
    expect((await t.req('GET', '/api/escalations', { token: READER })).json.total).toBe(1);
    expect((await t.req('GET', `/api/escalations/${deadlineId}`, { token: OTHER })).status).toBe(403);
    expect((await t.req('GET', '/api/escalations?state=bogus', { token: AREA })).status).toBe(400);
    // The OpenAPI document names the new paths.
    const docs = await t.req('GET', '/api/docs', { token: null });
    expect(Object.keys(docs.json.paths)).toEqual(expect.arrayContaining(['/api/escalations', '/api/escalations/{deadlineId}', '/api/escalations/{deadlineId}/actions']));
  });

  it('refuses another area and a reader with 403 and writes nothing', async () => {
    const other = await act({ action: 'acknowledge' }, OTHER);
    expect(other.status, JSON.stringify(other.json)).toBe(403);
    expect(other.json.error.code).toBe('FORBIDDEN');
    expect((await act({ action: 'comment', text: 'Set' }, READER)).status).toBe(403);
    expect(await t.db.database.db.select().from(escalationHandling)).toHaveLength(0);
    expect(await t.db.database.db.select().from(escalationComments)).toHaveLength(0);
    expect(await escAudit(cells['ESC-1'] as string)).toHaveLength(0);
    // A body the schema refuses names the field; unknown ids are 404.
    const bad = await act({ action: 'assign' }, AREA);
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toBe('staffId');
    expect((await t.req('POST', '/api/escalations/00000000-0000-4000-8000-000000000000/actions', { body: { action: 'acknowledge' }, token: AREA })).status).toBe(404);
  });

  it('acknowledges once, with the state in Postgres and an audit entry', async () => {
    const res = await act({ action: 'acknowledge' }, AREA);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.stringMatching(/^token:area:/) });
    const [row] = await t.db.database.db.select().from(escalationHandling).where(eq(escalationHandling.deadlineId, deadlineId));
    expect(row).toMatchObject({ state: 'acknowledged', recordId: cells['ESC-1'], version: 1 });
    const audit = await escAudit(cells['ESC-1'] as string);
    expect(audit.map((a) => a.action)).toEqual(['security_cell_placement.escalation_acknowledged']);
    expect(audit[0]).toMatchObject({ entityType: 'security_cell_placement', before: null, after: { deadlineKey: 'cell.follow-up-conversation', escalationState: 'acknowledged' } });
    const again = await act({ action: 'acknowledge' }, AREA);
    expect(again.status).toBe(409);
    expect(again.json.error.issues[0].path).toBe('action');
    expect((await t.req('GET', '/api/escalations?state=unhandled', { token: AREA })).json.total).toBe(0);
    expect((await t.req('GET', '/api/escalations?state=acknowledged', { token: AREA })).json.total).toBe(1);
  });

  it('assigns only an active staff member of the area in scope', async () => {
    for (const id of [staffIds['north'], staffIds['inactive'], '00000000-0000-4000-8000-000000000000']) {
      const res = await act({ action: 'assign', staffId: id }, AREA);
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.issues[0].path).toBe('staffId');
    }
    // An institution's user may assign its own people, not the area office's.
    expect((await act({ action: 'assign', staffId: staffIds['office'] }, INST)).status).toBe(400);
    const ok = await act({ action: 'assign', staffId: staffIds['vestre'] }, INST);
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json.assignee).toEqual({ id: staffIds['vestre'], name: 'Vera Vagtleder' });
    expect(ok.json.state).toBe('acknowledged');
    expect((await act({ action: 'assign', staffId: staffIds['vestre'] }, AREA)).status).toBe(409);
    const audit = await escAudit(cells['ESC-1'] as string);
    expect(audit.at(-1)).toMatchObject({ action: 'security_cell_placement.escalation_assigned', before: { assigneeId: null }, after: { assigneeId: staffIds['vestre'] } });
  });

  it('keeps comments (once per Idempotency-Key), their text apart in the audit log and masked for readers', async () => {
    const text = 'Ringet til vagtleder; samtalen med 050387-4321 holdes i morgen.';
    const headers = { 'idempotency-key': 'comment-1' };
    const first = await act({ action: 'comment', text }, AREA, headers);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const retry = await act({ action: 'comment', text }, AREA, headers);
    expect(retry.status).toBe(200);
    expect(retry.json.comments).toHaveLength(1);
    expect(first.json.comments[0]).toMatchObject({ text, actor: expect.stringMatching(/^token:area:/) });
    expect((await act({ action: 'comment', text: '   ' }, AREA)).json.error.issues[0].path).toBe('text');
    expect((await act({ action: 'comment', text: 'x'.repeat(2001) }, AREA)).status).toBe(400);
    const reader = await t.req('GET', `/api/escalations/${deadlineId}`, { token: READER });
    expect(reader.json.comments[0].text).not.toContain('050387-4321');
    const entry = (await escAudit(cells['ESC-1'] as string)).find((a) => a.action.endsWith('escalation_commented'));
    expect(JSON.stringify(entry?.after)).not.toContain('050387');
    const personal = await t.db.database.db.select().from(auditPersonal).where(eq(auditPersonal.auditId, entry?.id as number));
    expect(personal.map((p) => p.field)).toEqual(['comment']);
  });

  it('puts it under handling once', async () => {
    const res = await act({ action: 'start' }, AREA);
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ state: 'under_handling', handlingBy: expect.stringMatching(/^token:area:/), assignee: { name: 'Vera Vagtleder' } });
    expect((await act({ action: 'start' }, AREA)).status).toBe(409);
    expect((await t.req('GET', '/api/escalations?state=under_handling', { token: AREA })).json.total).toBe(1);
    const actions = (await escAudit(cells['ESC-1'] as string)).map((a) => a.action.split('.')[1]);
    expect(actions).toEqual(['escalation_acknowledged', 'escalation_assigned', 'escalation_commented', 'escalation_under_handling']);
  });

  it('handles an escalation through the UI form (CSRF, Danish field errors) with the same write path', async () => {
    const ui = new Client(t);
    await ui.login(AREA);
    expect((await ui.post(`/escalations/${deadlineId}`, { action: 'comment', text: 'Fra formularen' }, 'wrong')).status).toBe(403);
    const empty = await ui.post(`/escalations/${deadlineId}`, { action: 'comment', text: '', back: 'detail' });
    expect(empty.status).toBe(400);
    // The field by its Danish label, the service's Danish message as it is (not "Ikke gyldig (…)"), no API path.
    expect(empty.body).toContain('Kommentar: skal udfyldes');
    expect(empty.body).not.toContain('(text)');
    const dup = await ui.post(`/escalations/${deadlineId}`, { action: 'start', back: 'detail' });
    expect(dup.status).toBe(409);
    expect(dup.body).toContain('Rykkeren er allerede under behandling.');
    const ok = await ui.post(`/escalations/${deadlineId}`, { action: 'comment', text: 'Fra formularen', back: 'record' });
    expect(ok.status).toBe(303);
    expect(ok.headers['location']).toBe(`/records/security-cell-placements/${cells['ESC-1']}?done=esc_comment#esc-${deadlineId}`);
    const page = await ui.get(ok.headers['location'] as string);
    expect(page.body).toContain('Kommentaren er tilføjet.');
    expect(page.body).toContain('Fra formularen');
    expect(page.body).toContain('Kommentar til rykker');
    const list = await ui.get('/escalations?state=open');
    expect(list.body).toContain('ESC-1');
    expect(list.body).toContain('Under behandling');
    const reader = new Client(t);
    await reader.login(READER);
    expect((await reader.get(`/escalations/${deadlineId}`)).body).not.toContain('name="action"');
  });

  it('closes when the duty is recorded, and the record page shows the re-plan at once', async () => {
    const ui = new Client(t);
    await ui.login(AREA);
    await ui.get(`/records/security-cell-placements/${cells['ESC-1']}`);
    const res = await ui.post(`/records/security-cell-placements/${cells['ESC-1']}/events`, { form: 'event', type: 'follow_up_held', at: '2026-11-10T09:30' });
    expect(res.status, res.body.slice(0, 500)).toBe(303);
    // Planned in the request: the second escalation is cancelled before the page is shown, not still "Planlagt".
    const waiting = await t.db.database.db.select().from(notifications).where(and(eq(notifications.deadlineId, deadlineId), eq(notifications.status, 'scheduled')));
    expect(waiting).toEqual([]);
    const page = await ui.get(res.headers['location'] as string);
    // The timeline names the stage in words; its id is on the element.
    expect(page.body).toMatch(/data-stage="cell\.follow-up-conversation:escalation-2">[^<]+<\/span>[^<]*<span class="badge badge-n-cancelled">Annulleret/);
    expect(page.body).not.toMatch(/data-stage="cell\.follow-up-conversation:[a-z0-9-]+">[^<]+<\/span>[^<]*<span class="badge badge-n-scheduled">/);
    expect(page.body).not.toContain('id="escalations"');
    expect((await t.req('GET', `/api/escalations/${deadlineId}`, { token: AREA })).status).toBe(409);
    expect((await act({ action: 'comment', text: 'for sent' }, AREA)).status).toBe(409);
    expect((await t.req('GET', '/api/escalations?state=open', { token: AREA })).json.total).toBe(0);
    // The handling stays as history.
    expect((await t.db.database.db.select().from(escalationHandling)).map((r) => r.state)).toEqual(['under_handling']);
  });

  it('registers in bulk all or nothing, naming the refused case, and plans at once', async () => {
    const ui = new Client(t);
    await ui.login(INST);
    const a = (await followUp(cells['BULK-A'] as string))?.id as string;
    const b = (await followUp(cells['BULK-B'] as string))?.id as string;
    const home = await ui.get('/');
    expect(home.body).toContain(`value="${a}"`);
    // An institution's user is offered no area or institution to choose.
    expect(home.body).not.toContain('id="f-area"');
    expect(home.body).not.toContain('id="f-inst"');
    // 5 November: after BULK-A's placement ended, before BULK-B's.
    const refused = await ui.post('/queue/bulk', { deadlineIds: [a, b], at: '2026-11-05T09:00', query: 'status=breached' });
    expect(refused.status, refused.body.slice(0, 300)).toBe(400);
    expect(refused.body).toContain('id="bulk-errors"');
    expect(refused.body).toMatch(/<strong>BULK-B<\/strong> – Opfølgende samtale efter sikringscelle: Opfølgende samtale holdt \(followUpHeldAt\): /);
    expect(refused.body).not.toMatch(/<strong>BULK-A<\/strong>/);
    expect((await followUp(cells['BULK-A'] as string))?.completedAt).toBeNull();
    // A deadline already done is named too, and nothing of the rest is written.
    const done = await ui.post('/queue/bulk', { deadlineIds: [a, deadlineId] });
    expect(done.status).toBe(400);
    expect(done.body).toMatch(/<strong>ESC-1<\/strong>[^<]*: er allerede udført/);
    expect((await followUp(cells['BULK-A'] as string))?.completedAt).toBeNull();
    const ok = await ui.post('/queue/bulk', { deadlineIds: [a, b], at: '2026-11-10T09:45', query: 'status=breached' });
    expect(ok.status, ok.body.slice(0, 300)).toBe(303);
    expect(ok.headers['location']).toBe('/?status=breached&done=bulk&n=2#list');
    for (const j of ['BULK-A', 'BULK-B']) {
      const d = await followUp(cells[j] as string);
      expect(d?.completedAt?.toISOString()).toBe('2026-11-10T08:45:00.000Z');
      const entries = await t.db.database.db.select().from(auditLog).where(and(eq(auditLog.entityId, cells[j] as string), eq(auditLog.action, 'security_cell_placement.event.follow_up_held')));
      expect(entries).toHaveLength(1);
      expect(await t.db.database.db.select().from(notifications).where(and(eq(notifications.deadlineId, d?.id as string), eq(notifications.status, 'scheduled')))).toEqual([]);
    }
    expect((await ui.get('/?done=bulk&n=2')).body).toContain('2 frister er registreret som udført.');
    const reader = new Client(t);
    await reader.login(READER);
    expect((await reader.get('/')).body).not.toContain('id="bulk-form"');
  });

  it('keeps saved filters per actor', async () => {
    const ui = new Client(t);
    await ui.login(AREA);
    await ui.get('/');
    const saved = await ui.post('/queue/filters', { name: 'Overskredne celler', query: 'status=breached&recordType=security_cell_placement&bogus=1&page=3' });
    expect(saved.status).toBe(303);
    expect(saved.headers['location']).toBe('/?recordType=security_cell_placement&status=breached&done=filter-saved');
    expect((await ui.get('/')).body).toContain('href="/?recordType=security_cell_placement&amp;status=breached#list"');
    expect((await ui.post('/queue/filters', { name: '', query: '' })).body).toContain('Navn på filteret: skal udfyldes');
    const other = new Client(t);
    await other.login(OTHER);
    expect((await other.get('/')).body).not.toContain('Overskredne celler');
    const [row] = await t.db.database.db.select().from(savedFilters);
    expect((await other.post(`/queue/filters/${row?.id}/delete`, {})).status).toBe(404);
    expect((await ui.post(`/queue/filters/${row?.id}/delete`, {})).status).toBe(303);
    expect(await t.db.database.db.select().from(savedFilters)).toHaveLength(0);
  });

  it('searches by journal number for everyone and by name or CPR number only for the CPR roles', async () => {
    await t.req('PATCH', `/api/security-cell-placements/${cells['BULK-A']}`, { body: { inmateName: 'Karl Kvist', cpr: '010190-1234' } });
    const ui = new Client(t);
    await ui.login(AREA);
    await ui.get('/');
    const byCpr = await ui.post('/queue/person-search', { person: '010190-1234' });
    expect(byCpr.status).toBe(200);
    expect(byCpr.body).toContain('BULK-A');
    expect(byCpr.body).not.toContain('ESC-1');
    expect((await ui.post('/queue/person-search', { person: 'kvist' })).body).toContain('Karl Kvist');
    const admin = new Client(t);
    await admin.login(READER);
    const home = await admin.get('/?q=ESC');
    expect(home.body).not.toContain('id="person-search"');
    expect((await admin.post('/queue/person-search', { person: 'kvist' })).status).toBe(403);
  });

  it("gives an actor linked to a staff member the plans they own as \"mine\"", async () => {
    const plan = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'HP-OWN-1', clientCategory: 'convicted_from_liberty', admittedAt: '2026-11-02', ownerId: staffIds['vestre'], ownerAssignedAt: '2026-11-02T10:00:00+01:00' } });
    expect(plan.status, JSON.stringify(plan.json)).toBe(201);
    const ctx = { db: t.db.database.db, clock: () => t.clock.now, closureDays: [] };
    const person = { id: 'identity-test', name: 'identity-test', role: 'admin' as const, staffId: staffIds['vestre'] as string };
    const mine = await loadQueue(ctx, person, {}, 'da');
    expect(mine.view).toBe('mine');
    expect(mine.items.length).toBeGreaterThan(0);
    expect(new Set(mine.items.map((i) => i.journalNumber))).toEqual(new Set(['HP-OWN-1']));
    const all = await loadQueue(ctx, person, { view: 'all' }, 'da');
    expect(all.total).toBeGreaterThan(mine.total);
    // Without a link there is no "mine": everything in scope.
    expect((await loadQueue(ctx, { id: 'env-admin', name: 'admin', role: 'admin' }, {}, 'da')).view).toBe('all');
  });

  it('erases the comments with the record at the end of retention', async () => {
    await t.req('POST', `/api/security-cell-placements/${cells['ESC-1']}/events`, { token: AREA, body: { type: 'closed', at: '2026-11-10T09:50:00+01:00' } });
    const res = await anonymiseExpired(t.db.database.db, { now: new Date('2037-01-01T00:00:00Z'), years: 10 });
    expect(res.records.map((r) => r.journalNumber)).toContain('ESC-1');
    const texts = (await t.db.database.db.select().from(escalationComments).where(eq(escalationComments.recordId, cells['ESC-1'] as string))).map((c) => c.text);
    expect(texts.length).toBeGreaterThan(0);
    expect(new Set(texts)).toEqual(new Set(['[anonymiseret]']));
    const entry = (await escAudit(cells['ESC-1'] as string)).find((a) => a.action.endsWith('escalation_commented'));
    expect(await t.db.database.db.select().from(auditPersonal).where(eq(auditPersonal.auditId, entry?.id as number))).toEqual([]);
  });
});
