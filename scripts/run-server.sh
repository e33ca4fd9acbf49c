#!/usr/bin/env bash
# Starts weir server on the embedded default (WEIR_HOME, SQLite), uploads
# the examples, starts one example run, prints the URL, and keeps serving
# until Ctrl-C. Used by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."

weir=./bin/weir
addr=${WEIR_ADDR:-127.0.0.1:8888}
url="http://$addr"

"$weir" server --addr "$addr" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM

export WEIR_SERVER=$url
for _ in $(seq 1 100); do
  if "$weir" pipelines list >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "weir server did not start" >&2; exit 1; fi
  sleep 0.1
done

for f in examples/*/pipeline.yaml; do
  name=$(basename "$(dirname "$f")")
  if ! "$weir" pipelines get "$name" >/dev/null 2>&1; then
    "$weir" pipelines upload "$f" --name "$name"
  fi
done
"$weir" runs submit --pipeline iris --experiment examples --name "iris-$(date +%Y%m%d-%H%M%S)" -p max_depth=3

echo
echo "weir server: $url   (API: $url/apis/v2beta1, events: $url/apis/weir/v1/events)"
echo "follow the run: WEIR_SERVER=$url ./bin/weir runs list; Ctrl-C stops the server (runs resume at the next start)"
wait "$server"
