#!/usr/bin/env bash
# Makes sure a PostgreSQL primary (127.0.0.1:5433) and its streaming replica (127.0.0.1:5434,
# made with pg_basebackup) run, both with trust auth and pg_stat_statements, for the read
# replica specs. Idempotent: a second run only checks that both answer.
set -euo pipefail

VERSION=$(ls /etc/postgresql | sort -V | tail -n 1)
PRIMARY=trprimary
PRIMARY_PORT=5433
REPLICA=trreplica
REPLICA_PORT=5434

has_cluster() { pg_lsclusters -h | awk '{print $2}' | grep -qx "$1"; }
answers() { pg_isready -h 127.0.0.1 -p "$1" -q; }
start() { answers "$2" || pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$1" start; }
wait_for() {
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.5; done
  echo "pg-replica.sh: PostgreSQL on port $1 did not start; see /var/log/postgresql/postgresql-$VERSION-$2.log" >&2
  return 1
}
settings() {
  cat <<CONF
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
CONF
}

if ! has_cluster "$PRIMARY"; then
  pg_createcluster "$VERSION" "$PRIMARY" --port "$PRIMARY_PORT" -- --auth=trust >/dev/null
  settings >> "/etc/postgresql/$VERSION/$PRIMARY/postgresql.conf"
  echo "host replication all 127.0.0.1/32 trust" >> "/etc/postgresql/$VERSION/$PRIMARY/pg_hba.conf"
fi
start "$PRIMARY" "$PRIMARY_PORT"
wait_for "$PRIMARY_PORT" "$PRIMARY"
psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -qtAc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null

if ! has_cluster "$REPLICA"; then
  pg_createcluster "$VERSION" "$REPLICA" --port "$REPLICA_PORT" -- --auth=trust >/dev/null
  settings >> "/etc/postgresql/$VERSION/$REPLICA/postgresql.conf"
  data="/var/lib/postgresql/$VERSION/$REPLICA"
  rm -rf "${data:?}"/*
  # -R writes standby.signal and primary_conninfo: the copy starts as a streaming replica.
  runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" -R -X stream
fi
start "$REPLICA" "$REPLICA_PORT"
wait_for "$REPLICA_PORT" "$REPLICA"

in_recovery=$(psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -qtAc "SELECT pg_is_in_recovery()")
if [ "$in_recovery" != "t" ]; then
  echo "pg-replica.sh: the cluster on port $REPLICA_PORT is not a replica (pg_is_in_recovery = $in_recovery)" >&2
  exit 1
fi
echo "pg-replica.sh: primary 127.0.0.1:$PRIMARY_PORT, streaming replica 127.0.0.1:$REPLICA_PORT"
