"""The Python module against the real server, straight and through PgBouncer
(every test here runs once per route, see conftest.route)."""

import uuid

import psycopg
import pytest

import pg_tenancy as tenancy
from conftest import SCHEMA, new_tenant

ORDERS = f"{SCHEMA}.orders"


def rows_of(admin, tenant):
    return admin.execute(f"SELECT item FROM {ORDERS} WHERE tenant_id = %s ORDER BY item", (tenant,)).fetchall()


# ---- tenant transactions -------------------------------------------------------------

def test_tenant_transaction_sees_and_writes_only_its_tenant(conn, admin, tenant_a, tenant_b):
    admin.execute(f"INSERT INTO {ORDERS} (tenant_id, item) VALUES (%s, 'a1'), (%s, 'b1')", (tenant_a, tenant_b))
    with tenancy.tenant_transaction(conn, tenant_a) as cur:
        cur.execute(f"SELECT tenant_id, item FROM {ORDERS} ORDER BY id")
        assert cur.fetchall() == [(tenant_a, "a1")]
        cur.execute(f"INSERT INTO {ORDERS} (item) VALUES ('a2')")  # tenant_id filled in
        cur.execute(f"UPDATE {ORDERS} SET item = 'taken' WHERE tenant_id = %s", (tenant_b,))
        assert cur.rowcount == 0
    assert rows_of(admin, tenant_a) == [("a1",), ("a2",)]
    assert rows_of(admin, tenant_b) == [("b1",)]


def test_tenant_ends_with_the_transaction(conn, admin, tenant_a):
    with tenancy.tenant_transaction(conn, tenant_a):
        assert tenancy.current_tenant(conn) == tenant_a
    assert tenancy.current_tenant(conn) is None
    with pytest.raises(ZeroDivisionError):
        with tenancy.tenant_transaction(conn, tenant_a) as cur:
            cur.execute(f"INSERT INTO {ORDERS} (item) VALUES ('rolled back')")
            1 / 0
    assert tenancy.current_tenant(conn) is None
    assert rows_of(admin, tenant_a) == [], "the block's insert was rolled back"


def test_another_tenants_row_is_refused(conn, tenant_a, tenant_b):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as raised:
        with tenancy.tenant_transaction(conn, tenant_a) as cur:
            cur.execute(f"INSERT INTO {ORDERS} (tenant_id, item) VALUES (%s, 'x')", (tenant_b,))
    assert raised.value.sqlstate == "42501"
    assert f"belongs to tenant {tenant_b}, not to the current tenant {tenant_a}" in str(raised.value)


def test_tenant_transaction_needs_a_transaction_of_its_own(conn, tenant_a):
    conn.execute("BEGIN")
    with pytest.raises(psycopg.ProgrammingError, match="transaction of its own"):
        with tenancy.tenant_transaction(conn, tenant_a):
            pass
    conn.execute("ROLLBACK")


def test_unknown_and_inactive_tenants_raise_their_classes(conn, admin):
    with pytest.raises(tenancy.TenantNotFound) as raised:
        with tenancy.tenant_transaction(conn, 9_000_000_000_000_000_000):
            pytest.fail("the block must not run")
    assert raised.value.sqlstate == "TN001"
    assert isinstance(raised.value, psycopg.DatabaseError)
    assert isinstance(raised.value.__cause__, psycopg.Error)
    suspended = new_tenant(admin)
    admin.execute("SELECT tenancy.suspend_tenant(%s)", (suspended,))
    with pytest.raises(tenancy.TenantNotActive):
        with tenancy.tenant_transaction(conn, suspended):
            pytest.fail("the block must not run")
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


# ---- storage accounting ----------------------------------------------------------------

def test_adjust_storage_counts_a_retry_once_and_enforces_the_quota(conn, admin):
    tenant = new_tenant(admin, storage_quota=1000)
    key = "upload-" + uuid.uuid4().hex
    assert tenancy.adjust_storage(conn, tenant, 600, idempotency_key=key) == 600
    assert tenancy.adjust_storage(conn, tenant, 600, idempotency_key=key) == 600, "a retry is counted once"
    with pytest.raises(tenancy.IdempotencyKeyReused):
        tenancy.adjust_storage(conn, tenant, 700, idempotency_key=key)
    with pytest.raises(tenancy.QuotaExceeded) as raised:
        tenancy.adjust_storage(conn, tenant, 401)
    assert raised.value.sqlstate == "TN003"
    assert tenancy.storage(conn, tenant) == tenancy.Storage(used=600, quota=1000, available=400)
    assert tenancy.adjust_storage(conn, tenant, -10_000) == 0, "an underflow is clamped by default"
    with pytest.raises(tenancy.StorageUnderflow):
        tenancy.adjust_storage(conn, tenant, -1, on_underflow="error")


