"""The ``kartoteka`` command. Every failure exits non-zero with one clear line."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from pathlib import Path

import click

from core.errors import DomainError


def _kernel(ctx: click.Context, init_required: bool = True):
    from core.kernel import Kernel
    obj = ctx.ensure_object(dict)
    if "kernel" not in obj:
        k = Kernel()
        k.activate()
        if init_required and not k.is_initialised():
            raise DomainError("Baza danych nie jest zainicjowana: uruchom 'kartoteka init'.")
        k.refresh(force=True)
        obj["kernel"] = k
        ctx.call_on_close(k.close)
    return obj["kernel"]


def handles_errors(fn):
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except DomainError as exc:
            click.echo(f"Błąd: {exc.message}", err=True)
            sys.exit(1)
    return wrapper


class Group(click.Group):
    """Click group turning domain errors of any subcommand into one line + exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            click.echo(f"Błąd: {exc.message}", err=True)
            ctx.exit(1)


@click.group(cls=Group)
@click.version_option(package_name="kartoteka")
def cli():
    """Kartoteka — baza klientów, CRM i wtyczki dla polskich firm."""


# -- init / db / demo -----------------------------------------------------------------------

DEFAULT_PLUGINS: list[str] = []   # extended by addons_registry "default = true" entries


def default_plugins(kernel) -> list[str]:
    from core.plugins import REGISTRY_FILE, read_addons_registry
    reg = kernel.settings.addons_registry
    entries, _ = read_addons_registry(Path(reg) if reg else REGISTRY_FILE)
    return sorted(n for n, e in entries.items() if e.get("default") and n in kernel.manifests)


@cli.command()
@click.option("--admin-login", default="admin", show_default=True)
@click.option("--admin-password", envvar="KARTOTEKA_ADMIN_PASSWORD", default=None,
              help="Hasło administratora (domyślnie pytanie; w trybie --demo 'admin123').")
@click.option("--demo", is_flag=True, help="Wczytaj dane demonstracyjne.")
@click.option("--plugins", "plugin_names", default=None,
              help="Lista wtyczek do instalacji (domyślnie: domyślne z katalogu).")
@click.pass_context
def init(ctx, admin_login, admin_password, demo, plugin_names):
    """Utwórz bazę, pierwszego administratora i zainstaluj domyślne wtyczki (idempotentne)."""
    from sqlalchemy import select

    from core.security.models import User
    from core.security.services import create_user
    k = _kernel(ctx, init_required=False)
    first = not k.is_initialised()
    k.init_db()
    with k.db.session() as s:
        has_admin = s.scalar(select(User).where(User.superuser.is_(True))) is not None
        if not has_admin:
            pw = admin_password or ("admin123" if demo else None)
            if pw is None:
                pw = click.prompt("Hasło administratora", hide_input=True,
                                  confirmation_prompt=True)
            create_user(s, admin_login, password=pw, name="Administrator", superuser=True)
            click.echo(f"Utworzono administratora '{admin_login}'.")
    if demo and k.licensing.status()["state"] == "none":
        from core.licensing import DEMO_LICENSE
        lic = k.licensing.install(DEMO_LICENSE)
        click.echo(f"Zainstalowano licencję demonstracyjną ({lic.edition}, do "
                   f"{lic.valid_until}).")
    names = plugin_names.split(",") if plugin_names else default_plugins(k)
    missing = [n for n in names if n and n not in k.installed]
    if missing:
        done = k.install(missing)
        click.echo("Zainstalowano: " + ", ".join(done))
    if demo and (first or missing):
        done = k.load_demo()
        click.echo("Dane demonstracyjne: " + (", ".join(done) or "brak"))
    click.echo(f"Gotowe. Baza: {k.settings.database_url}")


