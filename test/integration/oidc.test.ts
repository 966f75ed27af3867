/**
 * src/identity/oidc.ts against a real OpenID provider (oidc-provider v8 on 127.0.0.1, see
 * test/support/oidc-provider.ts): the code flow with PKCE, state and nonce end to end, what is
 * refused and with which code, a provider that is down at first use, and the logout URL.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidc, DEFAULT_OIDC_SCOPES, OidcError, type OidcErrorCode, type OidcSettings } from '../../src/identity/oidc.js';
import { startOidcProvider, type TestProvider } from '../support/oidc-provider.js';

const REDIRECT_URI = 'https://fristvagt.example/auth/oidc/callback';
const POST_LOGOUT_URI = 'https://fristvagt.example/logged-out';

const ACCOUNTS = {
  anna: {
    name: 'Anna Testesen',
    email: 'anna.testesen@kriminalforsorgen.example',
    email_verified: true,
    title: 'Fængselsbetjent',
    groups: ['fv-institution-horserod', 'fv-readers'],
  },
  bo: { given_name: 'Bo', family_name: 'Prøvesen', groups: 'fv-admins' },
  // The provider's userinfo names somebody else: it must be refused, not merged.
  eve: { name: 'Eve Forfalsk', groups: ['fv-admins'] },
};
/** Every value that must never appear in an error message. */
const PERSONAL = Object.values(ACCOUNTS).flatMap((a) => Object.values(a).flat().filter((v): v is string => typeof v === 'string'));

const DISCOVERY = 'GET /.well-known/openid-configuration';

function settingsFor(p: TestProvider, over: Partial<OidcSettings> = {}): OidcSettings {
  return { issuer: p.issuer, clientId: p.clientId, clientSecret: p.clientSecret, redirectUri: p.redirectUri, postLogoutRedirectUri: p.postLogoutRedirectUri, scopes: DEFAULT_OIDC_SCOPES, ...over };
}

/** The promise rejects with an OidcError of this code whose message names no person and no secret. */
async function expectOidcError(promise: Promise<unknown>, code: OidcErrorCode, secrets: string[] = []): Promise<OidcError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OidcError);
  const e = err as OidcError;
  expect({ code: e.code, message: e.message }).toMatchObject({ code });
  for (const s of [...PERSONAL, ...secrets]) expect(e.message).not.toContain(s);
  expect(e.cause).toBeUndefined();
  return e;
}

function decodeJwtPayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

const count = (p: TestProvider, entry: string) => p.requests.filter((r) => r === entry).length;

