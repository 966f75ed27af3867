/**
 * People (issue 14): the one write path for users, used by the API, the UI, the CLI and the SSO
 * provisioning. Administrators manage everybody; an area office manages the area and institution
 * users of its own area. Users are deactivated, never deleted, and every change is audited (name,
 * title and e-mail as personal values, erasable like the records' own).
 */
import { and, asc, count, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Executor } from '../db/client.js';
import { appendAudit } from '../db/audit.js';
import { areas, institutions, staff, uiSessions, userIdentities, users } from '../db/schema.js';
import { hashPassword, PASSWORD_MAX, PASSWORD_MIN } from '../identity/passwords.js';
import { ServiceError, validationError, type FieldIssue } from './errors.js';
import { zodIssues, type Actor, type Role } from './service.js';
import { plainString, refineRoleScope, slug } from './values.js';

export type UserRow = typeof users.$inferSelect;

export const ROLES = ['admin', 'area', 'institution', 'reader'] as const;

const email = z.string().trim().toLowerCase().max(254).pipe(z.email({ message: 'not a valid e-mail address' }));
const password = z.string().min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`).max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`);
const optionalText = plainString().trim().max(120).nullable().optional().transform((v) => (v ? v : null));

const userFields = {
  name: plainString().trim().min(1, 'is required').max(120),
  title: optionalText,
  email,
  role: z.enum(ROLES),
  areaId: slug.nullable().optional(),
  institutionId: slug.nullable().optional(),
  staffId: z.uuid().nullable().optional(),
};

export const userCreate = z.strictObject({ ...userFields, password: password.optional() }).superRefine(refineRoleScope);
/** An edit names every field again (role and scope go together); the password has its own action. */
export const userUpdate = z.strictObject({ ...userFields, version: z.number().int().positive().optional() }).superRefine(refineRoleScope);
export const passwordChange = z.strictObject({ password });

export type UserInput = z.infer<typeof userCreate>;

/** A user as the API and the UI show it: never the password hash. */
export interface UserView {
  id: string;
  name: string;
  title: string | null;
  email: string;
  role: Role;
  areaId: string | null;
  institutionId: string | null;
  staffId: string | null;
  hasPassword: boolean;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
  deactivatedAt: string | null;
  version: number;
}

export function userView(u: UserRow): UserView {
  return {
    id: u.id,
    name: u.name,
    title: u.title,
    email: u.email,
    role: u.role,
    areaId: u.areaId,
    institutionId: u.institutionId,
    staffId: u.staffId,
    hasPassword: u.passwordHash !== null,
    active: u.deactivatedAt === null,
    createdAt: u.createdAt.toISOString(),
    updatedAt: u.updatedAt.toISOString(),
    lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
    deactivatedAt: u.deactivatedAt?.toISOString() ?? null,
    version: u.version,
  };
}

/** The actor of an active user: what the audit log, the header and the notice's signature use. */
export function userActor(u: UserRow): Actor {
  return {
    id: u.id,
    name: `${u.name} [user:${u.id.slice(0, 8)}]`,
    role: u.role,
    areaId: u.areaId,
    institutionId: u.institutionId,
    staffId: u.staffId,
    kind: 'user',
    person: { name: u.name, title: u.title, email: u.email },
  };
}

/** The audit's view of a user: scope in the clear, the person's name, title and e-mail as personal values. */
function auditOf(u: Pick<UserRow, 'name' | 'title' | 'email' | 'role' | 'areaId' | 'institutionId' | 'staffId'> & { deactivatedAt?: Date | null }) {
  return { name: u.name, title: u.title, email: u.email, role: u.role, areaId: u.areaId, institutionId: u.institutionId, staffId: u.staffId, active: !u.deactivatedAt };
}
const PERSONAL = ['name', 'title', 'email'] as const;

