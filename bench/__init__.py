"""Benchmarks (not part of `make test`): one script per measure of issue 13; see bench/README.md."""
