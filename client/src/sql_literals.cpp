#include "sql_literals.hpp"

namespace tenancy::detail {

std::string text_array_literal(const std::vector<std::string>& values) {
    std::string literal = "{";
    for (const std::string& value : values) {
        if (literal.size() > 1)
            literal += ',';
        literal += '"';
        for (char c : value) {
            if (c == '"' || c == '\\')
                literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    return literal + "}";
}

}  // namespace tenancy::detail
