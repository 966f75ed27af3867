/** The one fault rule of the send paths (src/worker/delivery.ts): classification and backoff, no I/O. */
import { describe, expect, it } from 'vitest';
import { TemplateError } from '../../src/mail/render.js';
import { CircuitOpenError, classifySmtpError, MailError } from '../../src/mail/transport.js';
import { classifyFault, isFinal, notBefore, RETRY_CAP_MS, retryDelayMs, UNCLASSIFIED_LIMIT } from '../../src/worker/delivery.js';

/** What postgres.js throws (PostgresError), wrapped the way drizzle wraps a failed query. */
const pg = (code: string): Error => Object.assign(new Error('Failed query: …'), { cause: Object.assign(new Error('canceling statement due to lock timeout'), { code, severity: 'ERROR' }) });

describe('classifyFault', () => {
  it.each([
    ['55P03', 'transient'], ['40001', 'transient'], ['40P01', 'transient'], ['57P01', 'transient'], ['57014', 'transient'], ['08006', 'transient'], ['25006', 'transient'],
    ['22P02', 'permanent'], ['23505', 'permanent'], ['42601', 'permanent'],
  ])('SQLSTATE %s is %s, and its message stays out of the reason', (code, kind) => {
    const f = classifyFault(pg(code));
    expect(f.kind).toBe(kind);
    expect(f.reason).toContain(code);
    expect(f.reason).not.toContain('lock timeout');
  });

  it('treats dropped connections and SMTP 4xx as transient, SMTP 5xx and templates as permanent', () => {
    expect(classifyFault(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })).kind).toBe('transient');
    expect(classifyFault(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).kind).toBe('transient');
    expect(classifyFault(classifySmtpError({ responseCode: 451, response: '451 try later' })).kind).toBe('transient');
    expect(classifyFault(classifySmtpError({ responseCode: 550, response: '550 no such user' })).kind).toBe('permanent');
    expect(classifyFault(new TemplateError('template x: y')).kind).toBe('permanent');
    expect(classifyFault(new CircuitOpenError('smtp:25', 12345))).toMatchObject({ kind: 'unavailable', retryAt: 12345 });
  });

  it('does not take a refused STARTTLS for a refused recipient when a password is at stake', () => {
    const etls = { code: 'ETLS', responseCode: 502, response: '502 5.5.1 command not recognized' };
    expect(classifySmtpError(etls, { authWithoutTls: true })).toMatchObject({ code: 'MAIL_TRANSIENT', message: expect.stringContaining('SMTP_ALLOW_INSECURE_AUTH') });
    expect(classifySmtpError(etls).code).toBe('MAIL_TRANSIENT');
  });

  it('does not fail every mail for good when the SMTP server refuses the login (a rotated password)', () => {
    for (const err of [{ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 authentication failed' }, { code: 'EENVELOPE', responseCode: 530, response: '530 5.7.0 authentication required' }]) {
      const e = classifySmtpError(err);
      expect(e).toMatchObject({ code: 'MAIL_TRANSIENT', message: expect.stringContaining('SMTP_URL') });
      expect(classifyFault(e).kind).toBe('transient');
    }
  });

  it('retries a permission or schema error (a pending migration) like an unknown fault, not as bad data', () => {
    const pg = (code: string) => Object.assign(new Error('x'), { code, severity: 'ERROR' });
    for (const code of ['42501', '42703', '42P01']) expect(classifyFault(pg(code))).toMatchObject({ kind: 'transient', unclassified: true });
    expect(classifyFault(pg('23505')).kind).toBe('permanent');
  });

  it('retries an unknown error, but only so often before it reaches the administrators', () => {
    const f = classifyFault(new TypeError('x is undefined'));
    expect(f).toMatchObject({ kind: 'transient', unclassified: true });
    expect(isFinal(f, UNCLASSIFIED_LIMIT - 1)).toBe(false);
    expect(isFinal(f, UNCLASSIFIED_LIMIT)).toBe(true);
    // A known transient fault has no such limit: a long outage never fails a mail.
    expect(isFinal(classifyFault(new MailError('MAIL_TRANSIENT', 'SMTP 451')), 10_000)).toBe(false);
  });
});

describe('retryDelayMs and notBefore', () => {
  it('doubles per attempt within [½, 1] of the exponential, up to the cap, the same wherever computed', () => {
    for (let attempts = 1; attempts <= 40; attempts++) {
      const raw = Math.min(2_000 * 2 ** (attempts - 1), RETRY_CAP_MS);
      const d = retryDelayMs('row-a', attempts, 2_000);
      expect(d).toBeGreaterThanOrEqual(raw / 2);
      expect(d).toBeLessThanOrEqual(raw);
      expect(retryDelayMs('row-a', attempts, 2_000)).toBe(d);
    }
  });

  it('spreads rows that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, (_, i) => retryDelayMs(`row-${i}`, 3, 2_000)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('is the planned time for a row that has not failed, the backoff after its last failure otherwise', () => {
    const plannedAt = new Date('2026-01-05T07:00:00Z');
    const updatedAt = new Date('2026-01-05T07:10:00Z');
    expect(notBefore({ id: 'r', plannedAt, attempts: 0, lastError: null, updatedAt }, 2_000)).toBe(plannedAt.getTime());
    expect(notBefore({ id: 'r', plannedAt, attempts: 3, lastError: 'SMTP 451', updatedAt }, 2_000)).toBe(updatedAt.getTime() + retryDelayMs('r', 3, 2_000));
  });
});
