/**
 * Personal calendar feeds: a secret URL per staff member that a calendar client subscribes to.
 *
 * What is in a feed: the not-yet-completed deadlines of the action plans the staff member owns
 * (action_plans.owner_id), open or already overdue, of plans that are not closed. Incidents,
 * placements and uses of force have no personal owner (their deadlines belong to the institution's
 * duty manager or the area director), so they are not in anybody's personal feed.
 *
 * A calendar leaves the building (phones, cloud calendars), so an event carries the rule, the due
 * date, the explanation, the citation and the journal number — never a CPR number or a name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../db/audit.js';
import type { Db } from '../db/client.js';
import { actionPlans, calendarFeeds, deadlines, staff } from '../db/schema.js';
import { longDate, parseIsoDate, ruleById, scrubCpr } from '../domain/index.js';
import { ServiceError, validationError } from '../records/errors.js';
import { zodIssues, type Actor } from '../records/service.js';
import { renderCalendar, type AllDayEvent } from './ics.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** 32 random bytes, base64url: 43 characters. */
const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** More than this many live feeds for one person is a leak waiting to happen, not a use case. */
export const MAX_ACTIVE_FEEDS = 10;

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface FeedContext {
  db: Db;
  clock: () => Date;
  /** Base of the feed URL and of the record links in events (PUBLIC_URL). */
  publicUrl: string;
}

export interface FeedView {
  id: string;
  staffId: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  active: boolean;
}

function view(row: typeof calendarFeeds.$inferSelect): FeedView {
  return {
    id: row.id,
    staffId: row.staffId,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    active: row.revokedAt === null,
  };
}

/** Admins, and area tokens for the staff of their own area (the same rule as for editing staff). */
function requireManager(actor: Actor, areaId: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'area' && actor.areaId === areaId) return;
  throw new ServiceError('FORBIDDEN', `${actor.role} token may not manage calendar feeds of staff in area ${areaId}`);
}

async function staffMember(db: Db, id: string): Promise<typeof staff.$inferSelect> {
  const row = UUID.test(id) ? (await db.select().from(staff).where(eq(staff.id, id)))[0] : undefined;
  if (!row) throw new ServiceError('NOT_FOUND', `no staff member ${id}`);
  return row;
}

