// Quoting names and values for SQL that the extension builds itself (DDL on
// users' tables, statements over a table chosen at run time).  Everything
// goes through PostgreSQL's own quote_identifier, quote_qualified_identifier
// and quote_literal_cstr: never splice a name or value into SQL otherwise.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <string>

namespace tenancy {

std::string quoted_identifier(const std::string &identifier);
std::string quoted_literal(const std::string &text);
// schema.relation of `relid`, each part quoted as needed; 42P01 if it no
// longer exists.
std::string quoted_relation_name(Oid relid);

} // namespace tenancy
