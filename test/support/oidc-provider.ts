/**
 * A real OpenID provider (oidc-provider v8) for the SSO tests: one confidential client
 * (client_secret_basic, response type `code`, PKCE required), test accounts defined by the caller,
 * a `groups` claim next to name, e-mail and title, on 127.0.0.1 with a port of its own (port 0).
 *
 * The login is played without a browser: `login()` follows the provider's redirects with a cookie
 * jar of its own, fills in the devInteractions login form (the login is the account id, any
 * password) and the consent form, and returns the URL the provider finally redirects to, the
 * test's redirect URI, without fetching it. `cancel()` presses the login page's "Cancel" link, and
 * the provider redirects with error=access_denied.
 *
 * `setOutage()` makes the provider look down while its port stays taken (every connection dropped,
 * or 503 for everything), so a test can turn it back on at the same issuer without racing anybody
 * for the port.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
// @ts-expect-error -- oidc-provider v8 ships no type declarations (they are in @types/oidc-provider, not installed); the little used here is typed below.
import ProviderModule from 'oidc-provider';

export type AccountClaims = Record<string, unknown>;

export interface TestProviderTtl {
  /** Seconds; every default is short, a test run never needs more. */
  session?: number;
  grant?: number;
  interaction?: number;
  accessToken?: number;
  idToken?: number;
  authorizationCode?: number;
}

export interface TestProviderOptions {
  /** accountId → the claims the provider holds for that person (`sub` is the account id). */
  accounts: Record<string, AccountClaims>;
  /** The client's one registered redirect URI (the provider redirects there; nothing fetches it). */
  redirectUri: string;
  postLogoutRedirectUri?: string;
  clientId?: string;
  /** Default: random. */
  clientSecret?: string;
  /** Serve a userinfo endpoint (default true). Without one every claim goes into the ID token. */
  userinfo?: boolean;
  /**
   * Put the scope's claims (name, e-mail, groups…) into the ID token too (default false: with a
   * userinfo endpoint the ID token carries `sub` and the protocol claims only, oidc-provider's
   * conformIdTokenClaims, and the rest comes from userinfo).
   */
  claimsInIdToken?: boolean;
  /** Offer RP-initiated logout, an end_session_endpoint (default true). */
  endSession?: boolean;
  /** accountId → claims merged over the account's claims in userinfo responses only (e.g. another `sub`). */
  userinfoOverrides?: Record<string, AccountClaims>;
  ttl?: TestProviderTtl;
  /** The issuer's host name (default 127.0.0.1; the server always listens on 127.0.0.1). */
  host?: 'localhost' | '127.0.0.1';
}

export type Outage = 'drop' | 503 | null;

export interface TestProvider {
  /** http://127.0.0.1:<port> */
  readonly issuer: string;
  readonly port: number;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  /** Every request that reached the server, as "METHOD /path" (dropped ones too). */
  readonly requests: string[];
  /** The provider's own failures (its server_error event); a passing test expects none. */
  readonly errors: Error[];
  /** Logs the account in (one of `accounts`) and consents; resolves with the callback URL the provider redirects to. */
  login(authorizationUrl: string, accountId: string): Promise<URL>;
  /** Cancels at the login page; resolves with the callback URL (error=access_denied). */
  cancel(authorizationUrl: string): Promise<URL>;
  /**
   * Follows an RP-initiated logout URL, confirms the sign-out and resolves with the URL the provider
   * finally redirects to (the post-logout redirect URI), without fetching it.
   */
  logout(logoutUrl: string): Promise<URL>;
  /** 'drop': every connection is closed unanswered; 503: every request is refused; null: up again. */
  setOutage(outage: Outage): void;
  stop(): Promise<void>;
}

/** The part of oidc-provider's Provider this file uses. */
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
const Provider = ProviderModule as ProviderConstructor;

const CLAIMS = {
  // `groups` under `openid`: granted with every login, as most IdPs send groups regardless of scope.
  openid: ['sub', 'groups'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'title', 'job_title'],
  email: ['email', 'email_verified'],
};

/**
 * An in-memory adapter of this provider's own: oidc-provider's bundled MemoryAdapter keeps one
 * store for the whole process (two providers in one test file would share it) and warns on start.
 */
