// The migration sandbox (see sandbox.hpp).
//
// The hooks are plain C callbacks called by PostgreSQL: they must never let a
// C++ exception escape, so they use no C++ objects that need unwinding and
// report with ereport directly.  When no migration runs they cost one test of
// a static flag.
#include "placement/sandbox.hpp"

#include "shared/boundary.hpp"
#include "shared/quoting.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
}

#include <cstring>

namespace tenancy::sandbox {

namespace {

struct ActiveSandbox {
    bool active = false;
    Oid schema = InvalidOid;
    char schema_name[NAMEDATALEN] = {};
    int64 tenant = 0;
};
ActiveSandbox sandbox;

ExecutorStart_hook_type previous_executor_start = nullptr;
ProcessUtility_hook_type previous_process_utility = nullptr;

bool namespace_allowed(Oid ns)
{
    return ns == sandbox.schema || isAnyTempNamespace(ns) || IsToastNamespace(ns);
}

void refuse(const char *what)
{
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("a migration of tenant " INT64_FORMAT " may change only schema %s: %s", sandbox.tenant,
                           quote_identifier(sandbox.schema_name), what),
                    errhint("Tenant migrations run with the tenant's schema as the only writable schema; "
                            "change shared objects in a migration of the registry database instead.")));
}

void check_relation(const RangeVar *relation, const char *action)
{
    Oid relid = RangeVarGetRelid(relation, NoLock, true);
    if (!OidIsValid(relid))
        return; // the statement itself reports the missing relation
    if (!namespace_allowed(get_rel_namespace(relid)))
        refuse(psprintf("it tried to %s %s", action, quote_qualified_identifier(
                                                         get_namespace_name(get_rel_namespace(relid)),
                                                         get_rel_name(relid))));
}

void check_schema_name(const char *name, const char *action)
{
    if (strcmp(name, sandbox.schema_name) != 0)
        refuse(psprintf("it tried to %s schema %s", action, quote_identifier(name)));
}

// INSERT, UPDATE, DELETE and MERGE targets, data-modifying CTEs included.
void check_result_relations(PlannedStmt *stmt)
{
    ListCell *cell;
    foreach (cell, stmt->resultRelations) {
        RangeTblEntry *rte = rt_fetch(lfirst_int(cell), stmt->rtable);
        if (rte->rtekind != RTE_RELATION || namespace_allowed(get_rel_namespace(rte->relid)))
            continue;
        refuse(psprintf("it tried to write to table %s",
                        quote_qualified_identifier(get_namespace_name(get_rel_namespace(rte->relid)),
                                                   get_rel_name(rte->relid))));
    }
}

void sandbox_executor_start(QueryDesc *query, int eflags)
{
    if (sandbox.active && !(eflags & EXEC_FLAG_EXPLAIN_ONLY))
        check_result_relations(query->plannedstmt);
    if (previous_executor_start)
        previous_executor_start(query, eflags);
    else
        standard_ExecutorStart(query, eflags);
}

void check_grant(const GrantStmt *grant)
{
    ListCell *cell;
    if (grant->targtype == ACL_TARGET_ALL_IN_SCHEMA) {
        foreach (cell, grant->objects)
            check_schema_name(strVal(lfirst(cell)), "grant on every object of");
        return;
    }
    switch (grant->objtype) {
    case OBJECT_TABLE:
    case OBJECT_SEQUENCE:
        foreach (cell, grant->objects)
            check_relation(lfirst_node(RangeVar, cell), "grant on");
        return;
    case OBJECT_SCHEMA:
        foreach (cell, grant->objects)
            check_schema_name(strVal(lfirst(cell)), "grant on");
        return;
    case OBJECT_FUNCTION:
    case OBJECT_PROCEDURE:
    case OBJECT_ROUTINE:
        foreach (cell, grant->objects) {
            Oid function = LookupFuncWithArgs(grant->objtype, lfirst_node(ObjectWithArgs, cell), true);
            if (OidIsValid(function) && !namespace_allowed(get_func_namespace(function)))
                refuse(psprintf("it tried to grant on function %s", format_procedure(function)));
        }
        return;
    default:
        refuse("GRANT and REVOKE are allowed on its own tables, sequences, functions and schema only");
    }
}