describe('OIDC login against a real provider', () => {
  let op: TestProvider;

  beforeAll(async () => {
    op = await startOidcProvider({ accounts: ACCOUNTS, redirectUri: REDIRECT_URI, postLogoutRedirectUri: POST_LOGOUT_URI, userinfoOverrides: { eve: { sub: 'mallory' } } });
  });
  afterAll(async () => {
    expect(op.errors).toEqual([]);
    await op.stop();
  });

  it('logs a person in: subject, issuer and claims, userinfo merged over the ID token', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const auth = new URL(url);
    expect(auth.origin + auth.pathname).toBe(`${op.issuer}/auth`);
    expect(Object.fromEntries(auth.searchParams)).toMatchObject({
      client_id: op.clientId,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'openid profile email',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });

    const callback = await op.login(url, 'anna');
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(pending.state);
    expect(callback.searchParams.get('code')).toBeTruthy();

    const login = await oidc.finish(callback, pending);
    expect(login.issuer).toBe(op.issuer);
    expect(login.subject).toBe('anna');
    expect(login.claims).toMatchObject({ ...ACCOUNTS.anna, sub: 'anna', iss: op.issuer, aud: op.clientId, nonce: pending.nonce });
    // With a userinfo endpoint the ID token carries the openid scope's claims only (sub, groups;
    // oidc-provider's conformIdTokenClaims): name, e-mail and title in the result came from userinfo.
    const idToken = decodeJwtPayload(login.idToken);
    expect(idToken).toMatchObject({ sub: 'anna', iss: op.issuer, nonce: pending.nonce, groups: ACCOUNTS.anna.groups });
    for (const claim of ['name', 'email', 'title']) expect(idToken).not.toHaveProperty(claim);
  });

  it('gives every login its own state, nonce and code verifier', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const [a, b] = await Promise.all([oidc.begin(), oidc.begin()]);
    expect(a.pending.state).not.toBe(b.pending.state);
    expect(a.pending.nonce).not.toBe(b.pending.nonce);
    expect(a.pending.codeVerifier).not.toBe(b.pending.codeVerifier);
    for (const v of Object.values(a.pending)) expect(v.length).toBeGreaterThanOrEqual(43);
  });

  it('takes a single-string groups claim and a name in parts as the provider sends them', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const login = await oidc.finish(await op.login(url, 'bo'), pending);
    expect(login.subject).toBe('bo');
    expect(login.claims).toMatchObject({ groups: 'fv-admins', given_name: 'Bo', family_name: 'Prøvesen' });
  });

  it('builds the token request from the registered redirect URI, whatever host the callback arrived under', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const callback = await op.login(url, 'anna');
    const behindProxy = new URL(`http://10.0.0.7:3000/auth/oidc/callback${callback.search}`);
    await expect(oidc.finish(behindProxy, pending)).resolves.toMatchObject({ subject: 'anna' });
  });

  it("refuses a callback whose state is not this login's (another login's, missing, doubled) with OIDC_STATE", async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const first = await oidc.begin();
    const second = await oidc.begin();
    const callback = await op.login(first.url, 'anna');
    const code = callback.searchParams.get('code') ?? '';
    const secrets = [code, first.pending.state, second.pending.state, first.pending.codeVerifier];

    // The first login's callback replayed into the second login.
    await expectOidcError(oidc.finish(callback, second.pending), 'OIDC_STATE', secrets);
    const noState = new URL(callback);
    noState.searchParams.delete('state');
    await expectOidcError(oidc.finish(noState, first.pending), 'OIDC_STATE', secrets);
    const doubled = new URL(callback);
    doubled.searchParams.append('state', second.pending.state);
    await expectOidcError(oidc.finish(doubled, first.pending), 'OIDC_STATE', secrets);
    await expectOidcError(oidc.finish(callback, { ...first.pending, state: '' }), 'OIDC_STATE', secrets);
    await expectOidcError(oidc.finish(callback, { ...first.pending, nonce: '' }), 'OIDC_STATE', secrets);
    await expectOidcError(oidc.finish(callback, { ...first.pending, codeVerifier: '' }), 'OIDC_STATE', secrets);

    // None of those reached the token endpoint: the code still works for its own login, once.
    await expect(oidc.finish(callback, first.pending)).resolves.toMatchObject({ subject: 'anna' });
    const replay = await expectOidcError(oidc.finish(callback, first.pending), 'OIDC_PROVIDER', secrets);
    expect(replay.oauthError).toBe('invalid_grant');
  });

  it('refuses a wrong PKCE code verifier and a wrong nonce with OIDC_PROVIDER', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const a = await oidc.begin();
    const callbackA = await op.login(a.url, 'anna');
    const pkce = await expectOidcError(oidc.finish(callbackA, { ...a.pending, codeVerifier: (await oidc.begin()).pending.codeVerifier }), 'OIDC_PROVIDER', [a.pending.codeVerifier]);
    expect(pkce.oauthError).toBe('invalid_grant');

    const b = await oidc.begin();
    const callbackB = await op.login(b.url, 'anna');
    const nonce = await expectOidcError(oidc.finish(callbackB, { ...b.pending, nonce: 'not-the-nonce-sent' }), 'OIDC_PROVIDER', [b.pending.nonce]);
    expect(nonce.reason).toBe('OAUTH_JWT_CLAIM_COMPARISON_FAILED');
  });

  it("refuses a callback naming another issuer (RFC 9207 iss, mix-up) with OIDC_PROVIDER before the token request", async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const callback = await op.login(url, 'anna');
    expect(callback.searchParams.get('iss')).toBe(op.issuer);
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://idp.attacker.example');
    const err = await expectOidcError(oidc.finish(mixedUp, pending), 'OIDC_PROVIDER', ['attacker']);
    expect(err.reason).toBe('OAUTH_INVALID_RESPONSE');
    await expect(oidc.finish(callback, pending)).resolves.toMatchObject({ subject: 'anna' });
  });

  it("refuses a userinfo response about somebody else than the ID token's subject", async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const err = await expectOidcError(oidc.finish(await op.login(url, 'eve'), pending), 'OIDC_PROVIDER', ['mallory']);
    expect(err.message).toContain('userinfo');
  });

  it('reports a cancelled login (error=access_denied) as OIDC_DENIED, and a forged one as OIDC_STATE', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const callback = await op.cancel(url);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(pending.state);
    const err = await expectOidcError(oidc.finish(callback, pending), 'OIDC_DENIED');
    expect(err.oauthError).toBe('access_denied');
    // error_description is the provider's free text: not in the message.
    expect(err.message).not.toContain(callback.searchParams.get('error_description') ?? '?');

    const other = await oidc.begin();
    await expectOidcError(oidc.finish(callback, other.pending), 'OIDC_STATE');
    // An error code is repeated only when it is a known one: the parameter is free text.
    for (const text of ['anna.testesen@kriminalforsorgen.example', 'Anna']) {
      const unsafe = new URL(callback);
      unsafe.searchParams.set('error', text);
      const e = await expectOidcError(oidc.finish(unsafe, pending), 'OIDC_DENIED');
      expect(e.oauthError).toBeUndefined();
    }
  });

  it('makes the logout URL: end_session_endpoint with post_logout_redirect_uri, which the provider accepts', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const login = await oidc.finish(await op.login(url, 'anna'), pending);

    const logout = new URL((await oidc.logoutUrl(login.idToken)) ?? '');
    expect(logout.origin + logout.pathname).toBe(`${op.issuer}/session/end`);
    expect(Object.fromEntries(logout.searchParams)).toEqual({ client_id: op.clientId, post_logout_redirect_uri: POST_LOGOUT_URI, id_token_hint: login.idToken });
    // The provider takes it (the post-logout URI is registered) and sends the browser back there.
    const back = await op.logout(logout.href);
    expect(back.origin + back.pathname).toBe(POST_LOGOUT_URI);

    const bare = new URL((await oidc.logoutUrl(undefined)) ?? '');
    expect(Object.fromEntries(bare.searchParams)).toEqual({ client_id: op.clientId, post_logout_redirect_uri: POST_LOGOUT_URI });
  });

  it('refuses an http issuer unless allowInsecureHttp is given, before any request', async () => {
    const before = op.requests.length;
    const oidc = createOidc(settingsFor(op));
    const err = await expectOidcError(oidc.begin(), 'OIDC_CONFIG');
    expect(err.reason).toBe('OAUTH_HTTP_REQUEST_FORBIDDEN');
    await expectOidcError(oidc.logoutUrl(undefined), 'OIDC_CONFIG');
    expect(op.requests.length).toBe(before);
    await expectOidcError(createOidc(settingsFor(op), { allowInsecureHttp: false }).begin(), 'OIDC_CONFIG');
  });

  it('refuses settings that are no URLs with OIDC_CONFIG', () => {
    expect(() => createOidc(settingsFor(op, { issuer: 'not a url' }))).toThrow(OidcError);
    expect(() => createOidc(settingsFor(op, { redirectUri: '/relative' }))).toThrow(/redirect URI is not a valid URL/);
  });

  it('plays only the accounts it was given', async () => {
    const { url } = await createOidc(settingsFor(op), { allowInsecureHttp: true }).begin();
    await expect(op.login(url, 'nobody')).rejects.toThrow(/no test account/);
  });

  it("adds the openid scope when the configured scopes lack it", async () => {
    const oidc = createOidc(settingsFor(op, { scopes: ' profile  email ' }), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    expect(new URL(url).searchParams.get('scope')).toBe('openid profile email');
    await expect(oidc.finish(await op.login(url, 'anna'), pending)).resolves.toMatchObject({ subject: 'anna' });
  });
});

