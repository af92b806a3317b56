# PostgreSQL inside the sandbox (nat.test.js): initdb and pg_ctl as the
# postgres user, psql over the Unix socket and over TCP inside, then the
# server stays up for clients on the host (through --publish).
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
mkdir -p /tmp/pg && chown postgres:postgres /tmp/pg
as_pg "$BIN/initdb" -D /tmp/pg/data -A trust -U postgres >/dev/null
echo "host all all 0.0.0.0/0 trust" >> /tmp/pg/data/pg_hba.conf
printf "listen_addresses = '*'\nunix_socket_directories = '/tmp/pg'\n" >> /tmp/pg/data/postgresql.conf
as_pg "$BIN/pg_ctl" -D /tmp/pg/data -l /tmp/pg/log -w start >/dev/null
echo "unix socket: $(as_pg psql -h /tmp/pg -U postgres -tAc 'select 40 + 2')"
echo "tcp inside: $(as_pg psql -h 127.0.0.1 -U postgres -tAc "select 'inside'")"
echo ready
sleep 600
