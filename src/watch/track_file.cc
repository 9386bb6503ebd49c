#include "watch/track_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fulcrum::watch {

Status writeTrackFile(const std::string& path, bool up) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error{tmp + ": " + std::strerror(errno)};
  }
  const char* text = up ? "0\n" : "1\n";
  bool ok = ::write(fd, text, 2) == 2;
  int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    return Error{tmp + ": " + std::strerror(err)};
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    return Error{path + ": " + std::strerror(err)};
  }
  return {};
}

}  // namespace fulcrum::watch
