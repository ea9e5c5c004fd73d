#!/usr/bin/env bash
# Idempotent installs shared by scripts/demo and scripts/test. Quick when all is in place.
# Usage: scripts/setup.sh [demo|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-demo}"

say() { printf '\033[1;36m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Rust: the wasm32 target for the hydrate bundle.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# npm tools: wasm-opt (binaryen 132; Debian's binaryen 108 breaks hydration) and playwright-core.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm tools (wasm-opt, playwright-core)"
  npm ci --no-audit --no-fund
fi

if [ "$mode" = test ]; then
  # Debian: headless Chromium + driver for the browser suite, libcoap's CLI for interop tests.
  missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v coap-client-notls >/dev/null || missing+=(libcoap3-bin)
  # CJK glyphs, so Chinese UI screenshots render text instead of boxes.
  [ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # Python: aiocoap, a second independent CoAP implementation for interop tests.
  if ! python3 -c 'import aiocoap' 2>/dev/null; then
    say "installing aiocoap (pip)"
    python3 -m pip install --quiet --disable-pip-version-check 'aiocoap==0.4.17'
  fi
fi
