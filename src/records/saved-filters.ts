/**
 * The work queue's saved filters (docs/ARCHITECTURE.md "The work queue"): per actor, a name and
 * the queue's query string. A filter is the URL's own state, so a saved one is only a named link:
 * the query is reduced to the queue's filter keys (anything else is dropped), never a person
 * search (that is a POST and never in a URL). Not audited: a filter changes no case.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { savedFilters } from '../db/schema.js';
import { pgErrorInfo, ServiceError, validationError } from './errors.js';
import { parseBody, type Actor, type ServiceContext } from './service.js';
import { plainString } from './values.js';

/** The query keys a saved filter keeps, in this order. */
export const FILTER_KEYS = ['view', 'area', 'institution', 'rule', 'recordType', 'status', 'q', 'sort', 'dir'] as const;
export const MAX_SAVED_FILTERS = 20;

export const savedFilterBody = z.strictObject({
  name: plainString().trim().min(1, 'must not be empty').max(60),
  query: z.string().max(500),
});

export interface SavedFilter {
  id: string;
  name: string;
  query: string;
}

/** `a=1&x=2&b=` → only the filter keys with a value, in FILTER_KEYS order. */
export function canonicalFilterQuery(query: string): string {
  const given = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = given.get(k)?.trim();
    if (v) out.set(k, v.slice(0, 100));
  }
  return out.toString();
}

export async function listSavedFilters(ctx: ServiceContext, actor: Actor): Promise<SavedFilter[]> {
  return ctx.db.select({ id: savedFilters.id, name: savedFilters.name, query: savedFilters.query }).from(savedFilters).where(eq(savedFilters.actorId, actor.id)).orderBy(asc(savedFilters.name));
}

/** Saves (or, under a name already used, replaces) one of the actor's filters. */
export async function saveFilter(ctx: ServiceContext, actor: Actor, body: unknown): Promise<SavedFilter> {
  const input = parseBody(savedFilterBody, body);
  const query = canonicalFilterQuery(input.query);
  try {
    return await ctx.db.transaction(async (tx) => {
      await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`saved-filters:${actor.id}`}))`);
      const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(savedFilters).where(and(eq(savedFilters.actorId, actor.id), sql`${savedFilters.name} <> ${input.name}`));
      if ((count?.n ?? 0) >= MAX_SAVED_FILTERS) throw validationError([{ path: 'name', message: `at most ${MAX_SAVED_FILTERS} saved filters; delete one first` }]);
      const [row] = await tx
        .insert(savedFilters)
        .values({ actorId: actor.id, name: input.name, query, createdAt: ctx.clock() })
        .onConflictDoUpdate({ target: [savedFilters.actorId, savedFilters.name], set: { query } })
        .returning({ id: savedFilters.id, name: savedFilters.name, query: savedFilters.query });
      return row as SavedFilter;
    });
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    if (pgErrorInfo(err).code === '23514') throw validationError([{ path: 'name', message: 'must be 1–60 characters' }]);
    throw err;
  }
}

/** Deletes one of the actor's own filters; another actor's id is "not found". */
export async function deleteSavedFilter(ctx: ServiceContext, actor: Actor, id: string): Promise<void> {
  const gone = /^[0-9a-f-]{36}$/i.test(id) ? await ctx.db.delete(savedFilters).where(and(eq(savedFilters.id, id), eq(savedFilters.actorId, actor.id))).returning({ id: savedFilters.id }) : [];
  if (gone.length === 0) throw new ServiceError('NOT_FOUND', `no saved filter ${id}`);
}
