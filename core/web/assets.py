"""Front-end packages installed from npm (never committed, never from a CDN), served under
``/assets/<package>/<path>`` with long cache headers."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
PACKAGES = {"bootstrap", "bootstrap-icons", "htmx.org", "tom-select", "fullcalendar",
            "@fullcalendar", "chart.js", "swagger-ui-dist"}

bp = Blueprint("assets", __name__)


def asset_url(pkg: str, path: str) -> str:
    return f"/assets/{pkg}/{path}"


@bp.route("/assets/<pkg>/<path:path>")
def serve(pkg: str, path: str):
    if pkg not in PACKAGES:
        abort(404)
    root = NODE_MODULES / pkg
    if not root.is_dir():
        abort(404)
    resp = send_from_directory(root, path, max_age=7 * 24 * 3600)
    return resp
