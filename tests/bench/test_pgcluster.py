"""The benchmark measures PostgreSQL with the settings docker compose deploys it with."""

from pathlib import Path

import yaml

from bench import pgcluster

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def compose_db_settings() -> dict[str, str]:
    """The `-c name=value` pairs of the db service's command."""
    command = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["db"]["command"]
    assert command[0] == "postgres"
    flags, pairs = command[1::2], command[2::2]
    assert set(flags) == {"-c"}, command
    return dict(pair.split("=", 1) for pair in pairs)


def test_compose_runs_postgresql_with_the_benchmarked_server_settings() -> None:
    assert compose_db_settings() == pgcluster.SERVER


def test_the_benchmark_cluster_adds_only_statement_counts_and_its_own_address() -> None:
    extra = set(pgcluster.SMALL_SERVER) - set(pgcluster.SERVER)
    assert all(pgcluster.SMALL_SERVER[name] == value for name, value in pgcluster.SERVER.items())
    assert extra == {
        "shared_preload_libraries",
        "pg_stat_statements.track_utility",
        "pg_stat_statements.max",
        "listen_addresses",
        "logging_collector",
    }
