/**
 * `fristvagt evidence verify --database`: the office's side of the proof. The offline check shows a
 * pack is consistent in itself; this shows it is the office's: the whole audit chain verifies, and
 * every entry the pack names, the export entry first, is in the log with the hash the pack gives.
 */
import { inArray } from 'drizzle-orm';
import { verifyAudit } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { auditLog } from '../db/schema.js';
import type { PackReport } from './verify.js';

export interface DatabaseCheck {
  ok: boolean;
  problems: string[];
  /** Entries of the chain verified. */
  checked: number;
}

export async function checkPackAgainstDatabase(db: Db, report: PackReport, hashes: ReadonlyMap<number, string>): Promise<DatabaseCheck> {
  const problems: string[] = [];
  const chain = await verifyAudit(db);
  if (!chain.ok) problems.push(`the database's audit chain is broken at entry #${chain.brokenAt?.id ?? '?'}: ${chain.brokenAt?.reason ?? ''}`);
  const ids = [...hashes.keys()];
  const rows = ids.length === 0 ? [] : await db.select({ id: auditLog.id, hash: auditLog.hash }).from(auditLog).where(inArray(auditLog.id, ids));
  const stored = new Map(rows.map((r) => [r.id, r.hash]));
  for (const [id, hash] of [...hashes].sort(([a], [b]) => a - b)) {
    const what = id === report.head?.id ? `export entry #${id}` : `audit entry #${id}`;
    const inLog = stored.get(id);
    if (inLog === undefined) problems.push(`${what}: not in this database's audit log`);
    else if (inLog !== hash) problems.push(`${what}: the log has hash ${inLog}, the pack ${hash}`);
  }
  return { ok: problems.length === 0, problems, checked: chain.checked };
}
