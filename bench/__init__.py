"""The country-scale benchmark (`make bench`, `python -m bench`): see docs/bench.md."""
