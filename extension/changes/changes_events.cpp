// Change landing: parsing and converting events (see changes_events.hpp).
#include "changes/changes_events.hpp"

#include "changes/changes_subxact.hpp"
#include "shared/errcodes.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
}

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace tenancy::changes {

const Value *Event::value_of(int column) const
{
    auto found = std::lower_bound(data.begin(), data.end(), column,
                                  [](const Value &v, int c) { return v.column < c; });
    return found != data.end() && found->column == column ? &*found : nullptr;
}

void refuse(Event &event, int sqlstate, const std::string &reason)
{
    event.refusal = Refusal{sqlstate, "event " + std::to_string(event.index) + ": " + reason};
}

namespace {

constexpr const char *kFields = "op, key, version, data, full";

std::string json_string(const JsonbValue &value)
{
    return std::string(value.val.string.val, value.val.string.len);
}

std::string numeric_text(Numeric number)
{
    return pg_call([&] { return std::string(DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(number)))); });
}

bool is_object(const JsonbValue &value)
{
    return value.type == jbvBinary && JsonContainerIsObject(value.val.binary.data);
}

const char *json_kind(const JsonbValue &value)
{
    switch (value.type) {
    case jbvNull:
        return "null";
    case jbvString:
        return "a string";
    case jbvNumeric:
        return "a number";
    case jbvBool:
        return "a boolean";
    case jbvBinary:
        return JsonContainerIsObject(value.val.binary.data) ? "an object" : "an array";
    default:
        return "a JSON value";
    }
}

// The (name, value) pairs of a JSON object, nested containers as jbvBinary.
std::vector<std::pair<std::string, JsonbValue>> object_fields(JsonbContainer *object)
{
    std::vector<std::pair<std::string, JsonbValue>> fields;
    pg_call([&] {
        JsonbIterator *it = JsonbIteratorInit(object);
        JsonbValue value;
        JsonbIteratorToken token;
        const char *name = nullptr;
        int name_length = 0;
        while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
            if (token == WJB_KEY) {
                name = value.val.string.val;
                name_length = value.val.string.len;
            } else if (token == WJB_VALUE) {
                fields.emplace_back(std::string(name, name_length), value);
            }
        }
    });
    return fields;
}

// Parses the version: a JSON integer from 1 to 2^63-1 (0 marks placeholders).
std::optional<int64_t> parse_version(const JsonbValue &value)
{
    if (value.type != jbvNumeric)
        return std::nullopt;
    std::string text = numeric_text(value.val.numeric);
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    errno = 0;
    char *end = nullptr;
    long long version = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || version < 1)
        return std::nullopt;
    return static_cast<int64_t>(version);
}

void parse_key(Event &event, const JsonbValue &value, const Table &table)
{
    if (!is_object(value))
        return refuse(event, errcode::kMalformedChangeEvent,
                      std::string("\"key\" must be an object, not ") + json_kind(value));
    event.json_key.assign(table.key.size(), JsonbValue{});
    std::vector<bool> seen(table.key.size(), false);
    for (auto &field : object_fields(value.val.binary.data)) {
        const std::string &name = field.first;
        const JsonbValue &part = field.second;
        auto column = std::find_if(table.key.begin(), table.key.end(),
                                   [&](const KeyColumn &k) { return k.column.name == name; });
        if (column == table.key.end())
            return refuse(event, errcode::kMalformedChangeEvent,
                          "\"key\" names \"" + name + "\", which is not a key column of " + table.name);
        if (part.type == jbvNull)
            return refuse(event, errcode::kMalformedChangeEvent, "key column \"" + name + "\" is null");
        size_t position = static_cast<size_t>(column - table.key.begin());
        event.json_key[position] = part;
        seen[position] = true;
    }
    for (size_t i = 0; i < table.key.size(); ++i)
        if (!seen[i])
            return refuse(event, errcode::kMalformedChangeEvent,
                          "\"key\" lacks key column \"" + table.key[i].column.name + "\"");
}

void parse_data(Event &event, const JsonbValue &value, const Table &table)
{
    if (!is_object(value))
        return refuse(event, errcode::kMalformedChangeEvent,
                      std::string("\"data\" must be an object, not ") + json_kind(value));
    for (auto &[name, field] : object_fields(value.val.binary.data)) {
        auto found = table.data_by_name.find(name);
        if (found != table.data_by_name.end()) {
            event.json_data.emplace_back(found->second, field);
            continue;
        }
        auto not_settable = table.not_settable.find(name);
        if (not_settable == table.not_settable.end())
            return refuse(event, ERRCODE_UNDEFINED_COLUMN,
                          "column \"" + name + "\" of " + table.name + " does not exist");
        bool generated = not_settable->second.rfind("a generated", 0) == 0 ||
                         not_settable->second.rfind("an identity", 0) == 0;
        return refuse(event, generated ? ERRCODE_GENERATED_ALWAYS : errcode::kMalformedChangeEvent,
                      "\"data\" cannot set column \"" + name + "\": it is " + not_settable->second);
    }
    std::sort(event.json_data.begin(), event.json_data.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });
}

