#include "server/file_watch.h"

#include <sys/stat.h>

namespace fulcrum::server {

FileStamp stampFile(const std::string& path) {
  FileStamp s;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return s;
  }
  s.exists = true;
  s.dev = static_cast<uint64_t>(st.st_dev);
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  return s;
}

WatchedFiles::WatchedFiles(std::vector<std::string> files) : files_(std::move(files)) {
  loaded_ = stampAll();
  seen_ = loaded_;
}

std::vector<FileStamp> WatchedFiles::stampAll() const {
  std::vector<FileStamp> out;
  out.reserve(files_.size());
  for (const auto& f : files_) {
    out.push_back(stampFile(f));
  }
  return out;
}

bool WatchedFiles::poll() {
  auto now = stampAll();
  const bool settled = now == seen_;
  seen_ = std::move(now);
  return seen_ != loaded_ && settled && seen_ != rejected_;
}

std::vector<std::string> WatchedFiles::changed() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < files_.size() && i < seen_.size() && i < loaded_.size(); ++i) {
    if (seen_[i] != loaded_[i]) {
      out.push_back(files_[i]);
    }
  }
  return out;
}

}  // namespace fulcrum::server
