"""Alembic glue: one environment, the kernel's branch ``core`` plus one branch per plugin
(its ``migrations/`` folder is a version location, branch label = plugin name)."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

CORE_DIR = Path(__file__).resolve().parent
SCRIPT_LOCATION = CORE_DIR / "migrations"


def alembic_config(manifests, connection: Connection | None = None, **attributes) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    locations = [SCRIPT_LOCATION / "versions"]
    locations += [m.migrations_dir for m in manifests.values() if m.migrations_dir.is_dir()]
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations))
    cfg.attributes["connection"] = connection
    cfg.attributes["manifests"] = manifests
    cfg.attributes.update(attributes)
    return cfg


def script_directory(manifests) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(manifests))


def branch_heads(manifests, branch: str) -> list[str]:
    script = script_directory(manifests)
    try:
        return [r.revision for r in script.get_revisions(f"{branch}@head")]
    except Exception:  # noqa: BLE001 - no revisions for this branch
        return []


def has_branch(manifests, branch: str) -> bool:
    script = script_directory(manifests)
    return any(branch in (r.branch_labels or ()) for r in script.walk_revisions())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(manifests, connection: Connection, target: str, sql: bool = False) -> str:
    out = io.StringIO()
    cfg = alembic_config(manifests, connection, output_buffer=out)
    if sql:
        cfg.output_buffer = out
    with redirect_stdout(out):
        command.upgrade(cfg, target, sql=sql)
    return out.getvalue()


def downgrade(manifests, connection: Connection, target: str, sql: bool = False) -> str:
    out = io.StringIO()
    cfg = alembic_config(manifests, connection)
    if sql:
        cfg.output_buffer = out
    with redirect_stdout(out):
        command.downgrade(cfg, target, sql=sql)
    return out.getvalue()


def pending_revisions(manifests, connection: Connection, branch: str) -> list[str]:
    """Revisions of ``branch`` not yet applied, oldest first, as 'rev: message'."""
    script = script_directory(manifests)
    applied = current_revisions(connection)
    done: set[str] = set()
    for rev in applied:
        for r in script.iterate_revisions(rev, "base"):
            done.add(r.revision)
    revs = []
    try:
        for r in script.iterate_revisions(f"{branch}@head", "base"):
            if r.revision not in done and branch in _branches_of(script, r):
                revs.append(f"{r.revision}: {r.doc}")
    except Exception:  # noqa: BLE001
        return []
    return list(reversed(revs))


def applied_revisions(manifests, connection: Connection, branch: str) -> list[str]:
    script = script_directory(manifests)
    out = []
    for rev in current_revisions(connection):
        for r in script.iterate_revisions(rev, "base"):
            if branch in _branches_of(script, r):
                out.append(f"{r.revision}: {r.doc}")
    return sorted(set(out))


def _branches_of(script: ScriptDirectory, rev) -> set[str]:
    labels = set(rev.branch_labels or ())
    cur = rev
    while not labels and cur.down_revision:
        down = cur.down_revision
        cur = script.get_revision(down if isinstance(down, str) else down[0])
        labels = set(cur.branch_labels or ())
    return labels
