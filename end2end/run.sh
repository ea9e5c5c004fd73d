#!/usr/bin/env bash
# Starts chargebay (demo mode, fresh SQLite database, test ports), waits until it is ready,
# runs the browser suite (node's test runner + playwright-core + Debian chromium), stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/debug/chargebay
work=$(mktemp -d)
http_port=${E2E_HTTP_PORT:-3300}
coap_port=${E2E_COAP_PORT:-5883}
export E2E_BASE_URL="http://127.0.0.1:${http_port}"
export E2E_COAP_PORT="$coap_port"
export E2E_DATABASE_URL="sqlite:${work}/e2e.db"
export E2E_BIN="$bin"
export E2E_OUTPUT="${E2E_OUTPUT:-end2end/test-output}"
mkdir -p "$E2E_OUTPUT"

"$bin" --demo --sim-speed 4 --http-addr "127.0.0.1:${http_port}" --coap-addr "127.0.0.1:${coap_port}" \
  --database-url "$E2E_DATABASE_URL" --log-level warn >"$work/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -fsS "$E2E_BASE_URL/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "server exited:"; cat "$work/server.log"; exit 1; fi
  sleep 0.5
done
curl -fsS "$E2E_BASE_URL/readyz" >/dev/null || { echo "server not ready"; cat "$work/server.log"; exit 1; }

status=0
node --test --test-concurrency=1 ${E2E_TESTS:-end2end/tests/} || status=$?
if [ "$status" != 0 ]; then echo "--- server log ---"; tail -50 "$work/server.log"; fi
exit "$status"
