/**
 * The shared form fields: Danish dates and times whatever the browser's locale (parsed on the
 * server), each field's error next to it, and the services' English validation messages in Danish.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { zodIssues } from '../../src/records/service.js';
import { scheduleSetting } from '../../src/worker/settings.js';
import { DEFAULT_STAGES, notificationStageName, stageName } from '../../src/domain/index.js';
import { formatIsoDate, parseDanishDate } from '../../src/domain/index.js';
import { areaCreate, institutionCreate, staffCreate, staffPatch } from '../../src/records/masterdata.js';
import { tokenCreate } from '../../src/records/tokens.js';
import { dateField, dateTimeField, monthField, parseDateField, selectField, textField, timeField } from '../../src/ui/form-fields.js';
import { localDateTimeToIso, parseFormDate, parseFormMonth, parseFormTime, stageTitle } from '../../src/ui/format.js';
import { settingDiff } from '../../src/ui/pages/settings-diff.js';
import { formErrors, issueMessage } from '../../src/ui/issues.js';
import { errorSummary } from '../../src/ui/web.js';

describe('Danish dates and times in forms', () => {
  it('reads dd.mm.åååå (and ISO) as a day, and refuses what is no day', () => {
    expect(parseFormDate('18.11.2026')).toBe('2026-11-18');
    expect(parseFormDate('1.4.2026')).toBe('2026-04-01');
    expect(parseFormDate('01-04-2026')).toBe('2026-04-01');
    expect(parseFormDate('2026-04-01')).toBe('2026-04-01');
    expect(parseFormDate('31.02.2026')).toBeUndefined();
    expect(parseFormDate('11/18/2026')).toBeUndefined();
    expect(parseFormDate('')).toBeUndefined();
  });

  it('reads 24-hour times and Copenhagen date-times, with the offset of the day', () => {
    expect(parseFormTime('8:00')).toBe('08:00');
    expect(parseFormTime('08.30')).toBe('08:30');
    expect(parseFormTime('kl. 14:05')).toBe('14:05');
    expect(parseFormTime('24:00')).toBeUndefined();
    expect(parseFormTime('12:00 AM')).toBeUndefined();
    expect(localDateTimeToIso('18.11.2026 14:05')).toBe('2026-11-18T14:05:00.000+01:00');
    expect(localDateTimeToIso('18.11.2026 kl. 14.05')).toBe('2026-11-18T14:05:00.000+01:00');
    expect(localDateTimeToIso('01.07.2026 09:00')).toBe('2026-07-01T09:00:00.000+02:00');
    expect(localDateTimeToIso('2026-11-18T14:05')).toBe('2026-11-18T14:05:00.000+01:00');
    expect(localDateTimeToIso('2026-11-18T14:05:30')).toBe('2026-11-18T14:05:00.000+01:00');
    expect(localDateTimeToIso('2026-13-45T25:00')).toBeUndefined();
    expect(localDateTimeToIso('18.11.2026')).toBeUndefined();
  });

  it('reads and shows months as mm.åååå', () => {
    expect(parseFormMonth('11.2026')).toBe('2026-11');
    expect(parseFormMonth('1-2027')).toBe('2027-01');
    expect(parseFormMonth('2026-11')).toBe('2026-11');
    expect(parseFormMonth('13.2026')).toBeUndefined();
    expect(monthField('da', { name: 'from', label: 'Fra måned', value: '2026-11' }).value).toContain('value="11.2026"');
  });

  it('shows stored values the Danish way, the format beside the field and the error next to it', () => {
    const date = dateField('da', { name: 'expectedDate', label: 'Forventet dato', value: '2026-11-30', error: 'Er ikke en dato.' }).value;
    expect(date).toContain('type="text"');
    expect(date).toContain('value="30.11.2026"');
    expect(date).toContain('dd.mm.åååå');
    expect(date).toMatch(/aria-describedby="f-expectedDate-hint f-expectedDate-err" aria-invalid="true"/);
    expect(date).toContain('<span class="field-error" id="f-expectedDate-err">Er ikke en dato.</span>');
    expect(date).not.toMatch(/type="date"|pattern=|\srequired/);
    const dt = dateTimeField('da', { name: 'at', label: 'Tidspunkt', value: '2026-11-18T09:30:00.000Z' }).value;
    expect(dt).toContain('value="18.11.2026 10:30"');
    expect(dateTimeField('da', { name: 'at', label: 'T', value: 'i går' }).value).toContain('value="i går"');
    const time = timeField('en', { name: 'at', label: 'At', value: '08:00', hiddenLabel: true, showHint: false }).value;
    expect(time).toContain('<label for="f-at" class="visually-hidden">');
    expect(time).not.toContain('field-hint');
    const sel = selectField({ name: 'kind', label: 'Art', value: 'b', options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B' }], required: true }).value;
    expect(sel).toContain('<option value="b" selected>B</option>');
    expect(sel).toContain('aria-required="true"');
    expect(textField({ name: 'reason', label: 'Begrundelse', value: '<b>' }).value).toContain('value="&lt;b&gt;"');
  });
});

describe('validation messages in the UI', () => {
  it('says in Danish what the services say in English, naming the fields it mentions', () => {
    expect(issueMessage('da', 'is in the future')).toBe('Må ikke ligge i fremtiden.');
    expect(issueMessage('da', 'is required')).toBe('Skal udfyldes.');
    expect(issueMessage('da', 'placedAt (2026-11-18T10:00:00+01:00) is before occurredAt (2026-11-19)')).toBe('Ligger før «Tidspunkt for hændelsen» (torsdag 19.11.2026).');
    expect(issueMessage('da', 'followUpPostponedReason is required with followUpPostponedAt (only in very special cases)')).toBe('Skal udfyldes, når udsættelsen er besluttet (kun i helt særlige tilfælde, med begrundelsen noteret).');
    expect(issueMessage('da', 'transitionOwnerAssignedAt is required with transitionPlacedAt')).toBe('«Ansvarlig tildelt ved placering i udslusningsfængsel» skal udfyldes sammen med «Placeret i udslusningsfængsel».');
    expect(issueMessage('da', 'unknown institution "x"')).toBe('Ukendt institution «x».');
    expect(issueMessage('da', 'not a valid e-mail address')).toBe('Er ikke en gyldig e-mailadresse.');
    // English pages keep the meaning, in English.
    expect(issueMessage('en', 'is in the future')).toBe('Must not be in the future.');
    // Unknown messages come through unchanged rather than guessed.
    expect(issueMessage('da', 'something new')).toBe('something new');
  });

  it('knows zod’s own messages, as the settings and record schemas raise them', () => {
    const bad = scheduleSetting.safeParse({ stages: [{ id: 'reminder-x', kind: 'reminder', audience: 'responsible', workingDays: 31, at: '25:00' }], window: { from: '18:00', to: '07:00' }, noWaitRules: ['nope'] });
    expect(bad.success).toBe(false);
    const messages = zodIssues((bad as { error: z.ZodError }).error).map((i) => issueMessage('da', i.message));
    expect(messages).toEqual(expect.arrayContaining(['Må højst være 30.', 'Er ikke et klokkeslæt. Skriv tt:mm (24-timers), fx 08:00.', '«Fra kl.» skal ligge før «Til kl.».', 'Ukendt regel.']));
    const typed = z.strictObject({ n: z.number().int(), s: z.string().min(10), e: z.enum(['a', 'b']), extra: z.string() }).safeParse({ n: 'x', s: 'kort', e: 'c', other: 1 });
    const all = zodIssues((typed as { error: z.ZodError }).error).map((i) => issueMessage('da', i.message));
    expect(all).toEqual(expect.arrayContaining(['Skal være et helt tal.', 'Skal være mindst 10 tegn.', 'Vælg en af mulighederne.', 'Skal udfyldes.', 'Ukendt felt.']));
  });

  it('lists the issues above a form in the page’s language, without the API’s field names', () => {
    const summary = errorSummary('da', [{ path: 'at', message: 'is in the future' }]).value;
    expect(summary).toContain('<li>Tidspunkt: må ikke ligge i fremtiden.</li>');
    expect(summary).not.toContain('(at)');
    expect(errorSummary('en', [{ path: 'at', message: 'is in the future' }]).value).toContain('<li>When: must not be in the future.</li>');
  });
});

describe('stages and settings in plain words', () => {
  it('names a stage by what it does, under the stages in force', () => {
    expect(DEFAULT_STAGES.map((s) => stageName(s, 'da'))).toEqual(['Påmindelse 2 arbejdsdage før', 'Påmindelse 1 arbejdsdag før', 'Påmindelse på fristdagen', 'Rykker dagen efter fristen', 'Rykker 1 arbejdsdag efter overskridelsen']);
    expect(stageName({ kind: 'escalation', workingDays: 3 }, 'en')).toBe('Escalation 3 working days after the breach');
    // An administrator moved reminder-2 to three days: the outbox's stage is named after what it does now.
    const moved = () => [{ id: 'reminder-2', kind: 'reminder' as const, audience: 'responsible' as const, workingDays: 3, at: '08:00' }];
    expect(notificationStageName('cell.follow-up-conversation:reminder-2', 'da', moved)).toBe('Påmindelse 3 arbejdsdage før');
    expect(stageTitle('cell.follow-up-conversation:reminder-2', 'da')).toMatch(/^.+: Påmindelse 2 arbejdsdage før$/);
    expect(stageTitle('plan.evaluate#2:no-owner', 'da')).toMatch(/: Påmindelse \(handleplanen har ingen ansvarlig\)$/);
    expect(stageTitle('alert:area-director', 'da')).toBe('Varsel til områdedirektøren');
    expect(stageTitle('notice:preliminary', 'en')).toBe('Preliminary notice');
  });

  it('describes a change of a setting line by line', () => {
    const stages = DEFAULT_STAGES.map((s) => ({ ...s }));
    const after = stages.map((s) => (s.id === 'reminder-2' ? { ...s, workingDays: 3 } : s)).filter((s) => s.id !== 'reminder-0');
    const lines = settingDiff('da', 'schedule', { stages, window: { from: '07:00', to: '18:00' }, noWaitRules: [] }, { stages: after, window: { from: '08:00', to: '18:00' }, noWaitRules: ['incident.final-report'] });
    expect(lines).toEqual(expect.arrayContaining([
      { what: 'Standardtrin (gælder alle regler uden egne trin) › Påmindelse 2 arbejdsdage før › Arbejdsdage', kind: 'changed', before: '2', after: '3' },
      { what: 'Standardtrin (gælder alle regler uden egne trin) › Påmindelse på fristdagen', kind: 'removed', before: 'Den ansvarlige, kl. 08:00' },
      { what: 'Sendevindue (arbejdsdage) › Fra kl.', kind: 'changed', before: '07:00', after: '08:00' },
      { what: 'Rykkere sendes straks, også uden for sendevinduet, for reglerne', kind: 'added', after: 'Endelig indberetning' },
    ]));
    expect(settingDiff('da', 'closureDays', ['06-05'], ['06-05', '2026-11-19'])).toEqual([{ what: 'Lukkedage', kind: 'added', after: '19.11.2026' }]);
    expect(settingDiff('da', 'policy', {}, { 'force.report': { workingDays: 3 } })[0]).toMatchObject({ before: 'standard (1)', after: '3' });
    expect(settingDiff('da', 'digest', true, true)).toEqual([]);
  });
});

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
    expect(parseDateField('2026-12-31')).toBe('2026-12-31');
    expect(parseDateField('31.02.2026')).toBeNull();
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

describe('master data messages in Danish', () => {
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
    // A message no rule knows comes out as it came: every one here must change.
    for (const m of all) expect(issueMessage('da', m), m).not.toBe(m);
    expect(issueMessage('da', 'Too big: expected string to have <=200 characters')).toBe('Må højst være 200 tegn.');
    expect(issueMessage('da', 'not a valid e-mail address')).toBe('Er ikke en gyldig e-mailadresse.');
    expect(issueMessage('en', 'is before from')).toBe('Is before “from”.');
  });

  it('says "required" for a field left empty, and keeps a message it does not know', () => {
    const errorsOf = (message: string, value: string) => formErrors('da', [{ path: 'x', message }], (p) => p, () => value).byField.get('x');
    expect(errorsOf('not a valid e-mail address', '')).toBe('Skal udfyldes.');
    expect(errorsOf('not a valid e-mail address', 'nej')).toBe('Er ikke en gyldig e-mailadresse.');
    expect(errorsOf('must be lower-case letters, digits and dashes', '')).toBe('Skal udfyldes.');
    expect(errorsOf('is required for role area', '')).toBe('Skal vælges for rollen område.');
    expect(issueMessage('da', 'skal udfyldes')).toBe('skal udfyldes');
  });
});
