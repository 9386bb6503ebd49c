#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace fulcrum::net {

// "1.2.3.4:80" or "[::1]:80"; "unknown" for other families.
std::string formatAddress(const sockaddr* sa);
// The IP alone: "1.2.3.4", "::1" (an IPv4-mapped IPv6 address as IPv4); "" for other families.
std::string formatIp(const sockaddr* sa);
// The local address of a socket, or an empty storage on failure. (The peer's comes from
// accept4.)
sockaddr_storage localAddress(int fd);
socklen_t addressLength(const sockaddr* sa);
bool sameAddress(const sockaddr* a, const sockaddr* b);  // family, ip and port

// An IPv4 or IPv6 address and port in 28 bytes, where sockaddr_storage takes 128: what a
// connection keeps of its peer (any other family is kept as AF_UNSPEC).
class IpEndpoint {
 public:
  IpEndpoint() : v6_{} {}
  explicit IpEndpoint(const sockaddr_storage& ss);
  const sockaddr* get() const { return &sa_; }

 private:
  union {
    sockaddr sa_;
    sockaddr_in v4_;
    sockaddr_in6 v6_;
  };
};

}  // namespace fulcrum::net