/** Whether `actor` may manage a user with this role and scope (as it is, and as it would become). */
async function mayManage(db: Executor, actor: Actor, target: { role: Role; areaId?: string | null | undefined; institutionId?: string | null | undefined }): Promise<boolean> {
  if (actor.kind === 'system' || actor.role === 'admin') return true;
  if (actor.role !== 'area' || !actor.areaId) return false;
  if (target.role === 'area') return target.areaId === actor.areaId;
  if (target.role === 'institution' && target.institutionId) {
    const [inst] = await db.select({ areaId: institutions.areaId }).from(institutions).where(eq(institutions.id, target.institutionId));
    return inst?.areaId === actor.areaId;
  }
  return false;
}

function requireManager(actor: Actor): void {
  if (actor.kind !== 'system' && actor.role !== 'admin' && actor.role !== 'area') throw new ServiceError('FORBIDDEN', 'only administrators and area offices manage users');
}

async function checkReferences(db: Executor, input: { areaId?: string | null | undefined; institutionId?: string | null | undefined; staffId?: string | null | undefined }): Promise<void> {
  const issues: FieldIssue[] = [];
  if (input.areaId && (await db.select({ id: areas.id }).from(areas).where(eq(areas.id, input.areaId))).length === 0) issues.push({ path: 'areaId', message: `unknown area "${input.areaId}"` });
  if (input.institutionId && (await db.select({ id: institutions.id }).from(institutions).where(eq(institutions.id, input.institutionId))).length === 0) issues.push({ path: 'institutionId', message: `unknown institution "${input.institutionId}"` });
  if (input.staffId && (await db.select({ id: staff.id }).from(staff).where(eq(staff.id, input.staffId))).length === 0) issues.push({ path: 'staffId', message: 'unknown staff member' });
  if (issues.length > 0) throw validationError(issues);
}

/** An area office links its people to staff members of its own area only (an admin to anyone's). */
async function checkStaffScope(db: Executor, actor: Actor, staffId: string | null | undefined): Promise<void> {
  if (!staffId || actor.kind === 'system' || actor.role !== 'area') return;
  const [member] = await db.select({ areaId: staff.areaId }).from(staff).where(eq(staff.id, staffId));
  if (member && member.areaId !== actor.areaId) throw validationError([{ path: 'staffId', message: 'is a staff member of another area' }]);
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw validationError(zodIssues(r.error));
  return r.data;
}

function isUniqueViolation(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) if ((e as { code?: string }).code === '23505') return true;
  return false;
}

/** Every user the actor may manage, active ones first, by name. */
export async function listUsers(db: Db, actor: Actor): Promise<UserView[]> {
  requireManager(actor);
  const rows = await db.select().from(users).orderBy(sql`${users.deactivatedAt} IS NOT NULL`, asc(users.name), asc(users.id));
  const out: UserView[] = [];
  for (const u of rows) if (await mayManage(db, actor, u)) out.push(userView(u));
  return out;
}

