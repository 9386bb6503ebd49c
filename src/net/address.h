#pragma once
#include <sys/socket.h>

#include <string>

namespace fulcrum::net {

// "1.2.3.4:80" or "[::1]:80"; "unknown" for other families.
std::string formatAddress(const sockaddr* sa);
// The IP alone: "1.2.3.4", "::1" (an IPv4-mapped IPv6 address as IPv4); "" for other families.
std::string formatIp(const sockaddr* sa);
// The peer or local address of a socket, or an empty storage on failure.
sockaddr_storage peerAddress(int fd);
sockaddr_storage localAddress(int fd);
socklen_t addressLength(const sockaddr* sa);
bool sameAddress(const sockaddr* a, const sockaddr* b);  // family, ip and port

}  // namespace fulcrum::net
