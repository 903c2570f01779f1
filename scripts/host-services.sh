#!/usr/bin/env bash
# Gantry host services: Postgres, Redis, Docker engine (plus debootstrap and
# docker-compose, which the image build and local tooling use, and the compilers and browser the
# tests use).
#
# One idempotent script for developers and CI. Run as root:
#   npm run services        (== bash scripts/host-services.sh)
#
# - installs missing Debian packages (apt-get update only if something is missing)
# - starts the Postgres cluster and lets loopback/local connections as any user
#   in without a password (pg_hba "trust"), so postgres://postgres@127.0.0.1:5432/x works
# - starts redis-server bound to 127.0.0.1 (appendonly) if `redis-cli ping` fails
# - starts dockerd in the background if `docker info` fails
# - waits (bounded) for each to answer, prints one status line per service and
#   exits non-zero naming exactly what failed.
# A second run changes nothing and returns quickly.
#
# Tunables (environment):
#   GANTRY_SERVICE_WAIT   seconds to wait for each service (default 60)
#   GANTRY_DOCKERD_ARGS   extra arguments for dockerd (default none)
#   GANTRY_DOCKERD_LOG    dockerd log file (default /var/log/gantry-dockerd.log)
set -uo pipefail

WAIT="${GANTRY_SERVICE_WAIT:-60}"
DOCKERD_LOG="${GANTRY_DOCKERD_LOG:-/var/log/gantry-dockerd.log}"
REDIS_LOG=/var/log/redis/gantry-redis-server.log
PG_HBA_BEGIN="# BEGIN gantry host-services (managed by scripts/host-services.sh)"
PG_HBA_END="# END gantry host-services"

FAILED=()

say() { printf '%-10s %s\n' "$1" "$2"; }
ok() { say "$1" "ok: $2"; }
fail() {
  say "$1" "FAILED: $2"
  FAILED+=("$1: $2")
}

# wait_for SECONDS CMD... : poll CMD every 0.5 s until it succeeds or time runs out.
wait_for() {
  local secs="$1"
  shift
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  "$@" >/dev/null 2>&1
}

if [[ "$(id -u)" -ne 0 ]]; then
  echo "host-services: must run as root (needs to install packages and start daemons)" >&2
  exit 1
fi

# ---------------------------------------------------------------- packages
install_packages() {
  local missing=()
  command -v pg_lsclusters >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
  command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
  # The control plane's function firewall (host rules on the function bridge).
  command -v iptables >/dev/null 2>&1 || missing+=(iptables)
  # The provided-runtime tests compile a C bootstrap statically: a compiler and libc.a.
  command -v cc >/dev/null 2>&1 || missing+=(gcc)
  dpkg-query -W -f='${Status}' libc6-dev 2>/dev/null | grep -q 'install ok installed' || missing+=(libc6-dev)
  # The provided-runtime tests build a Go function (CGO_ENABLED=0) with Debian's Go.
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  # The dotnet-mono tests compile their C# fixtures with Mono's compiler (DataContract JSON in one).
  command -v mcs >/dev/null 2>&1 || missing+=(mono-mcs)
  dpkg-query -W -f='${Status}' libmono-system-runtime-serialization4.0-cil 2>/dev/null | grep -q 'install ok installed' || missing+=(libmono-system-runtime-serialization4.0-cil)
  # The java21 tests compile their fixture functions with the host's javac (--release 17).
  command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
  # The Lambda API's e2e drives Debian's AWS CLI v2 (another `aws` earlier on PATH may be v1).
  /usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2' || missing+=(awscli)
  # The console's browser test drives Debian's headless-capable chromium through playwright-core.
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if ((${#missing[@]} == 0)); then
    ok packages "postgresql redis-server docker.io debootstrap docker-compose iptables gcc libc6-dev golang-go mono-mcs javac awscli chromium present"
    return 0
  fi
  say packages "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq >/tmp/gantry-apt.log 2>&1; then
    fail packages "apt-get update failed (see /tmp/gantry-apt.log)"
    return 1
  fi
  # Don't let package postinst scripts try to start services through
  # systemd/init; this script starts them itself.
  local had_policy=0
  [[ -e /usr/sbin/policy-rc.d ]] && had_policy=1
  if ((had_policy == 0)); then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  local rc=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/gantry-apt.log 2>&1 || rc=$?
  ((had_policy == 0)) && rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)); then
    fail packages "apt-get install ${missing[*]} failed (see /tmp/gantry-apt.log)"
    return 1
  fi
  ok packages "installed ${missing[*]}"
}

# ---------------------------------------------------------------- postgres
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$1" -U postgres; }

pg_trust_login() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -w -Atqc 'select 1' 2>/dev/null | grep -qx 1; }

