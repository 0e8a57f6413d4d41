# Shared by scripts/demo, scripts/test and test/bench/run: dependencies,
# build, and throwaway PostgreSQL clusters.  Source it; it defines functions
# only.
#
# Clusters run as the `postgres` OS user (PostgreSQL refuses to run as root)
# in temporary directories it owns, each on a private socket directory and
# port, and are stopped and removed at exit even when a step fails.  Every
# cleanup goes through on_exit, so scripts never overwrite each other's traps.

TENANCY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where the PostgreSQL server binaries are; use_private_install changes it.
PG_BINDIR=/usr/lib/postgresql/15/bin
# Prefix for `make install` (empty: the system's PostgreSQL directories).
INSTALL_DESTDIR=""

# Debian bookworm packages the build and the tests need.
TENANCY_PACKAGES=(
    postgresql-15 postgresql-client-15 postgresql-server-dev-15
    postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
    libpq-dev libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev
    g++ make cmake pkg-config clang llvm-dev
    pgbouncer python3 python3-psycopg python3-pytest
)

log() { printf '\n==> %s\n' "$*"; }

# Cleanup commands, run last-registered first by one EXIT trap.
declare -a CLEANUPS=()
run_cleanups() {
    local i
    for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${CLEANUPS[$i]}" || true
    done
    CLEANUPS=()
}
on_exit() { # on_exit COMMAND...: COMMAND is eval'd at exit
    CLEANUPS+=("$*")
    trap run_cleanups EXIT
}

install_dependencies() {
    local missing=()
    for pkg in "${TENANCY_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "dependencies already installed"
        return
    fi
    log "installing ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages and not root: run as root (or install: ${missing[*]})" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # The server-dev headers must match the server: install (or upgrade) together.
    apt-get install -y -qq --no-install-recommends "${TENANCY_PACKAGES[@]}" >/dev/null
}

# Makes a private copy of PostgreSQL's installation (server binaries,
# libraries, share directory: about 60 MB) for this run, and has
# build_extension install there and the clusters run from there.  PostgreSQL
# finds its share and library directories relative to its own binary, so the
# copy is complete.  The tests use it so that they never change the system's
# installation and several checkouts can be tested on one machine at once.
use_private_install() {
    local root dir
    root=$(mktemp -d /tmp/tenancy-pg.XXXXXX)
    on_exit "rm -rf '$root'"
    chmod 755 "$root"
    for dir in "$(pg_config --bindir)" "$(pg_config --pkglibdir)" "$(pg_config --sharedir)"; do
        mkdir -p "$root$(dirname "$dir")"
        cp -a "$dir" "$root$dir"
    done
    PG_BINDIR="$root$(pg_config --bindir)"
    INSTALL_DESTDIR="$root"
    log "using a private PostgreSQL installation in $root"
}

build_extension() {
    log "building and installing the tenancy extension${INSTALL_DESTDIR:+ into $INSTALL_DESTDIR}"
    make -C "$TENANCY_ROOT" -s -j"$(nproc)" >/dev/null
    make -C "$TENANCY_ROOT" -s install ${INSTALL_DESTDIR:+DESTDIR="$INSTALL_DESTDIR"} >/dev/null
}

build_client() {
    log "building the client library and tenancyctl"
    cmake -S "$TENANCY_ROOT" -B "$TENANCY_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$TENANCY_ROOT/build" -j"$(nproc)" >/dev/null
}

# Finds a TCP port number nobody listens on (the socket is a Unix one, but the
# port number names it, so two clusters must not share one).  Ports already
# handed out by this shell count as taken even before their server starts.
declare -a PORTS_TAKEN=()
free_port() {
    local port
    for port in $(seq 54400 54599); do
        [[ " ${PORTS_TAKEN[*]} " == *" $port "* ]] && continue
        compgen -G "/tmp/*/.s.PGSQL.$port" >/dev/null && continue
        [ -e "/tmp/.s.PGSQL.$port" ] && continue
        ss -ltn 2>/dev/null | grep -q ":$port " && continue
        PORTS_TAKEN+=("$port")
        echo "$port"
        return
    done
    echo "no free port between 54400 and 54599" >&2
    return 1
}

