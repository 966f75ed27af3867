/**
 * How an audit entry is hashed, with no dependency but node:crypto: the database side
 * (src/db/audit.ts) and the offline check of an evidence pack (src/evidence/verify.ts, which must
 * not load the database driver) use these same functions.
 *
 * An entry's hash is sha256 over its hash input, the UTF-8 bytes of
 * `<previous entry's hash>` + "\n" + `<canonical JSON of the entry>`, with no trailing newline:
 * a file holding exactly those bytes gives the entry's hash under `sha256sum`.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

/** The key of a sealed personal value in a chained entry: `{"$personal": "<sha256>"}`. */
export const PERSONAL_KEY = '$personal';

/** Stable JSON: keys sorted at every level, so jsonb's own key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface HashedEntry {
  at: Date;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** The exact text an entry's hash is taken over. */
export function entryHashInput(prevHash: string, e: HashedEntry): string {
  const body = canonicalJson({ at: e.at.toISOString(), actor: e.actor, action: e.action, entityType: e.entityType, entityId: e.entityId, before: e.before ?? null, after: e.after ?? null });
  return `${prevHash}\n${body}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function entryHash(prevHash: string, e: HashedEntry): string {
  return sha256Hex(entryHashInput(prevHash, e));
}

/** The commitment stored in the chained entry: one salt per entry and field, so an unchanged value hashes alike before and after. */
export function personalDigest(salt: string, value: unknown): string {
  return sha256Hex(`${salt}\n${canonicalJson(value)}`);
}

/** Whether one side (before/after) of a chained entry holds `value`'s digest for `field`; no value: no digest there. */
export function personalSideMatches(view: unknown, field: string, salt: string, value: unknown): boolean {
  const stored = typeof view === 'object' && view !== null && !Array.isArray(view) ? (view as Record<string, unknown>)[field] : undefined;
  if (value === null || value === undefined) return stored === undefined || stored === null;
  return typeof stored === 'object' && stored !== null && (stored as Record<string, unknown>)[PERSONAL_KEY] === personalDigest(salt, value);
}
