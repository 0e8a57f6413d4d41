#include "json_text.hpp"

#include <cstdio>

namespace tenancy::orchestration {

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    out += escaped;
                } else {
                    out.push_back(static_cast<char>(c));  // UTF-8 passes through
                }
        }
    }
    return out + "\"";
}

std::string migrations_json(const std::vector<Migration>& migrations) {
    std::string out = "[";
    for (const Migration& m : migrations) {
        if (out.size() > 1)
            out += ",";
        out += "{\"version\":" + std::to_string(m.version) + ",\"name\":" + json_string(m.name) +
               ",\"sql\":" + json_string(m.sql) + ",\"checksum\":" + json_string(m.checksum) + "}";
    }
    return out + "]";
}

}  // namespace tenancy::orchestration
