#!/usr/bin/env bash
# The whole test suite from a fresh clone (README "Quick start", second command).
# Starts or installs Postgres and Redis when they are not reachable, then installs npm packages,
# typechecks, lints and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
# The browser tests of the web UI drive Debian's Chromium through playwright-core.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# The evidence pack's test reads its PDF (pdftotext) and renders a page (pdftoppm).
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  log "starting redis-server"
  redis-server --daemonize yes --port 6379 --save "" --appendonly no >/dev/null
fi
if ! port_open 5432; then
  log "starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start || true
  for _ in $(seq 1 30); do port_open 5432 && break; sleep 1; done
fi

# Tests connect over TCP as postgres. A fresh Debian cluster asks for a password there (scram),
# the session machines trust loopback; give postgres a password so both work.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if PGCONNECT_TIMEOUT=5 psql "postgres://postgres@127.0.0.1:5432/postgres" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    log "setting a password for the postgres role (loopback asks for one)"
    su postgres -c "psql -Atqc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    export TEST_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:5432/postgres"
  fi
fi

log "npm ci"
npm ci --no-audit --no-fund
log "typecheck"
npm run -s typecheck
log "lint"
npm run -s lint
log "tests"
npm test
