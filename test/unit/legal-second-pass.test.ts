/**
 * Issue 10, the second legal pass: one table per finding, each expected value worked out by hand
 * from the seed text quoted in the describe name (never read off the engine).
 *
 * Calendar facts used (2026): Mon 02.03, Mon 09.03, Tue 10.03, Mon 30.03; skærtorsdag 02.04,
 * langfredag 03.04, påske 05.04, 2. påskedag 06.04; Kr. himmelfart Thu 14.05; pinse 24.–25.05;
 * Tue 02.06, Fri 05.06 (grundlovsdag: a working day by default), Tue 09.06. Summer time from 29.03.
 */
import { describe, expect, it } from 'vitest';
import { computeDeadlines, RULES, type Deadline, type DeadlineSet } from '../../src/domain/index.js';

const LATE_NOW = '2030-06-01T12:00:00+02:00';

function set(record: Record<string, unknown>, now = LATE_NOW, extra: { policy?: Record<string, Record<string, number>>; lang?: 'da' | 'en' } = {}): DeadlineSet {
  return computeDeadlines(record, { now, ...extra });
}
function only(list: Deadline[], key: string): Deadline {
  const found = list.filter((d) => d.key === key);
  expect(found.map((d) => d.key), `${key} in [${list.map((d) => d.key).join(', ')}]`).toHaveLength(1);
  return found[0] as Deadline;
}
const keys = (s: DeadlineSet): string[] => s.deadlines.map((d) => d.key);

describe('1. 004 pkt. 2: §§ 68–69 clients are supervision clients ("skal handle i overensstemmelse med reglerne i straffuldbyrdelseslovens §§ 94-99")', () => {
  const measure = (extra: Record<string, unknown>) => ({ type: 'action_plan', clientCategory: 'measure_68_69', ...extra });
  it('pkt. 17 "senest 4 uger fra den etablerende tilsynssamtale": created and elaborated by Tue 07.04.2026 from Tue 10.03', () => {
    const s = set(measure({ supervisionEstablishedAt: '2026-03-10T10:00:00+01:00' }), '2026-03-11T09:00:00+01:00');
    expect(only(s.deadlines, 'plan.create')).toMatchObject({ startDate: '2026-03-10', dueDate: '2026-04-07', basis: 'law', citation: 'Handleplansvejledningen pkt. 17, jf. pkt. 2' });
    expect(only(s.deadlines, 'plan.elaborate')).toMatchObject({ dueDate: '2026-04-07' });
    expect(only(s.deadlines, 'plan.create').explanation).toContain('etablerende tilsynssamtale');
    expect(only(s.deadlines, 'plan.create').explanation).toContain('§§ 68–69');
  });
  it('pkt. 32 "For tilsynsklienter er fristen senest 4 uger fra den etablerende tilsynssamtale": municipality by Tue 07.04.2026', () => {
    expect(only(set(measure({ supervisionEstablishedAt: '2026-03-10' })).deadlines, 'plan.municipality-coordination')).toMatchObject({ dueDate: '2026-04-07', citation: 'Handleplansvejledningen pkt. 32' });
  });
  it('placed in an institution with no supervision conversation: counted from admission, and the explanation says so', () => {
    const d = only(set(measure({ admittedAt: '2026-03-10T09:00:00+01:00' })).deadlines, 'plan.create');
    expect(d).toMatchObject({ startDate: '2026-03-10', dueDate: '2026-04-07' });
    expect(d.explanation).toContain('regnes fra indsættelsen');
  });
  it('both given: the establishing conversation (Mon 04.05.2026) starts the clocks → Mon 01.06.2026', () => {
    expect(only(set(measure({ admittedAt: '2026-03-10', supervisionEstablishedAt: '2026-05-04' })).deadlines, 'plan.create')).toMatchObject({ startDate: '2026-05-04', dueDate: '2026-06-01' });
  });
  it('pkt. 19 "For personer dømt efter straffelovens §§ 68 og 69 gælder, at handleplanen skal evalueres mindst hvert halve år": 01.04 → 01.10.2026 even with release near', () => {
    const d = only(set(measure({ supervisionEstablishedAt: '2026-03-10', createdAt: '2026-03-20', elaboratedAt: '2026-04-01', expectedReleaseDate: '2026-12-01' })).deadlines, 'plan.evaluate#1');
    expect(d).toMatchObject({ startDate: '2026-04-01', dueDate: '2026-10-01' });
  });
  it('the owner is due at the start of supervision (pkt. 10 "etablering af tilsyn")', () => {
    expect(only(set(measure({ supervisionEstablishedAt: '2026-03-10' })).deadlines, 'plan.owner-assigned')).toMatchObject({ dueDate: '2026-03-10' });
  });
  it('neither start: refused, naming supervisionEstablishedAt', () => {
    expect(() => set(measure({}))).toThrowError(/supervisionEstablishedAt/);
  });
});