function memoryAdapter() {
  interface Entry { payload: Record<string, unknown>; expiresAt: number }
  const store = new Map<string, Entry>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();
  const live = (key: string): Record<string, unknown> | undefined => {
    const e = store.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return e.payload;
  };
  return class Adapter {
    constructor(private readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
      const key = this.key(id);
      store.set(key, { payload, expiresAt: Date.now() + expiresIn * 1000 });
      if (typeof payload['uid'] === 'string' && this.model === 'Session') byUid.set(payload['uid'], id);
      if (typeof payload['userCode'] === 'string') byUserCode.set(payload['userCode'], id);
      if (typeof payload['grantId'] === 'string') {
        const keys = byGrant.get(payload['grantId']) ?? new Set<string>();
        keys.add(key);
        byGrant.set(payload['grantId'], keys);
      }
    }
    async find(id: string): Promise<Record<string, unknown> | undefined> {
      return live(this.key(id));
    }
    async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      const id = byUid.get(uid);
      return id === undefined ? undefined : this.find(id);
    }
    async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
      const id = byUserCode.get(userCode);
      return id === undefined ? undefined : this.find(id);
    }
    async consume(id: string): Promise<void> {
      const p = live(this.key(id));
      if (p) p['consumed'] = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}

/** The one warning left once everything it asks for is configured: devInteractions are what the tests want. */
function constructQuietly(issuer: string, configuration: Record<string, unknown>): ProviderInstance {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: a quick start development-only feature devInteractions')) return;
    warn(...args);
  };
  try {
    return new Provider(issuer, configuration);
  } finally {
    console.warn = warn;
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startOidcProvider(opts: TestProviderOptions): Promise<TestProvider> {
  const clientId = opts.clientId ?? 'fristvagt-test';
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');
  const postLogoutRedirectUri = opts.postLogoutRedirectUri ?? new URL('/logged-out', opts.redirectUri).href;
  const ttl = { session: 600, grant: 600, interaction: 300, accessToken: 300, idToken: 300, authorizationCode: 60, ...opts.ttl };
  const requests: string[] = [];
  const errors: Error[] = [];
  let outage: Outage = null;
  const app: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};

  // The issuer names the port, so the server listens before the provider exists.
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? '?'} ${(req.url ?? '').split('?')[0]}`);
    if (outage === 'drop') {
      req.socket.destroy();
      return;
    }
    if (outage === 503 || !app.handler) {
      res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end('unavailable');
      return;
    }
    app.handler(req, res);
  });
  const port = await listen(server);
  // A browser test names the provider `localhost` so that it is another site than fristvagt on 127.0.0.1.
  const issuer = `http://${opts.host ?? '127.0.0.1'}:${port}`;

  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

  const seconds = (n: number) => () => n;
  const provider = constructQuietly(issuer, {
    adapter: memoryAdapter(),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [opts.redirectUri],
        post_logout_redirect_uris: [postLogoutRedirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
      },
    ],
    pkce: { methods: ['S256'], required: () => true },
    claims: CLAIMS,
    scopes: ['openid', 'profile', 'email'],
    conformIdTokenClaims: !(opts.claimsInIdToken ?? false),
    features: {
      devInteractions: { enabled: true },
      userinfo: { enabled: opts.userinfo ?? true },
      rpInitiatedLogout: {
        enabled: opts.endSession ?? true,
        logoutSource: async (ctx: { body: string }, form: string) => {
          ctx.body = `<!DOCTYPE html><html><body>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button></body></html>`;
        },
        postLogoutSuccessSource: async (ctx: { body: string }) => {
          ctx.body = '<!DOCTYPE html><html><body>Signed out</body></html>';
        },
      },
    },
    ttl: {
      Session: seconds(ttl.session),
      Grant: seconds(ttl.grant),
      Interaction: seconds(ttl.interaction),
      AccessToken: seconds(ttl.accessToken),
      IdToken: seconds(ttl.idToken),
      AuthorizationCode: seconds(ttl.authorizationCode),
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: { type: string; body: string }, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><body><pre id="error">${escapeHtml(String(out['error']))}: ${escapeHtml(String(out['error_description'] ?? ''))}</pre></body></html>`;
    },
    findAccount: async (_ctx: unknown, sub: string) => {
      if (!Object.hasOwn(opts.accounts, sub)) return undefined;
      return {
        accountId: sub,
        claims: async (use: string) => ({ ...opts.accounts[sub], sub, ...(use === 'userinfo' ? opts.userinfoOverrides?.[sub] : undefined) }),
      };
    },
  });
  provider.on('server_error', (_ctx: unknown, err: unknown) => {
    errors.push(err instanceof Error ? err : new Error(String(err)));
  });
  app.handler = provider.callback();

  const play = async (authorizationUrl: string, act: { login: string } | 'cancel'): Promise<URL> => {
    const target = new URL(opts.redirectUri);
    const isCallback = (u: URL) => u.origin === target.origin && u.pathname === target.pathname;
    const jar = new CookieJar();
    let next: { url: URL; body?: URLSearchParams } = { url: new URL(authorizationUrl) };
    for (let hop = 0; hop < 20; hop += 1) {
      const res = await send(jar, next);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (!location) throw new Error(`the provider redirected without a location at ${next.url.pathname}`);
        const to = new URL(location, next.url);
        if (isCallback(to)) return to;
        next = { url: to };
        continue;
      }
      const page = await res.text();
      if (res.status !== 200) throw new Error(`the provider answered ${res.status} at ${next.url.pathname}: ${textOf(page)}`);
      const prompt = /<input type="hidden" name="prompt" value="([a-z]+)"\/>/.exec(page)?.[1];
      const action = /<form autocomplete="off" action="([^"]+)" method="post">/.exec(page)?.[1];
      if (!prompt || !action) throw new Error(`the provider showed a page that is no login or consent form at ${next.url.pathname}: ${textOf(page)}`);
      if (act === 'cancel') {
        const abort = /<a href="([^"]+\/abort)">/.exec(page)?.[1];
        if (!abort) throw new Error('the interaction page has no cancel link');
        next = { url: new URL(unescapeHtml(abort), next.url) };
        continue;
      }
      const form = new URLSearchParams({ prompt });
      if (prompt === 'login') {
        form.set('login', act.login);
        form.set('password', 'any password');
      } else if (prompt !== 'consent') {
        throw new Error(`unexpected interaction prompt ${prompt}`);
      }
      next = { url: new URL(unescapeHtml(action), next.url), body: form };
    }
    throw new Error('the provider never redirected to the redirect URI (20 hops)');
  };

  const logout = async (logoutUrl: string): Promise<URL> => {
    const target = new URL(postLogoutRedirectUri);
    const jar = new CookieJar();
    let next: { url: URL; body?: URLSearchParams } = { url: new URL(logoutUrl) };
    for (let hop = 0; hop < 10; hop += 1) {
      const res = await send(jar, next);
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const to = new URL(res.headers.get('location') ?? '', next.url);
        if (to.origin === target.origin && to.pathname === target.pathname) return to;
        next = { url: to };
        continue;
      }
      const page = await res.text();
      if (res.status !== 200) throw new Error(`the provider answered ${res.status} at ${next.url.pathname}: ${textOf(page)}`);
      // The confirmation form (logoutSource's op.logoutForm, or the auto-submitted one without a session).
      const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
      if (!action) throw new Error(`the provider showed a page without a form at ${next.url.pathname}: ${textOf(page)}`);
      const form = new URLSearchParams();
      for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)) form.set(unescapeHtml(m[1] ?? ''), unescapeHtml(m[2] ?? ''));
      form.set('logout', 'yes');
      next = { url: new URL(unescapeHtml(action), next.url), body: form };
    }
    throw new Error('the provider never redirected to the post-logout redirect URI (10 hops)');
  };

  return {
    issuer,
    port,
    clientId,
    clientSecret,
    redirectUri: opts.redirectUri,
    postLogoutRedirectUri,
    requests,
    errors,
    login: async (authorizationUrl, accountId) => {
      // oidc-provider v8 answers an unknown account with a 500 (a TypeError in its consent check).
      if (!Object.hasOwn(opts.accounts, accountId)) throw new Error(`no test account ${accountId}`);
      return play(authorizationUrl, { login: accountId });
    },
    cancel: (authorizationUrl) => play(authorizationUrl, 'cancel'),
    logout,
    setOutage(o) {
      outage = o;
      // Kept-alive connections would otherwise carry requests past a 'drop' outage's start.
      if (o !== null) server.closeIdleConnections();
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** One request of the played browser: GET, or POST of a form; redirects are the caller's to follow. */
async function send(jar: CookieJar, req: { url: URL; body?: URLSearchParams }): Promise<Response> {
  const headers: Record<string, string> = {};
  const cookie = jar.header(req.url);
  if (cookie) headers['cookie'] = cookie;
  if (req.body) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(req.url, { method: req.body ? 'POST' : 'GET', headers, redirect: 'manual', ...(req.body ? { body: req.body } : {}) });
  jar.store(res, req.url);
  return res;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** A page's text, short, for an error message. */
function textOf(page: string): string {
  return unescapeHtml(page.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()).slice(0, 300);
}

/** Just enough of RFC 6265 for one provider on one origin: name, value, path, expiry. */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string; expiresAt: number | undefined }>();

  store(res: Response, url: URL): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expiresAt: number | undefined;
      for (const attr of attrs) {
        const [k = '', v = ''] = attr.split('=').map((s) => s.trim());
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age') expiresAt = Date.now() + Number(v) * 1000;
        else if (key === 'expires' && expiresAt === undefined) expiresAt = Date.parse(v);
      }
      const id = `${name};${path}`;
      if (expiresAt !== undefined && expiresAt <= Date.now()) this.cookies.delete(id);
      else this.cookies.set(id, { name, value, path, expiresAt });
    }
  }

  header(url: URL): string | undefined {
    const now = Date.now();
    const matching = [...this.cookies.values()]
      .filter((c) => (c.expiresAt === undefined || c.expiresAt > now) && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length > 0 ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}
