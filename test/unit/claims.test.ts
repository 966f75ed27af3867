/**
 * src/identity/claims.ts: the role map's validation and the mapping from a provider's claims to a
 * role, scope, name, e-mail and title, as tables.
 */
import { describe, expect, it } from 'vitest';
import { mapClaims, roleMapSchema, type RoleRule } from '../../src/identity/claims.js';

const RULES: RoleRule[] = roleMapSchema.parse([
  { group: 'fv-admins', role: 'admin' },
  { group: 'fv-area-east', role: 'area', areaId: 'east' },
  { group: 'fv-area-west', role: 'area', areaId: 'west' },
  { group: 'fv-area-east-2', role: 'area', areaId: 'east' },
  { group: 'fv-horserod', role: 'institution', institutionId: 'horserod' },
  { group: 'fv-vestre', role: 'institution', institutionId: 'vestre' },
  { group: 'fv-readers', role: 'reader' },
  { group: 'fv-auditors', role: 'reader' },
]);

const person = { name: 'Anna Testesen' };
const ok = (role: string, areaId: string | null = null, institutionId: string | null = null) => ({ ok: true, role, areaId, institutionId });

describe('mapClaims: role and scope from the groups claim', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['one reader group', { groups: ['fv-readers'] }, ok('reader')],
    ['groups as a single string', { groups: 'fv-horserod' }, ok('institution', null, 'horserod')],
    ['an area group', { groups: ['fv-area-west'] }, ok('area', 'west')],
    ['admin is broadest', { groups: ['fv-readers', 'fv-horserod', 'fv-area-east', 'fv-admins'] }, ok('admin')],
    ['area beats institution and reader', { groups: ['fv-readers', 'fv-vestre', 'fv-area-east'] }, ok('area', 'east')],
    ['institution beats reader', { groups: ['fv-auditors', 'fv-vestre'] }, ok('institution', null, 'vestre')],
    ['two reader groups are one role', { groups: ['fv-readers', 'fv-auditors'] }, ok('reader')],
    ['two area groups of the same area', { groups: ['fv-area-east', 'fv-area-east-2'] }, ok('area', 'east')],
    ['two areas: refused, not guessed', { groups: ['fv-area-east', 'fv-area-west'] }, { ok: false, reason: 'ambiguous' }],
    ['two institutions: refused', { groups: ['fv-horserod', 'fv-vestre', 'fv-readers'] }, { ok: false, reason: 'ambiguous' }],
    ['an ambiguity below the broadest role does not matter', { groups: ['fv-horserod', 'fv-vestre', 'fv-area-west'] }, ok('area', 'west')],
    ['an admin above two areas', { groups: ['fv-area-east', 'fv-area-west', 'fv-admins'] }, ok('admin')],
    ['no matching group', { groups: ['domain-users', 'fv-admins-old'] }, { ok: false, reason: 'no_group' }],
    ['group names match exactly (case)', { groups: ['FV-ADMINS'] }, { ok: false, reason: 'no_group' }],
    ['no groups claim', {}, { ok: false, reason: 'no_group' }],
    ['an empty groups claim', { groups: [] }, { ok: false, reason: 'no_group' }],
    ['a groups claim of another type', { groups: { admin: true } }, { ok: false, reason: 'no_group' }],
    ['non-string entries are ignored', { groups: [42, null, { g: 'fv-admins' }, 'fv-readers'] }, ok('reader')],
  ];
  it.each(cases)('%s', (_label, claims, expected) => {
    expect(mapClaims({ ...person, ...claims }, RULES)).toMatchObject(expected);
  });

  it('reads another claim when told (e.g. Entra app roles in `roles`)', () => {
    expect(mapClaims({ ...person, roles: ['fv-admins'], groups: ['fv-readers'] }, RULES, 'roles')).toMatchObject(ok('admin'));
    expect(mapClaims({ ...person, groups: ['fv-admins'] }, RULES, 'roles')).toEqual({ ok: false, reason: 'no_group' });
    // Claim names with dots (namespaced claims) are names, not paths.
    expect(mapClaims({ ...person, 'https://fristvagt.example/groups': 'fv-readers' }, RULES, 'https://fristvagt.example/groups')).toMatchObject(ok('reader'));
  });

  it('gives no scope to roles without one, and nothing beyond the outcome on refusal', () => {
    expect(mapClaims({ ...person, groups: ['fv-admins'] }, RULES)).toEqual({ ok: true, role: 'admin', areaId: null, institutionId: null, name: 'Anna Testesen', email: null, title: null });
    expect(mapClaims({ groups: ['fv-area-east', 'fv-area-west'] }, RULES)).toEqual({ ok: false, reason: 'ambiguous' });
    expect(mapClaims({ ...person, groups: ['fv-admins'] }, [])).toEqual({ ok: false, reason: 'no_group' });
  });
});

