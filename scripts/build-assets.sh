#!/usr/bin/env bash
# Builds the console's front-end assets from the npm packages pinned in assets/package.json (locked by
# assets/package-lock.json) into alertsvc/static/, where they are committed: `pip install .` needs no npm.
#
#   alertsvc/static/css/app.css                  assets/src/app.scss compiled (GOV.UK Frontend + app- styles)
#   alertsvc/static/vendor/govuk-frontend.min.js GOV.UK Frontend's ES module bundle (<script type="module">)
#   alertsvc/static/vendor/leaflet/              leaflet.js, leaflet.css, images/
#   alertsvc/static/vendor/VERSIONS.txt          name, exact version and licence of each vendored package,
#                                                with the licence texts beside the files
#
# axe-core is installed for the browser tests only (they read assets/node_modules/axe-core/axe.min.js) and is
# never copied into the package. alertsvc/static/js/ is hand-written and left alone.
# Run from anywhere: bash scripts/build-assets.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ASSETS="$ROOT/assets"
MODULES="$ASSETS/node_modules"
STATIC="$ROOT/alertsvc/static"
VENDOR="$STATIC/vendor"

npm ci --prefix "$ASSETS" --no-audit --no-fund --loglevel=error

version() { node -p "require(process.argv[1]).version" "$MODULES/$1/package.json"; }
licence() { node -p "require(process.argv[1]).license" "$MODULES/$1/package.json"; }

# -- CSS -------------------------------------------------------------------------------------------------------
# GOV.UK Frontend 5 is written with @import: its deprecation warnings (and the package's own) are silenced.
mkdir -p "$STATIC/css"
"$MODULES/.bin/sass" --pkg-importer=node --quiet-deps --silence-deprecation=import --style=compressed \
  --no-source-map "$ASSETS/src/app.scss" "$STATIC/css/app.css"

# -- vendored scripts and styles (rebuilt from scratch: nothing stale stays behind) --------------------------
rm -rf "$VENDOR"
mkdir -p "$VENDOR/leaflet/images"
GOVUK="$MODULES/govuk-frontend"
cp "$GOVUK/dist/govuk/govuk-frontend.min.js" "$VENDOR/govuk-frontend.min.js"
LEAFLET="$MODULES/leaflet"
cp "$LEAFLET/dist/leaflet.js" "$LEAFLET/dist/leaflet.css" "$VENDOR/leaflet/"
cp "$LEAFLET/dist/images/"*.png "$VENDOR/leaflet/images/"
cp "$LEAFLET/LICENSE" "$VENDOR/leaflet/LICENSE"

# The govuk-frontend npm package ships no licence file; its README states the MIT licence, whose text (with the
# copyright line of the project's repository) is written here.
if [ "$(licence govuk-frontend)" != "MIT" ]; then
  echo "build-assets: govuk-frontend's licence is now $(licence govuk-frontend): update this script" >&2
  exit 1
fi
cat > "$VENDOR/govuk-frontend.LICENSE.txt" <<'EOF'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
EOF

{
  echo "# Written by scripts/build-assets.sh from assets/package-lock.json; do not edit."
  echo "# package<TAB>version<TAB>licence<TAB>files<TAB>licence text"
  printf '%s\t%s\t%s\t%s\t%s\n' govuk-frontend "$(version govuk-frontend)" "$(licence govuk-frontend)" \
    "govuk-frontend.min.js" "govuk-frontend.LICENSE.txt"
  printf '%s\t%s\t%s\t%s\t%s\n' leaflet "$(version leaflet)" "$(licence leaflet)" \
    "leaflet/leaflet.js leaflet/leaflet.css leaflet/images/" "leaflet/LICENSE"
} > "$VENDOR/VERSIONS.txt"

echo "build-assets: wrote $STATIC/css/app.css and $VENDOR/ ($(version govuk-frontend) / $(version leaflet))"
