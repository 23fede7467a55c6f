#!/usr/bin/env bash
# Build the user guide (docs/, mkdocs.yml) into target/docs-site, offline: MkDocs and
# pymdown-extensions come from pip (the local mirror) into .venv-docs (or the venv in $DOCS_VENV);
# the theme is MkDocs' built-in one, with no fonts, scripts or styles fetched from the web.
# `--strict` turns every warning (a broken link or anchor, a missing included file, a page not
# in the navigation) into an error.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${DOCS_VENV:-.venv-docs}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "mkdocs>=1.6,<2" "pymdown-extensions>=10"
"$venv/bin/mkdocs" build --strict "$@" 2>&1 | { grep -v "^INFO" || true; }
echo "docs: target/docs-site/index.html"