describe('mapClaims: name, e-mail and title', () => {
  const groups = ['fv-readers'];
  const cases: Array<[string, Record<string, unknown>, { name?: string; email?: string | null; title?: string | null; reason?: string }]> = [
    ['name', { name: 'Anna Testesen' }, { name: 'Anna Testesen' }],
    ['name wins over its parts', { name: 'Anna T.', given_name: 'Anna', family_name: 'Testesen' }, { name: 'Anna T.' }],
    ['given and family name', { given_name: 'Bo', family_name: 'Prøvesen' }, { name: 'Bo Prøvesen' }],
    ['only a given name', { given_name: 'Bo' }, { name: 'Bo' }],
    ['only a family name', { family_name: 'Prøvesen' }, { name: 'Prøvesen' }],
    ['preferred_username last', { preferred_username: 'bpr' }, { name: 'bpr' }],
    ['a blank name falls through', { name: '   ', given_name: 'Bo', family_name: 'Prøvesen' }, { name: 'Bo Prøvesen' }],
    ['white space and control characters tidied', { name: '  Anna\t\u0000 Testesen\n' }, { name: 'Anna Testesen' }],
    ['no name at all', { email: 'x@kriminalforsorgen.example' }, { reason: 'no_name' }],
    ['a name that is no string', { name: ['Anna'], preferred_username: 42 }, { reason: 'no_name' }],
    ['e-mail, lower-cased', { name: 'A', email: 'Anna.Testesen@Kriminalforsorgen.Example' }, { email: 'anna.testesen@kriminalforsorgen.example' }],
    ['e-mail verified', { name: 'A', email: 'a@kriminalforsorgen.example', email_verified: true }, { email: 'a@kriminalforsorgen.example' }],
    ['e-mail unverified is not taken', { name: 'A', email: 'a@kriminalforsorgen.example', email_verified: false }, { email: null }],
    ['e-mail unverified as a string', { name: 'A', email: 'a@kriminalforsorgen.example', email_verified: 'false' }, { email: null }],
    ['no e-mail', { name: 'A' }, { email: null }],
    ['an e-mail that is none', { name: 'A', email: 'not an address' }, { email: null }],
    ['title', { name: 'A', title: 'Fængselsbetjent' }, { title: 'Fængselsbetjent' }],
    ['job_title when no title', { name: 'A', job_title: 'Afdelingsleder' }, { title: 'Afdelingsleder' }],
    ['title wins over job_title', { name: 'A', title: 'Fængselsbetjent', job_title: 'Afdelingsleder' }, { title: 'Fængselsbetjent' }],
    ['no title', { name: 'A', title: '' }, { title: null }],
  ];
  it.each(cases)('%s', (_label, claims, expected) => {
    const r = mapClaims({ groups, ...claims }, RULES);
    if (expected.reason) expect(r).toEqual({ ok: false, reason: expected.reason });
    else expect(r).toMatchObject({ ok: true, ...expected });
  });

  it('checks the groups before the name', () => {
    expect(mapClaims({ groups: ['nothing'] }, RULES)).toEqual({ ok: false, reason: 'no_group' });
  });
});

describe('roleMapSchema', () => {
  const valid: unknown[][] = [
    [],
    [{ group: 'fv-admins', role: 'admin' }],
    [{ group: 'fv-readers', role: 'reader' }, { group: 'fv-area-east', role: 'area', areaId: 'east' }, { group: 'fv-horserod', role: 'institution', institutionId: 'horserod' }],
    [{ group: '7f0c1e9a-3b1d-4c2e-9a51-0d2f7c1b9e44', role: 'reader' }],
  ];
  it.each(valid.map((v) => [JSON.stringify(v), v]))('accepts %s', (_label, rules) => {
    expect(roleMapSchema.safeParse(rules).success).toBe(true);
  });

  const invalid: Array<[string, unknown, Array<{ path: Array<string | number>; message?: RegExp }>]> = [
    ['area without areaId', [{ group: 'g', role: 'area' }], [{ path: [0, 'areaId'], message: /required for role area/ }]],
    ['institution without institutionId', [{ group: 'g', role: 'institution' }], [{ path: [0, 'institutionId'], message: /required for role institution/ }]],
    ['admin with an areaId', [{ group: 'g', role: 'admin', areaId: 'east' }], [{ path: [0, 'areaId'], message: /only for role area/ }]],
    ['reader with an institutionId', [{ group: 'g', role: 'reader', institutionId: 'horserod' }], [{ path: [0, 'institutionId'], message: /only for role institution/ }]],
    ['area with an institutionId as well', [{ group: 'g', role: 'area', areaId: 'east', institutionId: 'horserod' }], [{ path: [0, 'institutionId'] }]],
    ['institution with the areaId instead', [{ group: 'g', role: 'institution', areaId: 'east' }], [{ path: [0, 'areaId'] }, { path: [0, 'institutionId'] }]],
    ['an unknown role', [{ group: 'g', role: 'superuser' }], [{ path: [0, 'role'] }]],
    ['an empty group', [{ group: '  ', role: 'reader' }], [{ path: [0, 'group'] }]],
    ['no group', [{ role: 'reader' }], [{ path: [0, 'group'] }]],
    ['an area id that is no id', [{ group: 'g', role: 'area', areaId: 'East Area' }], [{ path: [0, 'areaId'], message: /lower-case/ }]],
    ['an unknown field', [{ group: 'g', role: 'reader', area: 'east' }], [{ path: [0] }]],
    ['the second rule', [{ group: 'g', role: 'reader' }, { group: 'h', role: 'area' }], [{ path: [1, 'areaId'] }]],
    ['not a list', { group: 'g', role: 'reader' }, [{ path: [] }]],
  ];
  it.each(invalid)('refuses %s', (_label, rules, expected) => {
    const r = roleMapSchema.safeParse(rules);
    expect(r.success).toBe(false);
    const issues = (r.error?.issues ?? []).map((i) => ({ path: i.path, message: i.message }));
    for (const e of expected) {
      expect(issues.some((i) => JSON.stringify(i.path) === JSON.stringify(e.path) && (!e.message || e.message.test(i.message))), JSON.stringify(issues)).toBe(true);
    }
  });
});
