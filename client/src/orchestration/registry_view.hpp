// What the orchestration reads from the registry once per run: its identity,
// the servers' conninfos, the migrations and the tenant-row rules.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tenancy/client.hpp"

namespace tenancy::orchestration {

struct RegistryView {
    std::string registry_id;
    std::map<std::string, std::string> server_conninfo;  // server name -> conninfo
    std::vector<Migration> migrations;                    // in version order
    std::string rules_json;                               // tenancy.tenant_row_rule as a JSON array

    static RegistryView load(Client& registry);

    std::int64_t latest_version() const { return migrations.empty() ? 0 : migrations.back().version; }
    // The migrations newer than `version`.
    std::vector<Migration> after(std::int64_t version) const;
    // A server's conninfo; TenancyError if the server is not registered.
    const std::string& conninfo_of(const std::string& server) const;
};

}  // namespace tenancy::orchestration
