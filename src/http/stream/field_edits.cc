#include "http/stream/field_edits.h"

#include "common/ascii.h"

namespace fulcrum::http {

bool FieldEdits::removes(std::string_view name) const {
  for (size_t i = 0; i < removed_count; ++i) {
    if (equalsIgnoreCase(removed[i], name)) {
      return true;
    }
  }
  return false;
}

}  // namespace fulcrum::http
