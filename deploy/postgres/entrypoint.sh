#!/bin/sh
# First start on an empty PGDATA: initdb with POSTGRES_PASSWORD for the `postgres` superuser
# (scram-sha-256 over TCP, trust on the local socket inside the container), listen on all
# interfaces of the container (only the compose network reaches them: no host port is
# published), and create POSTGRES_DB. Later starts use the volume as it is.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "gantry-postgres: POSTGRES_PASSWORD must be set to initialise $PGDATA" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb -D "$PGDATA" --username=postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  db="${POSTGRES_DB:-postgres}"
  if [ "$db" != postgres ]; then
    # Single-user mode: no server is listening while the database is created.
    printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$db" | sed 's/"/""/g')" |
      postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
  echo "gantry-postgres: initialised $PGDATA (database ${db})"
fi
exec "$@"
