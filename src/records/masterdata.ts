/** Areas, institutions and staff: the master data records point at. Admins write them (area tokens: their own staff). */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit } from '../db/audit.js';
import type { Executor } from '../db/client.js';
import { actionPlans, areas, forceUses, incidents, institutions, securityCellPlacements, staff, staffAbsences } from '../db/schema.js';
import { pgErrorInfo, ServiceError, validationError } from './errors.js';
import { dateString, personName, plainString, slug } from './values.js';
import { canRead, zodIssues, type Actor, type ServiceContext } from './service.js';

const email = z.email('not a valid e-mail address').max(320);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const areaCreate = z.strictObject({
  id: slug,
  name: plainString().trim().min(1).max(200),
  officeEmail: email,
  directorName: personName,
  directorEmail: email,
  leadershipEmail: email.nullish(),
});
export const areaPatch = areaCreate.omit({ id: true }).partial().strict();

export const institutionCreate = z.strictObject({
  id: slug,
  areaId: slug,
  name: plainString().trim().min(1).max(200),
  kind: z.enum(['prison', 'local_jail', 'halfway_house', 'probation_office']),
  dutyManagerEmail: email,
});
export const institutionPatch = institutionCreate.omit({ id: true }).partial().strict();

export const staffCreate = z.strictObject({
  areaId: slug,
  institutionId: slug.nullish(),
  name: personName,
  email,
  title: plainString().max(200).nullish(),
  substituteId: z.uuid().nullish(),
  active: z.boolean().optional(),
  absences: z.array(z.strictObject({ from: dateString, until: dateString, reason: plainString().max(500).nullish() })).max(100).optional(),
});
export const staffPatch = staffCreate.omit({ areaId: true }).partial().strict();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw validationError(zodIssues(r.error));
  return r.data;
}

function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw new ServiceError('FORBIDDEN', 'only admin tokens may change master data');
}

function dbError(err: unknown, what: string): never {
  const { code, constraint } = pgErrorInfo(err);
  if (code === '23505') throw new ServiceError('CONFLICT', `${what} exists already`, { issues: [{ path: constraint?.includes('email') ? 'email' : 'id', message: 'already exists' }], cause: err });
  if (code === '23503') throw validationError([{ path: constraint?.includes('area') ? 'areaId' : constraint?.includes('substitute') ? 'substituteId' : constraint?.includes('institution') ? 'institutionId' : 'reference', message: 'refers to something that does not exist' }]);
  if (code === '23514' && constraint === 'staff_not_own_substitute') throw validationError([{ path: 'substituteId', message: 'cannot be the staff member themself' }]);
  if (code === '23514') throw validationError([{ path: constraint ?? what, message: 'refused by the database constraint' }]);
  throw err;
}

export async function listAreas(ctx: ServiceContext) {
  return ctx.db.select().from(areas).orderBy(asc(areas.name));
}

/**
 * Whose mails a record's plan sends where: an area's and an institution's addresses, a plan
 * owner's address, active flag, substitute and absences (src/worker/planner.ts). A change to one
 * of them touches the open records it concerns in the same transaction, so their change_seq moves
 * and the change feed and the sweep re-plan them, as a change to a plan's evaluations does
 * (migration 0007). Closed records keep what they were planned with.
 */
const RECORD_TABLES = [incidents, securityCellPlacements, forceUses, actionPlans] as const;

async function replanOpenRecords(tx: Executor, by: { institutionIds: readonly string[] } | { ownerIds: readonly string[] }, now: Date): Promise<void> {
  if ('institutionIds' in by) {
    if (by.institutionIds.length === 0) return;
    for (const table of RECORD_TABLES) await tx.update(table).set({ updatedAt: now }).where(and(isNull(table.closedAt), inArray(table.institutionId, [...by.institutionIds])));
    return;
  }
  if (by.ownerIds.length === 0) return;
  await tx.update(actionPlans).set({ updatedAt: now }).where(and(isNull(actionPlans.closedAt), inArray(actionPlans.ownerId, [...by.ownerIds])));
}

