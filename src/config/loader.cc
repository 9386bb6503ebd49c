// The loader's entry points: a file or a string in, a validated Config or every error out. The
// sections are read by the files schema.h lists.
#include "config/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>
#include <utility>

#include "config/address.h"
#include "config/admin_loader.h"
#include "config/schema.h"
#include "config/yaml_reader.h"

namespace fulcrum::config {

std::string Diagnostic::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

namespace {

using namespace detail;

const std::vector<std::string_view> kTopKeys = {"workers", "log_level",  "timeouts",    "listeners",
                                                "pools",   "admin",      "access_log",  "shared_state", "acme"};
const std::vector<std::string_view> kTimeoutKeys = {"connect",      "idle",         "queue",    "drain",
                                                    "handshake",    "request_head", "request_body",
                                                    "response",     "keepalive",    "worker_stall",
                                                    "withdraw"};
const std::vector<std::string_view> kLogLevels = {"debug", "info", "warn", "error"};

// Reads the file section by section (schema.h), then runs the checks across sections.
class Loader : public YamlReader {
 public:
  Loader(std::string_view text, std::string source) : YamlReader(text, std::move(source)) {}

  LoadResult run() {
    try {
      YAML::Node root;
      if (readDocument(root)) {
        readTop(root);
      }
    } catch (const std::exception& e) {
      // The readers do not throw by design; this is a last guard so nothing escapes the loader.
      error({1, 1}, std::string("internal error while reading the config: ") + e.what());
    }
    return finish();
  }

 private:
  void readTop(const YAML::Node& root) {
    Pos rootPos = toPos(root.Mark());
    auto top = readMap(root, rootPos.line == 0 ? Pos{1, 1} : rootPos, "", kTopKeys);
    if (!top) {
      return;
    }
    if (const Entry* e = top->find("workers")) {
      readUint(*e, 0, 1024, config_.workers);
    }
    if (const Entry* e = top->find("log_level")) {
      if (auto i = readChoice(*e, kLogLevels)) {
        config_.log_level = std::string(kLogLevels[*i]);
      }
    }
    if (const Entry* e = top->find("timeouts")) {
      readTimeouts(*e);
    }
    readAdmin(*this, top->find("admin"), config_.admin);
    if (const Entry* e = top->find("access_log")) {
      readAccessLog(*this, *e, config_.access_log);
    }
    if (const Entry* e = top->find("shared_state")) {
      readSharedState(*this, *e, config_.shared_state);
    }
    if (const Entry* e = top->find("acme")) {
      readAcme(*this, *e, config_.acme);
    }
    if (requireKey(*top, "pools", "at least one pool of servers")) {
      pools_ = readPools(*this, *top->find("pools"), config_.pools);
    }
    if (requireKey(*top, "listeners", "at least one listener")) {
      listeners_ = readListeners(*this, *top->find("listeners"), config_.listeners);
    }
    checkPoolReferences(*this, config_, pools_, listeners_);
    checkHashKeys(*this, config_, pools_, listeners_);
    checkPoolTls(*this, config_, pools_, listeners_);
    checkAdminBind(*this, config_, top->find("admin"), listeners_);
    checkSharedState(*this, config_, pools_, listeners_);
    checkAcme(*this, config_, listeners_);
  }

  void readTimeouts(const Entry& e) {
    auto map = readSection(e, kTimeoutKeys);
    if (!map) {
      return;
    }
    Timeouts& t = config_.timeouts;
    std::pair<std::string_view, Millis*> fields[] = {{"connect", &t.connect},
                                                     {"idle", &t.idle},
                                                     {"queue", &t.queue},
                                                     {"drain", &t.drain},
                                                     {"handshake", &t.handshake},
                                                     {"request_head", &t.request_head},
                                                     {"request_body", &t.request_body},
                                                     {"response", &t.response},
                                                     {"keepalive", &t.keepalive},
                                                     {"worker_stall", &t.worker_stall}};
    for (auto& [key, target] : fields) {
      if (const Entry* field = map->find(key)) {
        readDuration(*field, *target);
      }
    }
    if (const Entry* field = map->find("withdraw")) {
      readDuration(*field, Millis(0), Millis(60000), t.withdraw);  // 0 = off
    }
  }

  LoadResult finish() {
    LoadResult result;
    std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      config_.source = source_;
      result.config = std::make_shared<const Config>(std::move(config_));
    }
    return result;
  }

  Config config_;
  PoolsRead pools_;
  ListenersRead listeners_;
};

// Only the top-level admin section, for `fulcrum ctl -c`.
class AdminLoader : public YamlReader {
 public:
  AdminLoader(std::string_view text, std::string source) : YamlReader(text, std::move(source)) {}

  AdminLoadResult run() {
    AdminLoadResult result;
    try {
      YAML::Node root;
      const Entry* admin = nullptr;
      Entry entry;
      if (readDocument(root) && root.IsMap() && root["admin"]) {
        entry.key = "admin";
        entry.path = "admin";
        entry.value = root["admin"];
        entry.pos = entry.keyPos = toPos(entry.value.Mark());
        admin = &entry;
      }
      readAdmin(*this, admin, result.admin);
    } catch (const std::exception& e) {
      error({1, 1}, std::string("internal error while reading the config: ") + e.what());
    }
    result.errors = std::move(errors_);
    return result;
  }
};

// The whole file, or an error that says why not.
std::optional<std::string> readText(const std::string& path, std::string& error) {
  std::string text;
  int savedErrno = 0;
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    savedErrno = errno;
  } else {
    char buffer[16384];
    size_t n;
    errno = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
      text.append(buffer, n);
    }
    if (std::ferror(file)) {
      savedErrno = errno != 0 ? errno : EIO;  // e.g. EISDIR when the path is a directory
    }
    std::fclose(file);
  }
  if (savedErrno != 0) {
    error = std::string("cannot read config file: ") + std::strerror(savedErrno);
    return std::nullopt;
  }
  return text;
}

}  // namespace

AdminLoadResult loadAdminSection(const std::string& path) {
  std::string why;
  auto text = readText(path, why);
  if (!text) {
    AdminLoadResult result;
    std::string ignored;
    parseSocketAddress("127.0.0.1:9900", result.admin.bind, ignored);
    result.errors.push_back(Diagnostic{path, 0, 0, why});
    return result;
  }
  return AdminLoader(*text, path).run();
}

LoadResult loadString(std::string_view yaml, const std::string& sourceName) {
  return Loader(yaml, sourceName).run();
}

LoadResult loadFile(const std::string& path) {
  std::string why;
  auto text = readText(path, why);
  if (!text) {
    LoadResult result;
    result.errors.push_back(Diagnostic{path, 0, 0, why});
    return result;
  }
  return loadString(*text, path);
}

}  // namespace fulcrum::config
