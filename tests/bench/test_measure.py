"""The benchmark counts the memory of what is deployed, not of its own connections, and
measures a database that has settled after its seeding."""

from pathlib import Path

import pytest

from bench import pgcluster, run
from bench.measure import Bench
from tests.conftest import IN_CI


def _needs_postgresql_server() -> None:
    """The benchmark's own cluster needs PostgreSQL's server binaries."""
    try:
        pgcluster.bin_dir()
    except RuntimeError as error:
        if IN_CI:
            pytest.fail(f"{error}: the benchmark's cluster is required in CI.")
        pytest.skip(str(error))  # only outside CI, where a missing server is a set-up choice


def test_postgresql_memory_leaves_out_the_benchmarks_own_connection(tmp_path: Path) -> None:
    _needs_postgresql_server()
    with pgcluster.Cluster() as cluster:
        cluster.create_database()
        with Bench(run.parse_args([]), cluster, tmp_path) as bench:
            assert bench.sql("select 1") == [(1,)]
            own = bench.stats.info.backend_pid
            assert own in cluster.pids()
            assert bench.postgres_memory().pss > 0
            assert own not in cluster.pids()
            assert bench.sql("select 2") == [(2,)]  # opened again when needed


def test_a_fresh_database_leaves_no_writing_of_its_seed_to_the_measurements(
    tmp_path: Path,
) -> None:
    """What seeding wrote is checkpointed before a phase is measured, so the checkpointer does
    not write and sync the seed's pages while the pages are timed."""
    _needs_postgresql_server()
    with (
        pgcluster.Cluster() as cluster,
        Bench(run.parse_args(["--learners", "20"]), cluster, tmp_path) as bench,
    ):
        bench.fresh_database(20)
        ((behind,),) = bench.sql(
            "select pg_current_wal_lsn() - redo_lsn from pg_control_checkpoint()"
        )
        # The seed wrote megabytes of WAL; left behind is the checkpoint's own record.
        assert behind < 64 * 1024
