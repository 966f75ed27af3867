/**
 * The preliminary notice's pure parts: the wording about time (late or not, what it may promise of
 * the final report), the fields' limits, and why a draft may not be sent.
 */
import { describe, expect, it } from 'vitest';
import { noticeTiming } from '../../src/domain/index.js';
import { parseNoticeFields, refusal, type NoticeDraft } from '../../src/worker/notice.js';

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

describe('parseNoticeFields', () => {
  const ok = { occurredAt: ' fredag 27.03.2026\n kl. 14:00 ', description: 'Fundet livløs i cellen.\r\nAnden linje.', remarks: '', lateReason: '', senderName: 'Hanne  Jurist', senderTitle: 'Jurist' };
  it('normalises: single-line fields collapse their whitespace, line ends become LF, all trimmed', () => {
    const { fields, issues } = parseNoticeFields(ok);
    expect(issues).toEqual([]);
    expect(fields).toMatchObject({ occurredAt: 'fredag 27.03.2026 kl. 14:00', description: 'Fundet livløs i cellen.\nAnden linje.', senderName: 'Hanne Jurist' });
  });
  it('names each field with its rule and limit', () => {
    const { issues } = parseNoticeFields({ ...ok, senderName: ' ', description: 'kort', remarks: 'x'.repeat(2001), senderTitle: 7, occurredAt: 'a\u0007b', stray: 'x' });
    expect(issues.map(({ path, rule, limit }) => ({ path, rule, limit }))).toEqual([
      { path: 'stray', rule: 'unknown', limit: undefined },
      { path: 'occurredAt', rule: 'control', limit: undefined },
      { path: 'description', rule: 'too_short', limit: 10 },
      { path: 'remarks', rule: 'too_long', limit: 2000 },
      { path: 'senderName', rule: 'required', limit: undefined },
      { path: 'senderTitle', rule: 'not_text', limit: undefined },
    ]);
    expect(issues.find((i) => i.path === 'remarks')?.message).toBe('must be at most 2000 characters');
  });
});

describe('refusal', () => {
  const draft = (o: Partial<NoticeDraft> = {}): NoticeDraft => ({
    recordId: 'r', journalNumber: 'SM-1', recipients: [], unset: [], missing: [], alreadySentAt: null, late: false, noticeDueDate: '2026-04-01', finalReport: null,
    fields: parseNoticeFields({}).fields, issues: [], mail: { subject: 's', text: 't', html: 'h' }, hash: 'a'.repeat(64), ...o,
  });
  it('lets a complete draft go only with the hash of what was previewed', () => {
    expect(refusal(draft(), 'a'.repeat(64))).toBeUndefined();
    expect(refusal(draft(), undefined)?.issues[0]?.path).toBe('previewHash');
    const other = refusal(draft(), 'b'.repeat(64));
    expect(other?.code).toBe('CONFLICT');
    expect(other?.issues[0]?.path).toBe('previewHash');
  });
  it('refuses an unset external address by its field, whatever hash is given', () => {
    const r = refusal(draft({ unset: ['recipients.ombudsman', 'recipients.directorate'], hash: null }), 'a'.repeat(64));
    expect(r?.code).toBe('VALIDATION');
    expect(r?.issues.map((i) => i.path)).toEqual(['recipients.ombudsman', 'recipients.directorate']);
    expect(r?.issues[0]?.message).toMatch(/administrator must set the Ombudsman's address/);
  });
  it('refuses a notice sent already, missing record data and invalid fields', () => {
    expect(refusal(draft({ alreadySentAt: '2026-03-28T10:00:00.000+01:00' }), 'a'.repeat(64))?.code).toBe('CONFLICT');
    expect(refusal(draft({ missing: ['cpr'] }), 'a'.repeat(64))?.issues[0]?.path).toBe('cpr');
    expect(refusal(draft({ issues: [{ path: 'senderName', rule: 'required', message: 'is required' }] }), 'a'.repeat(64))?.issues).toEqual([{ path: 'senderName', message: 'is required' }]);
  });
});
