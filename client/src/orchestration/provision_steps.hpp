// The provisioning steps of one database tenant, shared by the Provisioner,
// the Migrator (which finishes tenants still provisioning) and the check.
#pragma once

#include "registry_view.hpp"
#include "shared_registry.hpp"
#include "tenancy/client.hpp"
#include "tenancy/orchestration/endpoints.hpp"

namespace tenancy::orchestration {

// Runs every step for a tenant in state provisioning; returns the version it
// reached.  Opens at most one connection at a time besides the registry's.
std::int64_t provision_database_tenant(SharedRegistry& registry, const Endpoints& endpoints,
                                       const RegistryView& view, const TenantLocation& location);

// CREATE DATABASE `database` on the server unless it exists (a concurrent
// creator counts as existing).
void create_database_if_missing(Connection& server, const std::string& database);

// The name quoted for SQL by libpq.
std::string quoted_identifier(Connection& connection, const std::string& name);

}  // namespace tenancy::orchestration
