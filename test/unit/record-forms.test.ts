/**
 * The record forms' pure parts: Danish dates and times read in Europe/Copenhagen whatever the
 * browser's locale, every field of every record type and event given an input by its schema, and
 * the service's validation messages shown in Danish (none falls through untranslated).
 */
import { describe, expect, it } from 'vitest';
import { DomainError, parseRecord } from '../../src/domain/index.js';
import { eventFields, eventOptions, KINDS } from '../../src/records/kinds.js';
import { engineIssues, zodIssues } from '../../src/records/service.js';
import { fieldText, fieldValue, parseDanishDate, parseDanishInstant } from '../../src/ui/form-fields.js';
import { issueMessage } from '../../src/ui/issues.js';
import { createGroups, editFields } from '../../src/ui/pages/record-form.js';

describe('Danish dates and times', () => {
  it('reads dd.mm.åååå (and the API form) as a local date, refusing days that do not exist', () => {
    expect(parseDanishDate('24.11.2026')).toBe('2026-11-24');
    expect(parseDanishDate(' 1.2.2027 ')).toBe('2027-02-01');
    expect(parseDanishDate('2026-11-24')).toBe('2026-11-24');
    // The same reader as every form's (format.ts parseFormDate): 24/11/2026 and 24-11-2026 are that day too.
    expect(parseDanishDate('24/11/2026')).toBe('2026-11-24');
    for (const bad of ['31.11.2026', '29.02.2027', '24.11.26', '11.24.2026', '11/24/2026', '']) expect(parseDanishDate(bad), bad).toBeUndefined();
  });

  it('reads dd.mm.åååå tt:mm as Copenhagen wall-clock time, winter and summer, 24-hour', () => {
    expect(parseDanishInstant('24.11.2026 14:05')).toBe('2026-11-24T14:05:00.000+01:00');
    expect(parseDanishInstant('01.07.2026 kl. 09.30')).toBe('2026-07-01T09:30:00.000+02:00');
    expect(parseDanishInstant('1.7.2026, 23:59')).toBe('2026-07-01T23:59:00.000+02:00');
    // The day after the autumn change and the day before the spring one.
    expect(parseDanishInstant('26.10.2026 00:30')).toBe('2026-10-26T00:30:00.000+01:00');
    expect(parseDanishInstant('28.03.2026 12:00')).toBe('2026-03-28T12:00:00.000+01:00');
    // A date alone stays a date (the API reads it as that day); the API's own forms are read too.
    expect(parseDanishInstant('24.11.2026')).toBe('2026-11-24');
    expect(parseDanishInstant('2026-11-24T14:05')).toBe('2026-11-24T14:05:00.000+01:00');
    expect(parseDanishInstant('2026-11-24T14:05:00+01:00')).toBe('2026-11-24T14:05:00+01:00');
    for (const bad of ['24.11.2026 24:00', '24.11.2026 14:60', '24.11.2026 2 PM', '31.11.2026 10:00', 'i går']) expect(parseDanishInstant(bad), bad).toBeUndefined();
  });

  it('shows stored values the way the form reads them back', () => {
    const at = { name: 'occurredAt', input: 'instant' as const, required: true, nullable: false };
    const day = { name: 'sentenceStartDate', input: 'date' as const, required: false, nullable: true };
    expect(fieldText(at, '2026-07-01T09:30:00.000+02:00')).toBe('01.07.2026 09:30');
    expect(fieldText(at, '2026-11-24')).toBe('24.11.2026');
    expect(fieldText(day, '2026-11-02')).toBe('02.11.2026');
    expect(fieldValue(at, fieldText(at, '2026-07-01T09:30:00.000+02:00'))).toEqual({ value: '2026-07-01T09:30:00.000+02:00' });
    expect(fieldValue(day, '')).toEqual({ empty: true });
    expect(fieldValue(day, '2.13.2026')).toEqual({ error: 'date' });
  });
});

describe('forms from the field tables', () => {
  for (const kind of Object.values(KINDS)) {
    it(`${kind.type}: every field and every event field has an input, and the create form holds the whole field table`, () => {
      const groups = createGroups(kind);
      const shown = [...groups.record, ...groups.person, ...groups.steps];
      const derived = kind.type === 'incident' ? ['delayNotifiedAt', 'finalReportExpectedAt', 'delayReason'] : [];
      expect(shown.map((f) => f.name).sort()).toEqual(Object.keys(kind.fields).filter((f) => !derived.includes(f)).sort());
      // What the schema requires, the form requires; a choice offers exactly the schema's options.
      const shape = (kind.create as unknown as { shape: Record<string, { safeParse(v: unknown): { success: boolean } }> }).shape;
      for (const f of shown) expect(f.required, f.name).toBe(!shape[f.name]?.safeParse(undefined).success);
      expect(shown.find((f) => f.name === 'institutionId')?.input).toBe('institution');
      for (const f of editFields(kind)) expect(f.name, 'a patch never moves the record').not.toBe('institutionId');
      for (const [type] of eventOptions(kind)) {
        for (const f of eventFields(kind, type) ?? []) expect(['instant', 'date', 'boolean', 'choice', 'text', 'longtext', 'institution', 'staff', 'id'], `${type}.${f.name}`).toContain(f.input);
      }
    });
  }

  it('offers transfers and parole decisions with the fields the API takes', () => {
    expect(eventFields(KINDS.action_plan, 'transferred')?.map((f) => [f.name, f.input, f.required])).toEqual([['at', 'instant', false], ['toInstitutionId', 'institution', true]]);
    expect(eventFields(KINDS.action_plan, 'parole_decided')?.map((f) => [f.name, f.input, f.required, f.options])).toEqual([['at', 'instant', false, undefined], ['outcome', 'choice', true, ['granted', 'refused']]]);
    expect(eventFields(KINDS.security_cell_placement, 'follow_up_postponed')?.map((f) => [f.name, f.input, f.required])).toEqual([['reason', 'longtext', true], ['newDate', 'date', false], ['at', 'instant', false]]);
  });
});

