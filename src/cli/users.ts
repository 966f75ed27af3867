/**
 * `fristvagt user create|link|list`: people from the command line, for the first administrator of
 * an installation (or when the UI is out of reach). The same write path as the UI and the API
 * (src/records/users.ts); a new person gets a one-time login link to choose their password with.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { config } from './config.js';
import { ServiceError } from '../records/errors.js';
import { openConfiguredDatabase } from '../runtime.js';
import { UsageError } from './io.js';

const CLI_ACTOR = { id: 'cli', name: 'cli', role: 'admin' as const, kind: 'system' as const };

function args(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}

const FLAG: Record<string, string> = { areaId: '--area', institutionId: '--institution', staffId: '--staff', email: '--email', name: '--name', title: '--title', role: '--role' };

function usage(err: unknown): never {
  if (err instanceof ServiceError) {
    const issue = err.issues[0];
    throw new UsageError(issue ? `${FLAG[issue.path] ?? issue.path}: ${issue.message}` : err.message, { cause: err });
  }
  throw err;
}

export async function userCommand(argv: string[]): Promise<string> {
  const [sub, ...rest] = argv;
  const cfg = config();
  if (sub === 'create') {
    const { values } = args(rest, { email: { type: 'string' }, name: { type: 'string' }, title: { type: 'string' }, role: { type: 'string' }, area: { type: 'string' }, institution: { type: 'string' }, staff: { type: 'string' } });
    for (const k of ['email', 'name', 'role'] as const) if (!values[k]) throw new UsageError(`--${k}: is required`);
    const [{ createUser }, { createLoginLink, loginLinkUrl }] = await Promise.all([import('../records/users.js'), import('../identity/login.js')]);
    const db = await openConfiguredDatabase(cfg);
    try {
      const body: Record<string, unknown> = { email: values['email'], name: values['name'], role: values['role'] };
      if (values['title'] !== undefined) body['title'] = values['title'];
      if (values['area'] !== undefined) body['areaId'] = values['area'];
      if (values['institution'] !== undefined) body['institutionId'] = values['institution'];
      if (values['staff'] !== undefined) body['staffId'] = values['staff'];
      const now = new Date();
      const user = await createUser(db.db, body, CLI_ACTOR, now).catch(usage);
      const link = await createLoginLink(db.db, user.id, CLI_ACTOR, now);
      process.stderr.write(`created ${user.role} user ${user.id}; the login link below works once, within 24 hours\n`);
      return loginLinkUrl(cfg.PUBLIC_URL, link.secret);
    } finally {
      await db.close();
    }
  }
  if (sub === 'link') {
    const { values } = args(rest, { email: { type: 'string' } });
    if (!values['email']) throw new UsageError('--email: is required');
    const [{ findUserByEmail }, { createLoginLink, loginLinkUrl }] = await Promise.all([import('../records/users.js'), import('../identity/login.js')]);
    const db = await openConfiguredDatabase(cfg);
    try {
      const user = await findUserByEmail(db.db, String(values['email']));
      if (!user) throw new UsageError('--email: no user has this e-mail address');
      const link = await createLoginLink(db.db, user.id, CLI_ACTOR, new Date()).catch(usage);
      process.stderr.write(`login link for user ${user.id}; it works once, within 24 hours\n`);
      return loginLinkUrl(cfg.PUBLIC_URL, link.secret);
    } finally {
      await db.close();
    }
  }
  if (sub === 'list') {
    args(rest, {});
    const { listUsers } = await import('../records/users.js');
    const db = await openConfiguredDatabase(cfg);
    try {
      const items = await listUsers(db.db, CLI_ACTOR);
      return JSON.stringify(items.map((u) => ({ id: u.id, email: u.email, role: u.role, areaId: u.areaId, institutionId: u.institutionId, active: u.active })), null, 2);
    } finally {
      await db.close();
    }
  }
  throw new UsageError('user: use "user create --email … --name … --role … [--title …] [--area …] [--institution …] [--staff …]", "user link --email …" or "user list"');
}
