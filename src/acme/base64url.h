#pragma once
// base64url without padding (RFC 7515 section 2), the encoding of every JWS part.
#include <string>
#include <string_view>

namespace fulcrum::acme {

std::string base64url(std::string_view bytes);

}  // namespace fulcrum::acme
