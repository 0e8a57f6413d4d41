// Quoting helpers (see quoting.hpp).
#include "shared/quoting.hpp"

#include "shared/boundary.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace tenancy {

std::string quoted_identifier(const std::string &identifier)
{
    return pg_call([&] { return std::string(quote_identifier(identifier.c_str())); });
}

std::string quoted_literal(const std::string &text)
{
    return pg_call([&] { return std::string(quote_literal_cstr(text.c_str())); });
}

std::string quoted_relation_name(Oid relid)
{
    const char *name = pg_call([&] {
        char *relname = get_rel_name(relid);
        char *nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
        return relname && nspname ? quote_qualified_identifier(nspname, relname) : nullptr;
    });
    if (name == nullptr)
        throw Error(ERRCODE_UNDEFINED_TABLE, "relation with OID " + std::to_string(relid) + " does not exist");
    return name;
}

} // namespace tenancy
