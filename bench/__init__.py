"""Kern's benchmark and fault harness (`make bench`); see bench/README.md."""