# stop_cluster_dir DIR: stops the server in DIR (if it runs) and removes DIR.
stop_cluster_dir() {
    local dir=$1
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

# new_cluster NAME [CONFIG_LINE...]: initialises and starts a throwaway
# cluster and sets NAME_DIR (its directory and socket directory) and NAME_PORT.
# Extra postgresql.conf lines (e.g. "wal_level = logical") may follow.
new_cluster() {
    local name=$1
    shift
    local dir port line
    dir=$(mktemp -d /tmp/tenancy-cluster.XXXXXX)
    on_exit "stop_cluster_dir '$dir'"
    chown postgres: "$dir"
    chmod 755 "$dir"
    port=$(free_port)
    log "starting throwaway cluster '$name' in $dir (port $port)"
    (cd "$dir" && runuser -u postgres -- "$PG_BINDIR/initdb" -D "$dir/data" \
        --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log")
    # Sized for a 2-core machine; fsync off because the cluster is thrown away.
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 120
shared_buffers = 256MB
max_prepared_transactions = 10
EOF
    for line in "$@"; do
        echo "$line" >>"$dir/data/postgresql.conf"
    done
    (cd "$dir" && runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$dir/data" \
        -l "$dir/server.log" -w start >/dev/null)
    printf -v "${name}_DIR" '%s' "$dir"
    printf -v "${name}_PORT" '%s' "$port"
}

# Starts the main throwaway cluster and exports PGHOST, PGPORT and PGUSER for it.
start_cluster() {
    new_cluster MAIN "$@"
    CLUSTER_DIR=$MAIN_DIR
    export PGHOST="$MAIN_DIR" PGPORT="$MAIN_PORT" PGUSER=postgres
    unset PGDATABASE PGPASSWORD PGSERVICE
}

# Creates database $1 with the extensions named after it.
create_database() {
    local db=$1
    shift
    "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE \"$db\""
    local ext
    for ext in "$@"; do
        "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION \"$ext\""
    done
}

# ---- PgBouncer (issue 12b): a real pooler in front of the main cluster -------
# start_pgbouncer [USER...]: starts Debian's PgBouncer (1.18) as the postgres
# OS user, in transaction pooling mode, in front of the cluster start_cluster
# started, and sets PGBOUNCER_DIR (its socket directory) and PGBOUNCER_PORT.
# Every database of the cluster is reachable through it under its own name
# (up to 20 server connections per database and user).  For each database
# named in PGBOUNCER_SHARED_DATABASES, `<db>_shared` is an alias of it with
# ONE server connection, so that all its clients take turns on one server
# session: what the pooler tests use to show what does and does not carry
# over from one client to the next; `<db>_session` is the same in session
# pooling mode (a server connection per client, reset between clients).  Authentication is trust, like the
# cluster's; PgBouncer still wants every user name in its auth_file, so name
# the roles the tests log in as (postgres is always there).
start_pgbouncer() {
    local dir port user db i
    dir=$(mktemp -d /tmp/tenancy-pgbouncer.XXXXXX)
    on_exit "stop_pgbouncer_dir '$dir'"
    port=$(free_port)
    for user in postgres "$@"; do
        printf '"%s" ""\n' "$user"
    done >"$dir/userlist.txt"
    {
        echo "[databases]"
        echo "* = host=$MAIN_DIR port=$MAIN_PORT pool_size=20"
        for db in ${PGBOUNCER_SHARED_DATABASES:-}; do
            echo "${db}_shared = host=$MAIN_DIR port=$MAIN_PORT dbname=$db pool_size=1"
            echo "${db}_session = host=$MAIN_DIR port=$MAIN_PORT dbname=$db pool_size=1 pool_mode=session"
        done
        echo
        echo "[pgbouncer]"
        echo "unix_socket_dir = $dir"
        echo "listen_port = $port"
        echo "pool_mode = transaction"
        echo "auth_type = trust"
        echo "auth_file = $dir/userlist.txt"
        echo "admin_users = postgres"
        echo "max_client_conn = 200"
        echo "default_pool_size = 20"
        # A client waits at most this long for a server connection.
        echo "query_wait_timeout = 60"
        echo "logfile = $dir/pgbouncer.log"
        echo "pidfile = $dir/pgbouncer.pid"
        # Sent by JDBC at start-up; PgBouncer refuses unknown parameters.
        echo "ignore_startup_parameters = extra_float_digits"
    } >"$dir/pgbouncer.ini"
    chown -R postgres: "$dir"
    chmod 755 "$dir"
    log "starting PgBouncer (transaction pooling) in $dir (port $port)"
    runuser -u postgres -- /usr/sbin/pgbouncer -d -q "$dir/pgbouncer.ini"
    for i in $(seq 100); do
        [ -S "$dir/.s.PGSQL.$port" ] && break
        sleep 0.1
    done
    if [ ! -S "$dir/.s.PGSQL.$port" ]; then
        cat "$dir/pgbouncer.log" >&2
        return 1
    fi
    PGBOUNCER_DIR=$dir
    PGBOUNCER_PORT=$port
}

# stop_pgbouncer_dir DIR: stops the PgBouncer whose files are in DIR and removes DIR.
stop_pgbouncer_dir() {
    local dir=$1 pid i
    [ -n "$dir" ] && [ -d "$dir" ] || return 0
    if [ -f "$dir/pgbouncer.pid" ]; then
        pid=$(cat "$dir/pgbouncer.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -rf "$dir"
}
