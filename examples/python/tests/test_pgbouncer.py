"""What does and does not carry over between clients of PgBouncer in
transaction pooling mode (docs/deployment.md).

The clients here use PgBouncer's alias `<db>_shared`, whose pool has a single
server connection: every client's transactions run, in turn, on the same
server session, which is the worst case for anything left behind in it.
"""

import threading
import time

import psycopg
import pytest

import pg_tenancy as tenancy
from conftest import APP_ROLE, BOUND_ROLE, SCHEMA, conninfo, new_tenant

ORDERS = f"{SCHEMA}.orders"
CLIENTS = 6
TRANSACTIONS_PER_CLIENT = 150
TIME_LIMIT_SECONDS = 60  # a bound, not a timing assertion: the loop stops there


def shared(**kwargs):
    """A connection of the application role to the one-server-connection alias."""
    return tenancy.connect(conninfo("pgbouncer", APP_ROLE, shared=True), **kwargs)


def backend_pid(conn):
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


@pytest.fixture
def cleanup_shared_session():
    """Whatever a test leaves in the shared server session is cleared after it
    (PgBouncer pools per database and user: this is the application role's)."""
    yield
    with shared() as conn:
        conn.execute("DISCARD ALL")


def test_clients_take_turns_on_one_server_session():
    with shared() as first, shared() as second:
        assert backend_pid(first) == backend_pid(second)


def test_transaction_local_tenant_never_reaches_another_client(admin):
    """BEGIN; set_tenant(mine); ...; COMMIT from concurrent clients (half of
    them log in with an API key: set_tenant_by_api_key): no client ever starts
    a transaction with a tenant set, or sees another's rows."""
    tenants = [new_tenant(admin) for _ in range(CLIENTS)]
    keys = [tenancy.issue_api_key(admin, t) for t in tenants]
    for t in tenants:
        admin.execute(f"INSERT INTO {ORDERS} (tenant_id, item) VALUES (%s, 'mine')", (t,))
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    problems, pids, done = [], set(), [0] * CLIENTS
    start = threading.Barrier(CLIENTS)

    def client(index):
        mine = tenants[index]
        try:
            with shared() as conn:
                start.wait()
                for _ in range(TRANSACTIONS_PER_CLIENT):
                    if time.monotonic() > deadline:
                        break
                    before = tenancy.current_tenant(conn)
                    if before is not None:
                        problems.append(f"client {index} found tenant {before} set outside any transaction")
                    if index % 2:
                        transaction = tenancy.api_key_transaction(conn, keys[index])
                    else:
                        transaction = tenancy.tenant_transaction(conn, mine)
                    with transaction as opened:
                        cur = opened[1] if index % 2 else opened
                        cur.execute("SELECT tenancy.current_tenant(), pg_backend_pid()")
                        current, pid = cur.fetchone()
                        cur.execute(f"SELECT DISTINCT tenant_id FROM {ORDERS}")
                        seen = {row[0] for row in cur.fetchall()}
                    pids.add(pid)
                    if current != mine or seen != {mine}:
                        problems.append(f"client {index} (tenant {mine}) ran as {current}, saw tenants {seen}")
                    done[index] += 1
        except Exception as error:  # noqa: BLE001 - reported below, with the client
            problems.append(f"client {index}: {error!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIME_LIMIT_SECONDS + 30)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert problems == []
    assert len(pids) == 1, "all clients shared one server session"
    assert sum(done) >= CLIENTS * 10, f"too few transactions ran to prove anything: {done}"


def test_session_tenant_leaks_to_the_next_client(admin, cleanup_shared_session):
    """set_tenant(..., is_local => false) under transaction pooling: UNSAFE.
    The next client on that server session runs as that tenant."""
    victim_tenant = new_tenant(admin)
    admin.execute(f"INSERT INTO {ORDERS} (tenant_id, item) VALUES (%s, 'secret')", (victim_tenant,))
    with shared() as first, shared() as second:
        first.execute("SELECT tenancy.set_tenant(%s, false)", (victim_tenant,))
        # `second` never set a tenant, yet:
        assert tenancy.current_tenant(second) == victim_tenant
        rows = second.execute(f"SELECT item FROM {ORDERS}").fetchall()
        assert rows == [("secret",)], "another client's tenant and rows reached this one"


def test_set_config_session_settings_leak_too(cleanup_shared_session):
    """The same holds for any session state, e.g. SET: only transaction-local state is safe."""
    with shared() as first, shared() as second:
        first.execute("SET application_name = 'left-behind'")
        assert second.execute("SHOW application_name").fetchone()[0] == "left-behind"


def test_named_prepared_statements_need_prepare_threshold_none(cleanup_shared_session):
    """PgBouncer 1.18 does not route named prepared statements: psycopg's
    default (prepare after 5 executions; here 0) breaks across clients.
    tenancy.connect() turns it off."""
    with shared(prepare_threshold=0) as first, shared(prepare_threshold=0) as second:
        first.execute("SELECT 1")
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            second.execute("SELECT 1")
    with shared() as conn:
        conn.execute("DEALLOCATE ALL")
    with shared() as first, shared() as second:
        for _ in range(10):
            assert first.execute("SELECT 1").fetchone() == (1,)
            assert second.execute("SELECT 1").fetchone() == (1,)


def test_session_pooling_resets_the_session_tenant_between_clients(admin):
    """In session pooling mode PgBouncer runs DISCARD ALL (server_reset_query)
    when a client leaves: the next client of that server connection starts
    without the previous client's session tenant."""
    tenant = new_tenant(admin)
    session_conninfo = conninfo("pgbouncer", APP_ROLE, session=True)
    with tenancy.connect(session_conninfo) as first:
        first.execute("SELECT tenancy.set_tenant(%s, false)", (tenant,))
        pid = backend_pid(first)
        assert tenancy.current_tenant(first) == tenant
    with tenancy.connect(session_conninfo) as second:
        assert backend_pid(second) == pid, "the same server connection"
        assert tenancy.current_tenant(second) is None


def test_tenant_binding_holds_through_the_pooler(admin):
    """PgBouncer logs in to the server as the client's user, so the bindings
    of that user apply to its transactions (docs/deployment.md)."""
    mine, other = new_tenant(admin), new_tenant(admin)
    admin.execute("SELECT tenancy.bind_role(%s, %s)", (BOUND_ROLE, mine))
    try:
        with tenancy.connect(conninfo("pgbouncer", BOUND_ROLE)) as conn:
            with tenancy.tenant_transaction(conn, mine):
                assert tenancy.current_tenant(conn) == mine
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
                with tenancy.tenant_transaction(conn, other):
                    pytest.fail("a bound role acted as another tenant")
            assert BOUND_ROLE in str(raised.value) and str(other) in str(raised.value)
    finally:
        admin.execute("SELECT tenancy.unbind_role(%s, %s)", (BOUND_ROLE, mine))
