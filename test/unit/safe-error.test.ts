/**
 * What an error may say when it leaves the process: drizzle's parameter list, postgres.js's
 * `detail`/`where`/`parameters` and values quoted by data-exception messages never; the name, the
 * codes, the constraint and a cleaned message always. Also through the logger's serializer.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { createLogger } from '../../src/logger.js';
import { describeError, redactInPlace, safeError, safeText } from '../../src/safe-error.js';

const NAME = 'Jens Testesen';
const TEXT = 'Sagde at han ville tale med sin advokat';

/** Shaped as drizzle-orm 0.45 and postgres.js 3.4 build them. */
class PostgresError extends Error {
  constructor(fields: Record<string, unknown>) {
    super(fields['message'] as string);
    this.name = 'PostgresError';
    Object.assign(this, fields);
  }
}
class DrizzleQueryError extends Error {
  constructor(
    public query: string,
    public params: unknown[],
    cause?: unknown,
  ) {
    super(`Failed query: ${query}\nparams: ${params}`);
    this.cause = cause;
  }
}

function uniqueViolation(): DrizzleQueryError {
  const pg = new PostgresError({ message: 'duplicate key value violates unique constraint "incidents_journal_number_key"', code: '23505', detail: `Key (journal_number)=(${NAME}) already exists.`, where: `PL/pgSQL function x() line 3, ${TEXT}`, constraint_name: 'incidents_journal_number_key', table_name: 'incidents', query: 'insert into incidents …', parameters: [NAME, TEXT] });
  return new DrizzleQueryError('insert into "incidents" ("journal_number", "inmate_name", "description") values ($1, $2, $3)', ['K-1', NAME, TEXT], pg);
}

describe('safeError', () => {
  it('keeps the kind, the codes, the constraint and the statement, and nothing the query carried', () => {
    const out = safeError(uniqueViolation());
    const text = JSON.stringify(out);
    expect(text).not.toContain(NAME);
    expect(text).not.toContain(TEXT);
    expect(text).not.toContain('params:');
    expect(out.name).toBe('DrizzleQueryError');
    expect(out.message).toBe('Failed query: insert into "incidents" ("journal_number", "inmate_name", "description") values ($1, $2, $3) [parameters withheld]');
    expect(out.cause).toMatchObject({ name: 'PostgresError', code: '23505', constraint: 'incidents_journal_number_key', table: 'incidents', message: 'duplicate key value violates unique constraint "incidents_journal_number_key"' });
  });

  it("withholds a bulk update's dollar-quoted rows from the statement text, whatever tag they carry", () => {
    const text = 'Failed query: with u as materialized (select (r->>0)::uuid as "id" from jsonb_array_elements($j$[["a","Jens Hansen"]]$j$::jsonb) as r) update "notifications" as t set x = 1';
    expect(safeText(text)).not.toContain('Jens');
    expect(safeText(text)).toContain('[payload withheld]::jsonb) as r) update "notifications"');
    // A payload holding `$j$` gets another tag; an inner `$j$` does not end the withholding early.
    const inner = 'Failed query: select $j0$[["x $j$ Jens Hansen"]]$j0$::jsonb';
    expect(safeText(inner)).not.toContain('Jens');
    // Cut off mid-literal (a bounded message): the rest is withheld too.
    expect(safeText('Failed query: select $j$[["Jens Hansen')).not.toContain('Jens');
  });

  it('withholds the values a data-exception message quotes, and masks CPR numbers anywhere', () => {
    const e = new PostgresError({ message: `invalid input syntax for type uuid: "${NAME}"`, code: '22P02' });
    expect(safeError(e).message).toBe('invalid input syntax for type uuid: "[withheld]"');
    expect(safeText('lookup of 010203-1234 failed')).not.toContain('010203-1234');
  });

  it('describes an error for a person in one line, and rewrites one in place for BullMQ', () => {
    expect(describeError(uniqueViolation())).toBe('Failed query: insert into "incidents" ("journal_number", "inmate_name", "description") values ($1, $2, $3) [parameters withheld]: duplicate key value violates unique constraint "incidents_journal_number_key" (23505)');
    const e = redactInPlace(uniqueViolation());
    expect(e).toBeInstanceOf(DrizzleQueryError);
    expect(`${e.message}\n${e.stack}`).not.toContain(NAME);
    expect(`${e.message}\n${e.stack}`).not.toContain('params:');
  });

  it('is what the logger writes for `err`, and message strings lose the parameter list too', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    log.error({ err: uniqueViolation() }, 'unhandled error');
    log.warn({ err: { message: `Failed query: select 1\nparams: ${NAME}` } }, 'legacy shape');
    log.error(uniqueViolation());
    log.error(`Failed query: select 1\nparams: ${NAME},${TEXT}`);
    const all = lines.join('');
    expect(lines).toHaveLength(4);
    expect(all).not.toContain(NAME);
    expect(all).not.toContain(TEXT);
    expect(all).not.toContain('params:');
    expect(all).toContain('23505');
  });
});

describe('isDatabaseUnavailable', () => {
  it('knows a dropped or unreachable database, wherever drizzle wrapped it', () => {
    const closed = Object.assign(new Error('write CONNECTION_CLOSED 127.0.0.1:5432'), { code: 'CONNECTION_CLOSED' });
    expect(isDatabaseUnavailable(new DrizzleQueryError('select 1', [], closed))).toBe(true);
    expect(isDatabaseUnavailable(new PostgresError({ message: 'terminating connection due to administrator command', code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(new PostgresError({ message: 'the database system is starting up', code: '57P03' }))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(new PostgresError({ message: 'connection failure', code: '08006' }))).toBe(true);
    expect(isDatabaseUnavailable(uniqueViolation())).toBe(false);
    expect(isDatabaseUnavailable(new Error('x'))).toBe(false);
  });
});

describe('mail addresses', () => {
  it('are masked in text bound for a log line, as an SMTP reply quotes them back', () => {
    const t = safeText('SMTP 550: 550 5.1.1 <jens.testesen@kriminalforsorgen.dk>: Recipient address rejected; rejected: anna.hansen@kf.test');
    expect(t).not.toMatch(/jens|testesen|anna|hansen/);
    expect(t).toContain('[address]');
  });
});

