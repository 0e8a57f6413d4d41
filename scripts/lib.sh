# Shared by scripts/demo and scripts/test: dependencies, build, and a
# throwaway PostgreSQL cluster.  Source it; it defines functions only.
#
# The cluster runs as the `postgres` OS user (PostgreSQL refuses to run as
# root) in a temporary directory it owns, on a private socket directory and
# port, and is stopped and removed by an EXIT trap even when a step fails.

TENANCY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BINDIR=/usr/lib/postgresql/15/bin

# Debian bookworm packages the build and the tests need.
TENANCY_PACKAGES=(
    postgresql-15 postgresql-client-15 postgresql-server-dev-15
    postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl
    libpq-dev libcli11-dev nlohmann-json3-dev libfmt-dev libgtest-dev
    g++ make cmake pkg-config clang llvm-dev
)

log() { printf '\n==> %s\n' "$*"; }

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

build_extension() {
    log "building and installing the tenancy extension"
    make -C "$TENANCY_ROOT" -s -j"$(nproc)" >/dev/null
    make -C "$TENANCY_ROOT" -s install >/dev/null
}

build_client() {
    log "building the client library and tenancyctl"
    cmake -S "$TENANCY_ROOT" -B "$TENANCY_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$TENANCY_ROOT/build" -j"$(nproc)" >/dev/null
}

# Finds a TCP port number nobody listens on (the socket is a Unix one, but the
# port number names it, so two clusters must not share one).
free_port() {
    local port
    for port in $(seq 54400 54499); do
        [ -e "/tmp/.s.PGSQL.$port" ] && continue
        ss -ltn 2>/dev/null | grep -q ":$port " && continue
        echo "$port"
        return
    done
    echo 54499
}

CLUSTER_DIR=""

stop_cluster() {
    [ -n "$CLUSTER_DIR" ] || return 0
    if [ -f "$CLUSTER_DIR/data/postmaster.pid" ]; then
        runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$CLUSTER_DIR"
    CLUSTER_DIR=""
}

# Starts a throwaway cluster and exports PGHOST, PGPORT and PGUSER for it.
start_cluster() {
    CLUSTER_DIR=$(mktemp -d /tmp/tenancy-cluster.XXXXXX)
    trap stop_cluster EXIT
    chown postgres: "$CLUSTER_DIR"
    chmod 755 "$CLUSTER_DIR"
    local port
    port=$(free_port)
    log "starting a throwaway cluster in $CLUSTER_DIR (port $port)"
    (cd "$CLUSTER_DIR" && runuser -u postgres -- "$PG_BINDIR/initdb" -D "$CLUSTER_DIR/data" \
        --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log")
    # Sized for a 2-core machine; fsync off because the cluster is thrown away.
    cat >>"$CLUSTER_DIR/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$CLUSTER_DIR'
port = $port
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 120
shared_buffers = 256MB
max_prepared_transactions = 10
EOF
    (cd "$CLUSTER_DIR" && runuser -u postgres -- "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" \
        -l "$CLUSTER_DIR/server.log" -w start >/dev/null)
    export PGHOST="$CLUSTER_DIR" PGPORT="$port" PGUSER=postgres
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
