#pragma once
// Socket address text, shared by the loader and the admin API (which adds servers at run time).
#include <string>
#include <string_view>

#include "config/model.h"

namespace fulcrum::config {

// Parses "a.b.c.d:port", "[v6]:port", "*:port" or "hostname:port" (resolved now, first result).
bool parseSocketAddress(std::string_view text, SocketAddress& out, std::string& error);

// Same family, address, port (and IPv6 scope).
bool sameEndpoint(const SocketAddress& a, const SocketAddress& b);

// True when a socket bound to `a` stops another from binding `b` (without SO_REUSEPORT):
// the same family and port, and the same address or a wildcard (0.0.0.0, [::]) on either side.
// IPv6 wildcards count only against IPv6, as Fulcrum binds them IPV6_V6ONLY.
bool bindsOverlap(const SocketAddress& a, const SocketAddress& b);

// 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address.
bool isLoopback(const SocketAddress& a);

}  // namespace fulcrum::config
