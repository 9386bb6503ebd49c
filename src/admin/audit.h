#pragma once
// One line of the audit log (JSON): who changed what, when, and whether it was applied.
#include <cstdint>
#include <string>
#include <string_view>

namespace fulcrum::admin {

std::string auditLine(std::string_view actor, std::string_view action, std::string_view detail, bool ok,
                      uint64_t configVersion);

}  // namespace fulcrum::admin