describe('2. 000 pkt. 3 "I helt særlige tilfælde ... kan samtalen dog finde sted senere end 7 dage": a postponement counts only when decided on or before the due day', () => {
  // Ended Tue 02.06.2026 → "ikke senere end 7 dage efter ophøret" → Tue 09.06.2026.
  const cell = { type: 'security_cell_placement', placedAt: '2026-06-01T22:00:00+02:00', endedAt: '2026-06-02T09:00:00+02:00', followUpPostponedReason: 'Indlagt' };
  it('decided Tue 09.06 at 23:00 (the due day): suspended, open', () => {
    const d = only(set({ ...cell, followUpPostponedAt: '2026-06-09T23:00:00+02:00' }, '2026-06-20T12:00:00+02:00').deadlines, 'cell.follow-up-conversation');
    expect(d).toMatchObject({ dueDate: '2026-06-09', status: 'open', suspended: true });
    expect(d.postponedLate).toBeUndefined();
  });
  it('decided Wed 10.06 at 00:30: too late, breached, shown as a late postponement', () => {
    const d = only(set({ ...cell, followUpPostponedAt: '2026-06-10T00:30:00+02:00' }, '2026-06-20T12:00:00+02:00').deadlines, 'cell.follow-up-conversation');
    expect(d).toMatchObject({ dueDate: '2026-06-09', status: 'breached', postponedLate: true, postponementDecidedAt: '2026-06-10T00:30:00+02:00' });
    expect(d.suspended).toBeUndefined();
    expect(d.explanation).toContain('efter fristen');
  });
  it('given in UTC as 09.06 22:30Z: that is 00:30 local on Wed 10.06, too late', () => {
    expect(only(set({ ...cell, followUpPostponedAt: '2026-06-09T22:30:00Z' }, '2026-06-20T12:00:00+02:00').deadlines, 'cell.follow-up-conversation')).toMatchObject({ status: 'breached', postponedLate: true });
  });
  it('late, with a new date 20.06 and held 15.06: met late against 09.06, the new date ignored', () => {
    const d = only(set({ ...cell, followUpPostponedAt: '2026-06-11', followUpRescheduledTo: '2026-06-20', followUpHeldAt: '2026-06-15T10:00:00+02:00' }).deadlines, 'cell.follow-up-conversation');
    expect(d).toMatchObject({ dueDate: '2026-06-09', status: 'met_late', postponedLate: true });
    expect(d.originalDueDate).toBeUndefined();
  });
  it('in time (08.06), new date Sat 20.06, held Thu 18.06: met, original 09.06 kept', () => {
    expect(only(set({ ...cell, followUpPostponedAt: '2026-06-08', followUpRescheduledTo: '2026-06-20', followUpHeldAt: '2026-06-18' }).deadlines, 'cell.follow-up-conversation')).toMatchObject({ dueDate: '2026-06-20', originalDueDate: '2026-06-09', status: 'met' });
  });
  it('a reason without the time of the decision is refused, naming followUpPostponedAt', () => {
    expect(() => set(cell)).toThrowError(/followUpPostponedAt/);
  });
});

