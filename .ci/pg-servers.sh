#!/usr/bin/env bash
# Makes sure the extra PostgreSQL servers the multi-server and PgBouncer specs use exist, run
# and answer, each with trust auth on 127.0.0.1 for user postgres:
#   - a second PostgreSQL cluster "trsecond" on 127.0.0.1:5435 (PG_SECOND_URL);
#   - PgBouncer on 127.0.0.1:6432 in pool_mode = transaction, forwarding every database to
#     the main cluster on 127.0.0.1:5432 (PGBOUNCER_URL), run as a daemon by user postgres
#     from its own ini file in $BOUNCER_DIR.
# Idempotent: a second run only checks that both answer. The main cluster's configuration and
# ports 5433/5434 (the replica specs' servers) are never touched. Works without systemd.
set -euo pipefail

MAIN_PORT=5432
SECOND=trsecond
SECOND_PORT=5435
BOUNCER_PORT=6432
BOUNCER_DIR=/var/lib/postgresql/typeorm-router-pgbouncer
BOUNCER_INI="$BOUNCER_DIR/pgbouncer.ini"
BOUNCER_PID="$BOUNCER_DIR/pgbouncer.pid"
BOUNCER_LOG="$BOUNCER_DIR/pgbouncer.log"

fail() {
  echo "pg-servers.sh: $*" >&2
  exit 1
}
# The version's own binaries: the /usr/bin wrappers are Perl and cost ~0.1 s per call.
answers() { "$PGBIN/pg_isready" -h 127.0.0.1 -p "$1" -U postgres -d "${2:-postgres}" -q; }
psql() { "$PGBIN/psql" "$@"; }
wait_for() { # port, what to read when it does not answer
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.25; done
  fail "nothing answers on 127.0.0.1:$1; see $2"
}
# Fails unless user postgres gets in without a password (trust auth) on 127.0.0.1:port.
check_trust() { # port, database
  local out
  out=$(PGCONNECT_TIMEOUT=5 psql -w -X -h 127.0.0.1 -p "$1" -U postgres -d "$2" -qtAc "SELECT 1" 2>&1) ||
    fail "user postgres cannot connect to 127.0.0.1:$1/$2 without a password: $out"
}

command -v pg_lsclusters >/dev/null || fail "postgresql-common is not installed (no pg_lsclusters)"
clusters=$(pg_lsclusters -h)
VERSION=$(awk -v port="$MAIN_PORT" '$3 == port { print $1; exit }' <<<"$clusters")
[ -n "$VERSION" ] || VERSION=$(ls /etc/postgresql | sort -V | tail -n 1)
[ -n "$VERSION" ] || fail "no PostgreSQL version found in /etc/postgresql"

# --- the second cluster ---------------------------------------------------------------------
existing=$(awk -v name="$SECOND" '$2 == name { print $1 " " $3 }' <<<"$clusters")
if [ -z "$existing" ]; then
  taken=$(awk -v port="$SECOND_PORT" '$3 == port { print $1 "/" $2 }' <<<"$clusters")
  [ -z "$taken" ] || fail "port $SECOND_PORT already belongs to cluster $taken"
  echo "pg-servers.sh: creating cluster $VERSION/$SECOND on port $SECOND_PORT"
  # --auth=trust makes initdb write trust for local and host lines alike.
  pg_createcluster "$VERSION" "$SECOND" --port "$SECOND_PORT" -- --auth=trust >/dev/null
  echo "listen_addresses = '127.0.0.1'" >"/etc/postgresql/$VERSION/$SECOND/conf.d/typeorm-router.conf"
else
  read -r second_version second_port <<<"$existing"
  [ "$second_port" = "$SECOND_PORT" ] ||
    fail "cluster $second_version/$SECOND listens on port $second_port, not $SECOND_PORT; drop it (pg_dropcluster --stop $second_version $SECOND) and run again"
  VERSION=$second_version
fi
PGBIN=/usr/lib/postgresql/$VERSION/bin
if ! answers "$SECOND_PORT"; then
  echo "pg-servers.sh: starting cluster $VERSION/$SECOND"
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$SECOND" start ||
    fail "cluster $VERSION/$SECOND did not start; see /var/log/postgresql/postgresql-$VERSION-$SECOND.log"