const AREA_RECIPIENTS = ['officeEmail', 'directorEmail', 'leadershipEmail'] as const;

/** The areas a caller may read one of: admin and reader all, an area token its own, an institution token its institution's. */
async function canReadArea(ctx: ServiceContext, actor: Actor, areaId: string): Promise<boolean> {
  if (actor.role === 'admin' || actor.role === 'reader') return true;
  if (actor.role === 'area') return actor.areaId === areaId;
  const [inst] = await ctx.db.select({ areaId: institutions.areaId }).from(institutions).where(eq(institutions.id, actor.institutionId ?? ''));
  return inst?.areaId === areaId;
}

/** One area with its addresses: 403 outside the caller's scope (an area token reads only its own). */
export async function getArea(ctx: ServiceContext, id: string, actor: Actor) {
  requireSlugId(id, 'area');
  const [row] = await ctx.db.select().from(areas).where(eq(areas.id, id));
  if (!row) throw new ServiceError('NOT_FOUND', `no area ${id}`);
  if (!(await canReadArea(ctx, actor, id))) throw new ServiceError('FORBIDDEN', `${actor.role} token may not read area ${id}`);
  return row;
}

export async function createArea(ctx: ServiceContext, body: unknown, actor: Actor) {
  requireAdmin(actor);
  const input = parse(areaCreate, body);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(areas).values({ ...input, leadershipEmail: input.leadershipEmail ?? null }).returning();
      await appendAudit(tx, { actor: actor.name, action: 'area.create', entityType: 'area', entityId: input.id, after: row }, now);
      return row;
    });
  } catch (err) {
    return dbError(err, 'area');
  }
}

/** Ids that could never be stored are not looked up (a NUL byte would fail in Postgres, not here). */
function requireSlugId(id: string, what: string): void {
  if (!slug.safeParse(id).success) throw new ServiceError('NOT_FOUND', `no ${what} ${JSON.stringify(id)}`);
}

export async function updateArea(ctx: ServiceContext, id: string, body: unknown, actor: Actor) {
  requireAdmin(actor);
  requireSlugId(id, 'area');
  const input = parse(areaPatch, body);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [before] = await tx.select().from(areas).where(eq(areas.id, id));
      if (!before) throw new ServiceError('NOT_FOUND', `no area ${id}`);
      const [row] = await tx.update(areas).set({ ...input, updatedAt: now }).where(eq(areas.id, id)).returning();
      await appendAudit(tx, { actor: actor.name, action: 'area.update', entityType: 'area', entityId: id, before, after: row }, now);
      if (row && AREA_RECIPIENTS.some((k) => row[k] !== before[k])) {
        const inArea = await tx.select({ id: institutions.id }).from(institutions).where(eq(institutions.areaId, id));
        await replanOpenRecords(tx, { institutionIds: inArea.map((i) => i.id) }, now);
      }
      return row;
    });
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    return dbError(err, 'area');
  }
}

export async function listInstitutions(ctx: ServiceContext, actor: Actor) {
  const q = ctx.db.select().from(institutions);
  if (actor.role === 'area') return q.where(eq(institutions.areaId, actor.areaId ?? '')).orderBy(asc(institutions.name));
  if (actor.role === 'institution') return q.where(eq(institutions.id, actor.institutionId ?? '')).orderBy(asc(institutions.name));
  return q.orderBy(asc(institutions.name));
}

/** One institution: 403 outside the caller's scope, as its records are. */
export async function getInstitution(ctx: ServiceContext, id: string, actor: Actor) {
  requireSlugId(id, 'institution');
  const [row] = await ctx.db.select().from(institutions).where(eq(institutions.id, id));
  if (!row) throw new ServiceError('NOT_FOUND', `no institution ${id}`);
  if (!canRead(actor, { institutionId: row.id, areaId: row.areaId })) throw new ServiceError('FORBIDDEN', `${actor.role} token may not read institution ${id}`);
  return row;
}

