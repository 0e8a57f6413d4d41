// tenancyctl check across placements (docs/placement.md, "Check and repair"):
// tenancy.check in the registry (shared and schema tenants), then every
// database tenant in its own database: provisioning finished, the database's
// claim, its schema, its migrations (behind, unknown, edited since applied,
// and whether the registry's record of them agrees), its required rows; and
// databases named like a tenant's that no placement knows.  With repair it
// finishes provisioning, applies missing migrations, corrects the registry's
// record and inserts missing rows.  It never deletes anything.  Start-up code
// runs it instead of crashing on a half-initialised tenant.
#pragma once

#include <vector>

#include "tenancy/client.hpp"
#include "tenancy/orchestration/outcome.hpp"

namespace tenancy::orchestration {

struct CheckOptions {
    bool repair = false;
    int jobs = 1;  // tenant databases checked at once
};

class PlacementChecker {
public:
    explicit PlacementChecker(ConnectOptions registry);
    std::vector<CheckProblem> run(const CheckOptions& options);

private:
    ConnectOptions registry_;
};

}  // namespace tenancy::orchestration
