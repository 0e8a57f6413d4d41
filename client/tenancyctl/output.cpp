#include "output.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <unistd.h>

#include <fmt/core.h>

namespace tenancyctl {

nlohmann::json tenant_json(const tenancy::Tenant& t) {
    auto optional = [](const std::optional<std::string>& s) {
        return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
    };
    return {
        {"id", t.id},
        {"slug", t.slug},
        {"name", optional(t.name)},
        {"status", std::string(tenancy::to_string(t.status))},
        {"storage_quota", t.storage_quota},
        {"storage_used", t.storage_used},
        {"settings", nlohmann::json::parse(t.settings)},
        {"created_at", t.created_at},
        {"updated_at", t.updated_at},
        {"deleted_at", optional(t.deleted_at)},
    };
}

void print_json(const nlohmann::json& value) {
    std::cout << value.dump(2) << '\n';
}

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& h : headers)
        widths.push_back(h.size());
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());

    auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < widths.size(); ++i) {
            const std::string& cell = i < cells.size() ? cells[i] : std::string();
            line += fmt::format(i == 0 ? "{:<{}}" : " | {:<{}}", cell, widths[i]);
        }
        line.erase(line.find_last_not_of(' ') + 1);
        fmt::print("{}\n", line);
    };
    print_row(headers);
    std::string rule;
    for (std::size_t i = 0; i < widths.size(); ++i)
        rule += (i == 0 ? "" : "-+-") + std::string(widths[i], '-');
    fmt::print("{}\n", rule);
    for (const auto& row : rows)
        print_row(row);
}

void print_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::size_t width = 0;
    for (const auto& field : fields)
        width = std::max(width, field.first.size());
    for (const auto& [label, value] : fields)
        fmt::print("{:<{}} : {}\n", label, width, value);
}

std::string human_bytes(std::int64_t bytes) {
    static constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while ((value >= 1024 || value <= -1024) && unit + 1 < std::size(kUnits)) {
        value /= 1024;
        ++unit;
    }
    if (unit == 0)
        return fmt::format("{} bytes", bytes);
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), shown_(enabled && isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() {
    if (shown_)
        fmt::print(stderr, "\r\033[K");
}

void ProgressBar::update(std::size_t done, std::size_t failed, std::size_t total, double elapsed_seconds) {
    if (!shown_ || total == 0)
        return;
    static std::mutex mutex;
    std::lock_guard<std::mutex> lock(mutex);
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = kWidth * done / total;
    const double left = done == 0 ? 0 : elapsed_seconds / static_cast<double>(done) * static_cast<double>(total - done);
    fmt::print(stderr, "\r\033[K{} [{}{}] {}/{} ({} failed) ETA {:.0f}s", label_, std::string(filled, '#'),
               std::string(kWidth - filled, '.'), done, total, failed, left);
    std::fflush(stderr);
}

}  // namespace tenancyctl
