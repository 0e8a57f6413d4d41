// Private helper shared by client calls that pass lists of text values
// (link targets, column names) as one text[] parameter.
#pragma once

#include <string>
#include <vector>

namespace tenancy::detail {

// A PostgreSQL array literal of `values`, every element double-quoted so
// that commas, braces, spaces and NULL-looking text stay plain text.
std::string text_array_literal(const std::vector<std::string>& values);

}  // namespace tenancy::detail
