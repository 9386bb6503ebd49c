#pragma once
// One connection to BIRD's control socket (bird -s PATH, /run/bird/bird.ctl by default), the
// socket birdc uses. Non-blocking: the watcher polls fd() with its other descriptors. The
// first reply is BIRD's greeting ("0001 BIRD 2.0.12 ready."); greeted() says it came.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/fd.h"
#include "watch/bird_reply.h"

namespace fulcrum::watch {

class BirdControl {
 public:
  explicit BirdControl(std::string path) : path_(std::move(path)) {}

  // Connects (a Unix socket connects at once or fails: no BIRD, no permission).
  Status connect();
  void close();
  bool connected() const { return fd_.get() >= 0; }
  bool greeted() const { return greeted_; }
  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }

  // Sends one command line whole (a few bytes: the socket buffer takes them at once).
  Status send(std::string_view line);
  // Reads what BIRD sent; replies after the greeting go to `out`. An error (BIRD went away,
  // a malformed reply) closes the connection.
  Status read(std::vector<BirdReply>& out);

 private:
  std::string path_;
  core::Fd fd_;
  BirdReplyReader reader_;
  bool greeted_ = false;
};

}  // namespace fulcrum::watch
