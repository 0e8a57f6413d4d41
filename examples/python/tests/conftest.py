"""Fixtures: a superuser connection for set-up, and the application role's
connections, straight to the server and through PgBouncer.

The server comes from the PG* environment (scripts/test sets it, with
PGDATABASE=tenancy_python); PgBouncer from TENANCY_PGBOUNCER_HOST and
TENANCY_PGBOUNCER_PORT.  Without those two, the PgBouncer cases fail rather
than skip, unless TENANCY_PGBOUNCER=optional (for a quick run by hand).
"""

import os
import sys
import uuid

import psycopg
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import pg_tenancy as tenancy  # noqa: E402

APP_ROLE = "tenancy_py_app"
BOUND_ROLE = "tenancy_py_bound"  # a role bound to tenants (tenancy.bind_role)
SCHEMA = "py_app"


def conninfo(route: str, user: str, shared: bool = False, session: bool = False) -> str:
    """Connection string for `user` straight to the server or through PgBouncer.

    shared: PgBouncer's alias `<db>_shared` of the same database, whose pool
    has one server connection that all its clients take turns on.
    session: the alias `<db>_session`, one server connection in session
    pooling mode (clients take turns per connection, not per transaction).
    """
    db = os.environ.get("PGDATABASE", "tenancy_python")
    if route == "direct":
        return psycopg.conninfo.make_conninfo(dbname=db, user=user)
    host = os.environ.get("TENANCY_PGBOUNCER_HOST")
    port = os.environ.get("TENANCY_PGBOUNCER_PORT")
    if not host or not port:
        if os.environ.get("TENANCY_PGBOUNCER") == "optional":
            pytest.skip("no PgBouncer (TENANCY_PGBOUNCER_HOST/PORT unset)")
        pytest.fail("TENANCY_PGBOUNCER_HOST and TENANCY_PGBOUNCER_PORT must name a running PgBouncer")
    return psycopg.conninfo.make_conninfo(host=host, port=port, user=user,
                                          dbname=f"{db}_session" if session else f"{db}_shared" if shared else db)


@pytest.fixture(scope="session")
def admin():
    """A superuser connection straight to the server, for set-up and checks."""
    with tenancy.connect(conninfo("direct", os.environ.get("PGUSER", "postgres"))) as conn:
        yield conn


@pytest.fixture(scope="session", autouse=True)
def schema(admin):
    """The application role and tables the tests use, made anew each run."""
    admin.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    admin.execute(f"""
        DO $$BEGIN CREATE ROLE {APP_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
        DO $$BEGIN CREATE ROLE {BOUND_ROLE} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$;
        GRANT USAGE ON SCHEMA tenancy TO {BOUND_ROLE};
        GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean) TO {BOUND_ROLE};
        GRANT USAGE ON SCHEMA tenancy TO {APP_ROLE};
        GRANT EXECUTE ON FUNCTION tenancy.set_tenant(bigint, boolean),
            tenancy.adjust_storage(bigint, bigint, text, text), tenancy.storage(bigint),
            tenancy.sync_links(regclass, name, text, name, anycompatiblearray),
            tenancy.check(boolean), tenancy.issue_api_key(bigint), tenancy.revoke_api_keys(bigint),
            tenancy.set_tenant_by_api_key(text, boolean)
          TO {APP_ROLE};
        CREATE SCHEMA {SCHEMA};
        GRANT USAGE ON SCHEMA {SCHEMA} TO {APP_ROLE};
        CREATE TABLE {SCHEMA}.orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                      tenant_id bigint, item text NOT NULL);
        SELECT tenancy.protect('{SCHEMA}.orders');
        CREATE TABLE {SCHEMA}.membership (member_id bigint NOT NULL, group_id bigint NOT NULL,
                                          UNIQUE (member_id, group_id));
        CREATE TABLE {SCHEMA}.apps (tenant_id bigint, name text NOT NULL, UNIQUE (tenant_id, name));
        SELECT tenancy.protect('{SCHEMA}.apps');
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {SCHEMA} TO {APP_ROLE};
    """)
    yield


ROUTES = ["direct", "pgbouncer"]


@pytest.fixture(params=ROUTES)
def route(request):
    return request.param


@pytest.fixture
def conn(route):
    """The application role (not a superuser, not the tables' owner)."""
    with tenancy.connect(conninfo(route, APP_ROLE)) as c:
        yield c


def new_tenant(admin, **kwargs) -> int:
    return tenancy.create_tenant(admin, "py-" + uuid.uuid4().hex[:16], **kwargs)


@pytest.fixture
def tenant_a(admin):
    return new_tenant(admin)


@pytest.fixture
def tenant_b(admin):
    return new_tenant(admin)
