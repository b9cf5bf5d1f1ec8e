"""PDF printing with Polish glyphs, checked as extracted text."""

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from jinja2 import FileSystemLoader

from core.printing import environment, font_path, html_to_pdf, local_date, money


def test_money_and_dates_in_polish_format():
    assert money(Decimal("1234567.5")) == "1\u00a0234\u00a0567,50\u00a0PLN"
    assert money(Decimal("-12")) == "-12,00\u00a0PLN"
    assert local_date(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == "01.01.2027"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_has_polish_glyphs(tmp_path, kernel_factory):
    assert font_path() is not None, "fonts-dejavu-core must be installed"
    k = kernel_factory()
    (tmp_path / "t.html").write_text(
        '{% extends "print/base.html" %}{% block body %}<h1>Zażółć gęślą jaźń</h1>'
        '<p>{{ amount|money }}</p>{% endblock %}')
    env = environment(k)
    env.loader.loaders.append(FileSystemLoader(str(tmp_path)))
    html = env.get_template("t.html").render(
        font=str(font_path()), font_bold=str(font_path("DejaVuSans-Bold.ttf")),
        now=dt.datetime.now(), amount=Decimal("1500"))
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    (tmp_path / "t.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Zażółć gęślą jaźń" in text
    assert "1 500,00 PLN" in text.replace("\u00a0", " ")
    assert "strona 1 z 1" in text
