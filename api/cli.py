"""The `kern` command: serve, migrate, and the operator tasks of each domain."""

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlmodel import Session

from api import db, migrate, seed
from api.accounts import service as accounts
from api.accounts.models import Role, User
from api.articles import files as article_files
from api.catalog import packages
from api.config import Settings, SettingsError, get_settings, vapid_public_key_of
from api.errors import AppError, FormError
from api.media import imports as media_imports
from api.media.files import MB
from api.media.storage import storage_for
from api.push import keys as push_keys
from api.worker import Worker

app = typer.Typer(help="Kern: courses for pelvic-floor and posture therapy.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
articles_app = typer.Typer(
    help="Articles kept as files (articles/<slug>.md).", no_args_is_help=True
)
app.add_typer(articles_app, name="articles")


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
    """Serve Kern over HTTP: uvicorn, under gunicorn with more than one worker."""
    # The server builds its settings from the environment: with these, a BASE_URL left unset
    # follows the address it listens on (links in mails included).
    os.environ["HOST"], os.environ["PORT"] = host, str(port)
    settings = load_settings()
    typer.echo(f"Kern ({settings.app_env}) on http://{host}:{port} with {workers} worker(s)")
    options = {
        "factory": True,
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "log_level": settings.log_level.lower(),
        "access_log": False,  # Kern logs each request itself, without query strings
        "server_header": False,
        # No WebSocket routes, so no WebSocket library loaded (as api/web_worker.py's KernWorker).
        "ws": "none",
    }
    if reload:
        uvicorn.run("api.main:create_app", reload=True, **options)  # type: ignore[arg-type]
        return
    # This process has loaded every command's modules (about 80 MiB). It is replaced by the
    # server's own command, which loads only what serving needs; the PID stays the same, so
    # signals from Docker or systemd still reach the supervisor.
    if workers > 1:
        # The application is built once and the workers forked from it, so they share its
        # memory (api/server.py); uvicorn's own supervisor would start each from scratch.
        command = ["-m", "api.server", f"--host={host}", f"--port={port}", f"--workers={workers}"]
        command += [f"--log-level={settings.log_level}"]
        command += [f"--forwarded-allow-ips={settings.forwarded_allow_ips}"]
    else:
        command = ["-m", "uvicorn", "api.main:create_app", "--workers=1", "--no-access-log"]
        command += ["--no-server-header", "--factory", "--proxy-headers"]
        command += [
            f"--{name.replace('_', '-')}={value}"
            for name, value in options.items()
            if not isinstance(value, bool)
        ]
    sys.stdout.flush()
    # Python's threads would each get a malloc arena of their own; two keep a worker's memory
    # from growing with its thread pool (unless the operator chose otherwise).
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    os.execv(sys.executable, [sys.executable, *command])  # noqa: S606 (our own interpreter)


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Do one round and exit.")] = False,
) -> None:
    """Send queued mail, queue reminders and module mails, and convert uploaded videos into
    streams; runs until stopped (SIGTERM)."""
    settings = load_settings()
    engine = db.make_engine(settings.database_url, pool_size=2)
    mail_worker = Worker(
        db.make_sessionmaker(engine), settings, poll_seconds=settings.mail_poll_seconds
    )
    try:
        if once:
            report = mail_worker.run_once()
            typer.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}")
            typer.echo(f"videos converted: {mail_worker.convert_videos()}")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
        typer.echo(f"Kern mail worker ({settings.app_env}); stop with Ctrl-C or SIGTERM")
        mail_worker.run(stop)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Apply migrations to the configured database."""
    settings = load_settings()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"Database is at {revision}.")


@contextmanager
def transaction(settings: Settings, *, writes: bool = True) -> Iterator[Session]:
    """One session for a command: committed when the command succeeds. One that `writes` takes
    SQLite's write lock as it begins: one that read first and wrote later would fail at once if
    the running site committed a write in between (api/db.py, `WRITE_INTENT`). One that only
    reads (an export) takes no lock, so it neither waits for the site's writes nor holds them up
    while it copies files."""
    engine = db.make_engine(settings.database_url, pool_size=1)
    try:
        with (
            db.make_sessionmaker(engine)(execution_options={db.WRITE_INTENT: writes}) as session,
            session.begin(),
        ):
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
    language: Annotated[str, typer.Option(help="Interface language: nl, en or nb.")] = "nl",
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


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _summary(result: packages.ImportResult) -> str:
    """E.g. `Updated Sterke basis (6 modules, 30 lessons)`."""
    counts = f"{_plural(result.modules, 'module')}, {_plural(result.lessons, 'lesson')}"
    return f"{result.outcome} {result.course.title} ({counts})"


def _load_package(path: Path) -> packages.CoursePackage | None:
    """The package in `path`, or None after printing every problem with it to stderr."""
    try:
        return packages.load_package(path)
    except packages.PackageError as exc:
        for problem in exc.problems:
            typer.echo(problem.located(path), err=True)
        return None


def _instructor(session: Session, email: str | None) -> User:
    """The account that will own imported courses, or a one-line explanation and exit 1."""
    user = accounts.find_by_email(session, email or seed.DEMO_INSTRUCTOR_EMAIL)
    if user is None and email is None:
        typer.echo(
            f"kern: the demo instructor {seed.DEMO_INSTRUCTOR_EMAIL} does not exist; "
            "run `kern seed` first, or pass --instructor EMAIL.",
            err=True,
        )
        raise typer.Exit(1)
    if user is None:
        typer.echo(f"kern: there is no account with the email {email}.", err=True)
        raise typer.Exit(1)
    if user.role not in (Role.instructor, Role.admin):
        typer.echo(
            f"kern: {user.email} is a {user.role}; courses belong to an instructor.", err=True
        )
        raise typer.Exit(1)
    return user


@contextmanager
def _progress_bar(total: int) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr, advanced once per call with the lesson's title."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("Importing", total=total)

        def advance(title: str) -> None:
            progress.update(task, advance=1, description=title[:40])

        yield advance


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="A package folder, e.g. courses/sterke-basis.")],
    instructor: Annotated[
        str | None,
        typer.Option(
            help="Email of the instructor who owns the course. Required in production; "
            "elsewhere the demo instructor."
        ),
    ] = None,
) -> None:
    """Create or update a course from a package folder, all in one transaction."""
    settings = load_settings()
    if instructor is None and settings.is_production:
        typer.echo("kern: --instructor EMAIL is required in production.", err=True)
        raise typer.Exit(2)
    package = _load_package(path)
    if package is None:
        raise typer.Exit(1)
    try:
        with transaction(settings) as session, _progress_bar(package.lesson_count) as advance:
            owner = _instructor(session, instructor)
            result = media_imports.import_package(
                session,
                package,
                instructor=owner,
                storage=storage_for(settings),
                max_video_bytes=settings.media_max_video_mb * MB,
                progress=advance,
            )
    except packages.PackageError as exc:
        # The files it names that she may not use, or that it brings but are not usable.
        for problem in exc.problems:
            typer.echo(problem.located(path), err=True)
        raise typer.Exit(1) from exc
    except AppError as exc:
        typer.echo(f"kern: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(_summary(result))


@app.command("export")
def export_command(
    slug: Annotated[str, typer.Argument(help="The course's slug, e.g. sterke-basis.")],
    directory: Annotated[Path, typer.Argument(help="The package is written to DIR/SLUG/.")],
) -> None:
    """Write a course as a package folder that `kern import` reads back."""
    settings = load_settings()
    try:
        with transaction(settings, writes=False) as session:
            folder = packages.export_course(
                session, slug=slug, target=directory, storage=storage_for(settings)
            )
    except AppError as exc:
        typer.echo(f"kern: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Exported {slug} to {folder}")


@app.command("seed")
def seed_command(
    courses: Annotated[
        Path, typer.Option(help="Folder of course packages to import.", show_default=False)
    ] = seed.COURSES_DIR,
    articles: Annotated[
        Path, typer.Option(help="Folder of article files to import.", show_default=False)
    ] = seed.ARTICLES_DIR,
) -> None:
    """Load the demo accounts, the sample courses and articles (development only) and print the
    logins."""
    settings = load_settings()
    if settings.is_production:
        typer.echo(
            "kern: seed creates demo accounts with known passwords; not in production.", err=True
        )
        raise typer.Exit(2)
    # Every package is checked before anything is written, so a broken one leaves no half seed.
    loaded = [_load_package(folder) for folder in seed.course_folders(courses)]
    course_packages = [package for package in loaded if package is not None]
    if len(course_packages) < len(loaded):
        raise typer.Exit(1)
    try:
        with transaction(settings) as session:
            logins = seed.load_demo_accounts(session)
            seed.load_demo_practice(session)
            seed.load_demo_terms(session)
            results = seed.load_sample_courses(
                session, course_packages, storage=storage_for(settings)
            )
            sample_articles = seed.load_sample_articles(
                session, storage=storage_for(settings), articles_dir=articles
            )
    except AppError as exc:
        typer.echo(f"kern: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo("Demo logins (development only):")
    for login in logins:
        typer.echo(f"  {login.role:<10} {login.email:<24} password: {login.password}")
    if any(login.created and login.role == Role.instructor for login in logins):
        typer.echo("  The instructor sets up two-step verification at the first login.")
    if sample_articles:
        typer.echo(f"Sample articles: {', '.join(article.slug for article in sample_articles)}")
    if results:
        typer.echo("Sample courses:")
    for result in results:
        typer.echo(f"  {_summary(result)}")


@articles_app.command("import")
def import_articles(
    paths: Annotated[
        list[Path], typer.Argument(help="Article files or folders of them, e.g. articles/.")
    ],
    author: Annotated[
        str | None,
        typer.Option(help="Email of the author when a file names no existing account."),
    ] = None,
) -> None:
    """Create or update articles (by slug) from their files, all in one transaction."""
    settings = load_settings()
    found = [
        file
        for path in paths
        for file in (article_files.article_files(path) if path.is_dir() else [path])
    ]
    try:
        with transaction(settings) as session:
            fallback = accounts.find_by_email(session, author) if author else None
            if author and fallback is None:
                typer.echo(f"kern: there is no account with the email {author}.", err=True)
                raise typer.Exit(1)
            imported = [
                article_files.import_file(
                    session, file, storage=storage_for(settings), author=fallback
                )
                for file in found
            ]
    except AppError as exc:
        typer.echo(f"kern: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    for article in imported:
        typer.echo(f"Imported {article.slug} ({article.status})")


@articles_app.command("export")
def export_articles(
    slug: Annotated[str, typer.Argument(help="The article's slug.")],
    directory: Annotated[Path, typer.Argument(help="The file is written to DIR/SLUG.md.")],
) -> None:
    """Write an article as a file that `kern articles import` reads back."""
    settings = load_settings()
    try:
        with transaction(settings, writes=False) as session:
            path = article_files.export(
                session, slug=slug, target=directory, storage=storage_for(settings)
            )
    except AppError as exc:
        typer.echo(f"kern: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Exported {slug} to {path}")


@app.command("push-keys")
def push_keys_command() -> None:
    """Make a VAPID key pair for push notifications and print it as settings (keep the private
    key secret, and keep it: a new one ends every device's notifications)."""
    private = push_keys.new_private_key()
    typer.echo(f"VAPID_PRIVATE_KEY={private}")
    typer.echo(f"VAPID_PUBLIC_KEY={vapid_public_key_of(private)}")


def main() -> None:
    """Entry point of the `kern` script."""
    app()
