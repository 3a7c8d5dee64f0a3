"""The ``alertsvc`` command. Exit codes: 0 success, 1 failure (one line on stderr), 2 usage error."""

from __future__ import annotations

import sys
from typing import Any

import click

from .errors import DomainError
from .settings import ConfigError, Settings, load_settings


class Fail(click.ClickException):
    """Exit 1 with a one-line reason."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"alertsvc: {self.format_message()}", err=True)


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        try:
            obj["settings"] = load_settings(obj.get("config_path"))
        except ConfigError as exc:
            raise Fail(str(exc)) from None
    return obj["settings"]


def _runtime(ctx: click.Context):
    obj = ctx.ensure_object(dict)
    if "runtime" not in obj:
        from .log import configure_logging
        from .runtime import build_runtime

        settings = _settings(ctx)
        configure_logging(settings.logging.level)
        try:
            obj["runtime"] = build_runtime(settings)
        except ConfigError as exc:  # e.g. an empty security.secret_key with PostgreSQL
            raise Fail(str(exc)) from None
        except Exception as exc:  # a bad profile path, an unreachable catalogue...
            raise Fail(f"cannot start: {exc}") from None
    return obj["runtime"]


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML configuration file (default: $ALERTSVC_CONFIG, else the embedded default).")
@click.version_option(package_name="alertsvc")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """alertsvc: missing-child alert dispatch."""
    ctx.ensure_object(dict)["config_path"] = config_path


# --- db -------------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the schema up to date (Alembic migrations)."""
    from .migrate import current_revision, upgrade

    rt = _runtime(ctx)
    try:
        upgrade(rt.engine)
    except Exception as exc:
        raise Fail(f"migration failed: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    click.echo(f"schema at revision {current_revision(rt.engine)}")


# --- users ----------------------------------------------------------------------------------------
@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["operator", "supervisor", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add a staff member (the password is read from stdin, never from the command line)."""
    from .services import staff

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = staff.add_user(_runtime(ctx), name, role, password)
    except DomainError as exc:
        raise Fail(_domain_line(exc)) from None
    click.echo(f"added {user.username} ({user.role})")


@users.command("revoke-tokens")
@click.argument("name")
@click.pass_context
def users_revoke(ctx: click.Context, name: str) -> None:
    """Revoke every live bearer token of a staff member."""
    from .services import staff

    try:
        n = staff.revoke_all(_runtime(ctx), name)
    except DomainError as exc:
        raise Fail(_domain_line(exc)) from None
    click.echo(f"revoked {n} token(s) of {name}")


def _domain_line(exc: DomainError) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return exc.detail


# --- subscribers ----------------------------------------------------------------------------------
@main.group()
def subscribers() -> None:
    """Citizens' subscriptions."""


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--show-errors", type=int, default=50, show_default=True, help="How many bad rows to list.")
@click.pass_context
def subscribers_import(ctx: click.Context, file: str, show_errors: int) -> None:
    """Import pre-confirmed subscribers from CSV (channel,address,language,lat,lon,radius_km or
    channel,address,language,regions). Good rows go in; bad rows are listed on stderr by line number and
    reason (never the address), and then the exit code is 1; re-importing adds nothing."""
    from .services.importer import ImportFormatError, import_csv

    rt = _runtime(ctx)
    # surrogateescape: a row with bytes that are not UTF-8 is rejected by its line number, not the whole file
    with open(file, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        try:
            report = import_csv(rt, fh)
        except ImportFormatError as exc:
            raise Fail(f"{file}: {exc}") from None
    for line, message in report.errors[:show_errors]:
        click.echo(f"{file}:{line}: {message}", err=True)
    if report.rejected > show_errors:
        click.echo(f"... and {report.rejected - show_errors} more bad rows", err=True)
    click.echo(f"{report.rows} rows: {report.imported} imported, {report.duplicates} already there, "
               f"{report.rejected} rejected")
    if report.rejected:
        raise Fail(f"{file}: {report.rejected} of {report.rows} rows rejected; the other rows were imported")


# --- criteria -------------------------------------------------------------------------------------
@main.group("criteria")
def criteria_group() -> None:
    """Activation criteria profiles."""


@criteria_group.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def criteria_check(file: str) -> None:
    """Validate a profile file and explain every problem."""
    import criteria

    problems = criteria.check_profile_file(file)
    if problems:
        for p in problems:
            click.echo(f"{file}: {p.path}: {p.message}" if getattr(p, "path", None) else f"{file}: {p}", err=True)
        raise SystemExit(1)
    profile = criteria.load_profile(file)
    click.echo(f"{file}: ok: profile {profile.id!r}, {len(profile.criteria)} criteria, "
               f"{len(profile.approval_checklist)} checklist items, version {profile.version}")


@criteria_group.command("show")
@click.pass_context
def criteria_show(ctx: click.Context) -> None:
    """Print the active profile as JSON."""
    import json

    click.echo(json.dumps(_runtime(ctx).active_profile.to_public(), ensure_ascii=False, indent=2))


# --- audit ----------------------------------------------------------------------------------------
@main.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Exit 0 when the chain is intact, 1 naming the first bad event."""
    from .services import audit_trail

    report = audit_trail.verify(_runtime(ctx))
    if not report.ok:
        raise Fail(f"audit chain broken at event {report.bad_event_id}: {report.problem}")
    click.echo(f"audit chain intact: {report.checked} events")


# --- demo -----------------------------------------------------------------------------------------
@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) when the database already has cases.")
@click.pass_context
def demo(ctx: click.Context, if_empty: bool) -> None:
    """Load demo staff and cases into an empty database."""
    from .demo import DemoRefused, load_demo

    try:
        logins = load_demo(_runtime(ctx))
    except DemoRefused as exc:
        if if_empty:
            click.echo(f"demo not loaded: {exc}")
            return
        raise Fail(str(exc)) from None
    click.echo("demo data loaded. Logins (demo only, change them for real use):")
    for username, role, password in logins:
        click.echo(f"  {role:<10} {username:<8} password: {password}")


# --- worker ---------------------------------------------------------------------------------------
@main.command()
@click.option("--batch-size", type=click.IntRange(1, 10000), default=500, show_default=True)
@click.option("--once", is_flag=True, help="Send everything that is due, then exit.")
@click.option("--no-scheduler", is_flag=True, help="Do not take part in periodic jobs (sweep, expiry, purge).")
@click.pass_context
def worker(ctx: click.Context, batch_size: int, once: bool, no_scheduler: bool) -> None:
    """Run a dispatch worker (start several, on several machines, against one PostgreSQL)."""
    import signal
    import threading

    from .dispatch.scheduler import start_scheduler
    from .dispatch.worker import Dispatcher, run_worker
    from .jobs import periodic_jobs

    rt = _runtime(ctx)
    if once:
        n = Dispatcher(rt, batch_size=batch_size).drain()
        click.echo(f"sent {n} deliveries")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    scheduler = None if no_scheduler else start_scheduler(rt, periodic_jobs())
    try:
        run_worker(rt, stop, batch_size=batch_size)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


# --- serve ----------------------------------------------------------------------------------------
@main.command()
@click.option("--host", default=None, help="Interface to bind (default from [server] host).")
@click.option("--port", type=int, default=None, help="Port (default from [server] port).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="HTTP worker processes.")
@click.option("--no-worker", is_flag=True, help="Do not start a dispatch worker beside the HTTP server.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int | None, no_worker: bool) -> None:
    """Serve HTTP under gunicorn (and, unless --no-worker, one dispatch worker beside it)."""
    from .migrate import upgrade
    from .ratelimit import is_per_process
    from .server import run_server

    rt = _runtime(ctx)
    s = rt.settings
    http_workers = workers or s.server.workers
    if http_workers > 1 and is_per_process(s.ratelimit.storage_uri):
        raise Fail(f"ratelimit.storage_uri: {s.ratelimit.storage_uri} counts per process, so {http_workers} HTTP "
                   "workers would each allow the full limit; leave it empty (counters in the database) or use "
                   "redis://..., or serve with --workers 1")
    if s.database.auto_migrate:
        upgrade(rt.engine)
    rt.engine.dispose()  # no connections shared across the fork
    run_server(s, host=host or s.server.host, port=port or s.server.port, workers=http_workers,
               with_worker=not no_worker, config_path=ctx.obj.get("config_path"))


if __name__ == "__main__":  # pragma: no cover
    main()
