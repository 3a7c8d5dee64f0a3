#!/usr/bin/env bash
# Installs what the test suite needs besides Python packages. Idempotent; run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tools/prism/package.json ] && [ ! -x tools/prism/node_modules/.bin/prism ]; then
  npm ci --prefix tools/prism --no-audit --no-fund --loglevel=error
fi
