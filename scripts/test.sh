#!/usr/bin/env bash
# The whole test suite: Rust (unit, integration, doc tests) and Python (results read by NumPy).
# Needs only the Rust toolchain, Python 3 and pip; installs numpy and pytest into .venv-test.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust tests"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "== Python tests"
cargo build -p neuroxide-cli
if [ ! -x .venv-test/bin/python ]; then
  python3 -m venv .venv-test
fi
.venv-test/bin/python -m pip install --quiet --disable-pip-version-check "numpy>=1.24" "pytest>=7"
NEUROXIDE_BIN="$PWD/target/debug/neuroxide" .venv-test/bin/python -m pytest -q tests/python
