// WatchedFiles: a change is acted on once it has settled for a poll, a replacement by rename is
// seen, and a rejected version is not retried until the files change again.
#include "server/file_watch.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace fulcrum::server;

namespace {

struct Dir {
  Dir() {
    char tmpl[] = "/tmp/fulcrum-watch-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string put(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name, std::ios::trunc) << text;
    return path + "/" + name;
  }
  // A new file renamed over `name`, as certificate managers do.
  void replace(const std::string& name, const std::string& text) const {
    put(name + ".new", text);
    std::rename((path + "/" + name + ".new").c_str(), (path + "/" + name).c_str());
  }
  std::string path;
};

}  // namespace

TEST(WatchedFiles, AChangeIsActedOnOnceItHasSettledForAPoll) {
  Dir d;
  WatchedFiles w({d.put("cert.pem", "a"), d.put("key.pem", "a")});
  EXPECT_FALSE(w.poll()) << "nothing changed";
  d.replace("cert.pem", "b");  // same size: the rename alone is a change
  EXPECT_FALSE(w.poll()) << "changed at this poll: wait one more (its key may follow)";
  d.replace("key.pem", "b");
  EXPECT_FALSE(w.poll()) << "still changing";
  EXPECT_TRUE(w.poll()) << "settled";
  EXPECT_EQ(w.changed(), (std::vector<std::string>{d.path + "/cert.pem", d.path + "/key.pem"}));
  w.read();
  EXPECT_FALSE(w.poll()) << "what was read serves";
}

TEST(WatchedFiles, ARejectedVersionIsNotRetriedUntilTheFilesChangeAgain) {
  Dir d;
  WatchedFiles w({d.put("cert.pem", "a")});
  d.replace("cert.pem", "broken");
  EXPECT_FALSE(w.poll());
  EXPECT_TRUE(w.poll());
  w.rejected();
  EXPECT_FALSE(w.poll());
  EXPECT_FALSE(w.poll());
  d.replace("cert.pem", "fixed");
  EXPECT_FALSE(w.poll());
  EXPECT_TRUE(w.poll());
  ::unlink((d.path + "/cert.pem").c_str());
  w.read();
  EXPECT_FALSE(w.poll());
  EXPECT_TRUE(w.poll()) << "a file that disappears is a change too (the rebuild then says why)";
}