void parse_event(Event &event, JsonbContainer *object, const Table &table)
{
    std::optional<JsonbValue> op, key, version, data, full;
    for (auto &[name, value] : object_fields(object)) {
        std::optional<JsonbValue> *slot = name == "op"        ? &op
                                          : name == "key"     ? &key
                                          : name == "version" ? &version
                                          : name == "data"    ? &data
                                          : name == "full"    ? &full
                                                              : nullptr;
        if (slot == nullptr)
            return refuse(event, errcode::kMalformedChangeEvent,
                          "unknown field \"" + name + "\" (an event has " + kFields + ")");
        *slot = value;
    }

    if (!op || op->type != jbvString)
        return refuse(event, errcode::kMalformedChangeEvent, "\"op\" must be \"upsert\" or \"delete\"");
    std::string op_text = json_string(*op);
    if (op_text == "upsert")
        event.op = Op::Upsert;
    else if (op_text == "delete")
        event.op = Op::Delete;
    else
        return refuse(event, errcode::kMalformedChangeEvent,
                      "\"op\" must be \"upsert\" or \"delete\", not \"" + op_text + "\"");

    std::optional<int64_t> parsed_version = version ? parse_version(*version) : std::nullopt;
    if (!parsed_version)
        return refuse(event, errcode::kMalformedChangeEvent,
                      "\"version\" must be an integer from 1 to 9223372036854775807");
    event.version = *parsed_version;

    if (!key)
        return refuse(event, errcode::kMalformedChangeEvent, "\"key\" is missing");
    parse_key(event, *key, table);
    if (event.refusal)
        return;

    if (event.op == Op::Delete) {
        if (data || full)
            return refuse(event, errcode::kMalformedChangeEvent, "a delete takes no \"data\" and no \"full\"");
        return;
    }
    if (full) {
        if (full->type != jbvBool)
            return refuse(event, errcode::kMalformedChangeEvent, "\"full\" must be true or false");
        event.full = full->val.boolean;
    }
    if (data)
        parse_data(event, *data, table);
}

// A JSON array as a PostgreSQL array literal, every element double-quoted
// (so commas, braces, spaces and the word NULL stay text) and null as NULL.
std::string array_literal(JsonbContainer *array)
{
    std::string literal = "{";
    std::vector<JsonbValue> elements;
    pg_call([&] {
        JsonbIterator *it = JsonbIteratorInit(array);
        JsonbValue value;
        JsonbIteratorToken token;
        while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
            if (token == WJB_ELEM)
                elements.push_back(value);
    });
    for (const JsonbValue &element : elements) {
        if (literal.size() > 1)
            literal += ',';
        std::string text;
        switch (element.type) {
        case jbvNull:
            literal += "NULL";
            continue;
        case jbvBinary:
            if (JsonContainerIsObject(element.val.binary.data))
                throw Error(ERRCODE_INVALID_TEXT_REPRESENTATION, "an object is not a valid array element here");
            literal += array_literal(element.val.binary.data);
            continue;
        case jbvString:
            text = json_string(element);
            break;
        case jbvNumeric:
            text = numeric_text(element.val.numeric);
            break;
        case jbvBool:
            text = element.val.boolean ? "true" : "false";
            break;
        default:
            throw Error(ERRCODE_INVALID_TEXT_REPRESENTATION, "unsupported JSON value in an array");
        }
        literal += '"';
        for (char c : text) {
            if (c == '"' || c == '\\')
                literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    return literal + "}";
}

// The text the column type's input function gets for `value`.  JSON and
// jsonb columns (and domains over them) get the value's JSON text; other
// columns get a string's contents, a number's digits, true or false, and
// for array columns a JSON array as an array literal.
std::string input_text(const JsonbValue &value, const Column &column)
{
    Oid base = pg_call([&] { return getBaseType(column.type); });
    if (base == JSONOID || base == JSONBOID) {
        return pg_call([&] {
            JsonbValue copy = value;
            Jsonb *jsonb = JsonbValueToJsonb(&copy);
            return std::string(JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb)));
        });
    }
    switch (value.type) {
    case jbvString:
        return json_string(value);
    case jbvNumeric:
        return numeric_text(value.val.numeric);
    case jbvBool:
        return value.val.boolean ? "true" : "false";
    case jbvBinary:
        if (column.is_array && !JsonContainerIsObject(value.val.binary.data))
            return array_literal(value.val.binary.data);
        throw Error(ERRCODE_INVALID_TEXT_REPRESENTATION,
                    std::string(json_kind(value)) + " is not valid input for type " +
                        pg_call([&] { return std::string(format_type_be(column.type)); }));
    default:
        throw Error(ERRCODE_INVALID_TEXT_REPRESENTATION, "unsupported JSON value");
    }
}

