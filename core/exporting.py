"""Export of a plugin's tables before uninstall: one file per table (JSON lines or CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from pathlib import Path

import sqlalchemy as sa

from core.errors import ValidationError


def _plain(v):
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    return v


def export_plugin_data(kernel, plugins: list[str], folder: Path, fmt: str = "jsonl") -> Path:
    from core.kernel import plugin_tables
    from core.records import Attachment, AuditEntry, Comment, Link
    if fmt not in ("jsonl", "csv"):
        raise ValidationError("Format eksportu: jsonl albo csv.")
    folder.mkdir(parents=True, exist_ok=True)
    insp = sa.inspect(kernel.db.engine)
    with kernel.db.engine.connect() as conn:
        for name in plugins:
            tables = [t for t in plugin_tables(kernel.manifests, name) if insp.has_table(t.name)]
            for t in tables:
                _write(conn, sa.select(t), folder / f"{t.name}.{fmt}", fmt,
                       [c.name for c in t.columns])
            prefix = name + "."
            for model in (Link, Comment, Attachment, AuditEntry):
                tbl = model.__table__
                cols = [c for c in ("entity", "left_entity", "right_entity") if c in tbl.c]
                cond = sa.or_(*[tbl.c[c].startswith(prefix) for c in cols])
                _write(conn, sa.select(tbl).where(cond),
                       folder / f"{name}__{tbl.name}.{fmt}", fmt, [c.name for c in tbl.columns])
    return folder


def _write(conn, stmt, path: Path, fmt: str, columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "csv":
            w = csv.writer(fh)
            w.writerow(columns)
            for row in conn.execute(stmt):
                w.writerow([_plain(v) for v in row])
        else:
            for row in conn.execute(stmt).mappings():
                fh.write(json.dumps({k: _plain(v) for k, v in row.items()},
                                    ensure_ascii=False) + "\n")
