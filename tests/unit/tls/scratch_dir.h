#pragma once
// A fresh directory under /tmp for one test's certificate files, removed with everything in it.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace fulcrum::test {

struct ScratchDir {
  ScratchDir() {
    char tmpl[] = "/tmp/fulcrum-tls-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // Writes `content` to NAME in it; returns the file's path.
  std::string put(const std::string& name, const std::string& content) const {
    std::ofstream(path + "/" + name, std::ios::binary | std::ios::trunc) << content;
    return path + "/" + name;
  }
  std::string path;
};

}  // namespace fulcrum::test