@cli.group()
def db():
    """Baza danych i migracje."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx):
    """Zaktualizuj jądro i każdą zainstalowaną wtyczkę do najnowszej migracji."""
    k = _kernel(ctx, init_required=False)
    done = k.upgrade_all()
    click.echo("\n".join(done) if done else "Wszystko aktualne.")


@cli.command()
@click.pass_context
def demo(ctx):
    """Wczytaj dane demonstracyjne każdej włączonej wtyczki."""
    k = _kernel(ctx)
    done = k.load_demo()
    click.echo("Dane demonstracyjne: " + (", ".join(done) or "brak"))


# -- plugins --------------------------------------------------------------------------------

@cli.group()
def plugins():
    """Wtyczki: lista, instalacja, włączanie, wyłączanie, odinstalowanie."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx):
    """Wszystkie znane wtyczki z ich stanem."""
    k = _kernel(ctx)
    from core.plugins import topo_order
    for n in topo_order(k.manifests, k.manifests.keys()):
        m = k.manifests[n]
        st = k.installed.get(n)
        state = k.state_of(n)
        ver = f"{st.version}" if st else "-"
        upg = " (dostępna aktualizacja)" if st and str(m.version) != st.version else ""
        click.echo(f"{n:20} {state:10} {m.edition:9} kod {m.version!s:8} baza {ver:8} "
                   f"{m.title}{upg}")


@plugins.command("info")
@click.argument("name")
@click.pass_context
def plugins_info(ctx, name):
    """Szczegóły wtyczki."""
    k = _kernel(ctx)
    m = k.manifest(name)
    click.echo(f"{m.name} {m.version} — {m.title} / {m.title_en}")
    click.echo(f"  opis: {m.summary}")
    click.echo(f"  edycja: {m.edition}; stan: {k.state_of(name)}; źródło: {m.source}")
    click.echo(f"  zależności: {', '.join(map(str, m.depends)) or '-'}")
    click.echo(f"  opcjonalne: {', '.join(m.optional) or '-'}")
    problem = k.licensing.problem_for(m)
    click.echo(f"  licencja: {problem or 'OK'}")


@plugins.command("plan")
@click.argument("operation", type=click.Choice(["install", "uninstall", "upgrade"]))
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def plugins_plan(ctx, operation, names):
    """Próba na sucho: co się zmieni, jakie migracje i DDL, jakie dane zostaną wyeksportowane."""
    k = _kernel(ctx)
    click.echo(k.plan(operation, names).as_text())


@plugins.command("install")
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="Nie pytaj o brakujące zależności.")
@click.pass_context
def plugins_install(ctx, names, yes):
    """Zainstaluj i włącz wtyczki (z brakującymi zależnościami)."""
    k = _kernel(ctx)
    plan = k.plan("install", names, with_ddl=False)
    if plan.licence_problems:
        raise DomainError(plan.licence_problems[0])
    if plan.extra_dependencies and not yes:
        click.echo("Zostaną też zainstalowane zależności: " + ", ".join(plan.extra_dependencies))
        if not click.confirm("Kontynuować?", default=True):
            raise DomainError("Przerwano.")
    done = k.install(names)
    click.echo("Zainstalowano: " + (", ".join(done) or "nic (już zainstalowane)"))


@plugins.command("enable")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def plugins_enable(ctx, names):
    """Włącz zainstalowane wtyczki."""
    k = _kernel(ctx)
    k.enable(names)
    click.echo("Włączono: " + ", ".join(names))


@plugins.command("disable")
@click.argument("names", nargs=-1, required=True)
@click.pass_context
def plugins_disable(ctx, names):
    """Wyłącz wtyczki (dane zostają)."""
    k = _kernel(ctx)
    k.disable(names)
    click.echo("Wyłączono: " + ", ".join(names))


