/**
 * The UI's form fields: Danish dates (dd.mm.åååå) read on the server, and every validation message
 * the master data and token services give shown in Danish (none falls through to the generic text).
 */
import { describe, expect, it } from 'vitest';
import { formatIsoDate, parseDanishDate } from '../../src/domain/index.js';
import { areaCreate, institutionCreate, staffCreate, staffPatch } from '../../src/records/masterdata.js';
import { zodIssues } from '../../src/records/service.js';
import { tokenCreate } from '../../src/records/tokens.js';
import { dateField, issueText, parseDateField } from '../../src/ui/form.js';

describe('parseDanishDate', () => {
  it.each([
    ['24.12.2026', '2026-12-24'],
    ['2.1.2027', '2027-01-02'],
    [' 01.03.2026 ', '2026-03-01'],
    ['29.02.2028', '2028-02-29'],
  ])('reads %s as %s', (text, iso) => {
    const day = parseDanishDate(text);
    expect(day).toBeDefined();
    expect(formatIsoDate(day as number)).toBe(iso);
  });

  it.each(['30.02.2026', '29.02.2027', '31.04.2026', '00.01.2026', '01.13.2026', '2026-12-24', '24-12-2026', '24.12.26', '24/12/2026', '', '24.12.2026 10:00', '１.１.２０２６'])('refuses %j', (text) => {
    expect(parseDanishDate(text)).toBeUndefined();
  });

  it('tells an empty field from one that is not a date', () => {
    expect(parseDateField(undefined)).toBeUndefined();
    expect(parseDateField('  ')).toBeUndefined();
    expect(parseDateField('31.12.2026')).toBe('2026-12-31');
    expect(parseDateField('2026-12-31')).toBeNull();
  });

  it('draws a text field with the Danish hint, whatever the language', () => {
    for (const lang of ['da', 'en'] as const) {
      const out = dateField(lang, { name: 'abs_from_0', label: 'Fra', value: '24.12.2026', error: 'Skriv datoen' }).value;
      expect(out).toContain('type="text"');
      expect(out).toContain('id="f-abs_from_0"');
      expect(out).toContain('aria-describedby="f-abs_from_0-hint f-abs_from_0-err"');
      expect(out).toContain('aria-invalid="true"');
      // The server answers, in the page's language: no browser validation in the browser's.
      expect(out).not.toMatch(/\brequired\b|pattern=|type="date"/);
      expect(out).toContain(lang === 'da' ? 'dd.mm.åååå' : 'dd.mm.yyyy');
    }
  });
});

describe('issueText', () => {
  const generic = /^Ugyldig værdi/;
  const schemaMessages = (): string[] => {
    const bad: Array<[{ safeParse(v: unknown): { success: boolean; error?: unknown } }, unknown]> = [
      [areaCreate, {}],
      [areaCreate, { id: 'Ikke Et Id', name: '', officeEmail: 'x', directorName: 'x'.repeat(201), directorEmail: '', leadershipEmail: 'nej' }],
      [institutionCreate, { id: 'a', areaId: 'b', name: 'c', kind: 'zoo', dutyManagerEmail: 'x', extra: 1 }],
      [staffCreate, { areaId: 'a', name: 'a', email: 'a@b.dk', substituteId: 'nope', absences: [{ from: '2026-13-01', until: 'x' }] }],
      [staffPatch, { name: 'a\u0000b' }],
      [tokenCreate, { role: 'area' }],
      [tokenCreate, { role: 'reader', areaId: 'x', institutionId: 'y' }],
      [tokenCreate, { role: 'institution' }],
      [tokenCreate, { role: 'x', name: '' }],
    ];
    return bad.flatMap(([schema, body]) => {
      const r = schema.safeParse(body);
      expect(r.success).toBe(false);
      return zodIssues(r.error as never).map((i) => i.message);
    });
  };
  /** The services' own messages (src/records/masterdata.ts, tokens.ts). */
  const serviceMessages = ['is before from', 'must be an institution of area hovedstaden (the staff member\'s area)', 'must be a staff member of area hovedstaden (the staff member\'s area)', 'cannot be the staff member themself', 'already exists', 'refers to something that does not exist', 'unknown area "x"', 'unknown institution "y"'];

  it('has Danish for every message the schemas and services give', () => {
    const all = [...new Set([...schemaMessages(), ...serviceMessages])];
    expect(all.length).toBeGreaterThan(15);
    for (const m of all) expect(issueText('da', m), m).not.toMatch(generic);
    expect(issueText('da', 'Too big: expected string to have <=200 characters')).toBe('Højst 200 tegn.');
    expect(issueText('da', 'not a valid e-mail address')).toBe('Ikke en gyldig e-mailadresse.');
    expect(issueText('en', 'is before from')).toBe('Is before “from”.');
  });

  it('says "required" for a field left empty, and keeps an unknown message', () => {
    expect(issueText('da', 'not a valid e-mail address', true)).toBe('Skal udfyldes.');
    expect(issueText('da', 'must be lower-case letters, digits and dashes', true)).toBe('Skal udfyldes.');
    expect(issueText('da', 'is required for role area', true)).toBe('Skal vælges for rollen område.');
    expect(issueText('da', 'something new')).toBe('Ugyldig værdi. (something new)');
  });
});
