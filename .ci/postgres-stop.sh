#!/usr/bin/env bash
# Stops a server started by .ci/postgres.sh and removes its files. The
# directory is the argument, or $WEIR_TEST_PGDIR; stopping twice, or a
# server that is already gone, is not an error (so this suits an EXIT trap).
set -euo pipefail

dir=${1:-${WEIR_TEST_PGDIR:-}}
[ -n "$dir" ] || { echo "postgres-stop.sh: usage: postgres-stop.sh DIR (or set WEIR_TEST_PGDIR)" >&2; exit 2; }
[ -d "$dir" ] || exit 0
case "$(basename "$dir")" in
  weir-pg.*) ;;
  *) echo "postgres-stop.sh: $dir was not made by postgres.sh; not touching it" >&2; exit 2 ;;
esac

if [ -f "$dir/data/postmaster.pid" ] && [ -f "$dir/bindir" ]; then
  bindir=$(cat "$dir/bindir")
  run_as=()
  if [ "$(id -u)" = 0 ] && [ "$(stat -c %U "$dir/data")" != root ]; then
    run_as=(runuser -u "$(stat -c %U "$dir/data")" --)
  fi
  "${run_as[@]}" "$bindir/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=60 stop >&2 \
    || echo "postgres-stop.sh: pg_ctl stop failed; removing the files anyway" >&2
fi
rm -rf "$dir"