export async function createInstitution(ctx: ServiceContext, body: unknown, actor: Actor) {
  requireAdmin(actor);
  const input = parse(institutionCreate, body);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [row] = await tx.insert(institutions).values(input).returning();
      await appendAudit(tx, { actor: actor.name, action: 'institution.create', entityType: 'institution', entityId: input.id, after: row }, now);
      return row;
    });
  } catch (err) {
    return dbError(err, 'institution');
  }
}

export async function updateInstitution(ctx: ServiceContext, id: string, body: unknown, actor: Actor) {
  requireAdmin(actor);
  requireSlugId(id, 'institution');
  const input = parse(institutionPatch, body);
  const now = ctx.clock();
  try {
    return await ctx.db.transaction(async (tx) => {
      const [before] = await tx.select().from(institutions).where(eq(institutions.id, id));
      if (!before) throw new ServiceError('NOT_FOUND', `no institution ${id}`);
      const [row] = await tx.update(institutions).set({ ...input, updatedAt: now }).where(eq(institutions.id, id)).returning();
      await appendAudit(tx, { actor: actor.name, action: 'institution.update', entityType: 'institution', entityId: id, before, after: row }, now);
      // Its duty manager, or (moved to another area) its area office, director and leadership.
      if (row && (row.dutyManagerEmail !== before.dutyManagerEmail || row.areaId !== before.areaId)) await replanOpenRecords(tx, { institutionIds: [id] }, now);
      return row;
    });
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    return dbError(err, 'institution');
  }
}

async function staffView(ctx: ServiceContext, id: string) {
  const [row] = await ctx.db.select().from(staff).where(eq(staff.id, id));
  if (!row) return undefined;
  const absences = await ctx.db.select().from(staffAbsences).where(eq(staffAbsences.staffId, id)).orderBy(asc(staffAbsences.fromDate));
  return { ...row, absences: absences.map((a) => ({ id: a.id, from: a.fromDate, until: a.untilDate, reason: a.reason })) };
}

export async function listStaff(ctx: ServiceContext, actor: Actor) {
  const q = ctx.db.select().from(staff);
  const rows = actor.role === 'area' ? await q.where(eq(staff.areaId, actor.areaId ?? '')) : actor.role === 'institution' ? await q.where(eq(staff.institutionId, actor.institutionId ?? '')) : await q;
  return rows.sort((a, b) => a.name.localeCompare(b.name, 'da'));
}

/** The same scope as listStaff, for one staff member. */
export function canReadStaff(actor: Actor, member: { areaId: string; institutionId: string | null }): boolean {
  if (actor.role === 'admin' || actor.role === 'reader') return true;
  if (actor.role === 'area') return member.areaId === actor.areaId;
  return member.institutionId !== null && member.institutionId === actor.institutionId;
}

/** One staff member with absences (whose reasons may be health data): 403 outside the caller's scope, as records are. */
export async function getStaff(ctx: ServiceContext, id: string, actor: Actor) {
  const s = UUID.test(id) ? await staffView(ctx, id) : undefined;
  if (!s) throw new ServiceError('NOT_FOUND', `no staff member ${id}`);
  if (!canReadStaff(actor, s)) throw new ServiceError('FORBIDDEN', `${actor.role} token may not read staff member ${id}`);
  return s;
}

/**
 * A staff member's institution and substitute are in the staff member's own area: an area token
 * could otherwise attach its people to another area's institution or make another area's staff
 * their stand-in (who then gets their reminders). Unknown and out-of-area ids get the same answer.
 */
async function requireSameArea(ctx: ServiceContext, areaId: string, refs: { institutionId?: string | null | undefined; substituteId?: string | null | undefined }): Promise<void> {
  if (refs.institutionId) {
    const [inst] = await ctx.db.select({ areaId: institutions.areaId }).from(institutions).where(eq(institutions.id, refs.institutionId));
    if (inst?.areaId !== areaId) throw validationError([{ path: 'institutionId', message: `must be an institution of area ${areaId} (the staff member's area)` }]);
  }
  if (refs.substituteId) {
    const [sub] = await ctx.db.select({ areaId: staff.areaId }).from(staff).where(eq(staff.id, refs.substituteId));
    if (sub?.areaId !== areaId) throw validationError([{ path: 'substituteId', message: `must be a staff member of area ${areaId} (the staff member's area)` }]);
  }
}

