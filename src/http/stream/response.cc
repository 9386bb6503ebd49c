#include "http/stream/response.h"

#include "common/ascii.h"

namespace fulcrum::http {

const Header* Response::find(std::string_view name) const {
  for (const Header& h : headers) {
    if (equalsIgnoreCase(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

}  // namespace fulcrum::http