export async function getUser(db: Db, actor: Actor, id: string): Promise<UserView> {
  // Everybody may read their own account ("Min konto"); other accounts are for managers (403 for
  // the other roles whether or not the id exists, 404 outside the manager's scope).
  const own = actor.kind === 'user' && actor.id === id;
  if (!own) requireManager(actor);
  const u = await loadUser(db, id);
  if (!own && !(await mayManage(db, actor, u))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
  return userView(u);
}

/**
 * For actions on another person that have no write path of their own here (a login link): the
 * user as the actor may manage them, or FORBIDDEN (not a manager) / NOT_FOUND (out of scope).
 */
export async function requireManageable(db: Executor, actor: Actor, id: string): Promise<UserView> {
  requireManager(actor);
  const u = await loadUser(db, id);
  if (!(await mayManage(db, actor, u))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
  return userView(u);
}

async function loadUser(db: Executor, id: string, lock = false): Promise<UserRow> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new ServiceError('NOT_FOUND', `no user ${id}`);
  const q = db.select().from(users).where(eq(users.id, id));
  const [u] = lock ? await q.for('update') : await q;
  if (!u) throw new ServiceError('NOT_FOUND', `no user ${id}`);
  return u;
}

export async function findUserByEmail(db: Executor, address: string): Promise<UserRow | undefined> {
  const [u] = await db.select().from(users).where(eq(users.email, address.trim().toLowerCase()));
  return u;
}

export async function countUsers(db: Executor): Promise<number> {
  const [r] = await db.select({ n: count() }).from(users);
  return Number(r?.n ?? 0);
}

/**
 * The last active administrator stays: demoting or deactivating them would leave nobody who can
 * manage users (FRISTVAGT_ADMIN_TOKEN aside, which an installation may not have).
 */
async function guardLastAdmin(tx: Executor, u: UserRow): Promise<void> {
  if (u.role !== 'admin' || u.deactivatedAt) return;
  // Lock every active admin so two concurrent demotions cannot both pass.
  const admins = await tx.select({ id: users.id }).from(users).where(and(eq(users.role, 'admin'), isNull(users.deactivatedAt))).for('update');
  if (admins.length <= 1) throw new ServiceError('CONFLICT', 'the last active administrator cannot be demoted or deactivated', { issues: [{ path: 'role', message: 'is the last active administrator' }] });
}

export async function createUser(db: Db, body: unknown, actor: Actor, now: Date, tx0?: Executor): Promise<UserView> {
  requireManager(actor);
  const input = parse(userCreate, body);
  const run = async (tx: Executor): Promise<UserView> => {
    await checkReferences(tx, input);
    if (!(await mayManage(tx, actor, input))) throw new ServiceError('FORBIDDEN', 'an area office creates users of its own area only (role area or institution)');
    await checkStaffScope(tx, actor, input.staffId);
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    let row: UserRow | undefined;
    try {
      [row] = await tx.insert(users).values({ name: input.name, title: input.title, email: input.email, role: input.role, areaId: input.areaId ?? null, institutionId: input.institutionId ?? null, staffId: input.staffId ?? null, passwordHash, createdAt: now, updatedAt: now }).returning();
    } catch (err) {
      if (isUniqueViolation(err)) throw validationError([{ path: 'email', message: 'is already in use by another user' }]);
      throw err;
    }
    if (!row) throw new Error('insert returned nothing');
    await appendAudit(tx, { actor: actor.name, action: 'user.create', entityType: 'user', entityId: row.id, after: auditOf(row), personal: PERSONAL }, now);
    return userView(row);
  };
  // Inside the caller's transaction when given (the first-run set-up consumes its link in the same one).
  return tx0 ? run(tx0) : db.transaction(run);
}

export async function updateUser(db: Db, id: string, body: unknown, actor: Actor, now: Date): Promise<UserView> {
  requireManager(actor);
  const input = parse(userUpdate, body);
  return db.transaction(async (tx) => {
    const before = await loadUser(tx, id, true);
    if (!(await mayManage(tx, actor, before))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
    if (input.version !== undefined && input.version !== before.version) throw new ServiceError('CONFLICT', 'the user was changed by somebody else meanwhile; reload and try again', { issues: [{ path: 'version', message: 'is not the current version' }] });
    await checkReferences(tx, input);
    if (!(await mayManage(tx, actor, input))) throw new ServiceError('FORBIDDEN', 'an area office assigns roles of its own area only (area or institution)');
    if ((input.staffId ?? null) !== before.staffId) await checkStaffScope(tx, actor, input.staffId);
    if (input.role !== 'admin') await guardLastAdmin(tx, before);
    let after: UserRow | undefined;
    try {
      [after] = await tx
        .update(users)
        .set({ name: input.name, title: input.title, email: input.email, role: input.role, areaId: input.areaId ?? null, institutionId: input.institutionId ?? null, staffId: input.staffId ?? null, updatedAt: now, version: before.version + 1 })
        .where(eq(users.id, id))
        .returning();
    } catch (err) {
      if (isUniqueViolation(err)) throw validationError([{ path: 'email', message: 'is already in use by another user' }]);
      throw err;
    }
    if (!after) throw new Error('update returned nothing');
    await appendAudit(tx, { actor: actor.name, action: 'user.update', entityType: 'user', entityId: id, before: auditOf(before), after: auditOf(after), personal: PERSONAL }, now);
    return userView(after);
  });
}

/** Deactivate (every session of the person ends at once) or reactivate. */
export async function setUserActive(db: Db, id: string, active: boolean, actor: Actor, now: Date): Promise<UserView> {
  requireManager(actor);
  return db.transaction(async (tx) => {
    const before = await loadUser(tx, id, true);
    if (!(await mayManage(tx, actor, before))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
    if ((before.deactivatedAt === null) === active) return userView(before);
    if (!active) await guardLastAdmin(tx, before);
    const [after] = await tx.update(users).set({ deactivatedAt: active ? null : now, updatedAt: now, version: before.version + 1 }).where(eq(users.id, id)).returning();
    if (!after) throw new Error('update returned nothing');
    if (!active) await tx.update(uiSessions).set({ revokedAt: now }).where(and(eq(uiSessions.userId, id), isNull(uiSessions.revokedAt)));
    await appendAudit(tx, { actor: actor.name, action: active ? 'user.reactivate' : 'user.deactivate', entityType: 'user', entityId: id, before: { active: !before.deactivatedAt }, after: { active } }, now);
    return userView(after);
  });
}

/**
 * A new password: the person's own (from "Min konto") or set by a manager. The person's other
 * sessions end (a changed password is usually a reason); `keepSessionId` is the one it was set from.
 */
export async function setPassword(db: Db, id: string, body: unknown, actor: Actor, now: Date, keepSessionId?: string): Promise<void> {
  const own = actor.kind === 'user' && actor.id === id;
  if (!own) requireManager(actor);
  const input = parse(passwordChange, body);
  const hash = await hashPassword(input.password);
  await db.transaction(async (tx) => {
    const u = await loadUser(tx, id, true);
    if (!own && !(await mayManage(tx, actor, u))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
    if (await hasSsoIdentity(tx, id)) throw new ServiceError('CONFLICT', 'the person logs in with single sign-on; their password is the directory\'s', { issues: [{ path: 'password', message: 'is the single sign-on directory\'s' }] });
    await tx.update(users).set({ passwordHash: hash, updatedAt: now, version: u.version + 1 }).where(eq(users.id, id));
    await endSessions(tx, id, now, keepSessionId);
    await appendAudit(tx, { actor: actor.name, action: 'user.password_set', entityType: 'user', entityId: id, before: null, after: { own } }, now);
  });
}

async function endSessions(tx: Executor, userId: string, now: Date, keepSessionId?: string): Promise<number> {
  const rows = await tx
    .update(uiSessions)
    .set({ revokedAt: now })
    .where(and(eq(uiSessions.userId, userId), isNull(uiSessions.revokedAt), keepSessionId ? sql`${uiSessions.id} <> ${keepSessionId}` : sql`true`))
    .returning({ id: uiSessions.id });
  return rows.length;
}

/** "Log ud overalt": every session of the person ends (but `keepSessionId`, when given). */
export async function logoutEverywhere(db: Db, id: string, actor: Actor, now: Date, keepSessionId?: string): Promise<number> {
  const own = actor.kind === 'user' && actor.id === id;
  if (!own) requireManager(actor);
  return db.transaction(async (tx) => {
    const u = await loadUser(tx, id);
    if (!own && !(await mayManage(tx, actor, u))) throw new ServiceError('NOT_FOUND', `no user ${id}`);
    const n = await endSessions(tx, id, now, keepSessionId);
    await appendAudit(tx, { actor: actor.name, action: 'user.logout_everywhere', entityType: 'user', entityId: id, before: null, after: { sessions: n } }, now);
    return n;
  });
}

/** The active users with these ids (the session check reads one at a time; the list page many). */
export async function activeUsers(db: Executor, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(users).where(and(inArray(users.id, [...ids]), isNull(users.deactivatedAt)));
}

export async function touchLogin(db: Executor, id: string, now: Date): Promise<void> {
  await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, id));
}

/** Whether the person has an account at the single sign-on provider linked (they log in there). */
export async function hasSsoIdentity(db: Executor, userId: string): Promise<boolean> {
  const [row] = await db.select({ userId: userIdentities.userId }).from(userIdentities).where(eq(userIdentities.userId, userId)).limit(1);
  return row !== undefined;
}
