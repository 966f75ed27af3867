/**
 * Undoing and correcting a recorded event (src/records/corrections.ts through the service and the
 * API): a reason is required, the audit entry keeps the record before and after with the reason
 * and the event it corrects, the deadlines are stored again and the planner re-plans the mails in
 * the same way as after any write, and the same role and scope checks apply. A refused request
 * writes nothing.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, verifyAudit } from '../../src/db/audit.js';
import { auditLog, deadlines, notifications } from '../../src/db/schema.js';
import { planRecord } from '../../src/worker/planner.js';
import { loadWorkerSettings } from '../../src/worker/settings.js';
import { createTokens, seedMasterData, startTestApp, type TestApp } from '../support/app.js';

describe('undo and correction of recorded events (Postgres)', () => {
  let t: TestApp;
  let tokens: Record<string, { id: string; token: string }>;

  beforeAll(async () => {
    t = await startTestApp('postgres', '2026-11-20T12:00:00+01:00');
    await seedMasterData(t);
    tokens = await createTokens(t, {
      reader: { role: 'reader' },
      vestre: { role: 'institution', institutionId: 'vestre' },
      aalborg: { role: 'institution', institutionId: 'aalborg' },
      otherArea: { role: 'area', areaId: 'nordjylland' },
    });
  });
  afterAll(async () => t?.close());

  const db = () => t.db.database.db;
  async function count(table: string): Promise<number> {
    const res = await db().execute(sql.raw(`SELECT count(*)::int AS n FROM ${table}`));
    return ((Array.isArray(res) ? res : (res as { rows: unknown[] }).rows) as Array<{ n: number }>)[0]?.n ?? -1;
  }
  async function counts(): Promise<number[]> {
    return Promise.all(['audit_log', 'audit_personal', 'deadlines', 'idempotency_keys', 'incident_delay_notices', 'plan_transfers'].map(count));
  }
  const token = (name: string): string => tokens[name]?.token as string;

  it('corrects a mistaken time with a reason, audited before/after, and undoes the event; the deadline and its mails follow at once', async () => {
    const created = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'KORR-1', kind: 'qualified_self_harm', occurredAt: '2026-11-18T08:00:00+01:00' } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    const url = `/api/incidents/${id}`;
    // Wrongly registered: the notice was sent on the 18th, not the 19th (due on the 23rd: three working days).
    expect((await t.req('POST', `${url}/events`, { body: { type: 'preliminary_notice_sent', at: '2026-11-19T10:00:00+01:00' }, token: token('vestre') })).status).toBe(200);
    const listed = await t.req('GET', `${url}/events`, { token: token('vestre') });
    expect(listed.status).toBe(200);
    expect(listed.json.items).toHaveLength(1);
    const ev = listed.json.items[0];
    expect(ev).toMatchObject({ type: 'preliminary_notice_sent', status: 'recorded', at: '2026-11-19T10:00:00.000+01:00', changeable: true, values: { at: '2026-11-19T10:00:00.000+01:00' } });
    expect(ev.changes).toEqual([{ field: 'preliminaryNoticeSentAt', before: null, after: '2026-11-19T10:00:00.000+01:00' }]);

    // No reason, an empty one, a future time, another type: refused, nothing written.
    const before = await counts();
    for (const [path, body] of [
      ['reason', { event: { type: 'preliminary_notice_sent', at: '2026-11-18T15:00:00+01:00' } }],
      ['reason', { reason: '   ', event: { type: 'preliminary_notice_sent', at: '2026-11-18T15:00:00+01:00' } }],
      ['event.at', { reason: 'Forkert dato', event: { type: 'preliminary_notice_sent', at: '2026-11-21T09:00:00+01:00' } }],
      ['event.type', { reason: 'Forkert handling', event: { type: 'closed', at: '2026-11-18T15:00:00+01:00' } }],
    ] as const) {
      const res = await t.req('POST', `${url}/events/${ev.id}/correct`, { body, token: token('vestre') });
      expect(res.status, JSON.stringify(res.json)).toBe(400);
      expect(res.json.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await t.req('POST', `${url}/events/${ev.id}/undo`, { body: {}, token: token('vestre') })).json.error.issues[0].path).toBe('reason');
    // Not this record's event, or no event at all: 404.
    expect((await t.req('POST', `${url}/events/999999/undo`, { body: { reason: 'x' }, token: token('vestre') })).status).toBe(404);
    expect((await t.req('POST', `${url}/events/abc/undo`, { body: { reason: 'x' }, token: token('vestre') })).status).toBe(404);
    expect(await counts()).toEqual(before);

    // Scope: a reader, another institution and another area are refused (403), as for any write.
    for (const who of ['reader', 'aalborg', 'otherArea']) {
      const res = await t.req('POST', `${url}/events/${ev.id}/correct`, { body: { reason: 'Forkert dato', event: { type: 'preliminary_notice_sent', at: '2026-11-18T15:00:00+01:00' } }, token: token(who) });
      expect(res.status, who).toBe(403);
      expect((await t.req('POST', `${url}/events/${ev.id}/undo`, { body: { reason: 'Fejl' }, token: token(who) })).status, who).toBe(403);
    }
    expect((await t.req('GET', `${url}/events`, { token: token('aalborg') })).status).toBe(403);
    expect(await counts()).toEqual(before);

    const corrected = await t.req('POST', `${url}/events/${ev.id}/correct`, { body: { reason: 'Tastefejl: sendt den 18.', event: { type: 'preliminary_notice_sent', at: '2026-11-18T15:00:00+01:00' } }, token: token('vestre'), headers: { 'idempotency-key': 'korr-1' } });
    expect(corrected.status, JSON.stringify(corrected.json)).toBe(200);
    expect(corrected.json.preliminaryNoticeSentAt).toBe('2026-11-18T15:00:00.000+01:00');
    expect(corrected.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.preliminary-notice')).toMatchObject({ completedAt: '2026-11-18T15:00:00.000+01:00' });
    // A retry with the same key is the first answer, not a second correction.
    const retry = await t.req('POST', `${url}/events/${ev.id}/correct`, { body: { reason: 'Tastefejl: sendt den 18.', event: { type: 'preliminary_notice_sent', at: '2026-11-18T15:00:00+01:00' } }, token: token('vestre'), headers: { 'idempotency-key': 'korr-1' } });
    expect(retry.headers['idempotent-replayed']).toBe('true');

    // The audit entry: before/after of the record, the reason (kept apart as personal data) and the event it corrects.
    const entries = await readAudit(db(), and(eq(auditLog.entityType, 'incident'), eq(auditLog.entityId, id)));
    const last = entries.at(-1) as (typeof entries)[number];
    expect(entries.filter((e) => e.action.endsWith('.correct'))).toHaveLength(1);
    expect(last.action).toBe('incident.event.preliminary_notice_sent.correct');
    expect(last.actor).toMatch(/vestre/);
    expect((last.before as Record<string, unknown>)['preliminaryNoticeSentAt']).toBe('2026-11-19T10:00:00.000+01:00');
    expect(last.after).toMatchObject({ preliminaryNoticeSentAt: '2026-11-18T15:00:00.000+01:00', correctionOf: ev.id, correctionReason: 'Tastefejl: sendt den 18.' });
    const [raw] = await db().select().from(auditLog).where(eq(auditLog.id, last.id));
    expect(JSON.stringify(raw?.after)).not.toContain('Tastefejl');
    // The stored deadline is the re-planned one, in the same transaction.
    const stored = async () => (await db().select().from(deadlines).where(and(eq(deadlines.recordId, id), eq(deadlines.ruleId, 'incident.preliminary-notice'))))[0];
    expect((await stored())?.completedAt?.toISOString()).toBe('2026-11-18T14:00:00.000Z');

    const after = await t.req('GET', `${url}/events`, { token: token('vestre') });
    expect(after.json.items[0]).toMatchObject({ status: 'corrected', at: '2026-11-18T15:00:00.000+01:00' });
    expect(after.json.items[0].history.map((h: { mode: string; reason: string | null }) => [h.mode, h.reason])).toEqual([['record', null], ['correct', 'Tastefejl: sendt den 18.']]);

    // Undo: the notice is not sent after all. The deadline is open again and the planner plans its reminders again.
    const settings = await loadWorkerSettings(db());
    await planRecord(db(), { closureDays: [], now: t.clock.now, settings }, 'incident', id);
    const planned = async () => (await db().select().from(notifications).where(and(eq(notifications.recordId, id), eq(notifications.status, 'scheduled')))).filter((n) => n.stage.startsWith('incident.preliminary-notice:'));
    expect(await planned()).toEqual([]);
    const undone = await t.req('POST', `${url}/events/${ev.id}/undo`, { body: { reason: 'Underretningen blev ikke sendt' }, token: token('vestre') });
    expect(undone.status, JSON.stringify(undone.json)).toBe(200);
    expect(undone.json.preliminaryNoticeSentAt).toBeNull();
    expect((await stored())?.completedAt).toBeNull();
    expect((await stored())?.status).toBe('open');
    await planRecord(db(), { closureDays: [], now: t.clock.now, settings }, 'incident', id);
    expect((await planned()).length).toBeGreaterThan(0);
    const undoEntry = (await readAudit(db(), and(eq(auditLog.entityType, 'incident'), eq(auditLog.entityId, id)))).at(-1);
    expect(undoEntry).toMatchObject({ action: 'incident.event.preliminary_notice_sent.undo', after: { preliminaryNoticeSentAt: null, correctionOf: ev.id, correctionReason: 'Underretningen blev ikke sendt' } });
    expect((undoEntry?.before as Record<string, unknown>)['preliminaryNoticeSentAt']).toBe('2026-11-18T15:00:00.000+01:00');
    // Undone is undone: a second undo or a correction is a 409.
    expect((await t.req('POST', `${url}/events/${ev.id}/undo`, { body: { reason: 'igen' }, token: token('vestre') })).status).toBe(409);
    expect((await t.req('GET', `${url}/events`, { token: token('vestre') })).json.items[0]).toMatchObject({ status: 'undone', changeable: false });
    expect((await verifyAudit(db())).ok).toBe(true);
  });

  it('corrects a delay notice and undoes a transfer; refuses an undo once the field was changed since', async () => {
    const inc = await t.req('POST', '/api/incidents', { body: { institutionId: 'vestre', journalNumber: 'KORR-2', kind: 'qualified_self_harm', occurredAt: '2026-11-02T08:00:00+01:00' } });
    const url = `/api/incidents/${inc.json.id}`;
    await t.req('POST', `${url}/events`, { body: { type: 'delay_notified', at: '2026-11-18T10:00:00+01:00', expectedDate: '2026-12-20', reason: 'Afventer obduktion' } });
    const [delay] = (await t.req('GET', `${url}/events`)).json.items;
    expect(delay.values).toMatchObject({ expectedDate: '2026-12-20', reason: 'Afventer obduktion', at: '2026-11-18T10:00:00.000+01:00' });
    const fixed = await t.req('POST', `${url}/events/${delay.id}/correct`, { body: { reason: 'Forkert forventet dato', event: { type: 'delay_notified', at: '2026-11-18T10:00:00+01:00', expectedDate: '2027-01-10', reason: 'Afventer obduktion' } } });
    expect(fixed.status, JSON.stringify(fixed.json)).toBe(200);
    expect(fixed.json.delayNotices.map((n: { expectedDate: string }) => n.expectedDate)).toEqual(['2027-01-10']);
    expect(fixed.json.deadlines.find((d: { rule: string }) => d.rule === 'incident.final-report')).toMatchObject({ dueDate: '2027-01-10' });
    // A later correction of the same event works on its latest version.
    const again = await t.req('POST', `${url}/events/${delay.id}/undo`, { body: { reason: 'Ingen forsinkelse alligevel' } });
    expect(again.json.delayNotices).toEqual([]);

    // Closed, then the closing time changed by a patch: the undo would overwrite that change, so it is refused naming the field.
    await t.req('POST', `${url}/events`, { body: { type: 'closed', at: '2026-11-19T10:00:00+01:00' } });
    const closed = (await t.req('GET', `${url}/events`)).json.items.find((e: { type: string }) => e.type === 'closed');
    expect((await t.req('PATCH', url, { body: { closedAt: '2026-11-19T11:00:00+01:00' } })).status).toBe(200);
    const refused = await t.req('POST', `${url}/events/${closed.id}/undo`, { body: { reason: 'Fejl' } });
    expect(refused.status).toBe(409);
    expect(refused.json.error.issues).toEqual([{ path: 'closedAt', message: expect.stringContaining('changed since') }]);

    // A transfer moves the plan; undoing it moves it back. The sending side no longer writes the
    // plan (as for any write after a transfer).
    const plan = await t.req('POST', '/api/action-plans', { body: { institutionId: 'vestre', journalNumber: 'KORR-HP', clientCategory: 'convicted_from_liberty', admittedAt: '2026-11-02', possibleParoleDate: '2027-06-01' }, token: token('vestre') });
    const planUrl = `/api/action-plans/${plan.json.id}`;
    const moved = await t.req('POST', `${planUrl}/events`, { body: { type: 'transferred', toInstitutionId: 'aalborg', at: '2026-11-18T09:00:00+01:00' } });
    expect(moved.json).toMatchObject({ institutionId: 'aalborg', transfers: [{ toInstitutionId: 'aalborg' }] });
    // The plan's update after the transfer, undone: the transfer is waiting for it again.
    const transferId = moved.json.transfers[0].id as string;
    await t.req('POST', `${planUrl}/events`, { body: { type: 'transfer_plan_updated', transferId, at: '2026-11-19T09:00:00+01:00' } });
    const updated = (await t.req('GET', `${planUrl}/events`)).json.items.find((e: { type: string }) => e.type === 'transfer_plan_updated');
    expect(updated.values).toMatchObject({ transferId, at: '2026-11-19T09:00:00.000+01:00' });
    const reopened = await t.req('POST', `${planUrl}/events/${updated.id}/undo`, { body: { reason: 'Planen er ikke opdateret endnu' } });
    expect(reopened.status, JSON.stringify(reopened.json)).toBe(200);
    expect(reopened.json.transfers).toMatchObject([{ id: transferId, planUpdatedAt: null }]);
    expect(reopened.json.deadlines.find((d: { rule: string }) => d.rule === 'plan.transfer-update')).toMatchObject({ completedAt: null });
    // An event that changed nothing (the value the record had already) has nothing to undo.
    await t.req('POST', `${url}/events`, { body: { type: 'media_attention', value: false } });
    const noop = (await t.req('GET', `${url}/events`)).json.items.find((e: { type: string }) => e.type === 'media_attention');
    expect((await t.req('POST', `${url}/events/${noop.id}/undo`, { body: { reason: 'Fejl' } })).status).toBe(409);

    const [transfer] = (await t.req('GET', `${planUrl}/events`, { token: token('aalborg') })).json.items;
    expect(transfer.added).toMatchObject([{ list: 'transfers', item: { toInstitutionId: 'aalborg' } }]);
    expect((await t.req('POST', `${planUrl}/events/${transfer.id}/undo`, { body: { reason: 'Forkert sag' }, token: token('vestre') })).status).toBe(403);
    expect(await count('plan_transfers')).toBe(1);
    // (The answer is the record as the caller may read it, as after the transfer itself: the admin's here.)
    const back = await t.req('POST', `${planUrl}/events/${transfer.id}/undo`, { body: { reason: 'Forkert sag' } });
    expect(back.status, JSON.stringify(back.json)).toBe(200);
    expect(back.json).toMatchObject({ institutionId: 'vestre', transfers: [] });
    expect(back.json.deadlines.some((d: { rule: string }) => d.rule === 'plan.transfer-update')).toBe(false);
    expect(await count('plan_transfers')).toBe(0);
  });
});