fi
wait_for "$SECOND_PORT" "/var/log/postgresql/postgresql-$VERSION-$SECOND.log"
check_trust "$SECOND_PORT" postgres

# --- PgBouncer ------------------------------------------------------------------------------
if ! command -v pgbouncer >/dev/null; then
  echo "pg-servers.sh: installing pgbouncer"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null ||
    fail "apt-get install pgbouncer failed"
  # Where the package's own service could start (no policy-rc.d), it would hold port 6432
  # with the packaged configuration: stop it, this script runs its own instance.
  packaged_pid=$(cat /var/run/postgresql/pgbouncer.pid 2>/dev/null || true)
  if [ -n "$packaged_pid" ] && kill -0 "$packaged_pid" 2>/dev/null; then
    echo "pg-servers.sh: stopping the pgbouncer service the package started (pid $packaged_pid)"
    kill -INT "$packaged_pid"
    for _ in $(seq 1 40); do kill -0 "$packaged_pid" 2>/dev/null || break; sleep 0.25; done
  fi
fi

desired_ini() {
  cat <<INI
;; Written by .ci/pg-servers.sh for the typeorm-router specs; rewritten when it changes.
[databases]
* = host=127.0.0.1 port=$MAIN_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $BOUNCER_DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 400
default_pool_size = 5
ignore_startup_parameters = extra_float_digits
logfile = $BOUNCER_LOG
pidfile = $BOUNCER_PID
INI
}

running_pid() {
  local pid
  pid=$(cat "$BOUNCER_PID" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q pgbouncer "/proc/$pid/comm" 2>/dev/null; then
    echo "$pid"
  fi
}

install -d -o postgres -g postgres -m 0750 "$BOUNCER_DIR"
# With auth_type = trust the user must still be listed in the auth_file.
if [ "$(cat "$BOUNCER_DIR/userlist.txt" 2>/dev/null)" != '"postgres" ""' ]; then
  echo '"postgres" ""' >"$BOUNCER_DIR/userlist.txt"
  chown postgres:postgres "$BOUNCER_DIR/userlist.txt"
fi
if [ "$(cat "$BOUNCER_INI" 2>/dev/null)" != "$(desired_ini)" ]; then
  desired_ini >"$BOUNCER_INI"
  chown postgres:postgres "$BOUNCER_INI"
  pid=$(running_pid)
  if [ -n "$pid" ]; then
    echo "pg-servers.sh: the pgbouncer configuration changed; restarting pid $pid"
    kill -INT "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
fi
if [ -z "$(running_pid)" ]; then
  if answers "$BOUNCER_PORT" pgbouncer || ss -Hltn "sport = :$BOUNCER_PORT" 2>/dev/null | grep -q .; then
    fail "port $BOUNCER_PORT is taken by another process (ss -ltnp 'sport = :$BOUNCER_PORT'); stop it and run again"
  fi
  echo "pg-servers.sh: starting pgbouncer on 127.0.0.1:$BOUNCER_PORT"
  # PgBouncer refuses to run as root: -u drops to postgres, -d daemonizes.
  pgbouncer -q -d -u postgres "$BOUNCER_INI" || fail "pgbouncer did not start; see $BOUNCER_LOG"
fi
wait_for "$BOUNCER_PORT" "$BOUNCER_LOG"
mode=$(psql -w -X -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d pgbouncer -qtA -F ' ' -c "SHOW CONFIG" 2>&1 |
  awk '$1 == "pool_mode" { print $2 }') || true
[ "$mode" = "transaction" ] ||
  fail "the pgbouncer on port $BOUNCER_PORT runs pool_mode '${mode:-?}', not transaction; see $BOUNCER_LOG"
check_trust "$BOUNCER_PORT" postgres

echo "pg-servers.sh: PostgreSQL $VERSION/$SECOND on 127.0.0.1:$SECOND_PORT, pgbouncer (transaction mode) on 127.0.0.1:$BOUNCER_PORT -> :$MAIN_PORT"
