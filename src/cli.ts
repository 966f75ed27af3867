#!/usr/bin/env node
/**
 * The `fristvagt` command. Each sub-command lives in src/cli/; this file only dispatches and
 * maps errors to exit codes (2 = bad input or usage, 1 = anything else).
 *
 * Start-up: this file imports nothing but src/cli/io.ts. A sub-command's module, and with it its
 * libraries (drizzle, postgres, PGlite, BullMQ, fastify, nodemailer, zod…), is imported when that
 * sub-command runs, so `fristvagt --help` and `fristvagt deadlines` load only what they use
 * (test/integration/cli-startup.test.ts checks it; bench/cli.ts times it).
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './cli/io.js';

const USAGE = `Usage: fristvagt <command> [options]

Commands:
  deadlines [--now <ISO instant>] [--closure-days <MM-DD|YYYY-MM-DD,...>] [--lang da|en]
      Reads one JSON record (or an array) on stdin and prints its deadlines as JSON.
  rules [--lang da|en]
      Prints the rule catalogue (ids, titles, citations, basis) as JSON.
  migrate
      Applies the database migrations (Postgres with DATABASE_URL, else PGlite in FRISTVAGT_DATA_DIR).
  seed --demo [--records N]
      Loads demo areas, institutions, staff and records (invented names, fake CPR numbers).
  token create --role admin|area|institution|reader [--area ID] [--institution ID] [--name NAME]
      Prints a new API token once. token revoke <id> revokes one.
  user create --email E --name N --role admin|area|institution|reader [--title T] [--area ID] [--institution ID] [--staff ID]
      Creates a person and prints a one-time login link (24 h). user link --email E prints a new
      link (a forgotten password); user list lists the users as JSON.
  audit verify
      Checks the audit log's hash chain; exit code 1 when it is broken.
  api
      Serves the HTTP API (HOST, PORT) until SIGTERM/SIGINT.
  worker
      Runs the watchdog worker (needs REDIS_URL) until SIGTERM/SIGINT.
  start
      API and worker in one process; PGlite, a private redis-server and the mail catcher unless
      DATABASE_URL, REDIS_URL and SMTP_URL are set.
  import <file.csv|file.jsonl|file.ndjson> [--type TYPE] [--dry-run] [--no-plan] [--historical]
      Imports records of one type (incident, security_cell_placement, force_use, action_plan);
      columns/fields are the API's field names. Summary as JSON; exit 2 when rows were rejected.
      --historical: closed history only (every row needs closedAt); nothing is mailed.
  retention [--dry-run]
      Anonymises records closed more than FRISTVAGT_RETENTION_YEARS (default 5) years ago.
  evidence verify <pack.zip> [--database]
      Checks an evidence pack offline: files against SHA256SUMS, the export entry, every audit
      entry's hash; exit code 1 naming the entry and what differs. --database also checks the
      configured database's audit chain and that the pack's entries are in it.
  evidence export <type> <id> [--out file]
      Writes a record's evidence pack (ZIP: PDF, JSON, audit hash inputs); the export is audited.
  config check
      Validates the environment and checks that Postgres (or PGlite's directory), Redis and SMTP answer.
`;

type Command = (argv: string[]) => Promise<string>;

const SUBCOMMANDS = new Set(['token', 'user', 'audit', 'config', 'evidence']);

const commands: Record<string, Command> = {
  deadlines: async (argv) => {
    const { deadlinesCommand, defaultDeadlinesDeps } = await import('./cli/deadlines.js');
    return deadlinesCommand(argv, defaultDeadlinesDeps());
  },
  rules: async (argv) => (await import('./cli/rules.js')).rulesCommand(argv),
  migrate: async (argv) => (await import('./cli/admin.js')).migrateCommand(argv),
  seed: async (argv) => (await import('./cli/admin.js')).seedCommand(argv),
  token: async (argv) => (await import('./cli/admin.js')).tokenCommand(argv),
  user: async (argv) => (await import('./cli/users.js')).userCommand(argv),
  audit: async (argv) => (await import('./cli/admin.js')).auditCommand(argv),
  api: async (argv) => (await import('./cli/admin.js')).apiCommand(argv),
  worker: async (argv) => (await import('./cli/worker.js')).workerCommand(argv),
  start: async (argv) => (await import('./cli/worker.js')).startCommand(argv),
  import: async (argv) => (await import('./cli/import.js')).importCommand(argv),
  retention: async (argv) => (await import('./cli/retention.js')).retentionCommand(argv),
  config: async (argv) => (await import('./cli/config-check.js')).configCommand(argv),
  evidence: async (argv) => (await import('./cli/evidence.js')).evidenceCommand(argv),
};

/** The one error text the command prints: loaded on the error path only (it imports the domain's CPR scrubber). */
async function describe(err: unknown): Promise<string> {
  return (await import('./safe-error.js')).describeError(err);
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? EXIT_OK : EXIT_USAGE;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`fristvagt: unknown command "${name}"\n${USAGE}`);
    return EXIT_USAGE;
  }
  // What a second process refused on the same FRISTVAGT_DATA_DIR is told: `start`, `token create`, …
  // (a sub-command word only, never an argument such as a file name).
  try {
    const [{ setLockCommand }, { installHolidayFallback }] = await Promise.all([import('./db/data-dir-lock.js'), import('./holidays.js')]);
    setLockCommand(SUBCOMMANDS.has(name) && rest[0] && /^[a-z]+$/.test(rest[0]) ? `${name} ${rest[0]}` : name);
    // A year outside the committed holiday table (src/domain/holidays-dk.ts) is asked of date-holidays, loaded then.
    installHolidayFallback();
    const out = await command(rest);
    if (out) process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
    // A command that printed its result and still failed (audit verify on a broken chain) sets exitCode itself.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) {
      // One line: scripts read it, and it must never echo a record (it could hold a CPR number).
      process.stderr.write(`fristvagt ${name}: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`);
      return EXIT_USAGE;
    }
    // Never the raw message: a database error's carries the failed query's parameters (names, free text).
    process.stderr.write(`fristvagt ${name}: ${await describe(err)}\n`);
    return EXIT_FAILURE;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.exitCode = EXIT_FAILURE;
    process.stderr.write(`fristvagt: ${await describe(err)}\n`);
  },
);