describe('3. 003 § 7 stk. 2 "orienteres områdekontoret herom, inden fristen udløber": every notice kept, each judged against the deadline then in force', () => {
  // Death Mon 02.03.2026 → "Senest 4 uger efter hændelsen" → Mon 30.03.2026.
  const death = { type: 'incident', kind: 'death', occurredAt: '2026-03-02T14:00:00+01:00' };
  it('first notice 27.03 (in time → 20.04), second 24.04 (after 20.04: late) – the breach of 20.04 stands', () => {
    const d = only(set({ ...death, delayNotices: [{ notifiedAt: '2026-03-27', expected: '2026-04-20' }, { notifiedAt: '2026-04-24', expected: '2026-05-04', reason: 'Obduktion' }] }, '2026-05-10T12:00:00+02:00').deadlines, 'incident.final-report');
    expect(d).toMatchObject({ dueDate: '2026-04-20', originalDueDate: '2026-03-30', status: 'breached', delayNotifiedLate: true, citation: 'Cirkulære om dødsfald m.v. § 7, stk. 2' });
    expect(d.delayNotices).toEqual([
      { notifiedAt: '2026-03-27', expectedDate: '2026-04-20', inTime: true, dueBefore: '2026-03-30' },
      { notifiedAt: '2026-04-24', expectedDate: '2026-05-04', inTime: false, dueBefore: '2026-04-20' },
    ]);
  });
  it('second notice on the expected day 20.04 is in time → 04.05; report 04.05 met', () => {
    const d = only(set({ ...death, finalReportSubmittedAt: '2026-05-04T16:00:00+02:00', delayNotices: [{ notifiedAt: '2026-03-27', expected: '2026-04-20' }, { notifiedAt: '2026-04-20T23:59:00+02:00', expected: '2026-05-04' }] }).deadlines, 'incident.final-report');
    expect(d).toMatchObject({ dueDate: '2026-05-04', originalDueDate: '2026-03-30', status: 'met' });
  });
  it('notices in any order, the legacy single fields as one of them: 27.03 → 20.04, then 15.04 → 30.04', () => {
    const d = only(set({ ...death, delayNotifiedAt: '2026-03-27', finalReportExpectedAt: '2026-04-20', delayNotices: [{ notifiedAt: '2026-04-15', expected: '2026-04-30' }] }, '2026-04-21T08:00:00+02:00').deadlines, 'incident.final-report');
    expect(d).toMatchObject({ dueDate: '2026-04-30', status: 'open' });
    expect(d.delayNotices?.map((n) => n.notifiedAt)).toEqual(['2026-03-27', '2026-04-15']);
  });
  it('a first notice after 30.03 cannot be rescued by a second one: due stays 30.03, breached', () => {
    const d = only(set({ ...death, delayNotices: [{ notifiedAt: '2026-04-02', expected: '2026-04-30' }, { notifiedAt: '2026-03-31', expected: '2026-04-20' }] }, '2026-04-10T12:00:00+02:00').deadlines, 'incident.final-report');
    expect(d).toMatchObject({ dueDate: '2026-03-30', status: 'breached', delayNotifiedLate: true });
    expect(d.originalDueDate).toBeUndefined();
    expect(d.delayNotices?.every((n) => !n.inTime)).toBe(true);
  });
  it('chapter 4 cites § 14 stk. 2', () => {
    expect(only(set({ ...death, kind: 'qualified_self_harm', delayNotices: [{ notifiedAt: '2026-03-20', expected: '2026-04-10' }] }).deadlines, 'incident.final-report').citation).toBe('Cirkulære om dødsfald m.v. § 14, stk. 2');
  });
});

