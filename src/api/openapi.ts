/**
 * The OpenAPI document, generated from the same zod schemas the service validates with, so the
 * document cannot drift from what the API accepts.
 */
import { z } from 'zod';
import { deadlineQuery } from '../records/deadline-list.js';
import { escalationAction, escalationQuery } from '../records/escalations.js';
import { correctBodyOf, undoBody } from '../records/corrections.js';
import { KINDS } from '../records/kinds.js';
import { areaCreate, areaPatch, institutionCreate, institutionPatch, staffCreate, staffPatch } from '../records/masterdata.js';
import { tokenCreate } from '../records/tokens.js';
import { passwordChange, userCreate, userUpdate } from '../records/users.js';
import { noticeFieldsSchema } from '../worker/notice.js';

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

/** An operation with one more path parameter after `id`. */
function withParam(o: Record<string, unknown>, param: Record<string, unknown>): Record<string, unknown> {
  const [id, ...rest] = o['parameters'] as unknown[];
  return { ...o, parameters: [id, param, ...rest], responses: { ...(o['responses'] as Record<string, unknown>), 409: ERROR } };
}

/** A user operation (src/api/users.ts): may answer 409 (last administrator, stale version, deactivated), takes no Idempotency-Key. */
function userOp(summary: string, opts: Parameters<typeof op>[1] = {}): Record<string, unknown> {
  const o = op(summary, opts);
  return { ...o, parameters: (o['parameters'] as Array<{ name: string }>).filter((p) => p.name !== 'Idempotency-Key'), responses: { ...(o['responses'] as Record<string, unknown>), 409: ERROR } };
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
    paths[`${base}/{id}/events`] = {
      post: op(`Record a completion event on a ${kind.type}`, { id: true, body: kind.event }),
      get: op(`The recorded events of a ${kind.type}, oldest first: each with its id (the audit entry that recorded it), status (recorded, corrected, undone), what it changed, its values as recorded, and every correction and undo with its reason`, { id: true }),
    };
    const eventId = { name: 'eventId', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
    paths[`${base}/{id}/events/{eventId}/undo`] = { post: withParam(op(`Undo a recorded event of a ${kind.type}: what it changed goes back to what it was before (409, naming the field, when something changed it since); \`reason\` is required; audited with before/after and the reason, deadlines and mails re-planned`, { id: true, body: undoBody }), eventId) };
    paths[`${base}/{id}/events/{eventId}/correct`] = { post: withParam(op(`Correct a recorded event of a ${kind.type}: undone and recorded again as \`event\` (same type) in one write; \`reason\` is required; audited with before/after and the reason, deadlines and mails re-planned`, { id: true, body: correctBodyOf(kind) }), eventId) };
    paths[`${base}/{id}/evidence`] = { get: evidenceOp(kind.type) };
  }
  const notice = '/api/incidents/{id}/preliminary-notice';
  paths[notice] = {
    get: op('The preliminary notice (§ 6 stk. 2–3) as prefilled from the incident: fields, the three recipients (an unset address is null and listed in `unset`), missing record data, whether it is late, what it can say of the final report (area and institution roles)', { id: true }),
    post: op('Send the preliminary notice: the same fields as the preview and its `previewHash`; refused (409, nothing sent) when the text, the record or the recipients no longer give that hash, and (400, `recipients.ombudsman` / `recipients.directorate`) while an address is unset. Returns `sentAt`, the archived `messages` and the `record`', { id: true, body: noticeFieldsSchema(true) }),
  };
  paths[`${notice}/preview`] = { post: op('Preview the notice with the edited fields: the text as it would be sent (`mail`) and its `hash`; nothing is sent', { id: true, body: noticeFieldsSchema(false) }) };
  // The hash, not an idempotency key, is what makes a repeated confirmation harmless (a second one answers 409).
  for (const o of [paths[notice]?.['post'], paths[`${notice}/preview`]?.['post']] as Array<{ parameters: Array<{ name: string }> }>) o.parameters = o.parameters.filter((p) => p.name !== 'Idempotency-Key');
  paths[`${notice}/messages`] = { get: op('The archived messages of the sent notice: recipient, Message-ID, sha256, size, the SMTP reply, when erased by retention', { id: true }) };
  paths[`${notice}/messages/{messageId}`] = {
    get: {
      ...op('One archived message exactly as the SMTP server accepted it (message/rfc822, holds the CPR number: area and institution roles only); 404 once retention erased it', { id: true }),
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, { name: 'messageId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
    },
  };
  paths['/api/deadlines'] = { get: op('Deadlines, filtered and paginated', { query: deadlineQuery }) };
  paths['/api/escalations'] = { get: op('Open escalations in scope (a breached duty whose escalation mail went out or is due), longest waiting first: state (unhandled, acknowledged, under_handling), assignee, comments', { query: escalationQuery }) };
  paths['/api/escalations/{deadlineId}'] = { get: { ...op('One open escalation (409 when the deadline has none open)'), parameters: [{ name: 'deadlineId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }] } };
  const act = op('Handle an escalation: `acknowledge` (from unhandled), `start` (under handling; from unhandled or acknowledged), `assign` (`staffId`: an active staff member of the area, in scope), `comment` (`text`). Admin, area and institution tokens in write scope (403 otherwise); 409 when the transition is not allowed or the escalation is no longer open. State and audit entry in one transaction; returns the escalation', { body: escalationAction });
  paths['/api/escalations/{deadlineId}/actions'] = { post: { ...act, parameters: [{ name: 'deadlineId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }, ...(act['parameters'] as unknown[])] } };
  paths['/api/areas'] = { get: op('Areas'), post: op('Create an area (admin)', { body: areaCreate, status: '201' }) };
  paths['/api/areas/{id}'] = { get: op('An area with its addresses (an area token: its own; an institution token: its institution\'s)', { id: true }), patch: op('Update an area (admin); a changed address re-plans the open records of its institutions', { id: true, body: areaPatch }) };
  paths['/api/institutions'] = { get: op('Institutions in scope'), post: op('Create an institution (admin)', { body: institutionCreate, status: '201' }) };
  paths['/api/institutions/{id}'] = { get: op('An institution in scope', { id: true }), patch: op('Update an institution (admin); a changed duty manager address or area re-plans its open records', { id: true, body: institutionPatch }) };
  paths['/api/staff'] = { get: op('Staff in scope'), post: op('Create a staff member (admin, area)', { body: staffCreate, status: '201' }) };
  paths['/api/staff/{id}'] = { get: op('A staff member', { id: true }), patch: op('Update a staff member (admin, area); `absences` replaces the list; a changed address, active flag, substitute or absence re-plans the open plans they own or stand in for', { id: true, body: staffPatch }) };
  paths['/api/settings'] = { get: op('Settings (admin)') };
  paths['/api/settings/{key}'] = { put: op('Change a setting (admin, audited)', { body: z.object({ value: z.unknown() }) }) };
  paths['/api/tokens'] = { get: op('API tokens (admin): name, role, scope, created, last used, revoked; never the token'), post: op('Create an API token (admin); the token is shown once', { body: tokenCreate, status: '201' }) };
  paths['/api/tokens/{id}'] = { delete: op('Revoke a token (admin)', { id: true, status: '204' }) };
  // People (issue 14): administrators manage everybody, an area office the area and institution users of its own area (404 for others); other roles 403.
  paths['/api/users'] = {
    get: userOp('Users the caller manages (admin: all; area: its area\'s area and institution users), active first, by name: name, title, e-mail, role, scope, staff link, hasPassword, active, lastLoginAt, version; never a password hash'),
    post: userOp('Create a user (admin; area: role area or institution in its own area). `password` is optional (a person without one logs in by single sign-on or a login link); the e-mail address is unique (400 naming `email`); audited with name, title and e-mail as personal values', { body: userCreate, status: '201' }),
  };
  paths['/api/users/{id}'] = {
    get: userOp('A user the caller manages', { id: true }),
    put: userOp('Change a user: every field again (role and scope go together); `version` (optional) refuses a stale edit with 409. The last active administrator cannot be demoted (409, `role`)', { id: true, body: userUpdate }),
  };
  paths['/api/users/{id}/deactivate'] = { post: userOp('Deactivate a user: every session of theirs ends at once, they cannot log in; nothing is deleted. The last active administrator cannot be deactivated (409)', { id: true }) };
  paths['/api/users/{id}/reactivate'] = { post: userOp('Reactivate a deactivated user', { id: true }) };
  paths['/api/users/{id}/password'] = { post: userOp('Set a new password for a user (scrypt-hashed; at least 12 characters); their sessions end', { id: true, body: passwordChange, status: '204' }) };
  paths['/api/users/{id}/logout-everywhere'] = { post: userOp('End every session of a user; returns `sessionsEnded`', { id: true }) };
  paths['/api/users/{id}/login-link'] = { post: userOp('A one-time login link for a user (no password, or forgotten): `url` and `expiresAt`, shown once (only its hash is kept); a new link replaces the previous one; 409 for a deactivated user', { id: true, status: '201' }) };
  return {
    openapi: '3.1.0',
    info: { title: 'fristvagt API', version: '1', description: 'Records, deadlines and master data of fristvagt. Dates are local (Europe/Copenhagen) YYYY-MM-DD or ISO 8601 instants with offset.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
