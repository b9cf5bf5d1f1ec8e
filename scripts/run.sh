#!/usr/bin/env bash
# Install and start Kartoteka on the embedded defaults (SQLite in ./var, in-process jobs)
# with demo data. Log in as admin / admin123 (or KARTOTEKA_ADMIN_PASSWORD).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/kartoteka init --demo --admin-password "${KARTOTEKA_ADMIN_PASSWORD:-admin123}"
exec .venv/bin/kartoteka serve "$@"
