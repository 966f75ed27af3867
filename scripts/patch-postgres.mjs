#!/usr/bin/env node
/**
 * Patches the postgres.js driver (exactly the version pinned in package.json) so that a dropped
 * connection cannot crash the process, run a transaction's statements on a later session, or answer
 * a statement with another session's or statement's result.
 *
 * postgres 3.4.9, the newest release, schedules small writes with setImmediate; when the socket
 * closes first, `nextWrite` calls `socket.write` on null and the TypeError escapes from the
 * immediate as an uncaught exception (porsager/postgres#1066, #1154, #1208; the guards proposed in
 * the unmerged PRs #1168 and #1209). It is reached when a transaction goes on using its connection
 * after the server dropped it (its ROLLBACK, its next statement).
 *
 * A connection object also carried a dead session's state into its next session. closed() settled
 * nothing when an 'error' event had come first (error() had settled what was there then, but
 * 'close' comes turns later and the pool hands the connection statements in between), and it kept
 * the current statement, its ErrorResponse and the rows counter. So, under dropped connections: a
 * statement handed over between 'error' and 'close' resolved with the next session's startup (no
 * row), or the next session took it for its own and answered it with another statement's result,
 * or waited for an answer that never came (the pool hung once the drops stopped); the FATAL 57P01
 * of the dead session failed the next session's first statement, which then skipped the type fetch
 * whose rows would have reset the counter, so the statement after it resolved with its first rows
 * missing (the API answered 400 "unknown institution" for one that exists). The rows counter also
 * survived a statement that failed amid its rows on a live session (porsager/postgres#1181).
 *
 * Seven changes, in src/ (ESM), cjs/src/ (CommonJS) and cf/src/ (Workers) alike:
 *   1. execute(): a connection whose socket is gone rejects the query with CONNECTION_CLOSED;
 *   2. nextWrite(): if the socket is gone anyway, drop the bytes and settle what waits on them;
 *   3. closed(): forget the dead session's unsent bytes and its write timer (a stale timer left
 *      small writes, the next session's startup message included, unsent until connect_timeout);
 *   4. closed(): reject every statement the dead session holds, whether or not an 'error' event came
 *      first, and forget its current statement, ErrorResponse, rows counter and result;
 *   5. ReadyForQuery: reset the rows counter with the result, after every exchange;
 *   6. fetchArrayTypes(), fetchState(): the connection's own startup query failing (its session
 *      dropped) is not an unhandled rejection, which would kill the process; `initial` gets the
 *      error, or the next session fetches again;
 *   7. begin(): once the transaction's connection has closed, its scope rejects every further
 *      statement instead of sending it to whatever session the connection object has next.
 *
 * Runs from "postinstall" (npm ci, npm install, --omit=dev included) and from the Dockerfile after
 * `npm ci --ignore-scripts`. Idempotent. Fails loudly, so that an upgrade cannot drop the fix
 * silently: another version than PINNED, or code that no longer matches, stops the install.
 *   node scripts/patch-postgres.mjs [--check] [--dir <path of the postgres package>]
 * --check only verifies (exit 1 if a copy is unpatched); the driver also refuses to open a
 * Postgres connection unpatched (src/db/client.ts).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const PINNED = '3.4.9';
export const MARK = 'fristvagt-patch';
const COPIES = ['src', 'cjs/src', 'cf/src'];

/** Each hunk: the exact upstream text and what replaces it (which carries MARK). */
export const HUNKS = {
  'connection.js': [
    {
      name: 'execute rejects on a closed connection',
      find: `    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))
`,
      replace: `    if (terminated)
      return queryError(q, Errors.connection('CONNECTION_DESTROYED', options))

    // ${MARK}: the socket is gone (closed, not yet reconnected): reject instead of writing to null
    if (!socket)
      return queryError(q, Errors.connection('CONNECTION_CLOSED', options)), true
`,
    },
    {
      name: 'nextWrite guards a null socket',
      find: `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)
`,
      replace: `  function nextWrite(fn) {
    if (!socket) { // ${MARK}: closed before the write ran: drop it and settle what waits on it
      const err = Errors.connection('CONNECTION_CLOSED', options)
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      fn && fn(err)
      error(err)
      return false
    }
    const x = socket.write(chunk, fn)
`,
    },
    {
      name: 'closed forgets unsent bytes and the write timer',
      find: `  async function closed(hadError) {
    incoming = Buffer.alloc(0)
    remaining = 0
    incomings = null
    clearImmediate(nextWriteTimer)
`,
      replace: `  async function closed(hadError) {
    incoming = Buffer.alloc(0)
    remaining = 0
    incomings = null
    clearImmediate(nextWriteTimer)
    chunk = nextWriteTimer = null // ${MARK}: the dead session's bytes never prefix the next one's
`,
    },
    {
      name: 'closed settles and forgets the dead session\'s statements',
      find: `    if (initial)
      return reconnect()

    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))
`,
      replace: `    // ${MARK}: the dead session's statements are all rejected here, also when an 'error' event came
    // first: 'close' follows it turns later, and what the pool handed the connection in between sat in
    // \`sent\` and was answered by the next session. Nothing of its parser state (current statement,
    // its error, rows counter, result) reaches the next session either: a stale error failed the next
    // session's first statement, a stale rows counter left the next result's first rows missing.
    const lost = () => Errors.connection('CONNECTION_CLOSED', options, socket)
    stream && (stream.destroy(lost()), stream = null)
    query && queryError(query, lost())
    while (sent.length)
      queryError(sent.shift(), lost())
    query = results = errorResponse = null
    result = new Result()
    rows = 0

    if (initial)
      return reconnect()

`,
    },
    {
      name: 'ReadyForQuery resets the rows counter',
      find: `    query = results = errorResponse = null
    result = new Result()
    connectTimer.cancel()
`,
      replace: `    query = results = errorResponse = null
    result = new Result()
    rows = 0 // ${MARK}: a statement that failed amid its rows must not offset the next one's (porsager/postgres#1181)
    connectTimer.cancel()
`,
    },
    {
      name: 'a failed type fetch is not an unhandled rejection',
      find: `    \`], [], execute)
    types.forEach(({ oid, typarray }) => addArrayType(oid, typarray))
`,
      replace: `    \`], [], execute).catch(() => null) // ${MARK}: its error reaches \`initial\`, or the next session fetches again
    types && types.forEach(({ oid, typarray }) => addArrayType(oid, typarray))
`,
    },
    {
      name: 'a failed state fetch is not an unhandled rejection',
      find: `    query.execute()
  }
`,
      replace: `    query.execute().catch(() => null) // ${MARK}: as the type fetch
  }
`,
    },
  ],
  'index.js': [
    {
      name: 'begin remembers that its connection closed',
      find: `    let savepoints = 0
      , connection
      , prepare = null
`,
      replace: `    let savepoints = 0
      , connection
      , prepare = null
      , lost = null // ${MARK}: the error that closed this transaction's connection
`,
    },
    {
      name: 'begin records the close',
      find: `        new Promise((_, reject) => connection.onclose = reject)
`,
      replace: `        new Promise((_, reject) => connection.onclose = e => (lost = e, reject(e))) // ${MARK}
`,
    },
    {
      name: 'a closed transaction runs no further statement',
      find: `      function handler(q) {
        q.catch(e => uncaughtError || (uncaughtError = e))
        c.queue === full
`,
      replace: `      function handler(q) {
        q.catch(e => uncaughtError || (uncaughtError = e))
        if (lost) // ${MARK}: never on a later session of the same connection object
          return q.reject(lost)
        c.queue === full
`,
    },
  ],
};

