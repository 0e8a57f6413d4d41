// Required-row rules: what tenancy.require_row declares and the statements
// tenancy.check runs for each rule.  Every statement is set-based: it takes
// the array of tenant ids to look at as parameter $1 and the rule's template
// as $2, so a rule costs the same number of statements for 10 tenants or
// 100,000.
#pragma once

extern "C" {
#include "postgres.h"
}

#include <cstdint>
#include <string>
#include <vector>

namespace tenancy::rules {

struct Rule {
    int64_t id = 0;
    Oid relid = InvalidOid;
    std::string table;          // qualified and quoted
    std::string tenant_column;  // quoted
    std::string template_json;  // the template, as jsonb text
    std::vector<std::string> columns; // the template's keys, quoted, in jsonb order
};

// Loads the template's keys into rule.columns.  Needs an spi::Connection.
void load_columns(Rule &rule);

// SELECT tenant, <template columns> for each tenant of $1 (int8[]) that has
// no row matching $2 (jsonb), ordered by tenant.
std::string missing_rows_sql(const Rule &rule);

// Inserts the missing rows (ON CONFLICT DO NOTHING) and returns, for each
// tenant that lacked one, (tenant, inserted boolean), ordered by tenant.
std::string repair_sql(const Rule &rule);

} // namespace tenancy::rules
