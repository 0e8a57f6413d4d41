// Change landing: tenancy.apply_changes(tbl, changes) (docs/changes.md).
//
// Order of work, and why:
//  1. lock the table ROW EXCLUSIVE (what its INSERT and UPDATE take anyway),
//     so that its description cannot change under us; read it;
//  2. parse and convert the events (refusing bad ones), refuse events of
//     another tenant in a protected table;
//  3. find the parent tables (foreign keys to enabled tables) and the parent
//     keys the events reference, and which of those exist;
//  4. take the advisory locks of every key the call touches, in one global
//     order (changes_locks.hpp): from here on no other apply_changes call
//     holds a row we need, so nothing below waits for one or deadlocks;
//  5. create the missing parents as placeholders, read the rows of the
//     events' keys, merge the events into one change per row
//     (changes_merge.hpp), insert new rows, update changed ones: one
//     set-based statement each, in a subtransaction.  If a row is refused
//     (a constraint, a trigger, the policy), roll that back and land key by
//     key, and within a failing key event by event, each in its own
//     subtransaction, refusing exactly the events that fail;
//  6. return one row per event.
#include "changes/changes_events.hpp"
#include "changes/changes_locks.hpp"
#include "changes/changes_merge.hpp"
#include "changes/changes_subxact.hpp"
#include "changes/changes_table.hpp"
#include "changes/changes_write.hpp"
#include "rowcheck/context.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
}

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace tenancy::changes {

namespace {

// A foreign key of the table to an enabled table, whose referenced columns
// are exactly that table's change key: what placeholders are made through.
struct ParentLink {
    std::shared_ptr<const Table> parent;
    std::vector<ValueSource> sources; // per parent key column, where events carry its value
    std::vector<Oid> types;           // per parent key column, the type of that value
};

// The keys of one parent table the accepted events reference.
struct ParentRefs {
    std::shared_ptr<const Table> parent;
    std::vector<Key> keys;             // distinct, in the parent's key order
    std::vector<bool> exists;          // when the call looked, before locking
    std::vector<std::vector<int>> by_event; // per event: indexes into keys
};

// The call writes the table, and parent tables for placeholders, with the
// caller's rights.  Checking them first makes a missing privilege an error
// of the call (42501) rather than a refusal of each event.  Column
// privileges on every column count as the table's.
void require_privileges(const Table &table, std::initializer_list<std::pair<AclMode, const char *>> modes)
{
    for (const auto &[mode, name] : modes) {
        bool granted = pg_call([&, mode = mode] {
            Oid user = GetUserId();
            return pg_class_aclcheck(table.relid, user, mode) == ACLCHECK_OK ||
                   pg_attribute_aclcheck_all(table.relid, user, mode, ACLMASK_ALL) == ACLCHECK_OK;
        });
        if (!granted)
            throw Error(ERRCODE_INSUFFICIENT_PRIVILEGE, std::string("permission denied for table ") + table.name,
                        std::string("apply_changes needs ") + name + " on it" +
                            " (SELECT, INSERT and UPDATE on the table events land in; SELECT and INSERT on the "
                            "enabled tables it references, for placeholders).");
    }
}

std::shared_ptr<const Table> link_parent(const std::shared_ptr<const Table> &table, Oid referenced)
{
    if (referenced == table->relid)
        return table;
    // Lock before reading its description, so that invalidations are seen;
    // ROW EXCLUSIVE at once (the placeholder insert takes it anyway): taking
    // a weaker lock first and upgrading could deadlock with enable_changes.
    pg_call([&] { LockRelationOid(referenced, RowExclusiveLock); });
    return enabled_table(referenced);
}

std::vector<ParentLink> parent_links(const std::shared_ptr<const Table> &table)
{
    std::vector<ParentLink> links;
    for (const ForeignKey &fk : table->foreign_keys) {
        std::shared_ptr<const Table> parent = link_parent(table, fk.referenced);
        if (!parent || fk.columns.size() != parent->key.size())
            continue;
        if (parent != table)
            require_privileges(*parent, {{ACL_SELECT, "SELECT"}, {ACL_INSERT, "INSERT"}});
        ParentLink link;
        link.parent = parent;
        for (const KeyColumn &key : parent->key) {
            auto pair = std::find_if(fk.columns.begin(), fk.columns.end(),
                                     [&](const auto &p) { return p.second == key.column.attnum; });
            if (pair == fk.columns.end())
                break;
            ValueSource source = table->source_of(pair->first);
            if (source.kind == ValueSource::None)
                break;
            link.sources.push_back(source);
            link.types.push_back(source.kind == ValueSource::Key ? table->key[source.position].column.type
                                                                 : table->data[source.position].type);
        }
        if (link.sources.size() == parent->key.size())
            links.push_back(std::move(link));
    }
    return links;
}

// `value` of type `from` as a value of type `to` (through their text forms:
// the types of a foreign key's two sides differ rarely, e.g. int and bigint).
Datum convert_key_part(Datum value, Oid from, const Column &to)
{
    if (from == to.type)
        return value;
    return pg_call([&] {
        Oid output;
        bool varlena;
        getTypeOutputInfo(from, &output, &varlena);
        char *text = OidOutputFunctionCall(output, value);
        return OidInputFunctionCall(to.input_function, text, to.input_param, to.typmod);
    });
}

// The (key, event) pairs of one link: the parent keys that accepted upserts
// reference.  A reference whose value does not fit the parent's key type
// refuses its event (its foreign key could never be satisfied).
std::vector<std::pair<Key, int>> link_references(const ParentLink &link, std::vector<Event> &events)
{
    std::vector<std::pair<Key, int>> pairs;
    // Converting may fail, so when the two sides' types differ it runs in
    // subtransactions (as in convert_events), refusing the event whose value
    // does not fit.  Equal types (the usual case) convert nothing.
    bool converts = false;
    for (size_t j = 0; j < link.sources.size(); ++j)
        converts = converts || link.types[j] != link.parent->key[j].column.type;
    auto guarded = [&](const std::function<void()> &fn) -> std::optional<Failure> {
        if (converts)
            return in_subtransaction(fn);
        fn();
        return std::nullopt;
    };
    size_t next = 0;
    while (next < events.size()) {
        std::optional<Failure> failure = guarded([&] {
            for (; next < events.size(); ++next) {
                const Event &event = events[next];
                if (!event.accepted() || event.op != Op::Upsert)
                    continue;
                Key key;
                for (size_t j = 0; j < link.sources.size(); ++j) {
                    const ValueSource &source = link.sources[j];
                    const Value *value =
                        source.kind == ValueSource::Data ? event.value_of(source.position) : nullptr;
                    if (source.kind == ValueSource::Data && (!value || value->is_null))
                        break; // not carried, or NULL: no reference
                    Datum datum = source.kind == ValueSource::Key ? event.key[source.position] : value->datum;
                    key.push_back(convert_key_part(datum, link.types[j], link.parent->key[j].column));
                }
                if (key.size() == link.sources.size())
                    pairs.emplace_back(std::move(key), event.index);
            }
        });
        if (!failure)
            break;
        refuse(events[next], failure->sqlstate,
               "a reference to " + link.parent->name + " does not fit its key: " + failure->message);
        ++next;
    }
    return pairs;
}

// The parent keys the accepted upserts reference, per parent table, with
// whether each exists now.
std::vector<ParentRefs> collect_references(const std::vector<ParentLink> &links, std::vector<Event> &events)
{
    std::vector<ParentRefs> all;
    std::vector<std::vector<std::pair<Key, int>>> pairs_of;
    for (const ParentLink &link : links) {
        auto refs = std::find_if(all.begin(), all.end(),
                                 [&](const ParentRefs &r) { return r.parent->relid == link.parent->relid; });
        if (refs == all.end()) {
            all.push_back(ParentRefs{link.parent, {}, {}, std::vector<std::vector<int>>(events.size())});
            pairs_of.emplace_back();
            refs = all.end() - 1;
        }
        std::vector<std::pair<Key, int>> pairs = link_references(link, events);
        auto &target = pairs_of[static_cast<size_t>(refs - all.begin())];
        target.insert(target.end(), std::make_move_iterator(pairs.begin()), std::make_move_iterator(pairs.end()));
    }

    for (size_t p = 0; p < all.size(); ++p) {
        ParentRefs &refs = all[p];
        std::vector<std::pair<Key, int>> &pairs = pairs_of[p];
        KeyOrder order(*refs.parent);
        std::vector<size_t> sorted(pairs.size());
        for (size_t i = 0; i < sorted.size(); ++i)
            sorted[i] = i;
        std::sort(sorted.begin(), sorted.end(), [&](size_t a, size_t b) {
            int by_key = order.compare(pairs[a].first, pairs[b].first);
            return by_key != 0 ? by_key < 0 : a < b;
        });
        for (size_t i : sorted) {
            auto &[key, event] = pairs[i];
            if (!events[event].accepted())
                continue; // refused by a later link
            if (refs.keys.empty() || order.compare(refs.keys.back(), key) != 0)
                refs.keys.push_back(key);
            refs.by_event[event].push_back(static_cast<int>(refs.keys.size() - 1));
        }
        std::vector<const Key *> keys;
        for (const Key &key : refs.keys)
            keys.push_back(&key);
        for (const RowState &state : TableStatements(*refs.parent).read(keys))
            refs.exists.push_back(state.exists);
    }
    return all;
}

// Protected tables: for a role under the table's row-level security, every
// event must be of the current tenant (the guard trigger would refuse the
// row anyway; refusing here says which event and why).
void refuse_other_tenants(const Table &table, std::vector<Event> &events)
{
    if (!table.tenant_column)
        return;
    bool under_policy = pg_call([&] { return check_enable_rls(table.relid, InvalidOid, true) == RLS_ENABLED; });
    if (!under_policy)
        return;
    std::optional<int64_t> current = context::current_tenant();
    for (Event &event : events) {
        if (!event.accepted())
            continue;
        if (!current) {
            refuse(event, ERRCODE_INSUFFICIENT_PRIVILEGE,
                   "no tenant is set: cannot write a row of table " + table.name +
                       " (call tenancy.set_tenant in the same transaction first)");
            continue;
        }
        const ValueSource &source = table.tenant_source;
        std::optional<int64_t> tenant;
        if (source.kind == ValueSource::Key)
            tenant = DatumGetInt64(event.key[source.position]);
        const Value *value = source.kind == ValueSource::Data ? event.value_of(source.position) : nullptr;
        if (value && !value->is_null)
            tenant = DatumGetInt64(value->datum);
        if (tenant && *tenant != *current)
            refuse(event, ERRCODE_INSUFFICIENT_PRIVILEGE,
                   "the event belongs to tenant " + std::to_string(*tenant) + ", not to the current tenant " +
                       std::to_string(*current));
    }
}

class Landing {
public:
    Landing(const Table &table, std::vector<Event> &events, std::vector<ParentRefs> &parents)
        : table_(table), events_(events), parents_(parents), statuses_(events.size(), Status::Refused)
    {
    }

    void take_locks(const std::vector<KeyGroup> &groups)
    {
        std::vector<KeyLock> locks;
        KeyOrder order(table_);
        for (const KeyGroup &group : groups)
            locks.push_back(KeyLock{table_.relid, order.hash(group.key), true});
        for (const ParentRefs &refs : parents_) {
            KeyOrder parent_order(*refs.parent);
            for (size_t r = 0; r < refs.keys.size(); ++r)
                locks.push_back(KeyLock{refs.parent->relid, parent_order.hash(refs.keys[r]), !refs.exists[r]});
        }
        acquire_key_locks(std::move(locks));
    }

    // Lands the accepted events, refusing those whose rows fail.
    void land(const std::vector<KeyGroup> &groups)
    {
        std::vector<int> all;
        for (const KeyGroup &group : groups)
            all.insert(all.end(), group.events.begin(), group.events.end());
        if (all.empty() || !in_subtransaction([&] { write(all); }))
            return;
        for (const KeyGroup &group : groups) {
            if (!in_subtransaction([&] { write(group.events); }))
                continue;
            for (int event : group.events) {
                std::optional<Failure> failure = in_subtransaction([&] { write({event}); });
                if (failure)
                    refuse_failed(events_[event], *failure);
            }
        }
    }

    Status status(int event) const { return statuses_[event]; }

private:
    void refuse_failed(Event &event, const Failure &failure)
    {
        if (failure.sqlstate == 0) {
            // Even alone its insert conflicted, although reading found no
            // row: the row exists but row-level security hides it.
            refuse(event, ERRCODE_INSUFFICIENT_PRIVILEGE,
                   "a row with this key exists in " + table_.name + " but is not visible to you");
            return;
        }
        refuse(event, failure.sqlstate,
               failure.message + (failure.detail.empty() ? "" : " (" + failure.detail + ")"));
    }

    // Writes the accepted events among `which`: placeholders first, then
    // the rows.  Throws (inside a subtransaction) on any failure; records
    // the statuses only on success.
    void write(const std::vector<int> &which)
    {
        for (ParentRefs &refs : parents_) {
            std::vector<bool> wanted(refs.keys.size(), false);
            for (int event : which)
                for (int r : refs.by_event[event])
                    wanted[r] = wanted[r] || !refs.exists[r];
            std::vector<const Key *> keys;
            for (size_t r = 0; r < refs.keys.size(); ++r)
                if (wanted[r])
                    keys.push_back(&refs.keys[r]);
            TableStatements(*refs.parent).insert_placeholders(keys);
        }

        std::vector<KeyGroup> groups = group_by_key(events_, which, table_);
        std::vector<const Key *> keys;
        for (const KeyGroup &group : groups)
            keys.push_back(&group.key);
        TableStatements statements(table_);
        std::vector<RowState> states = statements.read(keys);

        std::vector<Status> statuses(events_.size(), Status::Refused);
        std::vector<RowChange> changes;
        changes.reserve(groups.size());
        for (size_t g = 0; g < groups.size(); ++g)
            changes.push_back(merge(table_, states[g], events_, groups[g], statuses));

        std::vector<const Key *> insert_keys, update_keys;
        std::vector<const RowChange *> inserts, updates;
        for (size_t g = 0; g < groups.size(); ++g) {
            if (!changes[g].write)
                continue;
            (changes[g].insert ? insert_keys : update_keys).push_back(&groups[g].key);
            (changes[g].insert ? inserts : updates).push_back(&changes[g]);
        }
        if (statements.insert(insert_keys, inserts) != inserts.size())
            throw InsertConflict();
        if (statements.update(update_keys, updates) != updates.size())
            throw Error(ERRCODE_T_R_SERIALIZATION_FAILURE,
                        "a row of " + table_.name + " changed outside apply_changes during the call",
                        "Its version no longer matched the version apply_changes had read.",
                        "Retry the call; write tables enabled for change landing through apply_changes only.");
        for (int event : which)
            if (events_[event].accepted())
                statuses_[event] = statuses[event];
    }

    const Table &table_;
    std::vector<Event> &events_;
    std::vector<ParentRefs> &parents_;
    std::vector<Status> statuses_;
};

const char *status_text(Status status)
{
    switch (status) {
    case Status::Applied:
        return "applied";
    case Status::Stale:
        return "stale";
    case Status::Refused:
        return "refused";
    }
    return "refused";
}

} // namespace

} // namespace tenancy::changes

