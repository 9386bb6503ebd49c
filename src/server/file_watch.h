#pragma once
// Files polled for changes from the control thread (certificates, keys, OCSP responses,
// session ticket key files): a stat(2) every poll, no inotify, because what operators and
// certificate managers do is replace a file by rename (a new inode, in a directory that may
// itself be a symlink swapped whole, as Kubernetes secrets are), and a stat of the path sees
// every such case alike.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace fulcrum::server {

// A file's identity and version: a rename changes dev/ino, an edit in place size or times.
struct FileStamp {
  bool exists = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};
FileStamp stampFile(const std::string& path);

// The files one thing was read from (a listener's certificates, a ticket key file).
class WatchedFiles {
 public:
  WatchedFiles() = default;
  // Stamps `files` now. Construct it BEFORE reading them: a change made during the read is
  // then seen by the next poll rather than lost.
  explicit WatchedFiles(std::vector<std::string> files);

  // One poll (control thread, every second or so). True when the files differ from what was
  // read, have not changed since the previous poll (a writer replacing a certificate and then
  // its key is done by then), and this state was not rejected already. The caller then reads
  // them again and says how that went with read() or rejected().
  bool poll();
  // The files that differ from what was read, at the last poll (for logs).
  std::vector<std::string> changed() const;
  // What the last poll saw is what serves now.
  void read() { loaded_ = seen_; }
  // What the last poll saw cannot serve: not tried again until the files change again (one
  // log line per bad version, not one per poll).
  void rejected() { rejected_ = seen_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<FileStamp> stampAll() const;
  std::vector<std::string> files_;
  std::vector<FileStamp> loaded_;    // as read
  std::vector<FileStamp> seen_;      // at the last poll
  std::vector<FileStamp> rejected_;  // a state that could not serve
};

}  // namespace fulcrum::server
