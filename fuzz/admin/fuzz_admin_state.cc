// libFuzzer target: the state file of API changes (admin/overrides.h). Properties: any input
// is refused with a reason or accepted; an accepted file writes back to text that reads the
// same (a fixed point), and merging it onto a config never leaves a pool without servers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "admin/overrides.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fulcrum;
  static const auto base = config::loadString(
      "listeners:\n  - name: l\n    bind: 127.0.0.1:1\n    pool: web\n"
      "pools:\n  - name: web\n    servers:\n      - address: 127.0.0.1:9001\n      - address: 127.0.0.1:9002\n",
      "base.yaml");
  if (!base.ok()) std::abort();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = admin::parseOverrides(text);
  if (!parsed) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  std::string once = admin::toJson(*parsed);
  auto again = admin::parseOverrides(once);
  if (!again || admin::toJson(*again) != once) std::abort();
  std::vector<std::string> notes;
  auto merged = admin::merge(*base.config, *parsed, notes);
  for (const auto& p : merged->pools) {
    if (p.servers.empty()) std::abort();
    for (const auto& s : p.servers) {
      if (s.weight < 1 || s.weight > 256) std::abort();
    }
  }
  return 0;
}
