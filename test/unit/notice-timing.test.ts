/** The preliminary notice's wording about time: late or not, and what it may promise of the final report. */
import { describe, expect, it } from 'vitest';
import { noticeTiming } from '../../src/domain/index.js';

const notice = { dueDate: '2026-04-01' };
const final = (o: { dueDate?: string; completedAt?: string | null; expected?: string[] } = {}) => ({
  dueDate: o.dueDate ?? '2026-04-24',
  completedAt: o.completedAt ?? null,
  delayNotices: (o.expected ?? []).map((e, i) => ({ notifiedAt: `2026-04-2${i}T10:00:00.000+02:00`, expectedDate: e, inTime: true, dueBefore: '2026-04-24' })),
});

describe('noticeTiming', () => {
  it('in time: not late, the final report due on its date', () => {
    expect(noticeTiming('2026-03-30', notice, final())).toEqual({ late: false, noticeDueDate: '2026-04-01', finalReport: { kind: 'due', date: '2026-04-24' } });
  });
  it('on the last day is still in time', () => {
    expect(noticeTiming('2026-04-01', notice, final()).late).toBe(false);
  });
  it('the day after the deadline is late, and says when it was due', () => {
    expect(noticeTiming('2026-04-02', notice, final())).toMatchObject({ late: true, noticeDueDate: '2026-04-01', finalReport: { kind: 'due', date: '2026-04-24' } });
  });
  it('never promises a past date: after the final report deadline it is overdue', () => {
    expect(noticeTiming('2026-08-10', notice, final({ dueDate: '2026-08-06' })).finalReport).toEqual({ kind: 'overdue', date: '2026-08-06' });
    // On the due day itself the date still lies ahead (the deadline runs to the end of the day).
    expect(noticeTiming('2026-08-06', notice, final({ dueDate: '2026-08-06' })).finalReport).toEqual({ kind: 'due', date: '2026-08-06' });
  });
  it('a notified delay promises its expected date, the latest notice counting', () => {
    expect(noticeTiming('2026-04-28', notice, final({ dueDate: '2026-05-15', expected: ['2026-05-08', '2026-05-15'] })).finalReport).toEqual({ kind: 'delayed', date: '2026-05-15' });
    // Told late: the legal due date stays, the expected date told to the area office is what is promised.
    expect(noticeTiming('2026-04-28', notice, final({ dueDate: '2026-04-24', expected: ['2026-05-20'] })).finalReport).toEqual({ kind: 'delayed', date: '2026-05-20' });
  });
  it('an expected date that has passed too: overdue, with that date', () => {
    expect(noticeTiming('2026-06-01', notice, final({ dueDate: '2026-04-24', expected: ['2026-05-20'] })).finalReport).toEqual({ kind: 'overdue', date: '2026-05-20' });
  });
  it('an expected date before the due date does not shorten it', () => {
    expect(noticeTiming('2026-04-10', notice, final({ dueDate: '2026-04-24', expected: ['2026-04-15'] })).finalReport).toEqual({ kind: 'due', date: '2026-04-24' });
  });
  it('a final report already submitted is reported as such', () => {
    expect(noticeTiming('2026-05-02', notice, final({ completedAt: '2026-04-20T09:00:00.000+02:00' })).finalReport).toEqual({ kind: 'submitted', date: '2026-04-20' });
  });
  it('no final-report deadline: nothing said about it', () => {
    expect(noticeTiming('2026-03-30', notice, undefined).finalReport).toBeNull();
  });
});
