/** Small read helpers over the record tables: journal numbers, plan owners, record ids in an actor's scope. */
import { and, asc, eq, ilike, inArray, sql, type Column, type SQL } from 'drizzle-orm';
import { normaliseCpr } from '../../domain/index.js';
import type { Executor } from '../../db/client.js';
import { actionPlans, forceUses, incidents, securityCellPlacements, staff } from '../../db/schema.js';
import { KINDS, type RecordTypeName } from '../../records/kinds.js';
import { ServiceError } from '../../records/errors.js';
import { mayseeCpr, scopedInstitutions, type Actor } from '../../records/service.js';

export const RECORD_TABLES = [
  ['incident', incidents],
  ['security_cell_placement', securityCellPlacements],
  ['force_use', forceUses],
  ['action_plan', actionPlans],
] as const;

export interface RecordInfo {
  type: RecordTypeName;
  journalNumber: string;
  institutionId: string;
  ownerName: string | null;
  closed: boolean;
}

/** Journal number (and plan owner) of each record id; ids that are not found are left out. */
export async function recordInfo(db: Executor, refs: Array<{ recordType: RecordTypeName; recordId: string }>): Promise<Map<string, RecordInfo>> {
  const out = new Map<string, RecordInfo>();
  for (const [type, table] of RECORD_TABLES) {
    const ids = [...new Set(refs.filter((r) => r.recordType === type).map((r) => r.recordId))];
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      if (type === 'action_plan') {
        const rows = await db
          .select({ id: actionPlans.id, journalNumber: actionPlans.journalNumber, institutionId: actionPlans.institutionId, ownerName: staff.name, closedAt: actionPlans.closedAt })
          .from(actionPlans)
          .leftJoin(staff, eq(staff.id, actionPlans.ownerId))
          .where(inArray(actionPlans.id, chunk));
        for (const r of rows) out.set(r.id, { type, journalNumber: r.journalNumber, institutionId: r.institutionId, ownerName: r.ownerName, closed: r.closedAt !== null });
      } else {
        const rows = await db.select({ id: table.id, journalNumber: table.journalNumber, institutionId: table.institutionId, closedAt: table.closedAt }).from(table).where(inArray(table.id, chunk));
        for (const r of rows) out.set(r.id, { type, journalNumber: r.journalNumber, institutionId: r.institutionId, ownerName: null, closed: r.closedAt !== null });
      }
    }
  }
  return out;
}

export function recordHref(type: RecordTypeName, id: string): string {
  return `/records/${KINDS[type].collection}/${encodeURIComponent(id)}`;
}

/**
 * A SQL condition "this record id belongs to a record the actor may read" (undefined: everything),
 * optionally narrowed to journal numbers containing `journal`.
 */
export async function recordScopeCondition(db: Executor, actor: Actor, column: Column | SQL, journal?: string): Promise<SQL | undefined> {
  const allowed = await scopedInstitutions(db, actor, {});
  if (allowed === undefined && !journal) return undefined;
  if (allowed !== undefined && allowed.length === 0) return sql`false`;
  const parts = RECORD_TABLES.map(([, table]) => {
    const conds: SQL[] = [];
    if (allowed !== undefined) conds.push(inArray(table.institutionId, allowed));
    if (journal) conds.push(ilike(table.journalNumber, containsPattern(journal)));
    return sql`SELECT ${table.id} FROM ${table} WHERE ${sql.join(conds, sql` AND `)}`;
  });
  return sql`${column} IN (${sql.join(parts, sql` UNION ALL `)})`;
}

/** An ILIKE pattern for "contains `text`" (its own %, _ and backslash taken literally). */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface PersonMatch {
  recordType: RecordTypeName;
  recordId: string;
  journalNumber: string;
  institutionId: string;
  inmateName: string | null;
  closed: boolean;
}

export const PERSON_SEARCH_LIMIT = 50;

/**
 * Records in the actor's scope whose inmate's name contains `text`, or whose CPR number is `text`
 * (with or without the dash): only for the roles that may see names and CPR numbers.
 */
export async function findRecordsByPerson(db: Executor, actor: Actor, text: string): Promise<{ items: PersonMatch[]; more: boolean }> {
  if (!mayseeCpr(actor)) throw new ServiceError('FORBIDDEN', `${actor.role} tokens may not search by name or CPR number`);
  const allowed = await scopedInstitutions(db, actor, {});
  if (allowed !== undefined && allowed.length === 0) return { items: [], more: false };
  const cpr = normaliseCpr(text);
  const out: PersonMatch[] = [];
  for (const [type, table] of RECORD_TABLES) {
    const conds: SQL[] = [cpr ? eq(table.cpr, cpr) : ilike(table.inmateName, containsPattern(text))];
    if (allowed !== undefined) conds.push(inArray(table.institutionId, allowed));
    const rows = await db.select({ id: table.id, journalNumber: table.journalNumber, institutionId: table.institutionId, inmateName: table.inmateName, closedAt: table.closedAt }).from(table).where(and(...conds)).orderBy(asc(table.journalNumber)).limit(PERSON_SEARCH_LIMIT + 1);
    for (const r of rows) out.push({ recordType: type, recordId: r.id, journalNumber: r.journalNumber, institutionId: r.institutionId, inmateName: r.inmateName, closed: r.closedAt !== null });
  }
  out.sort((a, b) => a.journalNumber.localeCompare(b.journalNumber, 'da', { numeric: true }));
  return { items: out.slice(0, PERSON_SEARCH_LIMIT), more: out.length > PERSON_SEARCH_LIMIT };
}