void check_default_privileges(const AlterDefaultPrivilegesStmt *stmt)
{
    ListCell *cell;
    bool in_schema = false;
    foreach (cell, stmt->options) {
        DefElem *option = lfirst_node(DefElem, cell);
        if (strcmp(option->defname, "schemas") != 0)
            continue;
        ListCell *name;
        foreach (name, castNode(List, option->arg))
            check_schema_name(strVal(lfirst(name)), "alter default privileges in");
        in_schema = true;
    }
    if (!in_schema)
        refuse("ALTER DEFAULT PRIVILEGES needs IN SCHEMA with its own schema");
}

// DROP TRIGGER/POLICY/RULE name ON table: the table is every name but the last.
void check_drop_of_table_parts(const DropStmt *drop)
{
    if (drop->removeType != OBJECT_TRIGGER && drop->removeType != OBJECT_POLICY && drop->removeType != OBJECT_RULE)
        return;
    ListCell *cell;
    foreach (cell, drop->objects) {
        List *names = castNode(List, lfirst(cell));
        if (list_length(names) < 2)
            continue;
        check_relation(makeRangeVarFromNameList(list_truncate(list_copy(names), list_length(names) - 1)),
                       "drop a trigger, policy or rule of");
    }
}

// The statement kinds a schema migration may run, and the extra check some
// of them need.  Anything not listed is refused.
void check_utility(Node *statement)
{
    switch (nodeTag(statement)) {
    case T_GrantStmt:
        check_grant(castNode(GrantStmt, statement));
        return;
    case T_AlterDefaultPrivilegesStmt:
        check_default_privileges(castNode(AlterDefaultPrivilegesStmt, statement));
        return;
    case T_TruncateStmt: {
        ListCell *cell;
        foreach (cell, castNode(TruncateStmt, statement)->relations)
            check_relation(lfirst_node(RangeVar, cell), "truncate");
        return;
    }
    case T_CreateTrigStmt:
        check_relation(castNode(CreateTrigStmt, statement)->relation, "create a trigger on");
        return;
    case T_CreatePolicyStmt:
        check_relation(castNode(CreatePolicyStmt, statement)->table, "create a policy on");
        return;
    case T_AlterPolicyStmt:
        check_relation(castNode(AlterPolicyStmt, statement)->table, "alter a policy on");
        return;
    case T_RuleStmt:
        check_relation(castNode(RuleStmt, statement)->relation, "create a rule on");
        return;
    case T_DropStmt:
        check_drop_of_table_parts(castNode(DropStmt, statement));
        return;
    case T_CopyStmt:
        if (castNode(CopyStmt, statement)->filename != nullptr)
            refuse("COPY to or from a server file or program is not allowed");
        return;
    case T_TransactionStmt:
        refuse("a migration runs inside the tenant's transaction; COMMIT, ROLLBACK and savepoints are not allowed");
        return;
    case T_CreateStmt:
    case T_AlterTableStmt:
    case T_IndexStmt:
    case T_ViewStmt:
    case T_CreateFunctionStmt:
    case T_AlterFunctionStmt:
    case T_CommentStmt:
    case T_RenameStmt:
    case T_CreateSeqStmt:
    case T_AlterSeqStmt:
    case T_CreateEnumStmt:
    case T_AlterEnumStmt:
    case T_CompositeTypeStmt:
    case T_CreateRangeStmt:
    case T_CreateDomainStmt:
    case T_AlterDomainStmt:
    case T_AlterTypeStmt:
    case T_DefineStmt:
    case T_CreateTableAsStmt:
    case T_RefreshMatViewStmt:
    case T_AlterObjectSchemaStmt:
    case T_AlterOwnerStmt:
    case T_CreateStatsStmt:
    case T_AlterStatsStmt:
    case T_ReindexStmt:
    case T_ClusterStmt:
    case T_LockStmt:
    case T_ExplainStmt:
    case T_DoStmt:
    case T_CallStmt:
    case T_VariableSetStmt:
    case T_VariableShowStmt:
    case T_NotifyStmt:
    case T_CreateSchemaStmt: // only CREATE SCHEMA IF NOT EXISTS of its own schema gets past the event trigger
        return;
    default:
        refuse(psprintf("statements of this kind (%s) are not allowed in a tenant migration",
                        GetCommandTagName(CreateCommandTag(statement))));
    }
}

void sandbox_process_utility(PlannedStmt *stmt, const char *query, bool read_only_tree, ProcessUtilityContext context,
                             ParamListInfo params, QueryEnvironment *env, DestReceiver *dest, QueryCompletion *qc)
{
    if (sandbox.active)
        check_utility(stmt->utilityStmt);
    if (previous_process_utility)
        previous_process_utility(stmt, query, read_only_tree, context, params, env, dest, qc);
    else
        standard_ProcessUtility(stmt, query, read_only_tree, context, params, env, dest, qc);
}

