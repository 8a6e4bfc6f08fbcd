"""The `kern` command: serve, migrate, and the operator tasks of each domain."""

from typing import Annotated

import typer
import uvicorn

from api import migrate
from api.config import Settings, SettingsError, get_settings

app = typer.Typer(help="Kern: courses for pelvic-floor and posture therapy.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


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


def main() -> None:
    """Entry point of the `kern` script."""
    app()