describe('4. 003 § 6 stk. 1 (chapter 3, "Dødsfald og selvmord"): the directorate is phoned for deaths and suicides only', () => {
  it.each([
    ['suicide', true],
    ['death', true],
    ['qualified_suicide_attempt', false],
    ['qualified_self_harm', false],
    ['other_self_harm_behaviour', false],
  ])('%s with media attention → phone: %s', (kind, phone) => {
    const s = set({ type: 'incident', kind, occurredAt: '2026-03-02', mediaAttention: true });
    expect(s.immediate.some((i) => i.rule === 'incident.directorate-phone')).toBe(phone);
  });
});

describe('5. 003 § 17 "Områdedirektøren skal snarest muligt underrettes om anden selvmords- eller selvbeskadigelsesadfærd"', () => {
  it('chapter 5 alerts the area director, cited § 17, and the delegate assesses "umiddelbart" (§ 19)', () => {
    const s = set({ type: 'incident', kind: 'other_self_harm_behaviour', occurredAt: '2026-03-02', registeredAt: '2026-03-02T15:00:00+01:00' });
    expect(s.immediate.map((i) => [i.rule, i.citation])).toEqual([
      ['incident.area-director-alert', 'Cirkulære om dødsfald m.v. § 17'],
      ['incident.delegate-assessment', 'Cirkulære om dødsfald m.v. § 19'],
    ]);
  });
});

describe('6. 003 § 21 "orienteres den pågældende institution og Folketingets Ombudsmand om områdekontorets samlede vurdering"', () => {
  it('the closing letter is the area office\'s duty; the copy to Klientsager is due with it (final report Mon 20.04 + 4 uger = Mon 18.05.2026)', () => {
    const s = set({ type: 'incident', kind: 'death', occurredAt: '2026-03-02', finalReportSubmittedAt: '2026-04-20T10:00:00+02:00', closingLetterSentAt: '2026-05-15' }, '2026-05-19T08:00:00+02:00');
    expect(only(s.deadlines, 'incident.closing-letter')).toMatchObject({ dueDate: '2026-05-18', status: 'met', responsible: 'Områdekontoret (institutionen orienteres)' });
    expect(only(s.deadlines, 'incident.closing-letter-copy')).toMatchObject({ dueDate: '2026-05-18', status: 'breached', basis: 'policy', citation: 'Cirkulære om dødsfald m.v. § 21, 2. pkt.' });
  });
});

describe('7. 004 pkt. 32 youth home detention: "samtidig med udarbejdelsen af den første handleplan"', () => {
  const youth = { type: 'action_plan', clientCategory: 'youth_home_detention', admittedAt: '2026-03-02' };
  it('no plan yet: due with the plan\'s policy default, 7 hverdage from Mon 02.03 → Wed 11.03.2026, labelled policy', () => {
    expect(only(set(youth, '2026-03-03T08:00:00+01:00').deadlines, 'plan.municipality-coordination')).toMatchObject({ dueDate: '2026-03-11', basis: 'policy' });
  });
  it('plan created Mon 09.03: due that day (law); contact the same day → met', () => {
    expect(only(set({ ...youth, createdAt: '2026-03-09T10:00:00+01:00', municipalityContactedAt: '2026-03-09T14:00:00+01:00' }).deadlines, 'plan.municipality-coordination')).toMatchObject({ startDate: '2026-03-09', dueDate: '2026-03-09', basis: 'law', status: 'met' });
  });
  it('contact the day after the plan (10.03): met late', () => {
    expect(only(set({ ...youth, createdAt: '2026-03-09', municipalityContactedAt: '2026-03-10' }).deadlines, 'plan.municipality-coordination').status).toBe('met_late');
  });
});

