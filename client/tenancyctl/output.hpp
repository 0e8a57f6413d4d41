// Rendering of results: JSON for --json, aligned text otherwise.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tenancy/types.hpp"

namespace tenancyctl {

// A tenant with real JSON types: numbers, null, settings as an object.
nlohmann::json tenant_json(const tenancy::Tenant& tenant);

void print_json(const nlohmann::json& value);

// Columns padded to their widest cell, like psql's aligned format.
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);

// One "label: value" line per field, labels aligned (psql's \x style).
void print_fields(const std::vector<std::pair<std::string, std::string>>& fields);

// 1536 -> "1.5 KiB"; keeps the quota columns readable.
std::string human_bytes(std::int64_t bytes);

// A one-line progress bar with counts and an estimate of the time left, on
// stderr and only when stderr is a terminal (never with --json, never in
// CI logs).  update() may be called from several threads at once.
class ProgressBar {
public:
    ProgressBar(std::string label, bool enabled);
    ~ProgressBar();  // erases the line
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void update(std::size_t done, std::size_t failed, std::size_t total, double elapsed_seconds);

private:
    std::string label_;
    bool shown_;
};

}  // namespace tenancyctl
