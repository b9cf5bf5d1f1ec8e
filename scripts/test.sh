#!/usr/bin/env bash
# Install the test dependencies and run every test: lint, import contracts, and the pytest
# suite on SQLite and on real PostgreSQL and Redis servers started here for the run.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/core -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test

say() { printf '\n== %s\n' "$*"; }
RUN_DIR=$(mktemp -d /tmp/kartoteka-test.XXXXXX)
chmod 755 "$RUN_DIR"
PIDS=()
PG_BIN=""
cleanup() {
  set +e
  [ -n "$PG_BIN" ] && [ -d "$RUN_DIR/pg" ] && as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -m immediate stop >/dev/null 2>&1
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# -- PostgreSQL ------------------------------------------------------------------------------------
for d in $(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)") /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then PG_BIN=$d; break; fi
done
[ -n "$PG_BIN" ] || { echo "PostgreSQL server binaries not found" >&2; exit 1; }
PG_USER=$(id -un)
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: use the postgres system user (or create one)
  id postgres >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin postgres
  PG_USER=postgres
  as_pg() { runuser -u postgres -- "$@"; }
fi
PG_PORT=$(free_port)
mkdir -p "$RUN_DIR/pg" "$RUN_DIR/pgsock"
chown -R "$PG_USER" "$RUN_DIR/pg" "$RUN_DIR/pgsock"
say "PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$RUN_DIR/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$RUN_DIR/initdb.log" 2>&1 \
  || { tail -20 "$RUN_DIR/initdb.log"; exit 1; }
if ! as_pg "$PG_BIN/pg_ctl" -D "$RUN_DIR/pg" -l "$RUN_DIR/pg/server.log" -w -t 60 \
     -o "-p $PG_PORT -k $RUN_DIR/pgsock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null; then
  tail -30 "$RUN_DIR/pg/server.log"; exit 1
fi
export KARTOTEKA_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
export KARTOTEKA_TEST_PG_BIN="$PG_BIN"

# -- Redis -----------------------------------------------------------------------------------------
REDIS_SERVER=$(command -v redis-server)
REDIS_PORT=$(free_port)
say "Redis ($REDIS_SERVER) on 127.0.0.1:$REDIS_PORT"
"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$RUN_DIR" --logfile "$RUN_DIR/redis.log" --daemonize no &
PIDS+=($!)
for _ in $(seq 1 50); do
  .venv/bin/python -c "import redis,sys; redis.Redis(port=$REDIS_PORT).ping()" 2>/dev/null && break
  sleep 0.2
done
.venv/bin/python -c "import redis; redis.Redis(port=$REDIS_PORT).ping()" || { tail -20 "$RUN_DIR/redis.log"; exit 1; }
export KARTOTEKA_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export KARTOTEKA_TEST_REDIS_SERVER="$REDIS_SERVER"
export KARTOTEKA_CHROMIUM=/usr/bin/chromium
export KARTOTEKA_REQUIRE_SERVERS=1

# -- lint and layering --------------------------------------------------------------------------------
if [ "${KARTOTEKA_SKIP_LINT:-0}" != "1" ]; then
  say "ruff"
  .venv/bin/ruff check .
  say "import contracts"
  .venv/bin/lint-imports
fi

# -- the suite ----------------------------------------------------------------------------------------
say "pytest"
set +e
.venv/bin/pytest -n "${KARTOTEKA_TEST_WORKERS:-auto}" --dist loadgroup -p no:cacheprovider "$@"
rc=$?
set -e
if [ $rc -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit $rc
