/**
 * Multi-row INSERTs with one parameter, for the batched write paths (record creation, the audit
 * log's batched appends).
 */
import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { rowsOf, type Executor } from './client.js';

/**
 * A multi-row INSERT with one parameter: the rows as a JSON array of positional arrays, expanded
 * by json_array_elements. Building a drizzle INSERT of 1,000 rows × 21 columns costs ~300 ms of
 * JavaScript (a query object per bound value); this costs a JSON.stringify. Keys are property
 * names; every row must carry the same keys (absent ones become NULL, not the default). jsonb
 * columns take any JSON value but a bare string (`r->>i` gives its text, which is then parsed).
 */
export async function insertJson(tx: Executor, table: PgTable, rows: ReadonlyArray<Record<string, unknown>>, returning?: readonly string[]): Promise<Array<Record<string, unknown>>> {
  const first = rows[0];
  if (!first) return [];
  const columns = getTableColumns(table);
  const props = Object.keys(first);
  const names = props.map((p) => {
    const c = columns[p];
    if (!c) throw new Error(`insertJson: ${getTableName(table)} has no column ${p}`);
    return `"${c.name}"`;
  });
  const payload = JSON.stringify(rows.map((r) => props.map((p) => r[p] ?? null)));
  // Positional arrays keep the payload small; the SELECT names each position's column.
  const select = names.map((n, i) => `(r->>${i})::${castType(columns[props[i] as string]?.getSQLType() ?? 'text')} as ${n}`).join(', ');
  const back = returning && returning.length > 0 ? ` returning ${returning.map((p) => `"${columns[p]?.name ?? p}" as "${p}"`).join(', ')}` : '';
  const query = `insert into "${getTableName(table)}" (${names.join(', ')}) select ${select} from jsonb_array_elements(`;
  return rowsOf<Record<string, unknown>>(await tx.execute(sql`${sql.raw(query)}${payload}::jsonb) AS r${sql.raw(back)}`));
}

/** Serial pseudo-types are not types a value can be cast to. */
function castType(sqlType: string): string {
  return ({ serial: 'integer', bigserial: 'bigint', smallserial: 'smallint' } as Record<string, string>)[sqlType] ?? sqlType;
}