function requireStaffWriter(actor: Actor, areaId: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'area' && actor.areaId === areaId) return;
  throw new ServiceError('FORBIDDEN', `${actor.role} token may not change staff of area ${areaId}`);
}

type StaffRow = typeof staff.$inferSelect;

/** What the planner reads of a staff member (planner.ts loadPlanMaster): address, active flag, substitute, absence days (not their reasons). */
function planningChanged(before: StaffRow & { absences: Array<{ from: string; until: string }> }, after: StaffRow, absences: Array<{ from: string; until: string }> | undefined): boolean {
  const days = (list: Array<{ from: string; until: string }>) => list.map((a) => `${a.from}/${a.until}`).sort().join(',');
  return before.email !== after.email || before.active !== after.active || before.substituteId !== after.substituteId || (absences !== undefined && days(absences) !== days(before.absences));
}

function absenceIssues(absences: Array<{ from: string; until: string }> | undefined): void {
  absences?.forEach((a, i) => {
    if (a.until < a.from) throw validationError([{ path: `absences[${i}].until`, message: 'is before from' }]);
  });
}

export async function createStaff(ctx: ServiceContext, body: unknown, actor: Actor) {
  const input = parse(staffCreate, body);
  requireStaffWriter(actor, input.areaId);
  absenceIssues(input.absences);
  await requireSameArea(ctx, input.areaId, input);
  const now = ctx.clock();
  try {
    const id = await ctx.db.transaction(async (tx) => {
      const { absences, ...rest } = input;
      const [row] = await tx.insert(staff).values({ ...rest, institutionId: rest.institutionId ?? null, title: rest.title ?? null, substituteId: rest.substituteId ?? null }).returning();
      if (!row) throw new Error('insert returned nothing');
      if (absences && absences.length > 0) await tx.insert(staffAbsences).values(absences.map((a) => ({ staffId: row.id, fromDate: a.from, untilDate: a.until, reason: a.reason ?? null })));
      await appendAudit(tx, { actor: actor.name, action: 'staff.create', entityType: 'staff', entityId: row.id, after: { ...row, absences: absences ?? [] } }, now);
      return row.id;
    });
    return staffView(ctx, id);
  } catch (err) {
    return dbError(err, 'staff member');
  }
}

export async function updateStaff(ctx: ServiceContext, id: string, body: unknown, actor: Actor) {
  const input = parse(staffPatch, body);
  absenceIssues(input.absences);
  const before = UUID.test(id) ? await staffView(ctx, id) : undefined;
  if (!before) throw new ServiceError('NOT_FOUND', `no staff member ${id}`);
  requireStaffWriter(actor, before.areaId);
  await requireSameArea(ctx, before.areaId, input);
  const now = ctx.clock();
  try {
    await ctx.db.transaction(async (tx) => {
      const { absences, ...rest } = input;
      await tx.update(staff).set({ ...rest, updatedAt: now }).where(eq(staff.id, id));
      if (absences) {
        await tx.delete(staffAbsences).where(and(eq(staffAbsences.staffId, id), sql`true`));
        if (absences.length > 0) await tx.insert(staffAbsences).values(absences.map((a) => ({ staffId: id, fromDate: a.from, untilDate: a.until, reason: a.reason ?? null })));
      }
      const [after] = await tx.select().from(staff).where(eq(staff.id, id));
      await appendAudit(tx, { actor: actor.name, action: 'staff.update', entityType: 'staff', entityId: id, before, after: { ...after, absences: absences ?? before.absences } }, now);
      if (after && planningChanged(before, after, absences)) {
        // Their own plans, and the plans of those they stand in for (whose mails may come to them).
        const standIns = await tx.select({ id: staff.id }).from(staff).where(eq(staff.substituteId, id));
        await replanOpenRecords(tx, { ownerIds: [id, ...standIns.map((s) => s.id)] }, now);
      }
    });
    return staffView(ctx, id);
  } catch (err) {
    return dbError(err, 'staff member');
  }
}

export { staffView };
