/**
 * Data retention: a record closed more than FRISTVAGT_RETENTION_YEARS ago loses what identifies
 * the inmate — name, CPR number, free-text description — while everything the statistics and the
 * legal history need (dates, kinds, categories, deadlines and their statuses, journal number,
 * institution) stays. Each anonymisation is one transaction with one audit entry, and a record
 * with nothing left to remove is never touched again, so running it twice changes nothing.
 *
 * The archived preliminary notice (notice_archive.mime, the message as sent) is erased with them;
 * its hash, Message-ID and the server's reply stay.
 *
 * The audit log's earlier entries of the record (`<type>.create`, `.update`, `.event.*`) hold only
 * salted digests of these values; the values themselves (in `audit_personal`) are erased in the
 * same transaction, and the chain still verifies.
 */
import { and, eq, exists, inArray, isNotNull, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import { appendAudit, erasePersonal } from '../db/audit.js';
import type { Db, Executor } from '../db/client.js';
import { actionPlans, caughtMail, deadlines, forceUses, incidents, noticeArchive, notifications, securityCellPlacements } from '../db/schema.js';
import { KINDS, PERSONAL_FIELDS, personalFields, type AnyRow, type PersonalChildText, type RecordTypeName } from './kinds.js';

/** What a reason becomes: the fact that a reason was given is part of the legal record (a moved follow-up needs one), its wording is not. */
export const ANONYMISED_TEXT = '[anonymiseret]';
/** How removed values appear in the audit entry's before-view: that there was one, never what it was. */
export const REMOVED_MARK = '[removed]';

const TABLES = {
  incident: incidents,
  security_cell_placement: securityCellPlacements,
  force_use: forceUses,
  action_plan: actionPlans,
} as const;

const TYPES = Object.keys(TABLES) as RecordTypeName[];

export interface RetentionOptions {
  now: Date;
  /** Whole years after closing; the record is expired once closedAt + years is before now. */
  years: number;
}

export interface ExpiredRecord {
  type: RecordTypeName;
  id: string;
  journalNumber: string;
  closedAt: Date;
}

/** now minus `years` calendar years (29 February falls on 1 March). */
export function retentionCutoff(now: Date, years: number): Date {
  if (!Number.isInteger(years) || years < 1) throw new RangeError('retention years must be a whole number of at least 1');
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return cutoff;
}

/** A child row's text still as written (not yet replaced). */
function childStillPersonal(c: PersonalChildText): SQL {
  return and(isNotNull(c.table[c.column]), ne(c.table[c.column], ANONYMISED_TEXT)) as SQL;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the four record tables share these columns.
function stillPersonal(type: RecordTypeName, t: any, db: Executor): SQL {
  const fields = PERSONAL_FIELDS[type];
  const conds: SQL[] = fields.clear.map((f) => isNotNull(t[f]));
  for (const f of fields.replace) conds.push(and(isNotNull(t[f]), ne(t[f], ANONYMISED_TEXT)) as SQL);
  for (const c of fields.children) conds.push(exists(db.select({ one: sql`1` }).from(c.table).where(and(eq(c.table[c.parent], t.id), childStillPersonal(c)))));
  // The archived preliminary notice (the message as sent names the inmate and gives the CPR number).
  conds.push(exists(db.select({ one: sql`1` }).from(noticeArchive).where(and(eq(noticeArchive.recordType, type), eq(noticeArchive.recordId, t.id), isNotNull(noticeArchive.mime)))));
  return or(...conds) as SQL;
}

/** Closed before the cutoff and still holding personal data, oldest first. */
export async function findExpired(db: Executor, opts: RetentionOptions): Promise<ExpiredRecord[]> {
  const cutoff = retentionCutoff(opts.now, opts.years);
  const out: ExpiredRecord[] = [];
  for (const type of TYPES) {
    const t = TABLES[type];
    const rows = await db
      .select({ id: t.id, journalNumber: t.journalNumber, closedAt: t.closedAt })
      .from(t)
      .where(and(isNotNull(t.closedAt), lt(t.closedAt, cutoff), stillPersonal(type, t, db)));
    for (const r of rows) out.push({ type, id: r.id, journalNumber: r.journalNumber, closedAt: r.closedAt as Date });
  }
  return out.sort((a, b) => a.closedAt.getTime() - b.closedAt.getTime() || a.id.localeCompare(b.id));
}

function auditView(type: RecordTypeName, row: AnyRow): Record<string, unknown> {
  return KINDS[type].toApi(row, { showCpr: false, verbatimText: true });
}

/** The before-view without the personal data: each removed field says only that it held something. */
function redactedView(type: RecordTypeName, row: AnyRow): Record<string, unknown> {
  const view = auditView(type, row);
  for (const f of personalFields(type)) {
    if (view[f] !== null && view[f] !== undefined && view[f] !== ANONYMISED_TEXT) view[f] = REMOVED_MARK;
  }
  return view;
}

/** Anonymises one record inside its own transaction; false when another run got there first or it no longer qualifies. */
async function anonymiseOne(db: Db, rec: ExpiredRecord, cutoff: Date, now: Date, actor: string): Promise<boolean> {
  const kind = KINDS[rec.type];
  const t = TABLES[rec.type];
  return db.transaction(async (tx) => {
    // Locked and re-checked: two workers (or a worker and the CLI) may run this at once.
    const locked = await tx
      .select({ id: t.id })
      .from(t)
      .where(and(eq(t.id, rec.id), isNotNull(t.closedAt), lt(t.closedAt, cutoff), stillPersonal(rec.type, t, tx)))
      .for('update');
    if (locked.length === 0) return false;
    const [before] = await kind.load(tx, [rec.id]);
    if (!before) return false;
    const set: Record<string, unknown> = {};
    for (const f of PERSONAL_FIELDS[rec.type].clear) set[f] = null;
    const replacedTexts: string[] = [];
    for (const f of PERSONAL_FIELDS[rec.type].replace) {
      const old = (before as unknown as Record<string, unknown>)[f];
      set[f] = old === null || old === undefined ? null : ANONYMISED_TEXT;
      // Trimmed: the engine quotes the reason trimmed (and an integration may have written spaces).
      if (typeof old === 'string' && old !== ANONYMISED_TEXT && old.trim().length > 0) replacedTexts.push(old.trim());
    }
    await tx.update(t).set(set).where(eq(t.id, rec.id));
    // Reasons in the record's history (delay notices, reclassifications): the fact stays, the wording goes.
    for (const c of PERSONAL_FIELDS[rec.type].children) {
      const texts = (await tx.select({ text: c.table[c.column] }).from(c.table).where(and(eq(c.table[c.parent], rec.id), childStillPersonal(c)))) as Array<{ text: string }>;
      for (const { text } of texts) if (text.trim().length > 0) replacedTexts.push(text.trim());
      await tx.update(c.table).set({ [c.column]: ANONYMISED_TEXT }).where(and(eq(c.table[c.parent], rec.id), childStillPersonal(c)));
    }
    // Explanations quote a postponement reason verbatim, in parentheses; only that quote is
    // replaced (a reason such as "a" must not take every "a" of the explanation with it).
    // Statuses and dates are left as they are.
    for (const text of replacedTexts) {
      await tx
        .update(deadlines)
        .set({ explanation: sql`replace(${deadlines.explanation}, ${`(${text})`}, ${`(${ANONYMISED_TEXT})`})` })
        .where(and(eq(deadlines.recordType, rec.type), eq(deadlines.recordId, rec.id)));
    }
    // The built-in mail catcher keeps copies of sent mail; the preliminary notice names the inmate and gives the CPR number.
    const sent = tx.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.recordType, rec.type), eq(notifications.recordId, rec.id)));
    await tx.delete(caughtMail).where(inArray(caughtMail.notificationId, sent));
    // The archived notice: the message goes, its sha256 (also in the audit log), Message-ID and the server's reply stay.
    await tx.update(noticeArchive).set({ mime: null, erasedAt: now }).where(and(eq(noticeArchive.recordType, rec.type), eq(noticeArchive.recordId, rec.id), isNotNull(noticeArchive.mime)));
    // Earlier audit entries keep only digests of these values in the chain; their values go now.
    await erasePersonal(tx, rec.type, rec.id);
    const [after] = await kind.load(tx, [rec.id]);
    await appendAudit(tx, { actor, action: `${rec.type}.anonymise`, entityType: rec.type, entityId: rec.id, before: redactedView(rec.type, before), after: after ? auditView(rec.type, after) : null }, now);
    return true;
  });
}

export interface AnonymiseResult {
  cutoff: Date;
  /** Records anonymised by this run (a dry run: the ones that would be). */
  records: ExpiredRecord[];
  dryRun: boolean;
}

export async function anonymiseExpired(db: Db, opts: RetentionOptions & { actor?: string; dryRun?: boolean }): Promise<AnonymiseResult> {
  const cutoff = retentionCutoff(opts.now, opts.years);
  const expired = await findExpired(db, opts);
  if (opts.dryRun) return { cutoff, records: expired, dryRun: true };
  const done: ExpiredRecord[] = [];
  for (const rec of expired) {
    if (await anonymiseOne(db, rec, cutoff, opts.now, opts.actor ?? 'retention')) done.push(rec);
  }
  return { cutoff, records: done, dryRun: false };
}
