#include "registry_view.hpp"

namespace tenancy::orchestration {

RegistryView RegistryView::load(Client& registry) {
    RegistryView view;
    view.registry_id = registry.registry_id();
    for (const ServerInfo& s : registry.servers())
        view.server_conninfo[s.name] = s.conninfo;
    view.migrations = registry.migrations();
    view.rules_json =
        registry.connection()
            .exec("SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
                  "'id', id, 'table_name', table_name, 'template', template) ORDER BY id), '[]')::text AS rules"
                  "  FROM tenancy.tenant_row_rule")
            .text(0, "rules");
    return view;
}

std::vector<Migration> RegistryView::after(std::int64_t version) const {
    std::vector<Migration> newer;
    for (const Migration& m : migrations)
        if (m.version > version)
            newer.push_back(m);
    return newer;
}

const std::string& RegistryView::conninfo_of(const std::string& server) const {
    auto found = server_conninfo.find(server);
    if (found == server_conninfo.end())
        raise_error(ErrorInfo{"42704", "server \"" + server + "\" is not registered", "", ""});
    return found->second;
}

}  // namespace tenancy::orchestration