describe('a provider without userinfo and without logout', () => {
  let op: TestProvider;

  beforeAll(async () => {
    op = await startOidcProvider({ accounts: ACCOUNTS, redirectUri: REDIRECT_URI, userinfo: false, endSession: false });
  });
  afterAll(async () => {
    expect(op.errors).toEqual([]);
    await op.stop();
  });

  it('takes the claims from the ID token alone', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const login = await oidc.finish(await op.login(url, 'anna'), pending);
    expect(login.subject).toBe('anna');
    expect(login.claims).toMatchObject(ACCOUNTS.anna);
    expect(decodeJwtPayload(login.idToken)).toMatchObject({ groups: ACCOUNTS.anna.groups });
    expect(op.requests.some((r) => r.startsWith('GET /me'))).toBe(false);
  });

  it('has no logout URL', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    await expect(oidc.logoutUrl(undefined)).resolves.toBeUndefined();
  });
});

describe('a provider that is down', () => {
  let op: TestProvider;

  beforeAll(async () => {
    op = await startOidcProvider({ accounts: ACCOUNTS, redirectUri: REDIRECT_URI });
  });
  afterAll(async () => {
    expect(op.errors).toEqual([]);
    await op.stop();
  });

  it('fails with OIDC_UNAVAILABLE while down at first use, and works once it is up, discovering once', async () => {
    op.setOutage('drop');
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    // Concurrent callers share the one discovery attempt and its failure.
    const [a, b] = await Promise.allSettled([oidc.begin(), oidc.begin()]);
    for (const r of [a, b]) expect(r.status === 'rejected' && r.reason instanceof OidcError && r.reason.code).toBe('OIDC_UNAVAILABLE');
    expect(count(op, DISCOVERY)).toBe(1);
    await expectOidcError(oidc.logoutUrl(undefined), 'OIDC_UNAVAILABLE');

    op.setOutage(503);
    const refused = await expectOidcError(oidc.begin(), 'OIDC_UNAVAILABLE');
    expect(refused.message).toContain('503');

    op.setOutage(null);
    const before = count(op, DISCOVERY);
    const { url, pending } = await oidc.begin();
    await oidc.begin();
    await oidc.logoutUrl(undefined);
    expect(count(op, DISCOVERY)).toBe(before + 1);
    await expect(oidc.finish(await op.login(url, 'anna'), pending)).resolves.toMatchObject({ subject: 'anna' });
    expect(count(op, DISCOVERY)).toBe(before + 1);
  });

  it('fails with OIDC_UNAVAILABLE when the provider goes down between begin and finish; the same callback works after', async () => {
    const oidc = createOidc(settingsFor(op), { allowInsecureHttp: true });
    const { url, pending } = await oidc.begin();
    const callback = await op.login(url, 'anna');
    op.setOutage('drop');
    try {
      await expectOidcError(oidc.finish(callback, pending), 'OIDC_UNAVAILABLE', [callback.searchParams.get('code') ?? '']);
    } finally {
      op.setOutage(null);
    }
    await expect(oidc.finish(callback, pending)).resolves.toMatchObject({ subject: 'anna' });
  });

  it('fails with OIDC_UNAVAILABLE when nothing listens at the issuer', async () => {
    // A port that was free a moment ago; connecting to it is refused.
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const { port: p } = s.address() as { port: number };
        s.close(() => resolve(p));
      });
    });
    const oidc = createOidc(settingsFor(op, { issuer: `http://127.0.0.1:${port}` }), { allowInsecureHttp: true });
    const err = await expectOidcError(oidc.begin(), 'OIDC_UNAVAILABLE');
    expect(err.reason).toBe('ECONNREFUSED');
    // Not kept: the next call tries again (and fails again, nobody is there).
    await expectOidcError(oidc.begin(), 'OIDC_UNAVAILABLE');
  });
});
