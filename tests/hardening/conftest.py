"""Hypothesis (under Schemathesis) keeps its caches in a throw-away directory, not the checkout."""

import shutil
import tempfile

import pytest
from hypothesis import configuration

_home = tempfile.mkdtemp(prefix="kern-hypothesis-")


def pytest_configure(config: pytest.Config) -> None:
    # The example database is off already (database "none" in the fuzz config); this also moves
    # the caches Hypothesis writes anyway (constants found in the code, Unicode tables), so a
    # run leaves nothing behind in the repository.
    configuration.set_hypothesis_home_dir(_home)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_home, ignore_errors=True)
