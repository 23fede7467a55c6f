#!/usr/bin/env bash
# The whole test suite: Rust (unit, integration, doc tests) and Python (results read by NumPy, the
# `neuroxide` package), the user guide's build and its examples. Needs only the Rust toolchain,
# Python 3 and pip; installs numpy, pytest, maturin, pandas, xarray, pynwb, matplotlib, mkdocs and
# pymdown-extensions into .venv-test and builds the package into it.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests"
# The default members: everything but crates/py (a Python extension module, tested below).
cargo test --all-targets
cargo test --doc

echo "== Python tests"
cargo build -p neuroxide-cli
if [ ! -x .venv-test/bin/python ]; then
  python3 -m venv .venv-test
fi
.venv-test/bin/python -m pip install --quiet --disable-pip-version-check \
  "numpy>=1.24" "pytest>=7" "maturin>=1.16,<2" "pandas>=1.5" "xarray>=2023.1" "pynwb>=2" \
  "matplotlib>=3.5" "mkdocs>=1.6,<2" "pymdown-extensions>=10"
# The package, built (dev profile, sharing target/) and installed into the venv in editable mode.
(cd python && VIRTUAL_ENV="$PWD/../.venv-test" PATH="$PWD/../.venv-test/bin:$PATH" maturin develop --quiet)
# tests/python/test_docs.py runs every tutorial and migration example of docs/ and the docstrings.
NEUROXIDE_BIN="$PWD/target/debug/neuroxide" .venv-test/bin/python -m pytest -q tests/python

echo "== User guide"
# Offline (MkDocs' own theme, files included from the repository); --strict fails on any warning.
DOCS_VENV=.venv-test bash scripts/docs.sh
