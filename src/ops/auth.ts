/**
 * Who is asking, for the routes outside /api (which the API's own bearer hook does not cover):
 * /metrics and the queue board.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import type { Actor } from '../records/service.js';
import { authenticate } from '../records/tokens.js';

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header?.startsWith('Bearer ')) return undefined;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/** One cookie from the Cookie header; the UI's cookie plugin lives in its own encapsulated scope, not here. */
export function cookieValue(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Constant-time comparison of two secrets of any length (both are hashed to 32 bytes first). */
export function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export interface AuthDeps {
  db: Db;
  adminToken: string | undefined;
  /** Resolves a browser session (the UI's cookie) to its actor; undefined when there is none. */
  session?: ((req: FastifyRequest) => Promise<Actor | undefined>) | undefined;
}

export interface Caller {
  actor: Actor;
  via: 'bearer' | 'session';
}

/** A bearer token first (automation), then the UI session cookie (a browser). */
export async function callerOf(deps: AuthDeps, req: FastifyRequest): Promise<Caller | undefined> {
  const token = bearerToken(req);
  if (token) {
    const actor = await authenticate(deps.db, token, deps.adminToken);
    // A wrong bearer token is an answer in itself: falling back to a cookie would hide the mistake.
    return actor ? { actor, via: 'bearer' } : undefined;
  }
  if (!deps.session) return undefined;
  const actor = await deps.session(req);
  return actor ? { actor, via: 'session' } : undefined;
}

export function errorBody(code: string, message: string): { error: { code: string; message: string; issues: never[] } } {
  return { error: { code, message, issues: [] } };
}

export async function unauthenticated(reply: FastifyReply, message = 'a valid admin bearer token is required'): Promise<FastifyReply> {
  await reply.status(401).header('www-authenticate', 'Bearer').send(errorBody('UNAUTHENTICATED', message));
  return reply;
}

export async function forbidden(reply: FastifyReply, message: string): Promise<FastifyReply> {
  await reply.status(403).send(errorBody('FORBIDDEN', message));
  return reply;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cookie goes along with cross-site requests too. A state-changing request authenticated only
 * by the cookie must come from our own pages: the browser says so in Sec-Fetch-Site, or the
 * Origin header names this host.
 */
export function sameOriginWrite(req: FastifyRequest): boolean {
  if (SAFE_METHODS.has(req.method)) return true;
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin';
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