describe('validation messages in Danish', () => {
  const untranslated = (messages: Array<{ path: string; message: string }>) => messages.filter((i) => issueMessage('da', i.message).startsWith('Ikke gyldig ('));

  it('translates what the schemas say of a bad body of each type', () => {
    const bodies: Record<string, unknown> = {
      incident: { institutionId: 'Ikke En Slug', journalNumber: '010190-1234', kind: 'nope', occurredAt: 'snart', description: 'x'.repeat(10_001), mediaAttention: 'ja', extra: 1 },
      security_cell_placement: { institutionId: 'vestre', journalNumber: 'a b', placedAt: '2026-13-01', followUpPostponedReason: '', followUpRescheduledTo: '01.12.2026', cpr: '320190-1234' },
      force_use: { institutionId: 'vestre', journalNumber: 'x'.repeat(101), occurredAt: '2026-11-01', complaintInfoNoted: 'yes' },
      action_plan: { institutionId: 'vestre', clientCategory: 'other', ownerId: 'not-a-uuid', inmateName: '' },
    };
    for (const kind of Object.values(KINDS)) {
      const r = kind.create.safeParse(bodies[kind.type]);
      expect(r.success).toBe(false);
      const issues = r.success ? [] : zodIssues(r.error);
      expect(issues.length, kind.type).toBeGreaterThanOrEqual(2);
      expect(untranslated(issues), kind.type).toEqual([]);
    }
  });

  it('translates what the engine says of records out of order, with Danish dates in the text', () => {
    const records: Array<[keyof typeof KINDS, Record<string, unknown>]> = [
      ['incident', { type: 'incident', kind: 'qualified_self_harm', occurredAt: '2026-11-17T22:15:00+01:00', preliminaryNoticeSentAt: '2026-11-17T21:00:00+01:00', finalReportExpectedAt: '2026-12-01', closedNotReportableAt: '2026-11-18T10:00:00+01:00' }],
      ['security_cell_placement', { type: 'security_cell_placement', placedAt: '2026-11-10T20:00:00+01:00', followUpHeldAt: '2026-11-12T10:00:00+01:00', followUpDeclinedAt: '2026-11-12T11:00:00+01:00', followUpPostponedAt: '2026-11-12T09:00:00+01:00', followUpRescheduledTo: '2026-11-20' }],
      ['force_use', { type: 'force_use', occurredAt: '2026-11-10T20:00:00+01:00', reportFiledAt: '2026-11-09T10:00:00+01:00' }],
      ['action_plan', { type: 'action_plan', clientCategory: 'supervision', sentenceStartDate: '2026-11-10', possibleParoleDate: '2026-11-01', transitionOwnerAssignedAt: '2026-11-12T10:00:00+01:00', createdAt: '2026-11-12T10:00:00+01:00', elaboratedAt: '2026-11-11T10:00:00+01:00' }],
      ['action_plan', { type: 'action_plan', clientCategory: 'measure_68_69' }],
    ];
    for (const [type, record] of records) {
      let issues: Array<{ path: string; message: string }> = [];
      try {
        parseRecord(record, Date.parse('2026-11-18T10:00:00+01:00'));
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        issues = engineIssues(KINDS[type], err);
      }
      expect(issues.length, type).toBeGreaterThan(0);
      expect(untranslated(issues), type).toEqual([]);
    }
    expect(issueMessage('da', 'preliminaryNoticeSentAt (2026-11-17T21:00:00+01:00) is before occurredAt (2026-11-17T22:15:00+01:00)')).toBe('Ligger før «Tidspunkt for hændelsen» (tirsdag 17.11.2026 kl. 22:15).');
    expect(issueMessage('da', 'admittedAt is required for clientCategory remand')).toBe('Skal udfyldes for klientkategorien «Varetægtsarrestant».');
    // English readers get English sentences (the same rules, i18n.ts `vi`).
    expect(issueMessage('en', 'is in the future')).toBe('Must not be in the future.');
  });

  it('translates the refusals of corrections and of the service', () => {
    const messages = [
      'has been changed since the event was recorded; undo or correct that change first',
      'was erased by retention; the event can no longer be undone or corrected',
      "a correction keeps the event's type (closed); undo it and record the right one",
      'is undone already',
      'the preliminary notice was sent by fristvagt',
      'the event changed nothing that can be put back',
      'unknown institution "x"',
      "must be a staff member of area demo-oest (the plan's area)",
      'already exists',
      'stale version',
      'is in the future',
      'no such transfer on this plan',
      'reclassification moves an incident between chapters 4 and 5 only (§ 11 stk. 2, § 18 stk. 2)',
      'the report must be filed before its § 8 note is added',
    ];
    expect(untranslated(messages.map((message) => ({ path: 'x', message })))).toEqual([]);
  });
});
