#!/usr/bin/env bash
# Install what Kartoteka needs: Debian packages (when missing), the Python virtualenv with
# the project, and the front-end packages from npm. Idempotent and quick when all is there.
#   scripts/install.sh          runtime only
#   scripts/install.sh --test   plus test dependencies and servers (PostgreSQL, Redis, Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
TEST=0
[ "${1:-}" = "--test" ] && TEST=1

say() { printf '\n== %s\n' "$*"; }

# -- Debian packages -------------------------------------------------------------------------
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
have_cmd node || need+=(nodejs)
have_cmd npm || need+=(npm)
if [ $TEST -eq 1 ]; then
  have_cmd chromium || [ -x /usr/bin/chromium ] || need+=(chromium)
  have_cmd redis-server || need+=(redis-server)
  have_cmd pdftotext || need+=(poppler-utils)
  if ! have_cmd initdb && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need+=(postgresql)
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  say "Debian packages: ${need[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if have_cmd sudo; then SUDO="sudo"; else
      echo "Missing packages: ${need[*]} — install them as root (apt-get install ${need[*]})" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# -- Python ------------------------------------------------------------------------------------
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "virtualenv .venv"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
say "Python packages"
if [ $TEST -eq 1 ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
else
  .venv/bin/python -m pip install --quiet -e .
fi

# -- front-end assets from npm (never committed) --------------------------------------------------
if [ -f package.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ] || [ package.json -nt node_modules ]; then
    say "npm packages"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error
    else npm install --no-audit --no-fund --loglevel=error; fi
    touch node_modules
  fi
fi
