"""Fill a benchmark database: `python -m bench.seed --learners 100000`.

The benchmark's own command, not Kern's: the product never needs 100,000 synthetic learners, so
neither the package nor the image carries the code that makes them (bench/scale/).
"""

from typing import Annotated

import typer

from api import db
from api.config import SettingsError, get_settings
from bench import scale

app = typer.Typer(add_completion=False)


@app.command()
def seed_scale(
    learners: Annotated[int, typer.Option(min=1, help="How many learners to create.")],
    seed_value: Annotated[
        int, typer.Option("--seed", help="The same seed gives the same data.")
    ] = 1,
    force: Annotated[
        bool, typer.Option(help="Run even with APP_ENV=production (a benchmark database).")
    ] = False,
) -> None:
    """Fill an empty database with courses, learners, progress and practice, for benchmarks."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        typer.echo(f"bench.seed: {exc}", err=True)
        raise typer.Exit(2) from exc
    if settings.is_production and not force:
        typer.echo(
            "bench.seed creates thousands of accounts with one known password; not in "
            "production. Pass --force if this is a throw-away benchmark database.",
            err=True,
        )
        raise typer.Exit(2)
    engine = db.make_engine(settings.database_url, pool_size=1)
    try:
        with scale.progress_bars() as tracker:
            summary = scale.run(engine, learners=learners, seed=seed_value, tracker=tracker)
    except scale.ScaleError as exc:
        typer.echo(f"bench.seed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"Seeded {learners:,} learners in {summary.seconds:.1f} s:")
    for line in summary.lines():
        typer.echo(line)
    typer.echo(f"Every account @{scale.DOMAIN} has the password: {scale.PASSWORD}")


if __name__ == "__main__":
    app()
