/** Bad input gets a clear error naming the field. */
import { describe, expect, it } from 'vitest';
import { DomainError, parseRecord, formatPath } from '../../src/domain/index.js';

const NOW = Date.parse('2026-11-22T12:00:00+01:00');

function errorOf(input: unknown): DomainError {
  try {
    parseRecord(input, NOW);
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return err as DomainError;
  }
  throw new Error('expected the record to be refused');
}

describe('record validation', () => {
  it.each([
    // input, field named, message fragment
    [{ type: 'incident', kind: 'death' }, 'occurredAt', 'is required'],
    [{ type: 'incident', kind: 'fall', occurredAt: '2026-01-05' }, 'kind', 'death'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-02-30' }, 'occurredAt', 'not a date'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-02-03T10:00' }, 'occurredAt', 'offset'],
    [{ type: 'incident', kind: 'death', occurredAt: '27.03.2026' }, 'occurredAt', 'not a date'],
    [{ type: 'incident', kind: 'death', occurredAt: '2027-01-01' }, 'occurredAt', 'in the future'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-03-27', preliminaryNoticeSentAt: '2026-03-26' }, 'preliminaryNoticeSentAt', 'before occurredAt'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-03-27', preliminaryNoticeSentAt: 'tomorrow' }, 'preliminaryNoticeSentAt', 'not a date'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-03-27', prelimNoticeSentAt: '2026-03-28' }, 'prelimNoticeSentAt', 'unknown field'],
    [{ type: 'incident', kind: 'death', occurredAt: '2026-03-27', mediaAttention: 'yes' }, 'mediaAttention', 'boolean'],
    [{ type: 'security_cell_placement', placedAt: '2026-06-02', endedAt: '2026-06-01' }, 'endedAt', 'before placedAt'],
    [{ type: 'security_cell_placement', placedAt: '2026-06-02', followUpHeldAt: '2026-06-03' }, 'endedAt', 'required'],
    [{ type: 'force_use', occurredAt: '2026-06-02', reportFiledAt: '2026-06-01' }, 'reportFiledAt', 'before occurredAt'],
    [{ type: 'action_plan', clientCategory: 'remand' }, 'admittedAt', 'required'],
    [{ type: 'action_plan', clientCategory: 'lifer', admittedAt: '2026-01-05' }, 'clientCategory', 'remand'],
    [{ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-01-05', createdAt: '2026-01-06', evaluations: ['2026-03-01', '2026-02-01'] }, 'evaluations[1]', 'before the previous evaluation'],
    [{ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-01-05', transfers: [{ at: '2026-03-01', planUpdatedAt: '2026-02-01' }] }, 'transfers[0].planUpdatedAt', 'before transfers[0].at'],
    [{ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-01-05', transfers: [{ when: '2026-03-01' }] }, 'transfers[0]', ''],
    [{ type: 'spaceship' }, 'type', ''],
  ])('%j → names %s', (input, field, fragment) => {
    const err = errorOf(input);
    expect(err.code).toBe('INVALID_RECORD');
    const paths = err.issues.map((i) => formatPath(i.path));
    expect(paths.some((p) => p.startsWith(field))).toBe(true);
    expect(err.message).toContain(fragment);
  });

  it('guesses the type from the fields when it is missing', () => {
    expect(parseRecord({ kind: 'death', occurredAt: '2026-03-27' }, NOW).type).toBe('incident');
    expect(parseRecord({ clientCategory: 'remand', admittedAt: '2026-03-27' }, NOW).type).toBe('action_plan');
    expect(parseRecord({ recordType: 'force_use', occurredAt: '2026-03-27' }, NOW).type).toBe('force_use');
  });

  it('never repeats a CPR-like value in an error message', () => {
    const err = errorOf({ type: 'incident', kind: 'death', occurredAt: '2026-03-27', cpr: '010203-1234' });
    expect(err.message).not.toContain('010203');
  });
});
