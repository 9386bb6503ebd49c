#pragma once
// BIRD's control-socket replies (the protocol birdc speaks): each line starts with a
// four-digit code and '-' (more lines follow) or ' ' (the reply's last line); a line
// starting with ' ' continues the previous code. 0xxx is success (0001 the greeting,
// 0008-0011 the answers to disable/enable), 1xxx-2xxx table data, 8xxx runtime errors,
// 9xxx syntax errors ("9001 syntax error, unexpected CF_SYM_UNDEFINED" for an unknown
// protocol name). BIRD 2 ends a multi-line answer with "0000 ":
//   0011-fulcrum_vip: enabled
//   0000
// Pure: bytes in, replies out.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace fulcrum::watch {

struct BirdReply {
  int code = 0;      // the first line's code (the answer), or the first error code in it
  std::string text;  // every line's text (codes stripped), '\n'-separated
  bool failed() const { return code >= 8000; }
};

// Reply codes the watcher acts on.
inline constexpr int kBirdWelcome = 1;
inline constexpr int kBirdAlreadyDisabled = 8;
inline constexpr int kBirdDisabled = 9;
inline constexpr int kBirdAlreadyEnabled = 10;
inline constexpr int kBirdEnabled = 11;

// Splits a byte stream into replies. A stream that is not BIRD's protocol (a line without a
// code, a line or reply over the limits) is an error, after which the reader must not be fed
// again: the connection is dropped.
class BirdReplyReader {
 public:
  static constexpr size_t kMaxLine = 4096;
  static constexpr size_t kMaxReply = 64 * 1024;

  // Appends complete replies to `out`; keeps a partial line for the next call.
  Status feed(std::string_view bytes, std::vector<BirdReply>& out);

 private:
  Status line(std::string_view l, std::vector<BirdReply>& out);

  std::string partial_;
  BirdReply current_;
  bool open_ = false;  // a reply has begun and not ended
};

}  // namespace fulcrum::watch
