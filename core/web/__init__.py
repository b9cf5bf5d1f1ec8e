"""Kartoteka's web layer: Flask app factory, authentication, REST API, generated UI."""
