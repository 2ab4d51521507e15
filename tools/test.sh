#!/usr/bin/env bash
# Sets up (installing missing Debian packages), builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
