/**
 * Operator commands: migrate, seed, token, audit, api. Each opens the configured database itself,
 * and imports what only it uses (the HTTP server, tokens, the audit verifier) when it runs.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { config } from './config.js';
import { ServiceError } from '../records/errors.js';
import { mailerFor, openConfiguredDatabase, serviceContext } from '../runtime.js';
import { UsageError } from './io.js';

const CLI_ACTOR = { id: 'cli', name: 'cli', role: 'admin' as const };

function args(argv: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: positionals });
  } catch (err) {
    throw new UsageError((err as Error).message, { cause: err });
  }
}

function usage(err: unknown): never {
  if (err instanceof ServiceError) {
    const issue = err.issues[0];
    throw new UsageError(issue ? `${issue.path.replace(/^areaId$/, '--area').replace(/^institutionId$/, '--institution')}: ${issue.message}` : err.message, { cause: err });
  }
  throw err;
}

export async function migrateCommand(argv: string[]): Promise<string> {
  args(argv, {});
  const cfg = config();
  const db = await openConfiguredDatabase(cfg, { migrate: true });
  await db.close();
  return `migrations applied (${db.driver === 'postgres' ? 'Postgres' : `PGlite in ${cfg.FRISTVAGT_DATA_DIR}`})`;
}

export async function seedCommand(argv: string[]): Promise<string> {
  const { values } = args(argv, { demo: { type: 'boolean' }, records: { type: 'string' } });
  if (!values['demo']) throw new UsageError('seed: only --demo is supported (invented names, obviously fake CPR numbers)');
  const records = values['records'] === undefined ? 300 : Number(values['records']);
  if (!Number.isInteger(records) || records < 1 || records > 100_000) throw new UsageError('--records: a whole number from 1 to 100000');
  const cfg = config();
  const db = await openConfiguredDatabase(cfg);
  try {
    const { seedDemo } = await import('../records/demo.js');
    const summary = await seedDemo(serviceContext(db, cfg), { records });
    return JSON.stringify(summary, null, 2);
  } finally {
    await db.close();
  }
}

export async function tokenCommand(argv: string[]): Promise<string> {
  const [sub, ...rest] = argv;
  const cfg = config();
  if (sub === 'create') {
    const { values } = args(rest, { role: { type: 'string' }, area: { type: 'string' }, institution: { type: 'string' }, name: { type: 'string' } });
    if (!values['role']) throw new UsageError('--role: is required (admin, area, institution or reader)');
    const { createToken } = await import('../records/tokens.js');
    const db = await openConfiguredDatabase(cfg);
    try {
      const body: Record<string, unknown> = { role: values['role'], name: values['name'] ?? `${String(values['role'])} token` };
      if (values['area'] !== undefined) body['areaId'] = values['area'];
      if (values['institution'] !== undefined) body['institutionId'] = values['institution'];
      const t = await createToken(db.db, body, CLI_ACTOR, new Date()).catch(usage);
      process.stderr.write(`created ${t.role} token ${t.id}; it is shown once, store it now\n`);
      return t.token;
    } finally {
      await db.close();
    }
  }
  if (sub === 'revoke') {
    const { positionals } = args(rest, {}, true);
    const id = positionals[0];
    if (!id) throw new UsageError('token revoke: give the token id');
    const { revokeToken } = await import('../records/tokens.js');
    const db = await openConfiguredDatabase(cfg);
    try {
      await revokeToken(db.db, id, CLI_ACTOR, new Date()).catch(usage);
      return `revoked ${id}`;
    } finally {
      await db.close();
    }
  }
  throw new UsageError('token: use "token create --role … [--area …] [--institution …]" or "token revoke <id>"');
}

export async function auditCommand(argv: string[]): Promise<string> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify') throw new UsageError('audit: use "audit verify"');
  args(rest, {});
  const cfg = config();
  const { auditHead, formatIdRanges, verifyAudit } = await import('../db/audit.js');
  const db = await openConfiguredDatabase(cfg);
  try {
    const res = await verifyAudit(db.db);
    if (!res.ok) {
      process.exitCode = 1;
      const where = res.brokenAt?.id ? ` at entry ${res.brokenAt.id}` : '';
      return `audit chain BROKEN${where}: ${res.brokenAt?.reason ?? ''}${res.duplicates ? '' : ` (${res.checked} entries verified before it)`}`;
    }
    const head = await auditHead(db.db);
    // Ids only: which numbers went unused says nothing about anyone.
    const gaps = res.unusedIds
      ? `; ${res.unusedIds} unused id${res.unusedIds > 1 ? 's' : ''} (${formatIdRanges(res.idGaps ?? [], (res.idGaps?.length ?? 0) >= 20)}): rolled-back transactions or a crash, the chain links across them`
      : '';
    // The head is worth writing down elsewhere: a later run that prints a different hash for the same id means the chain was rewritten.
    return `audit chain ok: ${res.checked} entries verified${head ? `; head #${head.id} ${head.hash}` : ''}${gaps}`;
  } finally {
    await db.close();
  }
}

/** `fristvagt api`: the HTTP API until SIGTERM/SIGINT. */
export async function apiCommand(argv: string[]): Promise<string> {
  args(argv, {});
  const cfg = config();
  const [{ buildServer }, { createLogger }] = await Promise.all([import('../api/server.js'), import('../logger.js')]);
  const logger = createLogger({ level: cfg.LOG_LEVEL });
  const db = await openConfiguredDatabase(cfg);
  // The API sends the preliminary notice itself (on approval), so it needs the same mailer as the worker.
  const mailer = mailerFor(cfg, db, logger);
  const app = await buildServer({ database: db, config: cfg, clock: () => new Date(), logger, mailer, mailFrom: cfg.MAIL_FROM });
  const url = await app.listen({ host: cfg.HOST, port: cfg.PORT });
  logger.info({ url }, 'fristvagt API listening');
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      logger.info('shutting down');
      void app.close().then(() => db.close()).finally(() => {
        mailer.close();
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return '';
}
