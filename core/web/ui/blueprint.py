"""The ``ui`` blueprint: generated HTML pages of Kartoteka."""

from flask import Blueprint

bp = Blueprint("ui", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

PUBLIC_ENDPOINTS = {"ui.login", "ui.set_language", "ui.static"}
