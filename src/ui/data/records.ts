/** Small read helpers over the record tables: journal numbers, plan owners, record ids in an actor's scope. */
import { eq, ilike, inArray, sql, type Column, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { actionPlans, forceUses, incidents, securityCellPlacements, staff } from '../../db/schema.js';
import { KINDS, type RecordTypeName } from '../../records/kinds.js';
import { scopedInstitutions, type Actor } from '../../records/service.js';

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
    if (journal) conds.push(ilike(table.journalNumber, `%${journal.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
    return sql`SELECT ${table.id} FROM ${table} WHERE ${sql.join(conds, sql` AND `)}`;
  });
  return sql`${column} IN (${sql.join(parts, sql` UNION ALL `)})`;
}
