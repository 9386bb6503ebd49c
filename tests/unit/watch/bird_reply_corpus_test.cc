// Replays the BIRD reply fuzz corpus (fuzz/watch/bird_reply_corpus) with the fuzzer's own
// property, so ordinary builds keep it as a regression test. Seeds named ok_* must be
// accepted and bad_* refused.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "../../../fuzz/watch/bird_reply_property.h"

namespace fs = std::filesystem;
using namespace fulcrum;

TEST(BirdReplyCorpus, EveryFileSatisfiesTheFuzzProperty) {
  fs::path dir = fs::path(__FILE__).parent_path() / "../../../fuzz/watch/bird_reply_corpus";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) {
      continue;
    }
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string name = entry.path().filename().string();
    EXPECT_EQ(fuzz::checkBirdReplyProperty(data), "") << name;
    watch::BirdReplyReader reader;
    std::vector<watch::BirdReply> out;
    bool ok = reader.feed(data, out).ok();
    if (name.starts_with("ok_")) {
      EXPECT_TRUE(ok) << name;
    } else if (name.starts_with("bad_")) {
      EXPECT_FALSE(ok) << name;
    }
  }
  EXPECT_GE(files, 10u);
}