export class PatchError extends Error {}

/** Applies (or with check: verifies) every hunk in every copy; returns what it did, per file. */
export function patchPostgres(pkgDir, { check = false } = {}) {
  const pkgFile = join(pkgDir, 'package.json');
  if (!existsSync(pkgFile)) throw new PatchError(`${pkgDir}: no postgres package installed`);
  const version = JSON.parse(readFileSync(pkgFile, 'utf8')).version;
  if (version !== PINNED) {
    throw new PatchError(
      `postgres ${version} is installed, the patch is written for ${PINNED}. Check whether that release fixes porsager/postgres#1154/#1208/#1181 ` +
        '(a dropped connection must not crash the process nor leave its session\'s state to the next: test/fault/postgres-drop.test.ts, test/fault/postgres-drop-reads.test.ts, test/integration/driver-patch.test.ts), then update or remove scripts/patch-postgres.mjs and the pin in package.json.',
    );
  }
  const report = [];
  for (const copy of COPIES) {
    for (const [file, hunks] of Object.entries(HUNKS)) {
      const path = join(pkgDir, copy, file);
      let text = readFileSync(path, 'utf8');
      let changed = 0;
      for (const h of hunks) {
        if (text.includes(h.replace)) continue;
        const at = text.indexOf(h.find);
        if (at < 0 || text.indexOf(h.find, at + 1) >= 0) {
          throw new PatchError(`${path}: the code for "${h.name}" is not where postgres ${PINNED} has it (${at < 0 ? 'not found' : 'found twice'}); the driver is NOT patched`);
        }
        if (check) throw new PatchError(`${path}: "${h.name}" is not applied; run node scripts/patch-postgres.mjs`);
        text = text.slice(0, at) + h.replace + text.slice(at + h.find.length);
        changed++;
      }
      if (changed > 0) writeFileSync(path, text);
      report.push(`${copy}/${file}: ${changed > 0 ? `${changed} change(s) applied` : 'already patched'}`);
    }
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const dirAt = args.indexOf('--dir');
  const pkgDir = dirAt >= 0 ? args[dirAt + 1] : join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');
  try {
    const report = patchPostgres(pkgDir, { check });
    process.stdout.write(`patch-postgres: ${check ? 'verified' : 'ok'} (postgres ${PINNED}; ${report.filter((r) => r.includes('applied')).length} file(s) changed)\n`);
  } catch (err) {
    process.stderr.write(`\npatch-postgres: FAILED: ${err.message}\n\n`);
    process.exitCode = 1;
  }
}