describe('8. 003 § 11 stk. 2 / § 18 stk. 2 reclassification keeps history', () => {
  // Qualified suicide attempt Mon 02.03.2026: preliminary notice 3 hverdage → Thu 05.03; conversation
  // (policy 1 hverdag) → Tue 03.03; final report 4 uger → Mon 30.03. Reclassified to chapter 5 Tue 10.03 12:00.
  const moved = {
    type: 'incident',
    kind: 'other_self_harm_behaviour',
    occurredAt: '2026-03-02T08:00:00+01:00',
    preliminaryNoticeSentAt: '2026-03-04T10:00:00+01:00',
    reclassifications: [{ at: '2026-03-10T12:00:00+01:00', from: 'qualified_suicide_attempt', to: 'other_self_harm_behaviour' }],
  };
  it('met and breached chapter-4 deadlines stay (ended by the reclassification); the open final report is dropped; chapter 5 closing runs from the incident', () => {
    const s = set(moved, '2026-04-15T12:00:00+02:00');
    expect(keys(s)).toEqual(['incident.preliminary-notice', 'incident.inmate-conversation', 'incident.chapter5-closing']);
    expect(only(s.deadlines, 'incident.preliminary-notice')).toMatchObject({ dueDate: '2026-03-05', status: 'met', endedBy: 'reclassification', endedAt: '2026-03-10T12:00:00+01:00' });
    expect(only(s.deadlines, 'incident.inmate-conversation')).toMatchObject({ dueDate: '2026-03-03', status: 'breached', endedBy: 'reclassification' });
    expect(only(s.deadlines, 'incident.chapter5-closing')).toMatchObject({ dueDate: '2026-03-30', status: 'breached', basis: 'policy' });
    expect(only(s.deadlines, 'incident.inmate-conversation').explanation).toContain('omklassificeret 10.03.2026');
  });
  it('a conversation held after the reclassification (12.03) does not rewrite the breach of 03.03', () => {
    expect(only(set({ ...moved, inmateConversationHeldAt: '2026-03-12' }, '2026-04-15T12:00:00+02:00').deadlines, 'incident.inmate-conversation')).toMatchObject({ status: 'breached', completedAt: null });
  });
  it('moved back to chapter 4 (20.03): the chapter-4 clocks run from the incident date again; the chapter-5 closing, open at 20.03, is dropped', () => {
    const back = { ...moved, kind: 'qualified_suicide_attempt', reclassifications: [...moved.reclassifications, { at: '2026-03-20', from: 'other_self_harm_behaviour', to: 'qualified_suicide_attempt' }] };
    const s = set(back, '2026-03-25T12:00:00+01:00');
    expect(keys(s)).toEqual(['incident.preliminary-notice', 'incident.final-report', 'incident.inmate-conversation']);
    expect(only(s.deadlines, 'incident.final-report')).toMatchObject({ dueDate: '2026-03-30', status: 'open' });
    expect(only(s.deadlines, 'incident.preliminary-notice').endedBy).toBeUndefined();
  });
  it('a history that does not end in the record\'s kind is refused', () => {
    expect(() => set({ ...moved, kind: 'qualified_self_harm' })).toThrowError(/kind/);
  });
  it('deaths are not reclassified (chapter 3 is outside § 11 stk. 2 / § 18 stk. 2)', () => {
    expect(() => set({ ...moved, kind: 'death', reclassifications: [{ at: '2026-03-10', from: 'other_self_harm_behaviour', to: 'death' }] })).toThrowError(/reclassifications/);
  });
});

