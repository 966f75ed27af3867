/**
 * From an OpenID provider's claims to a fristvagt role and scope: pure (no I/O), so the rules can
 * be checked at start-up and tested as a table.
 *
 * The role map is a list of rules "members of this group get this role (and this area or
 * institution)". A person whose groups match several rules gets the broadest role, admin > area >
 * institution > reader; two matching rules of that role with different scopes are refused as
 * ambiguous rather than guessed between. Group names match exactly (case and all), as providers
 * send them: Entra ID object ids, Keycloak group paths, AD group names.
 */
import { z } from 'zod';

export const OIDC_ROLES = ['admin', 'area', 'institution', 'reader'] as const;
export type OidcRole = (typeof OIDC_ROLES)[number];

/** As the database's areas and institutions ids (src/db/schema.ts SLUG). */
const scopeId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes');

const roleRuleSchema = z
  .strictObject({
    group: z.string().trim().min(1, 'is required'),
    role: z.enum(OIDC_ROLES),
    areaId: scopeId.optional(),
    institutionId: scopeId.optional(),
  })
  .superRefine((r, ctx) => {
    // Role and scope go together as for people and API tokens (src/records/values.ts refineRoleScope).
    if (r.role === 'area' && r.areaId === undefined) ctx.addIssue({ code: 'custom', path: ['areaId'], message: 'is required for role area' });
    if (r.role !== 'area' && r.areaId !== undefined) ctx.addIssue({ code: 'custom', path: ['areaId'], message: 'is only for role area' });
    if (r.role === 'institution' && r.institutionId === undefined) ctx.addIssue({ code: 'custom', path: ['institutionId'], message: 'is required for role institution' });
    if (r.role !== 'institution' && r.institutionId !== undefined) ctx.addIssue({ code: 'custom', path: ['institutionId'], message: 'is only for role institution' });
  });

/** The role map: `[{ group, role, areaId?, institutionId? }, …]`; issue paths are `[index, field]`. */
export const roleMapSchema = z.array(roleRuleSchema);

export type RoleRule = z.infer<typeof roleRuleSchema>;

export type ClaimsMapping =
  | { ok: true; role: OidcRole; areaId: string | null; institutionId: string | null; name: string; email: string | null; title: string | null }
  | { ok: false; reason: 'no_group' | 'ambiguous' | 'no_name' };

const BREADTH: Record<OidcRole, number> = { admin: 0, area: 1, institution: 2, reader: 3 };

/** A claim as display text: a string, control characters and runs of white space made one space, trimmed. */
function text(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const t = v.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return t === '' ? null : t;
}

function groupsOf(claims: Record<string, unknown>, groupsClaim: string): Set<string> {
  const v = Object.hasOwn(claims, groupsClaim) ? claims[groupsClaim] : undefined;
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  return new Set(list.filter((g): g is string => typeof g === 'string' && g !== ''));
}

function nameOf(claims: Record<string, unknown>): string | null {
  const full = text(claims['name']);
  if (full) return full;
  const parts = [text(claims['given_name']), text(claims['family_name'])].filter((p): p is string => p !== null);
  if (parts.length > 0) return parts.join(' ');
  return text(claims['preferred_username']);
}

/** Lower-case, and only when the provider has not said it is unverified (`email_verified: false`). */
function emailOf(claims: Record<string, unknown>): string | null {
  const verified = claims['email_verified'];
  if (verified === false || verified === 'false') return null;
  const email = text(claims['email'])?.toLowerCase() ?? null;
  return email !== null && /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email) ? email : null;
}

export function mapClaims(claims: Record<string, unknown>, rules: RoleRule[], groupsClaim = 'groups'): ClaimsMapping {
  const groups = groupsOf(claims, groupsClaim);
  const matching = rules.filter((r) => groups.has(r.group.trim()));
  if (matching.length === 0) return { ok: false, reason: 'no_group' };
  const broadest = matching.reduce((best, r) => (BREADTH[r.role] < BREADTH[best.role] ? r : best));
  const role = broadest.role;
  const scopes = new Set(matching.filter((r) => r.role === role).map((r) => `${r.areaId ?? ''}\u0000${r.institutionId ?? ''}`));
  if (scopes.size > 1) return { ok: false, reason: 'ambiguous' };
  const name = nameOf(claims);
  if (name === null) return { ok: false, reason: 'no_name' };
  return {
    ok: true,
    role,
    areaId: role === 'area' ? (broadest.areaId ?? null) : null,
    institutionId: role === 'institution' ? (broadest.institutionId ?? null) : null,
    name,
    email: emailOf(claims),
    title: text(claims['title']) ?? text(claims['job_title']),
  };
}
