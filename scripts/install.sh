#!/usr/bin/env bash
# Install what Kartoteka needs: Debian packages (only those missing), the Python virtualenv
# .venv with the project, and the front-end packages from npm into node_modules/ (never
# committed). Idempotent, and quick when everything is already there (apt is skipped, pip and
# npm run only when pyproject.toml / package-lock.json changed since the last install).
#   scripts/install.sh          what `scripts/run.sh` needs
#   scripts/install.sh --test   plus test dependencies: Chromium, Redis, PostgreSQL 15 server,
#                               poppler-utils and the `test` extra of the Python package
# Environment: PYTHON=/path/to/python3.11+ picks the interpreter for a new .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST=0
for arg in "$@"; do
  case "$arg" in
    --test) TEST=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

# -- Python interpreter (>= 3.11) ----------------------------------------------------------------
py_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }
PY=""
if [ ! -x .venv/bin/python ]; then
  for cand in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    if have_cmd "$cand" && py_ok "$cand"; then PY=$(command -v "$cand"); break; fi
  done
fi

# -- Debian packages ------------------------------------------------------------------------------
need=()
dpkg_has() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || dpkg_has fonts-dejavu-core \
  || need+=(fonts-dejavu-core)
if [ -f package.json ]; then
  have_cmd node || need+=(nodejs)
  have_cmd npm || need+=(npm)
fi
if [ ! -x .venv/bin/python ]; then
  if [ -z "$PY" ]; then
    need+=(python3 python3-venv)          # Debian 12: Python 3.11
  elif [ "$PY" = /usr/bin/python3 ] && ! "$PY" -c 'import ensurepip' >/dev/null 2>&1; then
    need+=(python3-venv)
  fi
fi
if [ $TEST -eq 1 ]; then
  have_cmd chromium || [ -x /usr/bin/chromium ] || need+=(chromium)
  have_cmd redis-server || [ -x /usr/bin/redis-server ] || need+=(redis-server)
  have_cmd pdftoppm || need+=(poppler-utils)
  pg_found=0
  if have_cmd initdb && have_cmd pg_ctl && have_cmd postgres; then pg_found=1; fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && pg_found=1
  done
  [ $pg_found -eq 1 ] || need+=(postgresql)   # Debian 12: PostgreSQL 15
fi

if [ ${#need[@]} -gt 0 ]; then
  say "Debian packages: ${need[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${need[*]}"
    if have_cmd sudo; then
      echo "Installing them with sudo."
      SUDO=(sudo)
    else
      echo "Not root and no sudo: install them as root with" >&2
      echo "  apt-get update && apt-get install -y --no-install-recommends ${need[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${need[@]}"
  if [ ! -x .venv/bin/python ] && [ -z "$PY" ]; then
    py_ok python3 && PY=$(command -v python3)
  fi
fi

# -- Python virtualenv and the project ------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  [ -n "$PY" ] || { echo "No Python >= 3.11 found (set PYTHON=...)" >&2; exit 1; }
  say "virtualenv .venv ($("$PY" -V 2>&1))"
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
fi
py_ok .venv/bin/python || { echo ".venv has Python < 3.11: remove .venv and run again" >&2; exit 1; }

# The stamp records what was installed (mode, repository path, pyproject.toml digest); pip runs
# again only when one of them changed or the kartoteka distribution is missing from .venv.
STAMP=.venv/.kartoteka-install
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
want_test="test $PWD $digest"
want_run="run $PWD $digest"
have=$(cat "$STAMP" 2>/dev/null || true)
installed() {
  .venv/bin/python - <<'EOF' >/dev/null 2>&1
import importlib.metadata as m, sys
sys.exit(0 if m.distribution("kartoteka") else 1)
EOF
}
if [ $TEST -eq 1 ]; then want=$want_test; spec='.[test]'; else want=$want_run; spec='.'; fi
if { [ "$have" = "$want_test" ] || [ "$have" = "$want" ]; } && installed; then
  : # nothing changed since the last install
else
  say "Python packages (pip install -e '$spec')"
  log=$(mktemp)
  if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
  echo "$want" >"$STAMP"
fi

# -- front-end assets from npm (node_modules/, never committed) -----------------------------------
if [ -f package.json ]; then
  NPM_STAMP=node_modules/.kartoteka-install
  npm_digest() { cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1; }
  if [ ! -d node_modules ] || [ "$(cat "$NPM_STAMP" 2>/dev/null || true)" != "$(npm_digest)" ]; then
    npm_opts=(--no-audit --no-fund --ignore-scripts --loglevel=error)
    if [ -f package-lock.json ]; then
      say "npm packages (npm ci)"
      npm ci "${npm_opts[@]}"
    else
      say "npm packages (npm install: no package-lock.json)"
      npm install "${npm_opts[@]}"
    fi
    npm_digest >"$NPM_STAMP"
  fi
fi
