"""Using the tenancy PostgreSQL extension from Python, with psycopg 3.

Every capability of the extension is one SQL call; this module makes each a
Python function with typed results, and runs a transaction as a tenant::

    import pg_tenancy as tenancy

    with tenancy.connect("dbname=app user=app") as conn:
        with tenancy.tenant_transaction(conn, 42) as cur:
            cur.execute("SELECT id, item FROM orders")   # only tenant 42's rows
            rows = cur.fetchall()
        tenancy.adjust_storage(conn, 42, 1_048_576, idempotency_key="upload-7f3a")

The rules it follows (docs/languages.md explains them):

* The tenant is set with ``tenancy.set_tenant(id)`` inside an explicit
  transaction, so it ends with the transaction, and a pooled connection
  (PgBouncer in transaction mode included) cannot carry it to the next user.
* Connections are in autocommit mode: nothing holds a transaction (and so a
  pooled server connection) open between calls.
* Statements are never prepared by name (``prepare_threshold=None`` and
  ``prepare=False``): PgBouncer before 1.21 cannot route named prepared
  statements in transaction pooling mode.
* The extension's own errors (SQLSTATE class TN) become the exceptions below,
  which are ``psycopg.DatabaseError`` subclasses, so ``except psycopg.Error``
  still catches everything.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, List, NamedTuple, NoReturn, Optional, Sequence, Tuple

import psycopg
from psycopg import pq
from psycopg.types.json import Jsonb

__all__ = [
    "TenancyError", "TenantNotFound", "TenantNotActive", "QuotaExceeded", "InvalidTransition",
    "StorageUnderflow", "IdempotencyKeyReused", "InvalidApiKey",
    "Storage", "LinkSync", "Problem",
    "connect", "tenant_transaction", "api_key_transaction",
    "create_tenant", "issue_api_key", "tenant_for_api_key", "revoke_api_keys",
    "adjust_storage", "storage", "sync_links", "check", "current_tenant",
]


# ---- errors --------------------------------------------------------------------------

class TenancyError(psycopg.DatabaseError):
    """An error raised by the tenancy extension (SQLSTATE class TN).

    ``sqlstate`` and ``diag`` (message, detail, hint) are those of the server's
    error, which is also the exception's ``__cause__``.
    """


class TenantNotFound(TenancyError):
    """TN001: no tenant has this id."""


class TenantNotActive(TenancyError):
    """TN002: the tenant is suspended or deleted."""


class QuotaExceeded(TenancyError):
    """TN003: the adjustment would take the tenant's storage above its quota."""


class InvalidTransition(TenancyError):
    """TN004: the tenant's status does not allow this transition."""


class StorageUnderflow(TenancyError):
    """TN005: the adjustment would take storage below 0 (on_underflow='error')."""


class IdempotencyKeyReused(TenancyError):
    """TN006: the idempotency key was used before with a different delta."""


class InvalidApiKey(TenancyError):
    """TN050: the API key is unknown, revoked, of a deleted tenant or malformed (the server does not say which)."""


_BY_SQLSTATE = {
    "TN001": TenantNotFound,
    "TN002": TenantNotActive,
    "TN003": QuotaExceeded,
    "TN004": InvalidTransition,
    "TN005": StorageUnderflow,
    "TN006": IdempotencyKeyReused,
    "TN050": InvalidApiKey,
}


def _translate(error: psycopg.Error) -> NoReturn:
    """Re-raises a TN error as its TenancyError subclass; anything else as it is."""
    sqlstate = error.sqlstate or ""
    cls = _BY_SQLSTATE.get(sqlstate) or (TenancyError if sqlstate.startswith("TN") else None)
    if cls is None:
        raise error
    raise cls(str(error), info=error.pgresult) from error


