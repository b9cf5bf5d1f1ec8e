"""Print templates: Jinja2 HTML rendered to PDF by xhtml2pdf, with a font that has Polish
glyphs (DejaVu Sans from Debian's fonts-dejavu-core).

Plugins register templates with ``ctx.print_template(name, entity, "plugin/file.html",
label=...)``; template files are looked up in the ``templates/`` folder of each enabled
plugin and of the kernel (``core/templates``). A per-client override of the template per
document type is a plain setting the owning plugin passes as ``template``.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, TemplateNotFound, select_autoescape

from core.errors import NotFoundError, ValidationError

CORE_TEMPLATES = Path(__file__).resolve().parent / "templates"
FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
WARSAW = ZoneInfo("Europe/Warsaw")


def font_path(name: str = "DejaVuSans.ttf") -> Path | None:
    for d in FONT_DIRS:
        if (d / name).exists():
            return d / name
    return None


def money(value, currency: str = "PLN") -> str:
    """``1234.5`` -> ``1 234,50 PLN`` (Polish format, non-breaking thousands space)."""
    if value is None:
        return ""
    q = Decimal(value).quantize(Decimal("0.01"))
    sign = "-" if q < 0 else ""
    whole, frac = f"{abs(q):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    nbsp = "\u00a0"
    return f"{sign}{nbsp.join(groups)},{frac}{nbsp}{currency}".strip()


def local_date(value, fmt: str = "%d.%m.%Y") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(WARSAW)
    return value.strftime(fmt)


def environment(kernel) -> Environment:
    dirs = [CORE_TEMPLATES]
    for name in kernel.enabled:
        tdir = kernel.manifests[name].path / "templates"
        if tdir.is_dir():
            dirs.append(tdir)
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(d)) for d in dirs]),
                      autoescape=select_autoescape(["html", "xml"]))
    env.filters["money"] = money
    env.filters["date"] = local_date
    return env


def render_html(kernel, template: str, context: dict) -> str:
    try:
        tpl = environment(kernel).get_template(template)
    except TemplateNotFound:
        raise NotFoundError(f"Nie ma wzorca wydruku '{template}'.")
    font = font_path()
    bold = font_path("DejaVuSans-Bold.ttf")
    return tpl.render(font=str(font) if font else None, font_bold=str(bold) if bold else None,
                      now=dt.datetime.now(WARSAW), **context)


def html_to_pdf(html: str, extra_dirs: tuple[Path, ...] = ()) -> bytes:
    """Render HTML to PDF. Local reads are confined to the font directory (and
    ``extra_dirs``, e.g. for logos); nothing is fetched from the network."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy
    font = font_path()
    roots = [font.parent] if font else []
    roots += [Path(d) for d in extra_dirs]
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=roots[0] if roots else None,
                                  extra_roots=tuple(roots[1:]))
    out = io.BytesIO()
    result = pisa.CreatePDF(src=html, dest=out, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise ValidationError("Nie udało się utworzyć wydruku PDF (błąd wzorca).")
    return out.getvalue()


def render_pdf(kernel, name: str, context: dict, template: str | None = None) -> bytes:
    """Render the registered print template ``name`` (or an explicit ``template`` file,
    e.g. a client's own pattern) with ``context`` to PDF bytes."""
    spec = kernel.registry.print_templates.get(name)
    if spec is None and template is None:
        raise NotFoundError(f"Nie ma zarejestrowanego wydruku '{name}'.")
    return html_to_pdf(render_html(kernel, template or spec.template, context))
