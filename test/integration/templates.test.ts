/** Every template rendered with realistic data: no "undefined", HTML escaped, no CPR where it does not belong. */
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from '../../src/mail/render.js';
import { TEMPLATE_SCHEMAS, type TemplateId } from '../../templates/schemas.js';

const hostile = 'Vestre <script>alert("x")</script> & Co';
const deadline = {
  recipientName: 'vagt@kf.test',
  title: 'Foreløbig underretning',
  titleEn: 'Preliminary notice',
  dueDate: '01.04.2026',
  dueWeekday: 'onsdag',
  dueWeekdayEn: 'Wednesday',
  journalNumber: 'SM-2026-001',
  institutionName: hostile,
  whatToDo: 'Send foreløbig underretning.',
  whatToDoEn: 'Send the preliminary notice.',
  explanation: 'Hændelsen skete fredag 27.03.2026. 3 hverdage efter: man 30.03, tir 31.03, ons 01.04 (lør–søn springes over). Frist: onsdag 01.04.2026 kl. 23:59.',
  explanationEn: 'The incident happened on Friday 27.03.2026.',
  citation: 'Cirkulære om dødsfald m.v. § 6, stk. 2',
  basisDa: 'lov' as const,
  basisEn: 'law' as const,
  link: 'https://fristvagt.kf.test/records/incidents/1',
};
const examples: { [K in TemplateId]: Parameters<typeof renderTemplate<K>>[1] } = {
  reminder: deadline,
  escalation: { ...deadline, responsible: 'Vagthavende', levelDa: 'første rykker til områdekontoret', levelEn: 'the first escalation' },
  'alert-area-director': { recipientName: 'direktor@kf.test', kindDa: 'dødsfald', kindEn: 'death', journalNumber: 'SM-1', institutionName: hostile, occurredAt: 'fredag 27.03.2026', citation: 'Cirkulære om dødsfald m.v. § 5', deadlineLines: '- Foreløbig underretning: onsdag 01.04.2026', link: 'https://fristvagt.kf.test/x' },
  'alert-directorate-phone': { kindDa: 'selvmord', journalNumber: 'SM-2', institutionName: hostile, occurredAt: 'fredag 27.03.2026', citation: 'Cirkulære om dødsfald m.v. § 6, stk. 1', link: 'https://fristvagt.kf.test/x' },
  'preliminary-notice': { citation: 'Cirkulære om dødsfald m.v. § 6, stk. 2', areaName: 'Hovedstaden', institutionName: hostile, inmateName: 'Demo Person', cpr: '010190-4321', kindDa: 'Dødsfald', occurredAt: 'fredag 27.03.2026 kl. 14:00', description: 'Fundet livløs <b>i</b> cellen', journalNumber: 'SM-3', remarks: '', noticeLate: '', lateReason: '', finalDue: 'fredag 24.04.2026', finalDelayed: '', finalOverdue: '', finalSubmitted: '', senderName: 'Hanne Jurist', senderTitle: 'Jurist' },
  digest: { recipientName: 'ejer@kf.test', count: '2', dayDa: 'onsdag 08.07.2026', items: '- Handleplan oprettet, j.nr. HP-1\n- Handleplan oprettet, j.nr. HP-2', itemsEn: '- Action plan created', link: 'https://fristvagt.kf.test' },
  'annual-overview': { areaName: 'Kriminalforsorgen Hovedstaden', year: '2026', total: '3', noticeRate: '67 %', reportRate: '100 %', table: `${hostile}  Dødsfald  1`, csvName: 'aarsoversigt-2026-hovedstaden.csv', dueWeekday: 'søndag', dueDate: '31.01.2027', citation: 'Cirkulære om dødsfald m.v. § 22', link: 'https://fristvagt.kf.test' },
  'backlog-summary': { areaName: hostile, count: '2', dayDa: 'mandag 30.11.2026', table: 'Journalnr.  Frist / varsel  Forfald  Dage over\nSM-9  Foreløbig underretning  01.04.2026  243', recencyDays: '2', link: 'https://fristvagt.kf.test/backlog' },
  'failure-report': { notificationId: 'n-1', journalNumber: 'SM-4', stage: 'force.report:escalation-1', recipient: 'omraade@kf.test', error: 'SMTP 550: mailbox unavailable' },
};

describe('templates', () => {
  it.each(Object.keys(TEMPLATE_SCHEMAS) as TemplateId[])('%s renders completely and escapes its input', (id) => {
    const mail = renderTemplate(id, examples[id] as never);
    for (const part of [mail.subject, mail.text, mail.html]) {
      expect(part).not.toMatch(/undefined|\{\{|\}\}|\[object Object\]/);
    }
    expect(mail.subject).not.toContain('\n');
    expect(mail.html).not.toContain('<script>');
    if (mail.html.includes('Vestre')) expect(mail.html).toContain('&lt;script&gt;');
    expect(mail.html).toMatch(/^<!doctype html>\n<html lang="da">/);
    // CPR only in the legal notice's body, never in a subject.
    expect(mail.subject).not.toMatch(/\d{6}-?\d{4}/);
    if (id !== 'preliminary-notice') expect(mail.text + mail.html).not.toMatch(/\d{6}-?\d{4}/);
  });

  it('the preliminary notice keeps the sections it is given and drops the empty ones', () => {
    const base = examples['preliminary-notice'];
    const onTime = renderTemplate('preliminary-notice', base);
    expect(onTime.text).toContain('Endelig elektronisk indberetning sendes til områdekontoret senest fredag 24.04.2026.');
    expect(onTime.text).not.toMatch(/efter fristen|forsinket|Øvrige bemærkninger/);
    expect(onTime.text).not.toMatch(/\n\n\n/);
    const late = renderTemplate('preliminary-notice', { ...base, noticeLate: 'onsdag 01.04.2026', lateReason: 'Journalen var ikke oprettet', finalDue: '', finalOverdue: 'fredag 24.04.2026', remarks: 'Pårørende er underrettet.' });
    expect(late.text).toContain('Underretningen sendes efter fristen: efter Cirkulære om dødsfald m.v. § 6, stk. 2 skulle den være sendt senest onsdag 01.04.2026.');
    expect(late.text).toContain('Årsagen til forsinkelsen: Journalen var ikke oprettet');
    expect(late.text).toContain('den skulle have foreligget senest fredag 24.04.2026 og er endnu ikke sendt');
    expect(late.text).toContain('Øvrige bemærkninger: Pårørende er underrettet.');
    expect(late.text).not.toContain('sendes til områdekontoret senest');
    expect(late.html).toContain('<strong>Underretningen sendes efter fristen:</strong>');
    expect(() => renderTemplate('preliminary-notice', { ...base, finalDue: undefined } as never)).toThrowError(/finalDue/);
  });

  it('Danish first, English second', () => {
    const { text } = renderTemplate('reminder', deadline);
    expect(text.indexOf('skal være klaret')).toBeLessThan(text.indexOf('-- English --'));
  });

  it('refuses a CPR number in a staff mail and a missing variable', () => {
    for (const typed of ['010190-4321', '0101904321', '010190 4321', '010190\u20134321']) {
      expect(() => renderTemplate('reminder', { ...deadline, explanation: `Indsat ${typed} er ...` }), typed).toThrowError(TemplateError);
    }
    expect(() => renderTemplate('reminder', { ...deadline, link: undefined } as never)).toThrowError(/link/);
  });
});