// A transaction that ends while a Confinement is alive (it cannot, since the
// Confinement's scope ends first, but a bug must not leave the sandbox on for
// the rest of the session) switches it off.
void end_of_transaction(XactEvent event, void *)
{
    if (event == XACT_EVENT_ABORT || event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
        sandbox.active = false;
}

// The event trigger behind tenancy_migration_ddl_guard and
// tenancy_migration_drop_guard.  Checks what the command created, changed or
// dropped, as PostgreSQL reports it.
struct ReportedObject {
    std::string type;
    std::optional<std::string> schema;
    std::string identity;
    std::string command;
};

bool object_allowed(const ReportedObject &object, bool dropped)
{
    const std::string own = quoted_identifier(sandbox.schema_name);
    if (object.type == "schema")
        return !dropped && object.identity == own;
    if (object.schema)
        return *object.schema == sandbox.schema_name || object.schema->rfind("pg_temp", 0) == 0 ||
               object.schema->rfind("pg_toast", 0) == 0;
    // GRANT, REVOKE and ALTER DEFAULT PRIVILEGES report no schema: the
    // ProcessUtility hook has checked their targets.
    if (object.command == "GRANT" || object.command == "REVOKE" || object.command == "ALTER DEFAULT PRIVILEGES")
        return true;
    // Parts of a table that have no schema of their own; the statements that
    // create or drop them are checked by the ProcessUtility hook, and ALTER
    // TABLE reports the table itself.
    static const char *const table_parts[] = {"trigger", "policy", "rule", "default value"};
    for (const char *part : table_parts)
        if (object.type == part)
            return true;
    return false;
}

} // namespace

void install_hooks()
{
    previous_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = sandbox_executor_start;
    previous_process_utility = ProcessUtility_hook;
    ProcessUtility_hook = sandbox_process_utility;
    RegisterXactCallback(end_of_transaction, nullptr);
}

Confinement::Confinement(Oid schema, const std::string &schema_name, int64_t tenant)
{
    if (sandbox.active)
        throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "a tenant migration cannot apply migrations itself");
    if (schema_name.size() >= NAMEDATALEN)
        throw Error(ERRCODE_NAME_TOO_LONG, "schema name \"" + schema_name + "\" is too long");
    sandbox.schema = schema;
    std::memcpy(sandbox.schema_name, schema_name.c_str(), schema_name.size() + 1);
    sandbox.tenant = tenant;
    sandbox.active = true;
}

Confinement::~Confinement() { sandbox.active = false; }

} // namespace tenancy::sandbox

using namespace tenancy;

TENANCY_FUNCTION(tenancy_migration_ddl_guard)
{
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        throw Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "tenancy.migration_ddl_guard must be called as an event trigger");
    if (!sandbox::sandbox.active)
        PG_RETURN_VOID();

    auto *data = reinterpret_cast<EventTriggerData *>(fcinfo->context);
    bool dropped = std::strcmp(data->event, "sql_drop") == 0;
    const char *query = dropped ? "SELECT object_type, schema_name, object_identity, 'DROP' FROM pg_catalog.pg_event_trigger_dropped_objects()"
                                : "SELECT object_type, schema_name, object_identity, command_tag FROM pg_catalog.pg_event_trigger_ddl_commands()";
    std::vector<sandbox::ReportedObject> objects;
    {
        spi::Connection spi;
        uint64 rows = spi::execute_once(query, {}, true);
        for (uint64 i = 0; i < rows; ++i)
            objects.push_back({spi::get_text(i, 1).value_or(""), spi::get_text(i, 2), spi::get_text(i, 3).value_or(""),
                               spi::get_text(i, 4).value_or("")});
    }
    for (const sandbox::ReportedObject &object : objects)
        if (!sandbox::object_allowed(object, dropped))
            throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "a migration of tenant " + std::to_string(sandbox::sandbox.tenant) + " may change only schema " +
                            quoted_identifier(sandbox::sandbox.schema_name) + ": it tried to " +
                            (dropped ? "drop " : "change ") + object.type + " " + object.identity,
                        {},
                        "Tenant migrations run with the tenant's schema as the only writable schema; change shared "
                        "objects in a migration of the registry database instead.");
    PG_RETURN_VOID();
}
