/**
 * People (issue 14) over the JSON API: the same write path as the UI's user pages and the CLI
 * (src/records/users.ts), so the permissions are the same everywhere: an administrator manages
 * everybody, an area office the area and institution users of its own area (404 for anybody
 * else's), and the other roles none (403). Users are deactivated, never deleted; every change is
 * audited there. A login link is shown once, in the answer that made it, and never stored.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { createLoginLink, loginLinkUrl } from '../identity/login.js';
import type { Actor } from '../records/service.js';
import { createUser, getUser, listUsers, logoutEverywhere, requireManageable, setPassword, setUserActive, updateUser } from '../records/users.js';

export interface UsersApiDeps {
  db: Db;
  clock: () => Date;
  publicUrl?: string | undefined;
}

type Id = { Params: { id: string } };

export function registerUsersApi(app: FastifyInstance, deps: UsersApiDeps, actorOf: (req: FastifyRequest) => Actor): void {
  const { db, clock } = deps;
  app.get('/api/users', async (req) => ({ items: await listUsers(db, actorOf(req)) }));
  app.post('/api/users', async (req, reply) => {
    const user = await createUser(db, req.body, actorOf(req), clock());
    return reply.status(201).header('location', `/api/users/${user.id}`).send(user);
  });
  app.get<Id>('/api/users/:id', async (req) => getUser(db, actorOf(req), req.params.id));
  app.put<Id>('/api/users/:id', async (req) => updateUser(db, req.params.id, req.body, actorOf(req), clock()));
  app.post<Id>('/api/users/:id/deactivate', async (req) => setUserActive(db, req.params.id, false, actorOf(req), clock()));
  app.post<Id>('/api/users/:id/reactivate', async (req) => setUserActive(db, req.params.id, true, actorOf(req), clock()));
  app.post<Id>('/api/users/:id/password', async (req, reply) => {
    await setPassword(db, req.params.id, req.body, actorOf(req), clock());
    return reply.status(204).send();
  });
  app.post<Id>('/api/users/:id/logout-everywhere', async (req) => ({ sessionsEnded: await logoutEverywhere(db, req.params.id, actorOf(req), clock()) }));
  app.post<Id>('/api/users/:id/login-link', async (req, reply) => {
    const actor = actorOf(req);
    await requireManageable(db, actor, req.params.id);
    const link = await createLoginLink(db, req.params.id, actor, clock());
    // The secret is in this answer only: no cache may keep it.
    return reply.status(201).header('cache-control', 'no-store').send({ url: loginLinkUrl(deps.publicUrl, link.secret), expiresAt: link.expiresAt.toISOString() });
  });
}
