/**
 * Set-based writes with one parameter each: the rows travel as one JSON array and are expanded in
 * SQL. Building a drizzle INSERT of 1,000 rows × 21 columns costs ~300 ms of JavaScript (a query
 * object per bound value) and runs into the 65,535-parameter limit; this costs a JSON.stringify.
 * Keys are property names of the drizzle table; every row must carry the same keys (an absent one
 * becomes NULL, not the column's default). The payload is cast to jsonb, which Postgres parses
 * once; as json, every `r->>i` would parse the row's text again (3.7× slower for deadline rows).
 * The statements read like drizzle's own (`insert into "t"`), so an error log shows the same shape.
 */
import { Column, getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { rowsOf, type Executor } from './client.js';

/**
 * The payload as a dollar-quoted literal in the statement itself, not as a parameter (updateJson
 * only: its rows are ids, states and times, never personal data, and safe-error withholds the
 * literal from any error text all the same): a statement with parameters costs postgres.js (as
 * drizzle calls it, unprepared) two round trips, the first to learn the parameters' types; one
 * without is a single simple query. Outside a transaction on Postgres, updateJson prepares its
 * statement instead (the outbox's marks, a few thousand a second: 65–69 % of bare BullMQ's
 * sending rate with the literal, 80–81 % prepared, same runs). Dollar quoting needs no escaping
 * whatever the text holds (quotes, backslashes) or `standard_conforming_strings` says; the tag is
 * chosen so that it does not occur in the payload.
 */
export function jsonLiteral(payload: string): string {
  let tag = '$j$';
  for (let n = 0; payload.includes(tag); n++) tag = `$j${n}$`;
  return `${tag}${payload}${tag}`;
}

/** Serial pseudo-types are not types a value can be cast to. */
function castType(sqlType: string): string {
  return ({ serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' } as Record<string, string>)[sqlType] ?? sqlType;
}

function columnsOf(table: PgTable, props: readonly string[]): Array<{ prop: string; name: string; type: string }> {
  const columns = getTableColumns(table);
  return props.map((p) => {
    const c = columns[p];
    if (!c) throw new Error(`${getTableName(table)} has no column ${p}`);
    return { prop: p, name: c.name, type: castType(c.getSQLType()) };
  });
}

export interface InsertJsonOptions {
  /** Properties to return, under their property names. */
  returning?: readonly string[];
  /** Appended after the SELECT, e.g. `ON CONFLICT DO NOTHING` or an `ON CONFLICT … DO UPDATE`. */
  onConflict?: string;
}

/** A multi-row INSERT of `rows` (one parameter). */
export async function insertJson(tx: Executor, table: PgTable, rows: ReadonlyArray<Record<string, unknown>>, opts: InsertJsonOptions = {}): Promise<Array<Record<string, unknown>>> {
  const first = rows[0];
  if (!first) return [];
  const cols = columnsOf(table, Object.keys(first));
  const payload = JSON.stringify(rows.map((r) => cols.map((c) => r[c.prop] ?? null)));
  // Positional arrays keep the payload small; the SELECT names each position's column.
  const select = cols.map((c, i) => `(r->>${i})::${c.type} as "${c.name}"`).join(', ');
  const all = getTableColumns(table);
  const back = opts.returning && opts.returning.length > 0 ? ` returning ${opts.returning.map((p) => `"${all[p]?.name ?? p}" as "${p}"`).join(', ')}` : '';
  const query = `insert into "${getTableName(table)}" (${cols.map((c) => `"${c.name}"`).join(', ')}) select ${select} from jsonb_array_elements(`;
  // A parameter, not a literal (jsonLiteral): these rows may hold personal data (records, audit
  // values), and a failed statement's text goes into its error; its parameters are withheld.
  return rowsOf<Record<string, unknown>>(await tx.execute(sql`${sql.raw(query)}${payload}::jsonb) as r${sql.raw(`${opts.onConflict ? ` ${opts.onConflict}` : ''}${back}`)}`));
}

interface UpdateText {
  cols: Array<{ prop: string; name: string; type: string }>;
  head: string;
  tail: string;
}

/** The statement of an updateJson call, built once per table and shape: the outbox marks run it a few thousand times a second. */
const updateTexts = new WeakMap<PgTable, Map<string, UpdateText>>();

function updateText(table: PgTable, props: readonly string[], opts: { assign: readonly string[]; set?: string; where?: string }): UpdateText {
  let byShape = updateTexts.get(table);
  if (!byShape) updateTexts.set(table, (byShape = new Map()));
  const shape = JSON.stringify([props, opts.assign, opts.set ?? '', opts.where ?? '']);
  const known = byShape.get(shape);
  if (known) return known;
  const all = getTableColumns(table);
  const cols = props.map((p) => (all[p] ? columnsOf(table, [p])[0] : { prop: p, name: p, type: 'text' }) as { prop: string; name: string; type: string });
  const select = cols.map((c, i) => `(r->>${i})::${c.type} as "${c.name}"`).join(', ');
  const assign = opts.assign.map((p) => {
    const c = cols.find((x) => x.prop === p);
    if (!c || !all[p]) throw new Error(`${getTableName(table)}: cannot assign ${p}`);
    return `"${c.name}" = u."${c.name}"`;
  });
  if (opts.set) assign.push(opts.set);
  // `t.id = any(array(…))` lets the planner find the rows by the primary key whatever it guesses of
  // the JSON's length (100 rows): without it a hash join reads the whole table once it is small
  // enough to look cheap (5 ms for 50 rows of 10,000, against 0.4 ms by the index).
  const where = `t.id = u.id and t.id = any(array(select id from u))${opts.where ? ` and (${opts.where})` : ''}`;
  const text: UpdateText = {
    cols,
    head: `with u as materialized (select ${select} from jsonb_array_elements(`,
    tail: `::jsonb) as r) update "${getTableName(table)}" as t set ${assign.join(', ')} from u where ${where} returning t.id`,
  };
  byShape.set(shape, text);
  return text;
}

/**
 * A multi-row UPDATE of `table` by `id`: each row sets the listed properties; `set` adds SQL
 * assignments of its own (`version = t.version + 1`), `where` a condition on the stored row `t`
 * and the new values `u` (`t.status = u.expected`). Properties not columns of the table (like
 * `expected`) are passed as text. Returns the ids updated.
 */
export async function updateJson(tx: Executor, table: PgTable, rows: ReadonlyArray<Record<string, unknown>>, opts: { assign: readonly string[]; set?: string; where?: string }): Promise<string[]> {
  const first = rows[0];
  if (!first) return [];
  const { cols, head, tail } = updateText(table, Object.keys(first), opts);
  const payload = JSON.stringify(rows.map((r) => cols.map((c) => r[c.prop] ?? null)));
  // Outside a transaction on Postgres: a prepared statement of postgres.js's own (one per shape and
  // connection; after the first, only the payload travels and Postgres neither parses nor plans).
  const raw = (tx as { $client?: { unsafe?: (q: string, a: unknown[], o: { prepare: boolean }) => Promise<Array<{ id: string }>> } }).$client;
  if (raw && typeof raw.unsafe === 'function') return (await raw.unsafe(`${head}$1${tail}`, [payload], { prepare: true })).map((r) => r.id);
  return rowsOf<{ id: string }>(await tx.execute(sql.raw(`${head}${jsonLiteral(payload)}${tail}`))).map((r) => r.id);
}

/**
 * `select * from table where …` with drizzle's row shape (property names, Date for timestamps) but
 * without its per-value mapping: drizzle checks each field's class on every row (`is()`), which
 * cost about as much as the engine itself when planning read back 350,000 deadline rows.
 */
export async function selectRows<T extends PgTable>(tx: Executor, table: T, where: SQL): Promise<Array<T['$inferSelect']>>;
export async function selectRows<T extends PgTable, K extends keyof T['$inferSelect'] & string>(tx: Executor, table: T, where: SQL, props: readonly K[]): Promise<Array<Pick<T['$inferSelect'], K>>>;
export async function selectRows(tx: Executor, table: PgTable, where: SQL, props?: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const { list, text } = selectText(table, props);
  const rows = rowsOf<Record<string, unknown>>(await tx.execute(sql`${sql.raw(text)} ${where}`));
  for (const r of rows) {
    for (const [prop, col] of list) {
      const v = r[prop];
      if (v !== null && v !== undefined) r[prop] = col.mapFromDriverValue(v);
    }
  }
  return rows;
}

interface SelectText {
  list: Array<[string, Column]>;
  text: string;
}

const selectTexts = new WeakMap<PgTable, Map<string, SelectText>>();

function selectText(table: PgTable, props: readonly string[] | undefined): SelectText {
  let byProps = selectTexts.get(table);
  if (!byProps) selectTexts.set(table, (byProps = new Map()));
  const key = props ? props.join(',') : '*';
  let known = byProps.get(key);
  if (!known) {
    const columns = getTableColumns(table);
    const all = props ? props.map((p) => [p, columns[p]] as [string, Column | undefined]) : Object.entries(columns);
    for (const [p, c] of all) if (!c) throw new Error(`${getTableName(table)} has no column ${p}`);
    const chosen = all as Array<[string, Column]>;
    // Only the columns whose driver values differ from what postgres.js gives (timestamps arrive
    // as text under drizzle's driver settings; bigints as text) are mapped.
    const list = chosen.filter(([, c]) => c.mapFromDriverValue !== Column.prototype.mapFromDriverValue);
    known = { list, text: `select ${chosen.map(([p, c]) => `"${c.name}" as "${p}"`).join(', ')} from "${getTableName(table)}" where` };
    byProps.set(key, known);
  }
  return known;
}
