// Change landing: key order and the per-row merge (see changes_merge.hpp).
#include "changes/changes_merge.hpp"

#include <algorithm>

namespace tenancy::changes {

KeyOrder::KeyOrder(const Table &table) : table_(table), compare_(table.key.size()), hash_(table.key.size())
{
    pg_call([&] {
        for (size_t i = 0; i < table.key.size(); ++i) {
            fmgr_info(table.key[i].compare_function, &compare_[i]);
            if (OidIsValid(table.key[i].hash_function))
                fmgr_info(table.key[i].hash_function, &hash_[i]);
        }
    });
}

int KeyOrder::compare(const std::vector<Datum> &a, const std::vector<Datum> &b) const
{
    return pg_call([&] {
        for (size_t i = 0; i < table_.key.size(); ++i) {
            int32 order = DatumGetInt32(FunctionCall2Coll(&compare_[i], table_.key[i].compare_collation, a[i], b[i]));
            if (order != 0)
                return order;
        }
        return 0;
    });
}

uint32 KeyOrder::hash(const std::vector<Datum> &key) const
{
    return pg_call([&] {
        uint32 combined = 0;
        for (size_t i = 0; i < table_.key.size(); ++i) {
            uint32 part = 0;
            if (OidIsValid(table_.key[i].hash_function))
                part = DatumGetUInt32(FunctionCall1Coll(&hash_[i], table_.key[i].compare_collation, key[i]));
            combined = combined * 31 + part;
        }
        return combined;
    });
}

std::vector<KeyGroup> group_by_key(const std::vector<Event> &events, const std::vector<int> &which, const Table &table)
{
    KeyOrder order(table);
    std::vector<int> sorted;
    for (int i : which)
        if (events[i].accepted())
            sorted.push_back(i);
    // Keys in index order; events of one key in the order they were given,
    // so that each event's status says what it did when it arrived (the
    // resulting row does not depend on that order).
    std::sort(sorted.begin(), sorted.end(), [&](int a, int b) {
        int by_key = order.compare(events[a].key, events[b].key);
        return by_key != 0 ? by_key < 0 : a < b;
    });
    std::vector<KeyGroup> groups;
    for (int i : sorted) {
        if (groups.empty() || order.compare(groups.back().key, events[i].key) != 0)
            groups.push_back(KeyGroup{events[i].key, {}});
        groups.back().events.push_back(i);
    }
    return groups;
}

namespace {

int64_t version_of(const std::map<std::string, int64_t> &versions, const std::string &column)
{
    auto found = versions.find(column);
    return found == versions.end() ? 0 : found->second;
}

} // namespace

RowChange merge(const Table &table, const RowState &old, const std::vector<Event> &events, const KeyGroup &group,
                std::vector<Status> &statuses)
{
    RowChange change;
    change.insert = !old.exists;
    change.actions.assign(table.data.size(), Action::Keep);
    change.values.assign(table.data.size(), nullptr);
    change.version = old.version;
    change.deleted = old.deleted;
    change.versions = old.versions;
    change.old_version = old.version;

    for (int index : group.events) {
        const Event &event = events[index];
        const int64_t v = event.version;
        bool changed = false;
        auto set_column = [&](int column, Action action, const Value *value) {
            const std::string &name = table.data[column].name;
            if (v <= version_of(change.versions, name))
                return;
            change.versions[name] = v;
            change.actions[column] = action;
            change.values[column] = value;
            changed = true;
        };

        if (event.op == Op::Upsert) {
            for (const Value &value : event.data)
                set_column(value.column, Action::Set, &value);
            if (event.full)
                for (int column : table.resettable)
                    if (!event.value_of(column))
                        set_column(column, Action::Reset, nullptr);
            if (v > change.version) {
                change.version = v;
                change.deleted = false;
                changed = true;
            }
        } else {
            for (int column : table.resettable)
                set_column(column, Action::Reset, nullptr);
            if (v > change.version) {
                change.version = v;
                change.deleted = true;
                changed = true;
            }
        }
        statuses[index] = changed ? Status::Applied : Status::Stale;
        change.write = change.write || changed;
    }

    if (change.deleted != old.deleted)
        change.deleted_change = change.deleted ? DeletedChange::Set : DeletedChange::Clear;
    else if (change.insert && change.deleted)
        change.deleted_change = DeletedChange::Set;
    return change;
}

} // namespace tenancy::changes