describe('9. Texts not yet in force: no deadlines, listed in notInForce with the date the text took effect', () => {
  it('002 § 10 "Bekendtgørelsen træder i kraft den 1. april 2017": force used Fri 31.03.2017 → both rules not in force', () => {
    const s = set({ type: 'force_use', occurredAt: '2017-03-31T15:00:00+02:00', reportFiledAt: '2017-04-03' });
    expect(s.deadlines).toEqual([]);
    expect(s.warnings).toEqual([]);
    expect(s.notInForce.map((n) => [n.rule, n.inForceFrom, n.citation])).toEqual([
      ['force.report', '2017-04-01', 'Magtanvendelsesbekendtgørelsen § 10'],
      ['force.complaint-window', '2017-04-01', 'Magtanvendelsesbekendtgørelsen § 10'],
    ]);
    expect(s.notInForce[0]?.explanation).toContain('01.04.2017');
  });
  it('force used Sat 01.04.2017 (the day it took effect) is judged: report 1 hverdag → Mon 03.04.2017', () => {
    const s = set({ type: 'force_use', occurredAt: '2017-04-01' });
    expect(s.notInForce).toEqual([]);
    expect(only(s.deadlines, 'force.report').dueDate).toBe('2017-04-03');
  });
  it('000 pkt. 4 "Cirkulæreskrivelsen træder i kraft den 3. februar 2022": placement ended 02.02.2022 23:30 local → not in force', () => {
    const s = set({ type: 'security_cell_placement', placedAt: '2022-02-02T20:00:00+01:00', endedAt: '2022-02-02T23:30:00+01:00' });
    expect(s.notInForce.map((n) => n.rule)).toEqual(['cell.follow-up-conversation']);
    expect(keys(s)).toEqual(['cell.case-review']);
  });
  it('ended 02.02.2022 23:30Z = Thu 03.02 00:30 local → in force: due Thu 10.02.2022', () => {
    const s = set({ type: 'security_cell_placement', placedAt: '2022-02-02T20:00:00Z', endedAt: '2022-02-02T23:30:00Z' });
    expect(s.notInForce).toEqual([]);
    expect(only(s.deadlines, 'cell.follow-up-conversation').dueDate).toBe('2022-02-10');
  });
  it('003 § 23 "omfatter hændelser, der finder sted efter denne dato": a suicide on 16.07.2015 is outside, immediate duties too', () => {
    const s = set({ type: 'incident', kind: 'suicide', occurredAt: '2015-07-16', mediaAttention: true });
    expect(s.immediate).toEqual([]);
    expect(s.notInForce.map((n) => n.rule)).toEqual(['incident.preliminary-notice', 'incident.final-report', 'incident.area-director-alert', 'incident.directorate-phone']);
  });
});