# ---- link sync ----------------------------------------------------------------------

def test_sync_links_makes_the_set_exact(conn, admin):
    owner = uuid.uuid4().int % 1_000_000_000
    table = f"{SCHEMA}.membership"
    assert tenancy.sync_links(conn, table, "member_id", owner, "group_id", [1, 2, 3]) == tenancy.LinkSync(3, 0)
    assert tenancy.sync_links(conn, table, "member_id", owner, "group_id", [2, 3, 4, 4]) == tenancy.LinkSync(1, 1)
    assert tenancy.sync_links(conn, table, "member_id", owner, "group_id", [2, 3, 4]) == tenancy.LinkSync(0, 0)
    groups = admin.execute(f"SELECT group_id FROM {table} WHERE member_id = %s ORDER BY 1", (owner,)).fetchall()
    assert groups == [(2,), (3,), (4,)]
    assert tenancy.sync_links(conn, table, "member_id", owner, "group_id", []) == tenancy.LinkSync(0, 3)


# ---- API keys --------------------------------------------------------------------------

def test_api_keys_resolve_until_revoked(conn, tenant_a):
    key = tenancy.issue_api_key(conn, tenant_a)
    assert key.startswith("tnk_")
    assert tenancy.tenant_for_api_key(conn, key) == tenant_a
    assert tenancy.tenant_for_api_key(conn, "tnk_" + "0" * 43) is None
    assert tenancy.revoke_api_keys(conn, tenant_a) == 1
    assert tenancy.tenant_for_api_key(conn, key) is None


def test_api_key_transaction_acts_as_the_keys_tenant(conn, admin, tenant_a, tenant_b):
    admin.execute(f"INSERT INTO {ORDERS} (tenant_id, item) VALUES (%s, 'a1'), (%s, 'b1')", (tenant_a, tenant_b))
    key = tenancy.issue_api_key(admin, tenant_a)
    with tenancy.api_key_transaction(conn, key) as (tenant, cur):
        assert tenant == tenant_a
        assert cur.execute(f"SELECT item FROM {ORDERS}").fetchall() == [("a1",)]
    assert tenancy.current_tenant(conn) is None, "the key's tenant ends with the transaction"


@pytest.mark.parametrize("key", ["tnk_" + "0" * 43, "not a key", "", "revoked"])
def test_api_key_transaction_refuses_every_invalid_key_alike(conn, admin, tenant_a, key):
    if key == "revoked":
        key = tenancy.issue_api_key(admin, tenant_a)
        tenancy.revoke_api_keys(admin, tenant_a)
    with pytest.raises(tenancy.InvalidApiKey) as raised:
        with tenancy.api_key_transaction(conn, key):
            pytest.fail("the block must not run")
    assert raised.value.sqlstate == "TN050"
    assert tenancy.current_tenant(conn) is None


# ---- check and repair -------------------------------------------------------------------

def test_check_finds_and_repairs_a_missing_required_row(conn, admin):
    apps = f"{SCHEMA}.apps"
    admin.execute("SELECT tenancy.require_row(%s, '{\"name\": \"public\"}')", (apps,))
    tenancy.check(conn, repair=True)  # every tenant made by earlier tests gets its row
    tenant = new_tenant(admin)
    missing = [p for p in tenancy.check(conn) if p.object == apps]
    assert [(p.tenant, p.problem, p.repaired) for p in missing] == [(tenant, "missing_row", False)]
    repaired = [p for p in tenancy.check(conn, repair=True) if p.object == apps]
    assert [(p.tenant, p.problem, p.repaired) for p in repaired] == [(tenant, "missing_row", True)]
    assert [p for p in tenancy.check(conn) if p.object == apps] == []
    with tenancy.tenant_transaction(conn, tenant) as cur:
        assert cur.execute(f"SELECT name FROM {apps}").fetchall() == [("public",)]


# ---- registry -------------------------------------------------------------------------

def test_create_tenant_passes_the_given_arguments_and_keeps_sql_defaults(admin):
    slug = "py-" + uuid.uuid4().hex[:16]
    full = tenancy.create_tenant(admin, slug, name="Acme", storage_quota=5000, settings={"plan": "pro"})
    row = admin.execute("SELECT slug, name, storage_quota, settings FROM tenancy.tenant WHERE id = %s", (full,)).fetchone()
    assert row == (slug, "Acme", 5000, {"plan": "pro"})
    bare = new_tenant(admin)
    row = admin.execute("SELECT name, storage_quota, settings FROM tenancy.tenant WHERE id = %s", (bare,)).fetchone()
    assert row == (None, 10737418240, {})
    with pytest.raises(psycopg.errors.UniqueViolation):
        tenancy.create_tenant(admin, slug)
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        tenancy.create_tenant(admin, "Not A Slug!")
