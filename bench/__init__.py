"""The country-scale benchmark (`make bench`, `python -m bench`): see the README."""