export function feedUrl(publicUrl: string, secret: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/calendar/${secret}.ics`;
}

const createBody = z.strictObject({});

export async function createFeed(ctx: FeedContext, staffId: string, body: unknown, actor: Actor): Promise<FeedView & { url: string }> {
  const parsed = createBody.safeParse(body ?? {});
  if (!parsed.success) throw validationError(zodIssues(parsed.error));
  const member = await staffMember(ctx.db, staffId);
  requireManager(actor, member.areaId);
  if (!member.active) throw new ServiceError('CONFLICT', `staff member ${staffId} is inactive; reactivate them before giving them a calendar feed`, { issues: [{ path: 'staffId', message: 'inactive' }] });
  const now = ctx.clock();
  const secret = randomBytes(32).toString('base64url');
  const row = await ctx.db.transaction(async (tx) => {
    // Serialises concurrent creations for one person, so the cap below holds.
    await tx.execute(sql`SELECT 1 FROM staff WHERE id = ${member.id} FOR UPDATE`);
    const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(calendarFeeds).where(and(eq(calendarFeeds.staffId, member.id), isNull(calendarFeeds.revokedAt)));
    if ((count?.n ?? 0) >= MAX_ACTIVE_FEEDS) {
      throw new ServiceError('CONFLICT', `staff member ${member.id} has ${MAX_ACTIVE_FEEDS} active calendar feeds already; revoke one first`, { issues: [{ path: 'staffId', message: 'too many active feeds' }] });
    }
    const [inserted] = await tx.insert(calendarFeeds).values({ staffId: member.id, secretHash: hashSecret(secret), createdBy: actor.name, createdAt: now }).returning();
    if (!inserted) throw new Error('insert returned nothing');
    // The secret (and so the URL) is never audited: the audit log is readable by more people than the feed's owner.
    await appendAudit(tx, { actor: actor.name, action: 'calendar_feed.create', entityType: 'calendar_feed', entityId: inserted.id, after: { staffId: member.id } }, now);
    return inserted;
  });
  return { ...view(row), url: feedUrl(ctx.publicUrl, secret) };
}

export async function listFeeds(ctx: FeedContext, staffId: string, actor: Actor): Promise<{ items: FeedView[] }> {
  const member = await staffMember(ctx.db, staffId);
  requireManager(actor, member.areaId);
  const rows = await ctx.db.select().from(calendarFeeds).where(eq(calendarFeeds.staffId, member.id)).orderBy(desc(calendarFeeds.createdAt), asc(calendarFeeds.id));
  return { items: rows.map(view) };
}

export async function revokeFeed(ctx: FeedContext, feedId: string, actor: Actor): Promise<void> {
  const notFound = new ServiceError('NOT_FOUND', `no active calendar feed ${feedId}`);
  if (!UUID.test(feedId)) throw notFound;
  const [found] = await ctx.db.select({ feed: calendarFeeds, areaId: staff.areaId }).from(calendarFeeds).innerJoin(staff, eq(staff.id, calendarFeeds.staffId)).where(eq(calendarFeeds.id, feedId));
  if (!found || found.feed.revokedAt !== null) throw notFound;
  requireManager(actor, found.areaId);
  const now = ctx.clock();
  await ctx.db.transaction(async (tx) => {
    const rows = await tx.update(calendarFeeds).set({ revokedAt: now }).where(and(eq(calendarFeeds.id, feedId), isNull(calendarFeeds.revokedAt))).returning({ id: calendarFeeds.id });
    if (rows.length === 0) throw notFound;
    await appendAudit(tx, { actor: actor.name, action: 'calendar_feed.revoke', entityType: 'calendar_feed', entityId: feedId, before: { staffId: found.feed.staffId } }, now);
  });
}

/** `<secret>.ics` → the feed row and its owner, or undefined (unknown, revoked, or the owner is inactive). */
async function resolveSecret(db: Db, file: string): Promise<{ feedId: string; lastUsedAt: Date | null; staffId: string; staffName: string } | undefined> {
  const m = /^(.+)\.ics$/.exec(file);
  const secret = m?.[1];
  if (!secret || !SECRET.test(secret)) return undefined;
  const [row] = await db
    .select({ feedId: calendarFeeds.id, lastUsedAt: calendarFeeds.lastUsedAt, staffId: staff.id, staffName: staff.name, active: staff.active })
    .from(calendarFeeds)
    .innerJoin(staff, eq(staff.id, calendarFeeds.staffId))
    .where(and(eq(calendarFeeds.secretHash, hashSecret(secret)), isNull(calendarFeeds.revokedAt)));
  // Someone who left (deactivated) must not keep reading plan deadlines from a phone they still have.
  if (!row || !row.active) return undefined;
  return row;
}

const BASIS_DA = { law: 'lov (fastsat i reglerne)', policy: 'politik (standardværdi, som en administrator kan ændre)' } as const;

function danishDate(iso: string): string {
  const day = parseIsoDate(iso);
  return day === undefined ? iso : longDate(day, 'da');
}

/** The feed as iCalendar text, or undefined when the secret does not resolve (the caller answers 404). */
export async function renderFeed(ctx: FeedContext, file: string): Promise<string | undefined> {
  const feed = await resolveSecret(ctx.db, file);
  if (!feed) return undefined;
  const now = ctx.clock();
  const rows = await ctx.db
    .select({
      id: deadlines.id, ruleId: deadlines.ruleId, key: deadlines.key, basis: deadlines.basis, citation: deadlines.citation,
      explanation: deadlines.explanation, dueDate: deadlines.dueDate, dueAt: deadlines.dueAt, originalDueDate: deadlines.originalDueDate,
      computedAt: deadlines.computedAt, planId: actionPlans.id, journalNumber: actionPlans.journalNumber,
    })
    .from(deadlines)
    .innerJoin(actionPlans, and(eq(deadlines.recordType, 'action_plan'), eq(deadlines.recordId, actionPlans.id)))
    .where(and(eq(actionPlans.ownerId, feed.staffId), isNull(actionPlans.closedAt), eq(deadlines.active, true), isNull(deadlines.completedAt), eq(deadlines.obligation, 'duty')))
    .orderBy(asc(deadlines.dueDate), asc(deadlines.id));

  const base = ctx.publicUrl.replace(/\/+$/, '');
  const host = new URL(base).hostname;
  const events: AllDayEvent[] = rows.map((d) => {
    const title = ruleById(d.ruleId)?.title.da ?? d.ruleId;
    const instance = /#(\d+)$/.exec(d.key)?.[1];
    const overdue = d.dueAt.getTime() < now.getTime();
    const journal = scrubCpr(d.journalNumber);
    const link = `${base}/records/action-plans/${d.planId}`;
    const lines = [
      scrubCpr(d.explanation),
      '',
      `Frist: ${danishDate(d.dueDate)}${overdue ? ' (overskredet)' : ''}`,
      ...(d.originalDueDate && d.originalDueDate !== d.dueDate ? [`Oprindelig frist: ${danishDate(d.originalDueDate)}`] : []),
      `Hjemmel: ${d.citation}`,
      `Grundlag: ${BASIS_DA[d.basis]}`,
      `Journalnummer: ${journal}`,
      '',
      link,
    ];
    return {
      uid: `${d.id}@${host}`,
      date: d.dueDate,
      summary: `${overdue ? 'Overskredet: ' : ''}${title}${instance && Number(instance) > 1 ? ` (${instance}.)` : ''} – j.nr. ${journal}`,
      description: lines.join('\n'),
      url: link,
      lastModified: d.computedAt,
      categories: ['Frist', d.basis === 'law' ? 'Lov' : 'Politik'],
    };
  });

  // Calendar clients poll; one write per fetch would be a write per poll per person. A minute's resolution is enough to see use.
  if (!feed.lastUsedAt || now.getTime() - feed.lastUsedAt.getTime() > 60_000) {
    await ctx.db.update(calendarFeeds).set({ lastUsedAt: now }).where(eq(calendarFeeds.id, feed.feedId));
  }

  return renderCalendar({
    prodId: '-//Kriminalforsorgen//fristvagt//DA',
    name: `Frister – ${feed.staffName}`,
    description: 'Åbne frister for de handleplaner, du er handleplansansvarlig for (fristvagt).',
    stamp: now,
    refresh: 'PT1H',
    events,
  });
}
