# PGXS build of the tenancy extension (the C++ module and its SQL scripts).
# The client library and tenancyctl are built by CMakeLists.txt instead.

EXTENSION  = tenancy
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

# The module's sources: extension/module.cpp plus one folder per capability
# (registry/, storage/, links/, rowcheck/, ...) and shared/ for the pieces they
# all use (error boundary, SPI helpers, quoting).  Includes name headers by
# their path below extension/, e.g. "shared/spi.hpp".
MODULE_big = tenancy
OBJS       = $(patsubst %.cpp,%.o,$(sort $(wildcard extension/*.cpp extension/*/*.cpp)))

# The install script of the current version is assembled from one file per
# capability, in this order.  Older versions' full scripts are kept frozen in
# sql/released/ so that every shipped version stays installable (the upgrade
# check installs each of them and updates it to the current one).
INSTALL_PARTS = sql/install/registry.sql sql/install/storage.sql sql/install/links.sql sql/install/rowcheck.sql \
                sql/install/placement.sql sql/install/binding.sql sql/install/audit.sql sql/install/changes.sql \
                sql/install/move.sql
DATA_built    = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA          = $(wildcard sql/$(EXTENSION)--*--*.sql) $(wildcard sql/released/*.sql)

# tenancy_tap, the second extension: pgTAP assertions for users' own suites
# (docs/testing.md).  Plain SQL, no module; its scripts are written by hand,
# one full script per version plus upgrade scripts.
DATA         += tenancy_tap.control $(wildcard sql/tenancy_tap--*.sql)

REGRESS        = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS   = --inputdir=test --load-extension=$(EXTENSION)
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CPPFLAGS = -Iextension
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-register
# PGXS compiles every .cpp to LLVM bitcode too (for JIT inlining) with a rule
# that ignores PG_CXXFLAGS, so the language level has to be given there as well
# (and PostgreSQL 15 headers still use `register`, an error in C++17 for clang).
override BITCODE_CXXFLAGS += -std=c++17 -Wno-register
# libpq parses servers' connection strings (placement/conninfo.cpp), as in dblink.
PG_CPPFLAGS += -I$(libpq_srcdir)
SHLIB_LINK_INTERNAL = $(libpq)
SHLIB_LINK = -lstdc++

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

sql/$(EXTENSION)--$(EXTVERSION).sql: $(INSTALL_PARTS) $(EXTENSION).control
	cat $(INSTALL_PARTS) > $@

# Every object depends on every header: the headers are few and small.
$(OBJS): $(wildcard extension/*/*.hpp)
