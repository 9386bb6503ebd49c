#pragma once
// Strict JSON for what the admin API reads (request bodies, the state file): nlohmann's
// parser, plus what it lets through silently (a key given twice in one object keeps the
// last value) and a nesting limit. Errors carry the byte offset they were found at, so
// that a file's can be shown as line:column. Admin-internal: nlohmann is private to admin.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fulcrum::admin {

struct JsonError {
  size_t offset = 0;   // byte offset in the text (0-based)
  std::string reason;  // "duplicate key \"weight\"", "syntax error while parsing ..."
};

inline constexpr size_t kMaxJsonDepth = 64;

// Parses text into out. Refuses a syntax error, a duplicate key in an object, and nesting
// deeper than kMaxJsonDepth; out is unspecified then.
std::optional<JsonError> parseStrictJson(std::string_view text, nlohmann::json& out);

// The byte offset of the value at path (object keys from the root) in text, which must
// be valid JSON; npos when there is none.
size_t locateJsonValue(std::string_view text, const std::vector<std::string>& path);

// The line and column of a byte offset, both counted from 1 (columns in bytes).
std::pair<size_t, size_t> lineAndColumn(std::string_view text, size_t offset);
// The same as "line:column".
std::string lineColumn(std::string_view text, size_t offset);

}  // namespace fulcrum::admin