@plugins.command("uninstall")
@click.argument("names", nargs=-1, required=True)
@click.option("--purge", is_flag=True, help="Wyeksportuj dane i usuń tabele mimo danych.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.pass_context
def plugins_uninstall(ctx, names, purge, fmt):
    """Odinstaluj wtyczki: eksport danych, potem usunięcie tabel."""
    k = _kernel(ctx)
    folder = k.uninstall(names, purge=purge, export_format=fmt)
    click.echo(f"Odinstalowano: {', '.join(names)}. Eksport danych: {folder}")


@plugins.command("upgrade")
@click.argument("names", nargs=-1)
@click.pass_context
def plugins_upgrade(ctx, names):
    """Zaktualizuj wtyczki (domyślnie wszystkie zainstalowane)."""
    k = _kernel(ctx)
    from core.plugins import topo_order
    names = names or tuple(topo_order(k.manifests, k.installed.keys()))
    done = [r for r in (k.upgrade(n) for n in names) if r]
    click.echo("\n".join(done) if done else "Wszystko aktualne.")


# -- users ----------------------------------------------------------------------------------

@cli.group()
def users():
    """Użytkownicy."""


@users.command("create")
@click.argument("login")
@click.option("--name", default="")
@click.option("--email", default=None)
@click.option("--password", default=None, help="Domyślnie pytanie.")
@click.option("--superuser", is_flag=True)
@click.option("--role", "roles", multiple=True)
@click.pass_context
def users_create(ctx, login, name, email, password, superuser, roles):
    """Utwórz użytkownika."""
    from core.security.services import create_user
    k = _kernel(ctx)
    if password is None:
        password = click.prompt("Hasło", hide_input=True, confirmation_prompt=True)
    with k.db.session() as s:
        create_user(s, login, password=password, name=name, email=email,
                    superuser=superuser, roles=list(roles), kernel=k)
    click.echo(f"Utworzono użytkownika '{login}'.")


@users.command("passwd")
@click.argument("login")
@click.option("--password", default=None)
@click.pass_context
def users_passwd(ctx, login, password):
    """Ustaw hasło użytkownika."""
    from sqlalchemy import select

    from core.security.models import User
    from core.security.services import set_password
    k = _kernel(ctx)
    if password is None:
        password = click.prompt("Nowe hasło", hide_input=True, confirmation_prompt=True)
    with k.db.session() as s:
        user = s.scalar(select(User).where(User.login == login))
        if user is None:
            raise DomainError(f"Nie ma użytkownika '{login}'.")
        set_password(s, user, password)
    click.echo("Hasło zmienione.")


@users.command("list")
@click.pass_context
def users_list(ctx):
    """Lista użytkowników."""
    from sqlalchemy import select

    from core.security.models import User
    k = _kernel(ctx)
    with k.db.session() as s:
        for u in s.scalars(select(User).order_by(User.login)):
            flags = ("superużytkownik " if u.superuser else "") + ("" if u.active
                                                                   else "nieaktywny")
            click.echo(f"{u.login:20} {u.name:30} {','.join(sorted(u.role_codes)):30} {flags}")


@users.command("token")
@click.argument("login")
@click.option("--name", required=True)
@click.option("--days", type=int, default=None, help="Ważność w dniach.")
@click.pass_context
def users_token(ctx, login, name, days):
    """Utwórz token API (wypisany tylko raz)."""
    from sqlalchemy import select

    from core.db import utcnow
    from core.security.models import User
    from core.security.services import create_token
    k = _kernel(ctx)
    with k.db.session() as s:
        user = s.scalar(select(User).where(User.login == login))
        if user is None:
            raise DomainError(f"Nie ma użytkownika '{login}'.")
        _, secret = create_token(s, user, name, utcnow() + dt.timedelta(days=days)
                                 if days else None)
    click.echo(secret)


# -- licence --------------------------------------------------------------------------------

@cli.group()
def license():  # noqa: A001 - the command's name
    """Licencja."""


@license.command("show")
@click.pass_context
def license_show(ctx):
    """Stan licencji."""
    k = _kernel(ctx)
    st = k.licensing.status()
    click.echo(st["message"])
    for key in ("licensee", "nip", "edition", "seats", "valid_until"):
        if key in st:
            click.echo(f"  {key}: {st[key]}")
    if st.get("plugins"):
        click.echo("  plugins: " + ", ".join(st["plugins"]))


@license.command("install")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def license_install(ctx, file):
    """Zainstaluj plik licencji."""
    k = _kernel(ctx)
    lic = k.licensing.install(Path(file))
    click.echo(f"Zainstalowano licencję: {lic.licensee}, {lic.edition}, do {lic.valid_until}.")


# -- migrations / scaffolding -----------------------------------------------------------------

@cli.group()
def migrations():
    """Migracje wtyczek (dla autorów wtyczek)."""


@migrations.command("new")
@click.argument("plugin")
@click.option("-m", "--message", required=True)
@click.pass_context
def migrations_new(ctx, plugin, message):
    """Wygeneruj migrację dla tabel jednej wtyczki (autogenerate)."""
    from core.scaffold import new_migration
    k = _kernel(ctx, init_required=False)
    path = new_migration(k, plugin, message)
    click.echo(f"Utworzono {path}" if path else "Brak zmian w modelach.")


@cli.group()
def plugin():
    """Narzędzia autora wtyczek."""


@plugin.command("new")
@click.argument("name")
@click.option("--path", type=click.Path(path_type=Path), default=None,
              help="Katalog docelowy (domyślnie ./kartoteka-NAME).")
def plugin_new(name, path):
    """Utwórz szkielet wtyczki jako pakiet pip (manifest, model, migracja, widok, test)."""
    from core.scaffold import scaffold_plugin
    target = scaffold_plugin(name, path)
    click.echo(f"Utworzono wtyczkę w {target}. Zainstaluj: pip install -e {target}")


# -- runtime ----------------------------------------------------------------------------------

@cli.command()
@click.option("--bind", default=None, help="Adres (domyślnie 127.0.0.1:8000).")
@click.option("--workers", type=int, default=None)
@click.option("--dev", is_flag=True, help="Serwer deweloperski z przeładowaniem.")
@click.pass_context
def serve(ctx, bind, workers, dev):
    """Uruchom serwer WWW (gunicorn) z wbudowanym wykonawcą zadań."""
    from core.logging import configure
    from core.web.serve import serve as run
    configure()
    k = _kernel(ctx)
    run(k, bind=bind or k.settings.bind, workers=workers or k.settings.web_workers, dev=dev)


@cli.command()
@click.option("--threads", type=int, default=None)
@click.option("--no-scheduler", is_flag=True, help="Nie uruchamiaj harmonogramu.")
@click.pass_context
def worker(ctx, threads, no_scheduler):
    """Uruchom wykonawcę zadań w tle (Redis) i harmonogram."""
    from core.jobs import run_worker
    from core.logging import configure
    configure()
    k = _kernel(ctx)
    run_worker(k, threads=threads, scheduler=not no_scheduler)


def _load_plugin_commands():
    """Plugins add commands through the ``kartoteka_cli`` hook."""
    try:
        from core.kernel import Kernel
        k = Kernel()
        if k.is_initialised():
            k.refresh(force=True)
            k.hooks.call("kartoteka_cli", group=cli)
        k.close()
    except Exception:  # noqa: BLE001 - a broken plugin must not break the CLI itself
        pass


def main(argv=None):
    if not any(a in ("init", "--help", "plugin", "migrations") for a in (argv or sys.argv[1:2])):
        _load_plugin_commands()
    try:
        cli.main(args=argv, prog_name="kartoteka", standalone_mode=True)
    except DomainError as exc:
        click.echo(f"Błąd: {exc.message}", err=True)
        sys.exit(1)


# -- vendor ------------------------------------------------------------------------------------

@click.group(cls=Group)
def vendor():
    """Narzędzie wydawcy: podpisywanie licencji kluczem prywatnym."""


@vendor.command("issue")
@click.option("--key", "key_file", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--key-id", required=True)
@click.option("--licensee", required=True)
@click.option("--nip", default="")
@click.option("--edition", type=click.Choice(["free", "standard", "pro"]), required=True)
@click.option("--plugin", "plugin_names", multiple=True)
@click.option("--seats", type=int, default=5)
@click.option("--valid-until", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
def vendor_issue(key_file, key_id, licensee, nip, edition, plugin_names, seats, valid_until,
                 out):
    """Wystaw podpisaną licencję."""
    from core.licensing import issue
    doc = issue(key_file.read_bytes(), key_id, licensee=licensee, nip=nip, edition=edition,
                plugins=list(plugin_names), seats=seats, valid_until=valid_until.date())
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Zapisano {out}")
    else:
        click.echo(text)


def vendor_main():
    vendor(prog_name="kartoteka-vendor")


if __name__ == "__main__":  # pragma: no cover
    main()