using namespace tenancy;
using namespace tenancy::changes;

// tenancy.apply_changes(tbl regclass, changes jsonb)
//   RETURNS TABLE (index integer, status text, sqlstate text, reason text)
TENANCY_FUNCTION(tenancy_apply_changes)
{
    if (args::is_null(fcinfo, 0))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "tbl must not be NULL");
    if (args::is_null(fcinfo, 1))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "changes must not be NULL", {},
                    "Pass '[]' for no events.");
    Oid relid = PG_GETARG_OID(0);
    Jsonb *changes = pg_call([&] { return PG_GETARG_JSONB_P(1); });

    srf::Materialized result(fcinfo);
    bool exists = pg_call([&] {
        LockRelationOid(relid, RowExclusiveLock);
        return get_rel_relkind(relid) != '\0';
    });
    if (!exists)
        throw Error(ERRCODE_UNDEFINED_TABLE, "relation with OID " + std::to_string(relid) + " does not exist");

    struct Row {
        int index;
        Status status;
        std::optional<Refusal> refusal;
    };
    std::vector<Row> rows;
    {
        spi::Connection spi;
        std::shared_ptr<const Table> table = require_enabled_table(relid);
        require_privileges(*table, {{ACL_SELECT, "SELECT"}, {ACL_INSERT, "INSERT"}, {ACL_UPDATE, "UPDATE"}});
        std::vector<Event> events = parse_events(changes, *table);
        convert_events(events, *table);
        refuse_other_tenants(*table, events);

        std::vector<ParentRefs> parents = collect_references(parent_links(table), events);
        std::vector<int> all(events.size());
        for (size_t i = 0; i < events.size(); ++i)
            all[i] = static_cast<int>(i);
        std::vector<KeyGroup> groups = group_by_key(events, all, *table);

        Landing landing(*table, events, parents);
        landing.take_locks(groups);
        landing.land(groups);
        for (const Event &event : events)
            rows.push_back(Row{event.index, event.accepted() ? landing.status(event.index) : Status::Refused,
                               event.refusal});
    }

    for (const Row &row : rows) {
        pg_call([&] {
            Datum values[4] = {Int32GetDatum(row.index), CStringGetTextDatum(status_text(row.status)), Datum(0),
                               Datum(0)};
            bool nulls[4] = {false, false, true, true};
            if (row.refusal) {
                values[2] = CStringGetTextDatum(unpack_sql_state(row.refusal->sqlstate));
                values[3] = CStringGetTextDatum(row.refusal->reason.c_str());
                nulls[2] = nulls[3] = false;
            }
            result.put_values(values, nulls);
        });
    }
    return Datum(0);
}
