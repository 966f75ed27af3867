#!/usr/bin/env bash
# Quick start, first command: from a fresh clone on Debian with Node 20 to a running fristvagt with
# demo data. Installs what is missing (redis-server via apt, the npm packages), then runs
# `fristvagt start --demo`: PGlite under ./data, a private redis-server, the built-in mail catcher.
# It prints the address and an admin token, and stops on Ctrl+C / SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  echo "fristvagt needs Node.js 20.19 or newer (found $(node --version))" >&2
  exit 1
}

if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "== installing redis-server (Debian package)" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

# npm ci only when the installed packages are missing or older than the lock file: a second run starts at once.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci" >&2
  npm ci --no-audit --no-fund >&2
elif [ ! -f dist/src/cli.js ]; then
  npm run -s build >&2
fi

exec node dist/src/cli.js start --demo "$@"
