-- The C++/PostgreSQL error boundary (extension/boundary.hpp), in both
-- directions, through test-only entry points of the tenancy module.
\set SHOW_CONTEXT never
CREATE FUNCTION selftest_throw(kind text) RETURNS void
    LANGUAGE C STRICT AS '$libdir/tenancy', 'tenancy_selftest_throw';
CREATE FUNCTION selftest_spi(sql text) RETURNS bigint
    LANGUAGE C STRICT AS '$libdir/tenancy', 'tenancy_selftest_spi';
CREATE FUNCTION selftest_live_guards() RETURNS integer
    LANGUAGE C STRICT AS '$libdir/tenancy', 'tenancy_selftest_live_guards';
-- Runs sql and reports its SQLSTATE and message, to show the codes.
CREATE FUNCTION try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- C++ exceptions become PostgreSQL errors with a proper SQLSTATE.
SELECT selftest_throw('tenancy');
SELECT try($$SELECT selftest_throw('tenancy')$$);
SELECT try($$SELECT selftest_throw('bad_alloc')$$);
SELECT try($$SELECT selftest_throw('std')$$);
SELECT try($$SELECT selftest_throw('other')$$);
SELECT try($$SELECT selftest_throw('nonsense')$$);
-- ... and the C++ objects alive at the throw were destroyed.
SELECT selftest_live_guards();

-- A PostgreSQL error inside SPI called from C++ comes back unchanged.
SELECT selftest_spi('SELECT 1/0');
SELECT try($$SELECT selftest_spi('SELECT 1/0')$$);
SELECT try($$SELECT selftest_spi('SELECT * FROM no_such_table')$$);
-- Nested: the error crosses two C++ frames that each hold an SPI connection.
SELECT try($$SELECT selftest_spi('SELECT selftest_spi(''SELECT 1/0'')')$$);
SELECT selftest_live_guards();

-- The session stays usable, in and out of transactions and subtransactions.
SELECT selftest_spi('SELECT g FROM generate_series(1, 5) g');
BEGIN;
SELECT try($$SELECT selftest_spi('SELECT 1/0')$$);
SELECT selftest_spi('SELECT g FROM generate_series(1, 3) g');
SELECT selftest_live_guards();
COMMIT;
BEGIN;
SELECT selftest_spi('SELECT 1/0');
ROLLBACK;
SELECT selftest_spi('SELECT g FROM generate_series(1, 2) g');
SELECT selftest_live_guards();
