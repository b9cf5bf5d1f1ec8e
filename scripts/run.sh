#!/usr/bin/env bash
# Install and start Kartoteka on the embedded defaults (SQLite in ./var, in-process jobs) with
# demo data, on http://127.0.0.1:8000. Log in as admin / admin123 (or the password given in
# KARTOTEKA_ADMIN_PASSWORD when the database is first initialised).
# Extra arguments go to `kartoteka serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
# `kartoteka init` is idempotent: it sets up the database, the admin and the demo data only once.
.venv/bin/kartoteka init --demo --admin-password "${KARTOTEKA_ADMIN_PASSWORD:-admin123}"
exec .venv/bin/kartoteka serve "$@"
