"""The `kern` command: serve, migrate, and the operator tasks of each domain."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
import uvicorn
from sqlmodel import Session

from api import db, migrate, seed
from api.accounts import service as accounts
from api.accounts.models import Role
from api.config import Settings, SettingsError, get_settings
from api.errors import FormError

app = typer.Typer(help="Kern: courses for pelvic-floor and posture therapy.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


def load_settings() -> Settings:
    """Settings, or a one-line explanation and exit status 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        typer.echo(f"kern: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(envvar="WEB_CONCURRENCY", min=1, help="Worker processes (2 per 2 cores).")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve Kern over HTTP with uvicorn."""
    settings = load_settings()
    typer.echo(f"Kern ({settings.app_env}) on http://{host}:{port} with {workers} worker(s)")
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        log_level=settings.log_level.lower(),
        access_log=False,  # Kern logs each request itself, without query strings
        server_header=False,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations to the configured database."""
    settings = load_settings()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"Database is at {revision}.")


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """One session for a command: committed when the command succeeds."""
    engine = db.make_engine(settings.database_url, pool_size=1)
    try:
        with db.make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _read_password() -> str:
    """From a hidden prompt on a terminal, or the first line of standard input otherwise."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Login email address.")],
    role: Annotated[Role, typer.Option(help="learner, instructor or admin.")] = Role.learner,
    name: Annotated[str, typer.Option(help="Display name (defaults to the email).")] = "",
    language: Annotated[str, typer.Option(help="Interface language: nl or en.")] = "nl",
) -> None:
    """Create an account; the password is asked for, or read from standard input."""
    settings = load_settings()
    password = _read_password()
    try:
        with transaction(settings) as session:
            user = accounts.create_user(
                session,
                name=name or email.split("@")[0],
                email=email,
                password=password,
                role=role,
                language=language,
                verified=True,
            )
    except FormError as exc:
        for field, problem in exc.fields.items():
            typer.echo(f"kern: {field}: {problem}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {user.role} {user.email} (id {user.id}).")
    if user.needs_totp:
        typer.echo("They set up two-step verification at their first login.")


@app.command("seed")
def seed_command() -> None:
    """Load the sample data and demo accounts (development only) and print the logins."""
    settings = load_settings()
    if settings.is_production:
        typer.echo(
            "kern: seed creates demo accounts with known passwords; not in production.", err=True
        )
        raise typer.Exit(2)
    with transaction(settings) as session:
        logins = seed.load_demo_accounts(session)
    typer.echo("Demo logins (development only):")
    for login in logins:
        typer.echo(f"  {login.role:<10} {login.email:<24} password: {login.password}")
    if any(login.created and login.role == Role.instructor for login in logins):
        typer.echo("  The instructor sets up two-step verification at the first login.")


def main() -> None:
    """Entry point of the `kern` script."""
    app()
