#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on a private port and socket, runs the given
# command with YAOJIAN_DATABASE_URL pointing at it, and stops the server afterwards.
set -euo pipefail
bindir=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n1)")
# A free port unless one is given: several runs may share a machine.
port=${YAOJIAN_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
data=$(mktemp -d /tmp/yaojian-pg.XXXXXX)
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root; use the postgres account Debian's package creates.
  chown postgres "$data"
  as_pg() { runuser -u postgres -- "$@"; }
fi
as_pg "$bindir/initdb" -D "$data/db" -U yaojian --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$bindir/pg_ctl" -D "$data/db" -l "$data/log" -w \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
cleanup() { as_pg "$bindir/pg_ctl" -D "$data/db" -m fast stop >/dev/null 2>&1 || true; rm -rf "$data"; }
trap cleanup EXIT
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U yaojian yaojian
export YAOJIAN_DATABASE_URL="postgres://yaojian@127.0.0.1:$port/yaojian"
"$@"
