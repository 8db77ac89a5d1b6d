"""Page and browser tests; a package so that its conftest never stands in for tests/conftest.py."""
