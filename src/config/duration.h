#pragma once
// Duration text such as "250ms", "5s", "1.5s" or "1m30s". Shared by the loader and tests.
#include <string>
#include <string_view>

#include "config/model.h"

namespace fulcrum::config {

// Parses one or more <number><unit> groups (units: ms, s, m, h; decimals allowed, e.g. 1.5s).
// Bare numbers are rejected because "30" could mean seconds or milliseconds. The result must be a
// whole number of milliseconds. On failure `error` says what was expected and `out` is untouched.
bool parseDuration(std::string_view text, Millis& out, std::string& error);

// Formats a duration with the largest unit that represents it exactly, e.g. 1500ms, 5s, 2m, 1h.
std::string formatDuration(Millis value);

}  // namespace fulcrum::config