start_postgres() {
  command -v pg_lsclusters >/dev/null 2>&1 || { fail postgres "pg_lsclusters not found (postgresql not installed)"; return 1; }
  # Pick the cluster named "main" of the newest installed version.
  local line ver port status
  line="$(pg_lsclusters --no-header 2>/dev/null | awk '$2 == "main"' | sort -k1,1n | tail -n1)"
  if [[ -z "$line" ]]; then
    fail postgres "no 'main' cluster found by pg_lsclusters (create one: pg_createcluster <ver> main)"
    return 1
  fi
  read -r ver _ port status _ <<<"$line"

  # pg_hba: trust for local socket and loopback, ahead of Debian's peer/scram rules.
  local hba
  hba="$(su postgres -s /bin/sh -c "psql -Atqc 'show hba_file'" 2>/dev/null || true)"
  [[ -n "$hba" && -f "$hba" ]] || hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if [[ ! -f "$hba" ]]; then
    fail postgres "pg_hba.conf not found at $hba"
    return 1
  fi
  local hba_changed=0
  if ! grep -qF "$PG_HBA_BEGIN" "$hba"; then
    local tmp
    tmp="$(mktemp)"
    {
      echo "$PG_HBA_BEGIN"
      echo "local   all   all                  trust"
      echo "host    all   all   127.0.0.1/32   trust"
      echo "host    all   all   ::1/128        trust"
      echo "$PG_HBA_END"
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba" # keep owner/mode of the original file
    rm -f "$tmp"
    hba_changed=1
  fi

  if [[ "$status" != online* ]]; then
    if ! pg_ctlcluster --skip-systemctl-redirect "$ver" main start >/tmp/gantry-pg-start.log 2>&1; then
      fail postgres "pg_ctlcluster $ver main start failed: $(tail -n 3 /tmp/gantry-pg-start.log | tr '\n' ' ')"
      return 1
    fi
    hba_changed=0 # fresh start read the new pg_hba.conf
  fi
  if ! wait_for "$WAIT" pg_ready "$port"; then
    fail postgres "cluster $ver/main not accepting connections on 127.0.0.1:$port after ${WAIT}s (log: /var/log/postgresql/postgresql-$ver-main.log)"
    return 1
  fi
  if ((hba_changed)); then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 ||
      su postgres -s /bin/sh -c "psql -qc 'select pg_reload_conf()'" >/dev/null 2>&1
    wait_for 10 pg_trust_login "$port"
  fi
  if ! pg_trust_login "$port"; then
    fail postgres "running, but password-less login as postgres@127.0.0.1:$port is refused (check $hba)"
    return 1
  fi
  ok postgres "$ver/main on 127.0.0.1:$port (postgres://postgres@127.0.0.1:$port/postgres, trust)"
}

# ---------------------------------------------------------------- redis
redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; }

start_redis() {
  command -v redis-server >/dev/null 2>&1 || { fail redis "redis-server not installed"; return 1; }
  if redis_ping; then
    ok redis "already answering on 127.0.0.1:6379"
    return 0
  fi
  local dir=/var/lib/redis
  mkdir -p "$dir" /var/log/redis
  if ! redis-server --daemonize yes --appendonly yes --bind 127.0.0.1 --port 6379 \
    --dir "$dir" --logfile "$REDIS_LOG" >/tmp/gantry-redis-start.log 2>&1; then
    fail redis "redis-server failed to start: $(tail -n 3 /tmp/gantry-redis-start.log | tr '\n' ' ')"
    return 1
  fi
  if ! wait_for "$WAIT" redis_ping; then
    fail redis "started but no PONG on 127.0.0.1:6379 after ${WAIT}s (log: $REDIS_LOG)"
    return 1
  fi
  ok redis "started on 127.0.0.1:6379 (appendonly, dir $dir)"
}

# ---------------------------------------------------------------- docker
docker_up() { docker info >/dev/null 2>&1; }

start_docker() {
  command -v dockerd >/dev/null 2>&1 || { fail docker "dockerd not installed"; return 1; }
  if docker_up; then
    ok docker "engine already answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    return 0
  fi
  if pgrep -x dockerd >/dev/null 2>&1; then
    say docker "dockerd process exists but does not answer yet; waiting"
  else
    # shellcheck disable=SC2086
    nohup dockerd ${GANTRY_DOCKERD_ARGS:-} >>"$DOCKERD_LOG" 2>&1 </dev/null &
    disown || true
  fi
  if ! wait_for "$WAIT" docker_up; then
    local last_error
    last_error="$(grep -E 'level=(error|fatal)|^failed to start' "$DOCKERD_LOG" 2>/dev/null | tail -n 1 | cut -c1-300)"
    fail docker "dockerd not answering after ${WAIT}s (log: $DOCKERD_LOG${last_error:+; last error: $last_error})"
    return 1
  fi
  ok docker "engine started ($(docker version --format '{{.Server.Version}}' 2>/dev/null), storage $(docker info --format '{{.Driver}}' 2>/dev/null), log $DOCKERD_LOG)"
}

install_packages
start_postgres
start_redis
start_docker

if ((${#FAILED[@]} > 0)); then
  echo "host-services: FAILED (${#FAILED[@]}):" >&2
  for f in "${FAILED[@]}"; do echo "  - $f" >&2; done
  exit 1
fi
echo "host-services: all services up"
