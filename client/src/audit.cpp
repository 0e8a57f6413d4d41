// The isolation audit: one call of tenancy.audit (docs/security.md).
#include "tenancy/client.hpp"

namespace tenancy {

std::vector<AuditFinding> Client::audit(const std::optional<std::string>& schema) {
    const Result r = conn_.exec("SELECT severity, hazard, object, explanation, fix FROM tenancy.audit($1::name)",
                                {schema});
    std::vector<AuditFinding> findings;
    findings.reserve(static_cast<std::size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row)
        findings.push_back(AuditFinding{r.text(row, "severity"), r.text(row, "hazard"), r.text(row, "object"),
                                        r.text(row, "explanation"), r.optional_text(row, "fix")});
    return findings;
}

}  // namespace tenancy
