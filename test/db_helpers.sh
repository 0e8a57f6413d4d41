# Shell helpers shared by the test scripts that drive psql directly
# (test/upgrade/check.sh, test/dump/roundtrip.sh).  Source it; it defines
# functions only.  Expects PGHOST/PGPORT/PGUSER for a superuser.

# psql that stops at the first error and reads no ~/.psqlrc.
psql_do() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# fresh_db DB [VERSION]: (re)creates DB with the extension, at VERSION or the
# default version.
fresh_db() {
    psql_do -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\""
    if [ -n "${2:-}" ]; then
        psql_do -d "$1" -c "CREATE EXTENSION tenancy VERSION '$2'"
    else
        psql_do -d "$1" -c "CREATE EXTENSION tenancy"
    fi
}
