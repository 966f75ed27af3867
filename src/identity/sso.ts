/**
 * Who a single sign-on login is in fristvagt. The directory decides role and scope: every login
 * maps the person's groups (FRISTVAGT_OIDC_ROLE_MAP, claims.ts) and a person without a mapped
 * group is refused, also when a user exists. The person is found by their (issuer, subject), then
 * by verified e-mail (an administrator created them beforehand; the identity is linked then), and
 * otherwise created when FRISTVAGT_OIDC_PROVISION is `auto`. A changed role, scope, name or title
 * in the directory is written to the user (audited, actor `sso`); the staff link stays fristvagt's.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { userIdentities, users } from '../db/schema.js';
import { ServiceError } from '../records/errors.js';
import type { Actor } from '../records/service.js';
import { createUser, findUserByEmail, updateUser, type UserRow } from '../records/users.js';
import { mapClaims, type RoleRule } from './claims.js';
import type { OidcLogin } from './oidc.js';

export const SSO_ACTOR: Actor = { id: 'sso', name: 'sso', role: 'admin', kind: 'system' };

export interface SsoPolicy {
  rules: readonly RoleRule[];
  groupsClaim: string;
  provision: 'auto' | 'existing';
}

export type SsoRefusal = 'no_group' | 'ambiguous' | 'no_name' | 'no_user' | 'deactivated' | 'bad_mapping';

/** A mapping that names an area or institution fristvagt does not know: the set-up is wrong, not the person. */
function badMapping(err: unknown): boolean {
  return err instanceof ServiceError && err.code === 'VALIDATION' && err.issues.some((i) => i.path === 'areaId' || i.path === 'institutionId');
}
export type SsoOutcome = { ok: true; user: UserRow; created: boolean } | { ok: false; reason: SsoRefusal };

async function byIdentity(db: Db, issuer: string, subject: string): Promise<UserRow | undefined> {
  const [row] = await db.select({ user: users }).from(userIdentities).innerJoin(users, eq(users.id, userIdentities.userId)).where(and(eq(userIdentities.issuer, issuer), eq(userIdentities.subject, subject)));
  return row?.user;
}

/**
 * Links the provider's account to the user. A local password the person had goes at the first
 * single sign-on: from then on the directory is where they are let in and shut out, and a password
 * kept beside it would outlive a disabled directory account.
 */
async function link(db: Db, login: OidcLogin, userId: string, now: Date): Promise<void> {
  await db.insert(userIdentities).values({ issuer: login.issuer, subject: login.subject, userId, createdAt: now, lastLoginAt: now }).onConflictDoUpdate({ target: [userIdentities.issuer, userIdentities.subject], set: { lastLoginAt: now } });
  await db.update(users).set({ passwordHash: null }).where(and(eq(users.id, userId), isNotNull(users.passwordHash)));
}

export async function userForSsoLogin(db: Db, login: OidcLogin, policy: SsoPolicy, now: Date): Promise<SsoOutcome> {
  const m = mapClaims(login.claims, [...policy.rules], policy.groupsClaim);
  if (!m.ok) return { ok: false, reason: m.reason };
  // A directory's display name or title may be longer than fristvagt keeps (120 characters).
  const mapped = { ...m, name: m.name.slice(0, 120), title: m.title?.slice(0, 120) ?? null };
  let user = await byIdentity(db, login.issuer, login.subject);
  let created = false;
  if (!user && mapped.email) user = await findUserByEmail(db, mapped.email);
  if (!user) {
    if (policy.provision !== 'auto' || !mapped.email) return { ok: false, reason: 'no_user' };
    try {
      const view = await createUser(db, { name: mapped.name, title: mapped.title, email: mapped.email, role: mapped.role, areaId: mapped.areaId, institutionId: mapped.institutionId }, SSO_ACTOR, now);
      created = true;
      user = (await findUserByEmail(db, view.email)) as UserRow;
    } catch (err) {
      if (badMapping(err)) return { ok: false, reason: 'bad_mapping' };
      // Two first logins at once: the other one created the user; use it.
      if (!(err instanceof ServiceError && err.code === 'VALIDATION' && err.issues.some((i) => i.path === 'email'))) throw err;
      user = await findUserByEmail(db, mapped.email);
      if (!user) throw err;
    }
  }
  if (user.deactivatedAt) return { ok: false, reason: 'deactivated' };
  await link(db, login, user.id, now);
  const changed = user.role !== mapped.role || user.areaId !== mapped.areaId || user.institutionId !== mapped.institutionId || user.name !== mapped.name || (mapped.title !== null && user.title !== mapped.title);
  if (changed && !created) {
    try {
      await updateUser(db, user.id, { name: mapped.name, title: mapped.title ?? user.title, email: user.email, role: mapped.role, areaId: mapped.areaId, institutionId: mapped.institutionId, staffId: user.staffId }, SSO_ACTOR, now);
    } catch (err) {
      if (badMapping(err)) return { ok: false, reason: 'bad_mapping' };
      // The last active administrator is not demoted by a directory change; they keep their role.
      if (!(err instanceof ServiceError && err.code === 'CONFLICT')) throw err;
    }
  }
  const [fresh] = await db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id)).returning();
  return { ok: true, user: fresh ?? user, created };
}
