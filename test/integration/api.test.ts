/**
 * The records API against real Postgres and against PGlite: CRUD and completion events for every
 * record type, deadlines as the engine computes them, idempotency, roles and scopes, refused input
 * that changes nothing, the audit chain, and no CPR number in any log line.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, verifyAudit } from '../../src/db/audit.js';
import { computeDeadlines } from '../../src/domain/index.js';
import { seedMasterData, startTestApp, type TestApp } from '../support/app.js';

const rowsOf = <T,>(res: unknown): T[] => (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as T[];

const CPR = '0503874321';
const CPR_DASHED = '050387-4321';

describe.each(['pglite', 'postgres'] as const)('records API on %s', (driver) => {
  let t: TestApp;
  const tokens: Record<'reader' | 'area' | 'otherArea' | 'institution', string> = { reader: '', area: '', otherArea: '', institution: '' };

  beforeAll(async () => {
    t = await startTestApp(driver);
    await seedMasterData(t);
    for (const [name, body] of Object.entries({
      reader: { role: 'reader' },
      area: { role: 'area', areaId: 'hovedstaden' },
      otherArea: { role: 'area', areaId: 'nordjylland' },
      institution: { role: 'institution', institutionId: 'vestre' },
    })) {
      const res = await t.req('POST', '/api/tokens', { body: { name, ...body } });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      tokens[name as keyof typeof tokens] = res.json.token;
    }
  });
  afterAll(async () => t?.close());

  async function tableCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of ['incidents', 'security_cell_placements', 'force_uses', 'action_plans', 'plan_evaluations', 'plan_transfers', 'deadlines', 'audit_log', 'idempotency_keys', 'areas', 'institutions', 'staff', 'api_tokens', 'settings']) {
      const res = await t.db.database.db.execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
      const rows = (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>;
      out[table] = rows[0]?.n ?? -1;
    }
    return out;
  }

  /** What the CLI contract computes for the same record: the API must agree with the engine. */
  function engineDeadlines(view: Record<string, unknown>): unknown[] {
    const fields = ['kind', 'occurredAt', 'mediaAttention', 'preliminaryNoticeSentAt', 'finalReportSubmittedAt', 'delayNotifiedAt', 'finalReportExpectedAt', 'inmateConversationHeldAt', 'closingLetterSentAt'];
    const record: Record<string, unknown> = { type: 'incident' };
    for (const f of fields) if (view[f] !== null) record[f] = view[f];
    return computeDeadlines(record, { now: t.clock.now }).deadlines.map((d) => [d.rule, d.key, d.dueDate, d.status]);
  }
  async function rejection(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (err) {
      const texts: string[] = [];
      for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) texts.push(String((e as Error).message));
      return texts.join(' / ');
    }
    return 'resolved';
  }

  it('creates, reads, updates and completes an incident; deadlines match the engine', async () => {
    const created = await t.req('POST', '/api/incidents', { token: tokens.area, body: { institutionId: 'vestre', journalNumber: 'SM-2026-001', kind: 'death', occurredAt: '2026-03-27T14:00:00+01:00', inmateName: 'Demo Person', cpr: CPR_DASHED, description: 'Fundet livløs i cellen' } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect(created.headers['location']).toBe(`/api/incidents/${created.json.id}`);
    const id = created.json.id as string;
    expect(created.json.deadlines.map((d: { rule: string; dueDate: string }) => [d.rule, d.dueDate])).toEqual([
      ['incident.preliminary-notice', '2026-04-01'],
      ['incident.final-report', '2026-04-24'],
    ]);
    expect(created.json.cpr).toBe(CPR_DASHED); // area role files the legal notice: sees CPR

    const noticed = await t.req('POST', `/api/incidents/${id}/events`, { token: tokens.institution, body: { type: 'preliminary_notice_sent', at: '2026-03-31T10:00:00+02:00' } });
    expect(noticed.status, JSON.stringify(noticed.json)).toBe(200);
    expect(noticed.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice').status).toBe('met');

    const delayed = await t.req('POST', `/api/incidents/${id}/events`, { body: { type: 'delay_notified', at: '2026-04-20T09:00:00+02:00', expectedDate: '2026-12-01', reason: 'Afventer obduktionsrapport' } });
    const final = delayed.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.final-report');
    expect(final).toMatchObject({ dueDate: '2026-12-01', originalDueDate: '2026-04-24', status: 'open' });

    const patched = await t.req('PATCH', `/api/incidents/${id}`, { body: { description: 'Rettet beskrivelse', version: delayed.json.version } });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);
    expect(patched.json.description).toBe('Rettet beskrivelse');
    const stale = await t.req('PATCH', `/api/incidents/${id}`, { body: { description: 'x', version: 1 } });
    expect(stale.status).toBe(409);

    const read = await t.req('GET', `/api/incidents/${id}?lang=en`, { token: tokens.reader });
    expect(read.status).toBe(200);
    expect(read.json.cpr).toBe('XXXXXX-XXXX');
    expect(read.json.deadlines[0].title).toBe('Preliminary notice');
    expect(read.json.deadlines.map((d: { rule: string; key: string; dueDate: string; status: string }) => [d.rule, d.key, d.dueDate, d.status])).toEqual(engineDeadlines(read.json));
  });

  it('reclassifies an incident between chapters 4 and 5', async () => {
    const c = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-2026-002', kind: 'other_self_harm_behaviour', occurredAt: '2026-11-02' } });
    // Chapter 5: no reporting duty, only the § 20 closing (policy); an open deadline is dropped by the reclassification.
    expect(c.json.deadlines.map((d: { rule: string }) => d.rule)).toEqual(['incident.chapter5-closing']);
    const r = await t.req('POST', `/api/incidents/${c.json.id}/events`, { body: { type: 'reclassified', kind: 'qualified_self_harm', reason: 'Livsfare vurderet', at: '2026-11-22T10:00:00+01:00' } });
    expect(r.json.deadlines.map((d: { rule: string; status: string }) => [d.rule, d.status])).toEqual([
      ['incident.preliminary-notice', 'breached'],
      ['incident.final-report', 'open'],
      ['incident.inmate-conversation', 'breached'],
    ]);
    const bad = await t.req('POST', `/api/incidents/${c.json.id}/events`, { body: { type: 'reclassified', kind: 'death', reason: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues[0].path).toBe('kind');
  });

  it('handles security-cell placements, uses of force and action plans with their events', async () => {
    const cell = await t.req('POST', '/api/security-cell-placements', { body: { institutionId: 'vestre', journalNumber: 'SC-1', placedAt: '2026-11-10T22:00:00+01:00' } });
    expect(cell.status, JSON.stringify(cell.json)).toBe(201);
    expect(cell.json.deadlines).toEqual([]);
    const ended = await t.req('POST', `/api/security-cell-placements/${cell.json.id}/events`, { body: { type: 'ended', at: '2026-11-11T08:00:00+01:00' } });
    expect(ended.json.deadlines[0]).toMatchObject({ rule: 'cell.follow-up-conversation', dueDate: '2026-11-18', status: 'breached' });
    // Decided on the due day (the event's time): it suspends the clock; one decided after the due day would not.
    const postponed = await t.req('POST', `/api/security-cell-placements/${cell.json.id}/events`, { body: { type: 'follow_up_postponed', reason: 'Indlagt på psykiatrisk afdeling', at: '2026-11-18T15:00:00+01:00' } });
    expect(postponed.json.deadlines[0]).toMatchObject({ status: 'open', suspended: true });
    expect(postponed.json.followUpPostponedAt).toBe('2026-11-18T15:00:00.000+01:00');
    const held = await t.req('POST', `/api/security-cell-placements/${cell.json.id}/events`, { body: { type: 'follow_up_held', at: '2026-11-20T10:00:00+01:00' } });
    expect(held.json.deadlines[0].status).toBe('met');

    const force = await t.req('POST', '/api/force-uses', { body: { institutionId: 'aalborg', journalNumber: 'MA-1', occurredAt: '2026-11-19T15:00:00+01:00' } });
    expect(force.status).toBe(201);
    const filed = await t.req('POST', `/api/force-uses/${force.json.id}/events`, { body: { type: 'report_filed', at: '2026-11-20T09:00:00+01:00' } });
    expect(filed.json.deadlines.map((d: { rule: string; dueDate: string; status: string }) => [d.rule, d.dueDate, d.status])).toEqual([
      ['force.report', '2026-11-20', 'met'],
      ['force.complaint-window', '2027-01-19', 'open'],
    ]);

    const staff = await t.req('POST', '/api/staff', { token: tokens.area, body: { areaId: 'hovedstaden', institutionId: 'vestre', name: 'Plan Ejer', email: 'plan.ejer@kriminalforsorgen.test' } });
    expect(staff.status, JSON.stringify(staff.json)).toBe(201);
    const plan = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'HP-1', clientCategory: 'convicted_from_liberty', admittedAt: '2026-09-01', possibleParoleDate: '2027-03-01', expectedReleaseDate: '2027-06-01', evaluations: [] } });
    expect(plan.status, JSON.stringify(plan.json)).toBe(201);
    const pid = plan.json.id as string;
    for (const body of [
      { type: 'owner_assigned', ownerId: staff.json.id, at: '2026-09-01T10:00:00+02:00' },
      { type: 'created', at: '2026-09-08' },
      { type: 'elaborated', at: '2026-09-25' },
      { type: 'evaluated', at: '2026-11-20' },
      { type: 'transferred', at: '2026-11-21', toInstitutionId: 'aalborg' },
      { type: 'parole_decided', at: '2026-11-21', outcome: 'refused' },
      { type: 'municipality_contacted', at: '2026-09-20' }, // < 1 year to parole at the start: due 4 weeks after, 29.09
    ]) {
      const res = await t.req('POST', `/api/action-plans/${pid}/events`, { body });
      expect(res.status, `${body.type}: ${JSON.stringify(res.json)}`).toBe(200);
    }
    const after = await t.req('GET', `/api/action-plans/${pid}`);
    expect(after.json.institutionId).toBe('aalborg');
    expect(after.json.areaId).toBe('nordjylland');
    const rules = after.json.deadlines.map((d: { key: string; status: string }) => [d.key, d.status]);
    expect(rules).toEqual(expect.arrayContaining([['plan.create', 'met'], ['plan.elaborate', 'met'], ['plan.evaluate#1', 'met'], ['plan.evaluate#2', 'open'], ['plan.transfer-update#1', 'open'], ['plan.parole-update#1', 'open'], ['plan.municipality-coordination', 'met']]));
    const transferId = after.json.transfers[0].id as string;
    const updated = await t.req('POST', `/api/action-plans/${pid}/events`, { token: tokens.otherArea, body: { type: 'transfer_plan_updated', transferId, at: '2026-11-22T09:00:00+01:00' } });
    expect(updated.status, JSON.stringify(updated.json)).toBe(200);
    expect(updated.json.deadlines.find((d: { key: string }) => d.key === 'plan.transfer-update#1').status).toBe('met');
  });

  it('lists deadlines with filters and pagination', async () => {
    const breached = await t.req('GET', '/api/deadlines?status=breached&limit=2');
    expect(breached.status).toBe(200);
    expect(breached.json.items.length).toBeLessThanOrEqual(2);
    expect(breached.json.total).toBeGreaterThanOrEqual(2);
    expect(breached.json.items.every((d: { status: string }) => d.status === 'breached')).toBe(true);
    const page2 = await t.req('GET', '/api/deadlines?status=breached&limit=2&offset=2');
    expect(page2.json.items.map((d: { id: string }) => d.id)).not.toEqual(breached.json.items.map((d: { id: string }) => d.id));
    const byRule = await t.req('GET', '/api/deadlines?rule=incident.preliminary-notice&area=hovedstaden&dueAfter=2026-01-01&dueBefore=2026-12-31');
    expect(byRule.json.items.every((d: { rule: string; areaId: string }) => d.rule === 'incident.preliminary-notice' && d.areaId === 'hovedstaden')).toBe(true);
    // Status is judged at query time: moving the clock makes an open deadline breached.
    const open = await t.req('GET', '/api/deadlines?status=open&rule=force.complaint-window');
    expect(open.json.total).toBe(1);
    t.clock.now = new Date('2027-02-01T12:00:00+01:00');
    const later = await t.req('GET', '/api/deadlines?rule=force.complaint-window');
    expect(later.json.items[0].status).toBe('met');
    t.clock.now = new Date('2026-11-22T12:00:00+01:00');
    const bad = await t.req('GET', '/api/deadlines?status=late&rule=nope');
    expect(bad.status).toBe(400);
    expect(bad.json.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['rule', 'status']);
  });

  it('idempotency keys return the first result instead of a duplicate', async () => {
    const body = { institutionId: 'vestre', journalNumber: 'MA-IDEM', occurredAt: '2026-11-20' };
    const first = await t.req('POST', '/api/force-uses', { body, headers: { 'idempotency-key': 'k-1' } });
    const again = await t.req('POST', '/api/force-uses', { body, headers: { 'idempotency-key': 'k-1' } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json.id).toBe(first.json.id);
    const other = await t.req('POST', '/api/force-uses', { body: { ...body, journalNumber: 'MA-IDEM-2' }, headers: { 'idempotency-key': 'k-1' } });
    expect(other.status).toBe(422);
    const list = await t.req('GET', '/api/force-uses?limit=500');
    expect(list.json.items.filter((r: { journalNumber: string }) => r.journalNumber.startsWith('MA-IDEM'))).toHaveLength(1);
    // Without a key, a retried POST is a conflict on the journal number, never a duplicate.
    const dup = await t.req('POST', '/api/force-uses', { body });
    expect(dup.status).toBe(409);
    expect(dup.json.error.issues[0].path).toBe('journalNumber');
  });

  it('idempotency keys hold for concurrent retries and for a retried update with a version', async () => {
    const body = { institutionId: 'vestre', journalNumber: 'MA-IDEM-C', occurredAt: '2026-03-30T10:00:00+02:00' };
    const burst = await Promise.all([1, 2, 3, 4].map(() => t.req('POST', '/api/force-uses', { body, headers: { 'idempotency-key': 'k-burst' } })));
    expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(burst.map((r) => r.json.id as string)).size).toBe(1);
    const id = burst[0]!.json.id as string;
    // A PATCH with an optimistic version, retried after the first attempt bumped the version.
    const version = (await t.req('GET', `/api/force-uses/${id}`)).json.version as number;
    const patch = { version, description: 'Fastholdt under visitation' };
    const first = await t.req('PATCH', `/api/force-uses/${id}`, { body: patch, headers: { 'idempotency-key': 'k-patch' } });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const retried = await t.req('PATCH', `/api/force-uses/${id}`, { body: patch, headers: { 'idempotency-key': 'k-patch' } });
    expect(retried.status, JSON.stringify(retried.json)).toBe(200);
    expect(retried.headers['idempotent-replayed']).toBe('true');
    const stale = await t.req('PATCH', `/api/force-uses/${id}`, { body: patch });
    expect(stale.status).toBe(409);
  });

  it('enforces authentication, roles and scopes', async () => {
    const any = await t.req('GET', '/api/incidents?limit=1');
    const id = any.json.items[0].id as string;
    expect((await t.req('GET', '/api/incidents', { token: null })).status).toBe(401);
    expect((await t.req('GET', '/api/incidents', { token: 'fv_not-a-real-token' })).status).toBe(401);
    expect((await t.req('GET', '/api/deadlines', { token: null })).status).toBe(401);
    expect((await t.req('GET', '/api/docs', { token: null })).status).toBe(200);
    // reader: reads everything, writes nothing, sees no CPR
    expect((await t.req('GET', `/api/incidents/${id}`, { token: tokens.reader })).status).toBe(200);
    expect((await t.req('POST', '/api/force-uses', { token: tokens.reader, body: { institutionId: 'vestre', journalNumber: 'R-1', occurredAt: '2026-11-20' } })).status).toBe(403);
    expect((await t.req('POST', `/api/incidents/${id}/events`, { token: tokens.reader, body: { type: 'closing_letter_sent' } })).status).toBe(403);
    // area: only its own area
    expect((await t.req('GET', `/api/incidents/${id}`, { token: tokens.otherArea })).status).toBe(403);
    expect((await t.req('POST', '/api/force-uses', { token: tokens.otherArea, body: { institutionId: 'vestre', journalNumber: 'R-2', occurredAt: '2026-11-20' } })).status).toBe(403);
    const otherList = await t.req('GET', '/api/incidents', { token: tokens.otherArea });
    expect(otherList.json.items).toEqual([]);
    const otherDeadlines = await t.req('GET', '/api/deadlines?limit=500', { token: tokens.otherArea });
    expect(otherDeadlines.json.items.every((d: { areaId: string }) => d.areaId === 'nordjylland')).toBe(true);
    // institution: only its own institution; master data and settings are admin's
    expect((await t.req('POST', '/api/force-uses', { token: tokens.institution, body: { institutionId: 'aalborg', journalNumber: 'R-3', occurredAt: '2026-11-20' } })).status).toBe(403);
    expect((await t.req('POST', '/api/areas', { token: tokens.area, body: { id: 'x', name: 'x', officeEmail: 'a@b.dk', directorName: 'x', directorEmail: 'a@b.dk' } })).status).toBe(403);
    expect((await t.req('PUT', '/api/settings/closureDays', { token: tokens.area, body: { value: ['06-05'] } })).status).toBe(403);
    expect((await t.req('POST', '/api/tokens', { token: tokens.area, body: { role: 'admin' } })).status).toBe(403);
  });

  it('refuses bad input with field-naming errors and changes nothing', async () => {
    const before = await tableCounts();
    const incidentId = (await t.req('GET', '/api/incidents?limit=1')).json.items[0].id as string;
    const cases: Array<[string, string, unknown, string, number?]> = [
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'fall', occurredAt: '2026-11-01' }, 'kind'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-02-30' }, 'occurredAt'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2027-01-01' }, 'occurredAt'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-11-01', cpr: '3102901234' }, 'cpr'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-11-01', cpr: '12345' }, 'cpr'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-11-01', colour: 'red' }, 'colour'],
      ['POST', '/api/incidents', { institutionId: 'nowhere', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-11-01' }, 'institutionId'],
      ['POST', '/api/incidents', { institutionId: 'vestre', journalNumber: 'B-1', kind: 'death', occurredAt: '2026-11-01', preliminaryNoticeSentAt: '2026-10-01' }, 'preliminaryNoticeSentAt'],
      ['POST', '/api/security-cell-placements', { institutionId: 'vestre', journalNumber: 'B-2', placedAt: '2026-11-10', endedAt: '2026-11-09' }, 'endedAt'],
      ['POST', '/api/action-plans', { institutionId: 'vestre', journalNumber: 'B-3', clientCategory: 'supervision' }, 'supervisionEstablishedAt'],
      ['POST', '/api/action-plans', { institutionId: 'vestre', journalNumber: 'B-3', clientCategory: 'remand', admittedAt: '2026-11-01', planCreatedAt: '2026-11-05', evaluations: ['2026-11-10', '2026-11-03'] }, 'evaluations[1]'],
      ['POST', '/api/staff', { areaId: 'hovedstaden', name: 'X', email: 'not-an-email' }, 'email'],
      ['POST', `/api/incidents/${incidentId}/events`, { type: 'inmate_conversation_held', at: '2020-01-01' }, 'inmateConversationHeldAt'],
      ['POST', `/api/incidents/${incidentId}/events`, { type: 'teleported' }, 'type'],
      ['PATCH', `/api/incidents/${incidentId}`, { occurredAt: 'yesterday' }, 'occurredAt'],
      ['PUT', '/api/settings/closureDays', { value: ['06-05', '13-45'] }, 'value'],
      ['PUT', '/api/settings/policy', { value: { 'force.report': { minutes: 3 } } }, 'value.force.report.minutes'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await t.req(method, url, { body });
      expect(res.status, `${method} ${url} ${JSON.stringify(body)} → ${JSON.stringify(res.json)}`).toBe(400);
      expect(res.json.error.code).toBe('VALIDATION');
      expect(res.json.error.issues.map((i: { path: string }) => i.path), JSON.stringify(res.json)).toContain(field);
      expect(JSON.stringify(res.json)).not.toMatch(/3102901234/);
    }
    const huge = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'B-9', kind: 'death', occurredAt: '2026-11-01', description: 'x'.repeat(70 * 1024) } });
    expect(huge.status).toBe(413);
    const notJson = await t.app.inject({ method: 'POST', url: '/api/incidents', headers: { authorization: `Bearer ${'test-admin-token-0123456789abcdef'}`, 'content-type': 'application/json' }, payload: '{"kind":' });
    expect(notJson.statusCode).toBe(400);
    expect(await tableCounts()).toEqual(before);
  });

  it('settings changes are validated, audited and move deadlines', async () => {
    const c = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'HP-CLOSURE', clientCategory: 'remand', admittedAt: '2025-05-26' } });
    expect(c.json.deadlines.find((d: { rule: string }) => d.rule === 'plan.create').dueDate).toBe('2025-06-05');
    const s = await t.req('PUT', '/api/settings/closureDays', { body: { value: ['06-05'] } });
    expect(s.status, JSON.stringify(s.json)).toBe(200);
    const r = await t.req('GET', `/api/action-plans/${c.json.id}`);
    expect(r.json.deadlines.find((d: { rule: string }) => d.rule === 'plan.create').dueDate).toBe('2025-06-06');
    await t.req('PUT', '/api/settings/closureDays', { body: { value: [] } });
  });

  it('keeps a hash-chained, append-only audit log that detects tampering', async () => {
    // Text that looks like JSON stays text in the audit's personal values (the driver parses bare jsonb strings).
    const looksLikeJson = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'SM-JSON-1', kind: 'other_self_harm_behaviour', occurredAt: '2026-03-27T14:00:00+01:00', description: '42' } });
    expect(looksLikeJson.status, JSON.stringify(looksLikeJson.json)).toBe(201);
    const [entry] = await readAudit(t.db.database.db, sql`entity_id = ${looksLikeJson.json.id as string}`);
    expect(entry?.after).toMatchObject({ description: '42' });
    const ok = await verifyAudit(t.db.database.db);
    expect(ok.ok).toBe(true);
    expect(ok.checked).toBeGreaterThan(10);
    expect(await rejection(t.db.database.db.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`))).toMatch(/append-only/);
    expect(await rejection(t.db.database.db.execute(sql`DELETE FROM audit_log WHERE id = 3`))).toMatch(/append-only/);
    expect(await rejection(t.db.database.db.execute(sql`TRUNCATE audit_log CASCADE`))).toMatch(/append-only/);
    expect(await verifyAudit(t.db.database.db)).toMatchObject({ ok: true, checked: ok.checked });
    // No CPR in the audit trail: it stores the masked view.
    const rows = await t.db.database.db.execute(sql`SELECT after::text AS a FROM audit_log UNION ALL SELECT after::text FROM audit_personal`);
    const texts = ((Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as Array<{ a: string | null }>).map((r) => r.a ?? '');
    expect(texts.join('\n')).not.toContain(CPR);
    // Personal values live beside the chain, which holds their salted digests: erasable, not rewritable.
    const [personal] = rowsOf<{ audit_id: string; field: string }>(await t.db.database.db.execute(sql`SELECT audit_id, field FROM audit_personal WHERE field = 'inmateName' AND after IS NOT NULL ORDER BY audit_id LIMIT 1`));
    expect(personal).toBeDefined();
    expect(await rejection(t.db.database.db.execute(sql`UPDATE audit_personal SET after = '"Mallory"'::jsonb WHERE audit_id = ${personal?.audit_id} AND field = 'inmateName'`))).toMatch(/erased, not changed/);
    await t.db.database.db.execute(sql`ALTER TABLE audit_personal DISABLE TRIGGER audit_personal_no_update`);
    await t.db.database.db.execute(sql`UPDATE audit_personal SET after = '"Mallory"'::jsonb WHERE audit_id = ${personal?.audit_id} AND field = 'inmateName'`);
    await t.db.database.db.execute(sql`ALTER TABLE audit_personal ENABLE TRIGGER audit_personal_no_update`);
    expect(await verifyAudit(t.db.database.db)).toMatchObject({ ok: false, brokenAt: { id: Number(personal?.audit_id) } });
    await t.db.database.db.execute(sql`DELETE FROM audit_personal WHERE audit_id = ${personal?.audit_id} AND field = 'inmateName'`);
    expect(await verifyAudit(t.db.database.db)).toMatchObject({ ok: true });
    // A superuser who disables the trigger can still change a row — and the chain shows it.
    await t.db.database.db.execute(sql`ALTER TABLE audit_log DISABLE TRIGGER audit_no_update`);
    await t.db.database.db.execute(sql`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`);
    await t.db.database.db.execute(sql`ALTER TABLE audit_log ENABLE TRIGGER audit_no_update`);
    const broken = await verifyAudit(t.db.database.db);
    expect(broken).toMatchObject({ ok: false, brokenAt: { id: 3 } });
  });

  it('publishes every record change on the change feed, also for direct SQL writes', async () => {
    const got: string[] = [];
    const stop = await t.db.database.listen('fristvagt_changes', (p) => got.push(p));
    const waitFor = async (pred: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error('no notification');
        await new Promise((r) => setImmediate(r));
      }
    };
    const res = await t.req('POST', '/api/force-uses', { body: { institutionId: 'vestre', journalNumber: 'FEED-1', occurredAt: '2026-11-21' } });
    await waitFor(() => got.some((p) => p.includes(res.json.id)));
    // An integration writing straight into the table is seen too, with a higher watermark.
    await t.db.database.db.execute(sql`INSERT INTO force_uses (institution_id, journal_number, occurred_at) VALUES ('vestre', 'FEED-2', now())`);
    await waitFor(() => got.length >= 2);
    const payloads = got.map((p) => JSON.parse(p) as { type: string; id: string; seq: number });
    expect(payloads.every((p) => p.type === 'force_use')).toBe(true);
    expect(payloads[payloads.length - 1]!.seq).toBeGreaterThan(payloads[0]!.seq);
    // The feed carries ids only: nothing a listener could leak (no CPR, no name).
    expect(payloads.every((p) => Object.keys(p).sort().join(',') === 'id,seq,type')).toBe(true);
    expect(got.join('')).not.toContain(CPR);
    await stop();
  });

  it('never writes a CPR number or an inmate name to the logs', () => {
    const all = t.logs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain(CPR);
    expect(all).not.toContain(CPR_DASHED);
    expect(all).not.toContain('Demo Person');
  });
});
