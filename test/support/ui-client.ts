import type { TestApp } from './app.js';

export interface Res {
  status: number;
  body: string;
  headers: Record<string, unknown>;
}

/** A browser in miniature: a cookie jar, the session's CSRF token, form posts. */
export class Client {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(private readonly t: TestApp) {}

  private cookieHeader(): string {
    return [...this.cookies.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: { cookies: Array<{ name: string; value: string; maxAge?: number; expires?: Date }> }): void {
    for (const c of res.cookies) {
      if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
  }

  async get(url: string): Promise<Res> {
    const res = await this.t.app.inject({ method: 'GET', url, headers: this.cookies.size > 0 ? { cookie: this.cookieHeader() } : {} });
    this.remember(res as never);
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m && this.cookies.has('fristvagt_session')) this.csrf = m[1] as string;
    return { status: res.statusCode, body: res.body, headers: res.headers };
  }

  /** A download: the body as bytes (an XLSX file, say). */
  async getBytes(url: string): Promise<{ status: number; bytes: Buffer; headers: Record<string, unknown> }> {
    const res = await this.t.app.inject({ method: 'GET', url, headers: this.cookies.size > 0 ? { cookie: this.cookieHeader() } : {} });
    return { status: res.statusCode, bytes: res.rawPayload, headers: res.headers };
  }

  /** A form post; `_csrf` is the session's unless given (null: leave it out). */
  async post(url: string, fields: Record<string, string | string[]>, csrf: string | null | undefined = undefined): Promise<Res> {
    const params = new URLSearchParams();
    const token = csrf === undefined ? this.csrf : csrf;
    if (token !== null) params.append('_csrf', token);
    for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) params.append(k, x);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.cookies.size > 0) headers['cookie'] = this.cookieHeader();
    const res = await this.t.app.inject({ method: 'POST', url, headers, payload: params.toString() });
    this.remember(res as never);
    return { status: res.statusCode, body: res.body, headers: res.headers };
  }

  async login(token: string): Promise<Res> {
    const form = await this.get('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? '';
    const res = await this.post('/login', { token }, csrf);
    if (res.status === 303) await this.get('/');
    return res;
  }
}
