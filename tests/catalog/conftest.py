"""The operator's database of tests/test_cli.py, for the import and export commands."""

from tests.test_cli import operator_db

__all__ = ["operator_db"]
