#!/usr/bin/env bash
# Starts a private, throwaway PostgreSQL server for the store's conformance
# suite and prints the shell lines that point the tests at it:
#
#   eval "$(.ci/postgres.sh)"    # sets WEIR_TEST_POSTGRES_URL, WEIR_TEST_PGDIR
#   go test ./internal/store/...
#   .ci/postgres-stop.sh         # stops it and removes its files
#
# The cluster lives in a temporary directory, listens on a free port of
# 127.0.0.1 only (and a Unix socket in that directory), trades durability
# for speed (fsync off) and is never registered as a system service. When
# no PostgreSQL is installed, the Debian packages are (as root, or through
# sudo) without creating or starting Debian's own cluster. Progress goes to
# stderr; stdout carries only the export lines.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else die "PostgreSQL is not installed and installing it needs root (or sudo): apt-get install postgresql"
  fi
}

# find_bindir prints the directory holding initdb and pg_ctl, newest first.
find_bindir() {
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

install_postgres() {
  log "installing PostgreSQL from the Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq >&2
  # postgresql-common first, told not to create (and start) a "main"
  # cluster when the server package is installed: this script runs its own.
  as_root apt-get install -y -qq --no-install-recommends postgresql-common >&2
  as_root sed -i 's/^#* *create_main_cluster *=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
  as_root apt-get install -y -qq --no-install-recommends postgresql >&2
}

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    # Nothing answers on a free port.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

bindir=$(find_bindir) || { install_postgres; bindir=$(find_bindir) || die "initdb not found after installing postgresql"; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/weir-pg.XXXXXX")
chmod 755 "$dir"
# initdb and postgres refuse to run as root: root runs them as the
# "postgres" user the Debian packages create.
run_as=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  chown postgres: "$dir"
  run_as=(runuser -u postgres --) # util-linux, always there on Debian
fi
echo "$bindir" >"$dir/bindir"

password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
(umask 077; echo "$password" >"$dir/pwfile")
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/pwfile"; fi

log "initdb ($bindir) in $dir"
"${run_as[@]}" "$bindir/initdb" --pgdata="$dir/data" --username=weir --pwfile="$dir/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
rm -f "$dir/pwfile"

started=
for attempt in 1 2 3; do
  port=$(free_port) || die "no free port found"
  if "${run_as[@]}" "$bindir/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait --timeout=60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >&2; then
    started=1
    break
  fi
  log "start on port $port failed (attempt $attempt)"
  tail -n 20 "$dir/postgres.log" >&2 || true
done
[ -n "$started" ] || die "PostgreSQL did not start"

# The test database collates text like most real ones (ICU en-US, where
# "alpha" sorts before "Beta"), not bytewise: the schema must give the same
# order as SQLite whatever the default. Servers without ICU get the default.
createdb=("${run_as[@]}" "$bindir/createdb" --host="$dir" --port="$port" --username=weir)
"${createdb[@]}" --template=template0 --locale-provider=icu --icu-locale=en-US weir_test 2>/dev/null \
  || "${createdb[@]}" weir_test >&2 \
  || die "createdb failed"

log "PostgreSQL listening on 127.0.0.1:$port (data in $dir)"
echo "export WEIR_TEST_POSTGRES_URL='postgres://weir:$password@127.0.0.1:$port/weir_test?sslmode=disable'"
echo "export WEIR_TEST_PGDIR='$dir'"
