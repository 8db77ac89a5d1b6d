#!/bin/sh
# Re-extract the messages of the pages (templates and service/web) and merge them into the English
# catalog; then translate the new, empty entries. The app compiles the .po files when it starts.
set -e
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F scripts/babel.cfg -k N_ --no-location --sort-output \
  -o service/translations/messages.pot .
.venv/bin/pybabel update -i service/translations/messages.pot -d service/translations -l en \
  --ignore-obsolete --no-fuzzy-matching
