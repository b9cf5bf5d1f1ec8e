#!/usr/bin/env bash
# Install the test dependencies and run every test: ruff, the import contracts, and the pytest
# suite on SQLite and on REAL PostgreSQL 15 and Redis servers that this script starts for the
# run (in a temporary folder, on free ports of 127.0.0.1) and stops on exit.
# Extra arguments go to pytest, e.g.  scripts/test.sh tests/core -x
#
# Environment (for local use only; CI sets none of them):
#   KARTOTEKA_SKIP_LINT=1        skip ruff and lint-imports (e.g. while others' code is half-done)
#   KARTOTEKA_TEST_WORKERS=N     pytest-xdist workers instead of "auto"
#
# Exported to the tests:
#   KARTOTEKA_TEST_DATABASE_URL  postgresql+psycopg://postgres@127.0.0.1:PORT/kartoteka_test
#   KARTOTEKA_TEST_REDIS_URL     redis://127.0.0.1:PORT/0
#   KARTOTEKA_TEST_PG_BIN        folder with pg_ctl/initdb/postgres
#   KARTOTEKA_TEST_PG_DATA       the cluster's data folder
#   KARTOTEKA_TEST_PG_OS_USER    system user the cluster runs as when we are root (else empty)
#   KARTOTEKA_TEST_REDIS_SERVER  path of redis-server (fault tests start their own)
#   KARTOTEKA_CHROMIUM           /usr/bin/chromium
#   KARTOTEKA_REQUIRE_SERVERS=1  tests needing a server fail instead of skipping
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n======== %s ========\n' "$*"; }

say "install (scripts/install.sh --test)"
scripts/install.sh --test </dev/null

RUN_DIR=$(mktemp -d /tmp/kartoteka-test.XXXXXX)
chmod 755 "$RUN_DIR"
PG_BIN=""
PG_DATA="$RUN_DIR/pg"
PG_STARTED=0
REDIS_PID=""

as_pg() { "$@"; }
cleanup() {
  set +e
  if [ "$PG_STARTED" -eq 1 ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1
  fi
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail_with_log() {  # message, log file
  echo "ERROR: $1" >&2
  if [ -f "$2" ]; then
    echo "---- last lines of $2 ----" >&2
    tail -n 40 "$2" >&2
    echo "----" >&2
  fi
  exit 1
}

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- PostgreSQL 15 ----------------------------------------------------------------------------------
for d in "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")" \
         /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then PG_BIN=$d; break; fi
done
[ -n "$PG_BIN" ] || { echo "ERROR: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found" >&2; exit 1; }
# pg_ctl may be a symlink (e.g. /usr/local/bin -> /usr/lib/postgresql/15/bin): use the real folder
PG_BIN=$(dirname "$(readlink -f "$PG_BIN/pg_ctl")")

PG_OS_USER=""
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: run the cluster as the `postgres` system user (created
  # when missing, as Debian's postgresql package would), from a folder it may enter.
  PG_OS_USER=postgres
  if ! id "$PG_OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
      --user-group "$PG_OS_USER"
  fi
  as_pg() { (cd "$RUN_DIR" && runuser -u "$PG_OS_USER" -- "$@"); }
fi

PG_PORT=$(free_port)
PG_LOG="$RUN_DIR/pglog/postgresql.log"
mkdir -p "$PG_DATA" "$RUN_DIR/pgsock" "$RUN_DIR/pglog"
[ -z "$PG_OS_USER" ] || chown "$PG_OS_USER" "$PG_DATA" "$RUN_DIR/pgsock" "$RUN_DIR/pglog"
say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (${PG_OS_USER:-$(id -un)}, $PG_BIN)"
as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$RUN_DIR/initdb.log" 2>&1 </dev/null || fail_with_log "initdb failed" "$RUN_DIR/initdb.log"
cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN_DIR/pgsock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
log_min_messages = warning
EOF
PG_STARTED=1
if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
     >"$RUN_DIR/pg_ctl.log" 2>&1 </dev/null; then
  cat "$RUN_DIR/pg_ctl.log" >&2
  fail_with_log "PostgreSQL did not start" "$PG_LOG"
fi
export KARTOTEKA_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/kartoteka_test"
.venv/bin/python - "$PG_PORT" <<'EOF' || fail_with_log "cannot create database kartoteka_test" "$PG_LOG"
import sys
import psycopg
with psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), user="postgres",
                     dbname="postgres", autocommit=True, connect_timeout=10) as conn:
    conn.execute("CREATE DATABASE kartoteka_test")
    print(conn.execute("SELECT version()").fetchone()[0])
EOF
export KARTOTEKA_TEST_PG_BIN="$PG_BIN"
export KARTOTEKA_TEST_PG_DATA="$PG_DATA"
export KARTOTEKA_TEST_PG_OS_USER="$PG_OS_USER"

# -- Redis ------------------------------------------------------------------------------------------
REDIS_SERVER=$(command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
[ -x "$REDIS_SERVER" ] || { echo "ERROR: redis-server not found" >&2; exit 1; }
REDIS_PORT=$(free_port)
say "Redis $("$REDIS_SERVER" --version | awk '{print $3}') on 127.0.0.1:$REDIS_PORT"
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" --daemonize no </dev/null &
REDIS_PID=$!
redis_up=0
for _ in $(seq 1 100); do
  kill -0 "$REDIS_PID" 2>/dev/null || break
  if .venv/bin/python -c "import redis; redis.Redis(host='127.0.0.1', port=$REDIS_PORT, socket_timeout=1).ping()" 2>/dev/null; then
    redis_up=1; break
  fi
  sleep 0.1
done
[ $redis_up -eq 1 ] || fail_with_log "Redis did not start" "$RUN_DIR/redis.log"
echo "ready"
export KARTOTEKA_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export KARTOTEKA_TEST_REDIS_SERVER="$REDIS_SERVER"
export KARTOTEKA_CHROMIUM=/usr/bin/chromium
export KARTOTEKA_REQUIRE_SERVERS=1

# -- lint and layering ------------------------------------------------------------------------------
if [ "${KARTOTEKA_SKIP_LINT:-0}" = "1" ]; then
  say "lint SKIPPED (KARTOTEKA_SKIP_LINT=1, for local use only)"
else
  say "ruff check ."
  .venv/bin/ruff check .
  if [ -f .importlinter ] || grep -qs '^\[tool\.importlinter' pyproject.toml; then
    say "lint-imports"
    .venv/bin/lint-imports
  fi
fi

# -- the suite --------------------------------------------------------------------------------------
say "pytest -n ${KARTOTEKA_TEST_WORKERS:-auto} --dist loadgroup $*"
set +e
.venv/bin/pytest -n "${KARTOTEKA_TEST_WORKERS:-auto}" --dist loadgroup "$@" </dev/null
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "ERROR: pytest collected no tests (exit code 5): a run that tests nothing is a failure." >&2
fi
exit $rc