def _call(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
    """Runs one statement, unprepared, and returns its rows."""
    try:
        with conn.cursor() as cur:
            cur.execute(query, params, prepare=False)
            return cur.fetchall() if cur.description is not None else []
    except psycopg.Error as error:
        _translate(error)


def _scalar(conn: psycopg.Connection, query: str, params: Sequence[Any] = ()) -> Any:
    return _call(conn, query, params)[0][0]


# ---- connections and transactions ----------------------------------------------

def connect(conninfo: str = "", **kwargs: Any) -> psycopg.Connection:
    """A connection set up as this module expects: autocommit, no named prepares.

    ``conninfo`` and ``kwargs`` are psycopg.connect's (the PG* environment
    applies); pass them to psycopg_pool.ConnectionPool(kwargs=...) the same way.
    """
    kwargs.setdefault("autocommit", True)
    kwargs.setdefault("prepare_threshold", None)
    return psycopg.connect(conninfo, **kwargs)


def _begin_own_transaction(conn: psycopg.Connection) -> None:
    # Inside a transaction already open, conn.transaction() would make a
    # savepoint, and the tenant set in it would outlive the with block.
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise psycopg.ProgrammingError(
            "a tenant transaction must be a transaction of its own: commit or roll back first "
            "(use a connection from tenancy.connect(), which is in autocommit mode)")


@contextlib.contextmanager
def tenant_transaction(conn: psycopg.Connection, tenant: int) -> Iterator[psycopg.Cursor]:
    """Runs the with block as one transaction of ``tenant``.

    BEGIN; SELECT tenancy.set_tenant(tenant); <the block>; COMMIT (ROLLBACK if
    the block raises).  Protected tables show and accept only that tenant's
    rows inside the block; the tenant ends with the transaction.  Raises
    TenantNotFound / TenantNotActive before the block runs.
    """
    _begin_own_transaction(conn)
    with conn.transaction():
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT tenancy.set_tenant(%s)", (tenant,), prepare=False)
            except psycopg.Error as error:
                _translate(error)
            yield cur


@contextlib.contextmanager
def api_key_transaction(conn: psycopg.Connection, key: str) -> Iterator[Tuple[int, psycopg.Cursor]]:
    """Runs the with block as one transaction of the tenant whose API key this is.

    BEGIN; SELECT tenancy.set_tenant_by_api_key(key); <the block>; COMMIT.
    Yields (tenant id, cursor).  Raises InvalidApiKey for an unknown, revoked
    or malformed key (one error whatever the reason: the server does not say
    which) and TenantNotActive for a valid key of a suspended tenant.  The
    role needs EXECUTE on set_tenant_by_api_key only, not on set_tenant: it
    can then act only as the tenant whose key it presents.
    """
    _begin_own_transaction(conn)
    with conn.transaction():
        with conn.cursor() as cur:
            try:
                cur.execute("SELECT tenancy.set_tenant_by_api_key(%s)", (key,), prepare=False)
                tenant = cur.fetchone()[0]
            except psycopg.Error as error:
                _translate(error)
            yield tenant, cur


def current_tenant(conn: psycopg.Connection) -> Optional[int]:
    """The connection's current tenant, None when none is set."""
    return _scalar(conn, "SELECT tenancy.current_tenant()")


# ---- registry and API keys -----------------------------------------------------

def create_tenant(conn: psycopg.Connection, slug: str, name: Optional[str] = None,
                  storage_quota: Optional[int] = None, settings: Optional[dict] = None) -> int:
    """Registers an active tenant and returns its id (the SQL defaults apply)."""
    args, params = ["%s"], [slug]
    for arg, value in (("name", name), ("storage_quota", storage_quota),
                       ("settings", Jsonb(settings) if settings is not None else None)):
        if value is not None:
            args.append(f"{arg} => %s")
            params.append(value)
    return _scalar(conn, f"SELECT tenancy.create_tenant({', '.join(args)})", params)


def issue_api_key(conn: psycopg.Connection, tenant: int) -> str:
    """A new API key of an active tenant; only its digest is stored."""
    return _scalar(conn, "SELECT tenancy.issue_api_key(%s)", (tenant,))


def tenant_for_api_key(conn: psycopg.Connection, key: str) -> Optional[int]:
    """The tenant of an API key; None if the key is unknown or revoked."""
    return _scalar(conn, "SELECT tenancy.tenant_for_api_key(%s)", (key,))


def revoke_api_keys(conn: psycopg.Connection, tenant: int) -> int:
    """Revokes every live key of the tenant; returns how many."""
    return _scalar(conn, "SELECT tenancy.revoke_api_keys(%s)", (tenant,))


# ---- storage accounting --------------------------------------------------------

class Storage(NamedTuple):
    used: int
    quota: int
    available: int


def adjust_storage(conn: psycopg.Connection, tenant: int, delta: int,
                   idempotency_key: Optional[str] = None, on_underflow: str = "clamp") -> int:
    """Adds ``delta`` bytes (negative frees) and returns the new usage.

    A retry with the same ``idempotency_key`` is counted once and returns the
    first call's result.  Raises QuotaExceeded (nothing changes),
    TenantNotActive (growth of a suspended or deleted tenant), TenantNotFound,
    StorageUnderflow (on_underflow='error'), IdempotencyKeyReused.
    """
    return _scalar(conn, "SELECT tenancy.adjust_storage(%s, %s, %s, %s)",
                   (tenant, delta, idempotency_key, on_underflow))


def storage(conn: psycopg.Connection, tenant: int) -> Storage:
    """The tenant's usage, quota and the bytes it may still add."""
    return Storage(*_call(conn, "SELECT used, quota, available FROM tenancy.storage(%s)", (tenant,))[0])


# ---- link sync -------------------------------------------------------------------

class LinkSync(NamedTuple):
    added: int
    removed: int


def sync_links(conn: psycopg.Connection, table: str, owner_column: str, owner: Any,
               target_column: str, targets: Sequence[Any]) -> LinkSync:
    """Makes the owner's links in ``table`` exactly ``targets``; returns rows added and removed.

    ``table`` is a table name as SQL resolves it (regclass); values travel as
    text and the server converts them to the columns' types, so integer,
    text and uuid keys work alike.  Calls for one owner serialise.
    """
    row = _call(conn,
                "SELECT added, removed FROM tenancy.sync_links(%s::regclass, %s, %s::text, %s, %s::text[])",
                (table, owner_column, str(owner), target_column, [str(t) for t in targets]))[0]
    return LinkSync(*row)


# ---- check and repair ------------------------------------------------------------

class Problem(NamedTuple):
    tenant: Optional[int]
    problem: str
    object: str
    detail: str
    repaired: bool


def check(conn: psycopg.Connection, repair: bool = False) -> List[Problem]:
    """tenancy.check(): missing required rows, damaged protection, ...; repairs what it can."""
    return [Problem(*row) for row in
            _call(conn, "SELECT tenant, problem, object, detail, repaired FROM tenancy.check(%s)", (repair,))]
