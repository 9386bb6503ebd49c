#include "acme/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fulcrum::acme {

namespace {

bool makeDirs(const std::string& dir, std::string& error) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
        error = part + ": cannot create the directory: " + std::strerror(errno);
        return false;
      }
    }
  }
  return true;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    out += n + "\n";
  }
  return out;
}

}  // namespace

std::string Storage::certDir(const std::vector<std::string>& names) const {
  return root_ + "/certificates/" + (names.empty() ? std::string("_") : names.front());
}

bool Storage::hasCertificate(const std::vector<std::string>& names) const {
  std::string error;
  auto stored = readFile(certDir(names) + "/names", error);
  return stored && *stored == joinNames(names) && ::access(certPath(names).c_str(), R_OK) == 0 &&
         ::access(keyPath(names).c_str(), R_OK) == 0;
}

bool Storage::saveCertificate(const std::vector<std::string>& names, const std::string& chainPem,
                              const std::string& keyPem, std::string& error) const {
  return writeFileAtomic(keyPath(names), keyPem, error) && writeFileAtomic(certPath(names), chainPem, error) &&
         writeFileAtomic(certDir(names) + "/names", joinNames(names), error);
}

std::optional<std::string> Storage::readFile(const std::string& path, std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) {
      error = path + ": " + std::strerror(errno);
    }
    return std::nullopt;
  }
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = path + ": " + std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

bool Storage::writeFileAtomic(const std::string& path, const std::string& data, std::string& error) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0 && !makeDirs(path.substr(0, slash), error)) {
    return false;
  }
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = tmp + ": " + std::strerror(errno);
    return false;
  }
  ::fchmod(fd, 0600);  // an older temp file of other mode is truncated, not recreated
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      error = tmp + ": " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    error = tmp + ": fsync: " + std::strerror(errno);
    ::close(fd);
    ::unlink(tmp.c_str());
    return false;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace fulcrum::acme
