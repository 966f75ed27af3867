/**
 * The OpenAPI document, generated from the same zod schemas the service validates with, so the
 * document cannot drift from what the API accepts.
 */
import { z } from 'zod';
import { deadlineQuery } from '../records/deadline-list.js';
import { KINDS } from '../records/kinds.js';
import { areaCreate, areaPatch, institutionCreate, institutionPatch, staffCreate, staffPatch } from '../records/masterdata.js';
import { tokenCreate } from '../records/tokens.js';

function schema(s: z.ZodType): unknown {
  return z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
}

const ERROR = {
  description: 'Error',
  content: { 'application/json': { schema: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } } } } } } },
};

function op(summary: string, opts: { body?: z.ZodType; query?: z.ZodObject; id?: boolean; status?: string } = {}): Record<string, unknown> {
  const parameters: unknown[] = [];
  if (opts.id) parameters.push({ name: 'id', in: 'path', required: true, schema: { type: 'string' } });
  if (opts.query) for (const [name, s] of Object.entries(opts.query.shape)) parameters.push({ name, in: 'query', required: false, schema: schema(s as z.ZodType) });
  const o: Record<string, unknown> = {
    summary,
    security: [{ bearer: [] }],
    parameters,
    responses: { [opts.status ?? '200']: { description: 'OK' }, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR },
  };
  if (opts.body) {
    o['requestBody'] = { required: true, content: { 'application/json': { schema: schema(opts.body) } } };
    o['parameters'] = [...parameters, { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } }];
  }
  return o;
}

/** The evidence pack: a ZIP, not JSON. */
function evidenceOp(type: string): Record<string, unknown> {
  const o = op(`The evidence pack of a ${type} (ZIP: PDF, JSON, audit hash inputs, SHA256SUMS); admin, area and institution tokens in scope; the export is audited`, { id: true });
  o['responses'] = { ...(o['responses'] as Record<string, unknown>), 200: { description: 'The pack', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } } };
  return o;
}

export function buildOpenApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const kind of Object.values(KINDS)) {
    const base = `/api/${kind.collection}`;
    paths[base] = { post: op(`Create a ${kind.type}`, { body: kind.create, status: '201' }), get: op(`List ${kind.collection}`) };
    paths[`${base}/{id}`] = { get: op(`A ${kind.type} with its deadlines, immediate duties, rules not yet in force (notInForce), missing data (incomplete) and missing notes (warnings)`, { id: true }), patch: op(`Correct fields of a ${kind.type}`, { id: true, body: kind.patch }) };
    paths[`${base}/{id}/events`] = { post: op(`Record a completion event on a ${kind.type}`, { id: true, body: kind.event }) };
    paths[`${base}/{id}/evidence`] = { get: evidenceOp(kind.type) };
  }
  paths['/api/deadlines'] = { get: op('Deadlines, filtered and paginated', { query: deadlineQuery }) };
  paths['/api/areas'] = { get: op('Areas'), post: op('Create an area (admin)', { body: areaCreate, status: '201' }) };
  paths['/api/areas/{id}'] = { patch: op('Update an area (admin)', { id: true, body: areaPatch }) };
  paths['/api/institutions'] = { get: op('Institutions in scope'), post: op('Create an institution (admin)', { body: institutionCreate, status: '201' }) };
  paths['/api/institutions/{id}'] = { patch: op('Update an institution (admin)', { id: true, body: institutionPatch }) };
  paths['/api/staff'] = { get: op('Staff in scope'), post: op('Create a staff member (admin, area)', { body: staffCreate, status: '201' }) };
  paths['/api/staff/{id}'] = { get: op('A staff member', { id: true }), patch: op('Update a staff member', { id: true, body: staffPatch }) };
  paths['/api/settings'] = { get: op('Settings (admin)') };
  paths['/api/settings/{key}'] = { put: op('Change a setting (admin, audited)', { body: z.object({ value: z.unknown() }) }) };
  paths['/api/tokens'] = { post: op('Create an API token (admin); the token is shown once', { body: tokenCreate, status: '201' }) };
  paths['/api/tokens/{id}'] = { delete: op('Revoke a token (admin)', { id: true, status: '204' }) };
  return {
    openapi: '3.1.0',
    info: { title: 'fristvagt API', version: '1', description: 'Records, deadlines and master data of fristvagt. Dates are local (Europe/Copenhagen) YYYY-MM-DD or ISO 8601 instants with offset.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
