#pragma once
// The handover protocol's messages, pure: text in, text out, no sockets. One message is one
// SOCK_SEQPACKET datagram (boundaries kept, so no framing of our own); descriptors ride on it
// as SCM_RIGHTS, and a message says how many it carries so a mismatch is caught.
//
//   successor -> running      running -> successor
//   "takeover 1 <pid>"        "begin 1 <pid> <count>"        count sockets follow
//                             "sockets <n>\n<record>\n..."   n records + exactly n fds, n <= kMaxFdsPerMessage
//                             "end"
//   "ready <pid>"             "draining <drain_ms>"          the running one stops accepting
//   "status 1"                "running <pid> <version> <state>"
//   any                       "error <text>"                 then the running one closes
//
// A record is "<tcp|udp> <worker> <address> <listener>": the listener's name and address as
// the running one had them, and which worker's SO_REUSEPORT socket it is.
#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fulcrum::handover {

inline constexpr int kProtocolVersion = 1;
// Descriptors per message: far below the kernel's SCM_MAX_FD (253), and a message of this many
// records stays a few KiB.
inline constexpr size_t kMaxFdsPerMessage = 64;
// No message is longer; a longer one is refused as garbage.
inline constexpr size_t kMaxMessageBytes = 32 * 1024;

enum class SocketKind { Tcp, Udp };

struct SocketRecord {
  SocketKind kind = SocketKind::Tcp;
  uint32_t worker = 0;
  std::string address;   // as net::formatAddress prints it: "127.0.0.1:8080", "[::1]:53"
  std::string listener;  // config name: [A-Za-z0-9_.-]{1,64}
  bool operator==(const SocketRecord&) const = default;
};

// "tcp 127.0.0.1:8080": the same key server::listenKey gives a listener, so adoption is a lookup.
std::string socketKey(SocketKind kind, std::string_view address);
inline std::string socketKey(const SocketRecord& r) { return socketKey(r.kind, r.address); }

// A message cut into its verb and space-separated arguments (first line), and the lines after.
struct Message {
  std::string verb;
  std::vector<std::string> args;
  std::vector<std::string> lines;
};
// Refuses empty, over-long, NUL-bearing or non-printable text. error: the rest of the line kept
// whole as one argument (it is free text).
Result<Message> parseMessage(std::string_view text);

std::string encodeTakeover(pid_t pid);
std::string encodeStatusRequest();
std::string encodeBegin(pid_t pid, size_t count);
// records.size() must be 1..kMaxFdsPerMessage; their fds go with this message, in order.
std::string encodeSockets(std::span<const SocketRecord> records);
std::string encodeEnd();
std::string encodeReady(pid_t pid);
std::string encodeDraining(uint64_t drainMs);
std::string encodeStatus(pid_t pid, std::string_view version, std::string_view state);
// Newlines in text become spaces: an error is one line.
std::string encodeError(std::string_view text);

struct Begin {
  pid_t pid = 0;
  size_t count = 0;
};
// A "begin" of our protocol version; an "error" from the peer becomes an Error with its text.
Result<Begin> decodeBegin(const Message& m);
// The records of a "sockets" message that came with fdCount descriptors; any difference between
// the count it announces, the records it has and fdCount is an error.
Result<std::vector<SocketRecord>> decodeSockets(const Message& m, size_t fdCount);
Result<pid_t> decodeTakeover(const Message& m);
Result<pid_t> decodeReady(const Message& m);
Result<uint64_t> decodeDraining(const Message& m);

// "takeover 1 <pid>" / "status 1": what a client asks for.
bool isStatusRequest(const Message& m);

}  // namespace fulcrum::handover