describe('10. Missing data is a finding', () => {
  it('convicted client without possibleParoleDate: no municipality deadline, an incomplete finding naming the field', () => {
    const s = set({ type: 'action_plan', clientCategory: 'convicted_from_liberty', admittedAt: '2026-03-02', expectedReleaseDate: '2027-03-02' });
    expect(keys(s)).not.toContain('plan.municipality-coordination');
    expect(s.incomplete).toEqual([{ rule: 'plan.municipality-coordination', field: 'possibleParoleDate', message: expect.stringContaining('prøveløsladelse') }]);
  });
  it('no finding once the municipality was contacted, or for a client expelled by judgment', () => {
    expect(set({ type: 'action_plan', clientCategory: 'convicted_from_liberty', admittedAt: '2026-03-02', expectedReleaseDate: '2027-03-02', municipalityContactedAt: '2026-03-10' }).incomplete).toEqual([]);
    expect(set({ type: 'action_plan', clientCategory: 'convicted_from_liberty', admittedAt: '2026-03-02', expectedReleaseDate: '2027-03-02', expelled: true }).incomplete).toEqual([]);
  });
  it('convicted client without expectedReleaseDate: the 3-month cadence is assumed and said', () => {
    expect(set({ type: 'action_plan', clientCategory: 'convicted_from_liberty', admittedAt: '2026-03-02', possibleParoleDate: '2028-03-02' }).incomplete.map((f) => f.field)).toEqual(['expectedReleaseDate']);
  });
  it('pkt. 30 "i alle sager, hvor Kriminalforsorgen har pligt til at udarbejde handleplan": remand admitted Mon 02.03 → policy 4 uger → Mon 30.03.2026', () => {
    expect(only(set({ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-03-02' }).deadlines, 'plan.municipality-coordination')).toMatchObject({ dueDate: '2026-03-30', basis: 'policy', citation: 'Handleplansvejledningen pkt. 30' });
    expect(keys(set({ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-03-02', expelled: true }))).not.toContain('plan.municipality-coordination');
  });
  it('remand weeks are an administrator\'s to set: 2 weeks → Mon 16.03.2026', () => {
    expect(only(set({ type: 'action_plan', clientCategory: 'remand', admittedAt: '2026-03-02' }, LATE_NOW, { policy: { 'plan.municipality-coordination': { remandWeeks: 2 } } }).deadlines, 'plan.municipality-coordination').dueDate).toBe('2026-03-16');
  });
});

describe('11. Citations and the Danish of responsible parties', () => {
  it('the security-means citation names pkt. 3 once, in both languages', () => {
    const record = { type: 'security_cell_placement', placedAt: '2026-06-01', endedAt: '2026-06-02' };
    expect(only(set(record).deadlines, 'cell.follow-up-conversation').citation).toBe('Sikringsmiddelbekendtgørelsen § 13 og cirkulæreskrivelse om sikringsmidler pkt. 3');
    expect(only(set(record, LATE_NOW, { lang: 'en' }).deadlines, 'cell.follow-up-conversation').citation).toBe('Executive order on security means § 13 and circular letter on security means pkt. 3');
  });
  it('"Områdedirektørens bemyndigede", and no rule says "Den områdedirektøren"', () => {
    expect(only(set({ type: 'incident', kind: 'death', occurredAt: '2026-03-02' }).deadlines, 'incident.preliminary-notice').responsible).toBe('Områdedirektørens bemyndigede');
    for (const r of RULES) expect(r.responsible.da, r.id).not.toMatch(/Den områdedirektøren/);
  });
});

describe('New duties', () => {
  const cell = { type: 'security_cell_placement', placedAt: '2026-06-01T22:00:00+02:00', endedAt: '2026-06-02T09:00:00+02:00' };
  it('000 pkt. 3 / § 13 "tilbyde den indsatte en opfølgende samtale": offered Mon 08.06, declined Wed 10.06 → met at the offer', () => {
    const d = only(set({ ...cell, followUpOfferedAt: '2026-06-08T10:00:00+02:00', followUpDeclinedAt: '2026-06-10T09:00:00+02:00' }).deadlines, 'cell.follow-up-conversation');
    expect(d).toMatchObject({ status: 'met', completion: 'declined', completedAt: '2026-06-08T10:00:00+02:00' });
    expect(d.explanation).toContain('afslog');
  });
  it('before the refusal is known (now Tue 09.06), an offer alone meets nothing: open', () => {
    expect(only(set({ ...cell, followUpOfferedAt: '2026-06-08T10:00:00+02:00', followUpDeclinedAt: '2026-06-10T09:00:00+02:00' }, '2026-06-09T12:00:00+02:00').deadlines, 'cell.follow-up-conversation')).toMatchObject({ status: 'open', completedAt: null });
  });
  it('declined on Wed 10.06 with no offer on record: met late (the refusal is the offer)', () => {
    expect(only(set({ ...cell, followUpDeclinedAt: '2026-06-10' }).deadlines, 'cell.follow-up-conversation').status).toBe('met_late');
  });
  it('§ 14 "Der skal gøres notat om samtalen i sikringscellemodulet": held without the note → a warning; with it → none', () => {
    expect(set({ ...cell, followUpHeldAt: '2026-06-05' }).warnings).toEqual([{ rule: 'cell.follow-up-conversation', field: 'followUpNoteAt', message: expect.stringContaining('§ 14') }]);
    expect(set({ ...cell, followUpHeldAt: '2026-06-05', followUpNoteAt: '2026-06-05' }).warnings).toEqual([]);
  });
  it('held and declined at once is refused', () => {
    expect(() => set({ ...cell, followUpHeldAt: '2026-06-05', followUpDeclinedAt: '2026-06-05' })).toThrowError(/followUpDeclinedAt/);
  });
  it('001 "ledelsen gennemgår sagerne" (policy): ended Fri 05.06.2026 (grundlovsdag, a working day) + 10 hverdage → Fri 19.06', () => {
    const ended = { ...cell, placedAt: '2026-06-05T08:00:00+02:00', endedAt: '2026-06-05T12:00:00+02:00' };
    expect(only(set({ ...ended, caseReviewedAt: '2026-06-19T15:00:00+02:00' }).deadlines, 'cell.case-review')).toMatchObject({ dueDate: '2026-06-19', status: 'met', basis: 'policy', responsible: 'Områdekontoret (ledelse og jurister)' });
    expect(only(set(ended, LATE_NOW, { policy: { 'cell.case-review': { workingDays: 5 } } }).deadlines, 'cell.case-review').dueDate).toBe('2026-06-12');
    expect(keys(set(ended, LATE_NOW, { policy: { 'cell.case-review': { enabled: 0 } } }))).toEqual(['cell.follow-up-conversation']);
  });
  it('002 § 8 "gøres notat om, at den indsatte er orienteret om muligheden for at påklage": a filed report without it warns', () => {
    expect(set({ type: 'force_use', occurredAt: '2026-03-02', reportFiledAt: '2026-03-02' }).warnings.map((w) => w.field)).toEqual(['complaintInfoNoted']);
    expect(set({ type: 'force_use', occurredAt: '2026-03-02', reportFiledAt: '2026-03-02', complaintInfoNoted: true }).warnings).toEqual([]);
    expect(set({ type: 'force_use', occurredAt: '2026-03-02' }).warnings).toEqual([]);
  });
  it('003 § 20 stk. 2 "afslutter ... sagen i selvmordsmodulet som vedrørende en ikke-indberetningspligtig hændelse": closed 20.03 → met (due 30.03)', () => {
    expect(only(set({ type: 'incident', kind: 'other_self_harm_behaviour', occurredAt: '2026-03-02', closedNotReportableAt: '2026-03-20' }).deadlines, 'incident.chapter5-closing')).toMatchObject({ dueDate: '2026-03-30', status: 'met' });
    expect(() => set({ type: 'incident', kind: 'qualified_self_harm', occurredAt: '2026-03-02', closedNotReportableAt: '2026-03-20' })).toThrowError(/closedNotReportableAt/);
  });
  it('004 pkt. 10 "placering i udslusningsfængsel": owner due the day of the placement (Mon 11.05.2026); assigned 12.05 → met late', () => {
    const s = set({ type: 'action_plan', clientCategory: 'convicted_from_liberty', admittedAt: '2026-01-05', ownerAssignedAt: '2026-01-05', possibleParoleDate: '2026-12-01', expectedReleaseDate: '2027-01-05', transitionPlacedAt: '2026-05-11', transitionOwnerAssignedAt: '2026-05-12' });
    expect(only(s.deadlines, 'plan.owner-assigned#transition')).toMatchObject({ dueDate: '2026-05-11', status: 'met_late', citation: 'Handleplansvejledningen pkt. 10, pkt. 15' });
  });
  it('"snarest muligt" / "så hurtigt som muligt" are shown as immediate, their days a policy default', () => {
    expect(only(set({ type: 'force_use', occurredAt: '2026-03-02' }).deadlines, 'force.report')).toMatchObject({ immediate: true, basis: 'policy' });
    expect(only(set({ type: 'incident', kind: 'qualified_self_harm', occurredAt: '2026-03-02' }).deadlines, 'incident.inmate-conversation')).toMatchObject({ immediate: true, basis: 'policy' });
    expect(set({ type: 'incident', kind: 'qualified_self_harm', occurredAt: '2026-03-02' }).immediate.map((i) => i.rule)).toEqual(['incident.area-director-alert', 'incident.delegate-assessment']);
  });
});