// Converts one JSON value to a Datum of the column's type.  `is_null` says
// whether the result is SQL NULL (JSON null).
Datum convert_value(const JsonbValue &value, const Column &column, FmgrInfo *input, bool *is_null)
{
    *is_null = value.type == jbvNull;
    if (*is_null)
        return Datum(0);
    if (column.is_jsonb) {
        return pg_call([&] {
            JsonbValue copy = value;
            return JsonbPGetDatum(JsonbValueToJsonb(&copy));
        });
    }
    std::string text = input_text(value, column);
    return pg_call([&] {
        return InputFunctionCall(input, const_cast<char *>(text.c_str()), column.input_param, column.typmod);
    });
}

// What convert_events is working on, for the reason of a refusal.
struct Position {
    size_t event = 0;
    std::string column; // e.g. `key column "id"` or `column "price"`
};

void convert_one(Event &event, const Table &table, std::vector<FmgrInfo> &key_inputs,
                 std::vector<FmgrInfo> &data_inputs, Position &at)
{
    event.key.clear();
    for (size_t i = 0; i < table.key.size(); ++i) {
        const Column &column = table.key[i].column;
        at.column = "key column \"" + column.name + "\"";
        bool is_null = false;
        event.key.push_back(convert_value(event.json_key[i], column, &key_inputs[i], &is_null));
    }
    event.data.clear();
    for (const auto &[position, json] : event.json_data) {
        const Column &column = table.data[position];
        at.column = "column \"" + column.name + "\"";
        Value value;
        value.column = position;
        value.datum = convert_value(json, column, &data_inputs[position], &value.is_null);
        if (value.is_null && column.not_null)
            throw Error(ERRCODE_NOT_NULL_VIOLATION, "null value violates its not-null constraint");
        event.data.push_back(value);
    }
}

} // namespace

std::vector<Event> parse_events(Jsonb *changes, const Table &table)
{
    if (!JB_ROOT_IS_ARRAY(changes) || JB_ROOT_IS_SCALAR(changes))
        throw Error(ERRCODE_INVALID_PARAMETER_VALUE, "changes must be a JSON array of events",
                    {}, "Pass '[]' for no events, or an array of {\"op\", \"key\", \"version\", \"data\"} objects.");
    std::vector<JsonbValue> elements;
    pg_call([&] {
        JsonbIterator *it = JsonbIteratorInit(&changes->root);
        JsonbValue value;
        JsonbIteratorToken token;
        while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
            if (token == WJB_ELEM)
                elements.push_back(value);
    });

    std::vector<Event> events(elements.size());
    for (size_t i = 0; i < elements.size(); ++i) {
        Event &event = events[i];
        event.index = static_cast<int>(i);
        if (!is_object(elements[i]))
            refuse(event, errcode::kMalformedChangeEvent,
                   std::string("an event must be an object, not ") + json_kind(elements[i]));
        else
            parse_event(event, elements[i].val.binary.data, table);
    }
    return events;
}

void convert_events(std::vector<Event> &events, const Table &table)
{
    std::vector<FmgrInfo> key_inputs(table.key.size()), data_inputs(table.data.size());
    pg_call([&] {
        for (size_t i = 0; i < table.key.size(); ++i)
            fmgr_info(table.key[i].column.input_function, &key_inputs[i]);
        for (size_t i = 0; i < table.data.size(); ++i)
            fmgr_info(table.data[i].input_function, &data_inputs[i]);
    });

    // Input functions may raise errors (and a domain's check may run any
    // code), so conversion runs in a subtransaction.  On a failure the event
    // is refused, the subtransaction rolled back, and conversion goes on in
    // a new one from the next event: one subtransaction per call as long as
    // all values are good.
    Position at;
    while (at.event < events.size()) {
        std::optional<Failure> failure = in_subtransaction([&] {
            for (; at.event < events.size(); ++at.event)
                if (events[at.event].accepted())
                    convert_one(events[at.event], table, key_inputs, data_inputs, at);
        });
        if (!failure)
            break;
        Event &event = events[at.event];
        refuse(event, failure->sqlstate,
               at.column + ": " + failure->message + (failure->detail.empty() ? "" : " (" + failure->detail + ")"));
        event.key.clear();
        event.data.clear();
        ++at.event;
    }
}

} // namespace tenancy::changes
