// Session resumption with Fulcrum's own ticket keys (issue #15 item 2), with openssl s_client
// (-sess_out / -sess_in) against real fulcrum processes: a key file shared by two instances (an
// HA pair), keys that survive a reload, a key file read again when it changes, and rotation.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <signal.h>

#include <thread>

#include "../tls_certs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

// A line of a ticket key file: the base64 of 80 random bytes.
std::string newTicketKey() {
  unsigned char raw[80];
  RAND_bytes(raw, sizeof raw);
  unsigned char b64[128];
  int n = EVP_EncodeBlock(b64, raw, sizeof raw);
  return std::string(reinterpret_cast<char*>(b64), static_cast<size_t>(n));
}

// Replaces `path` the way deployment tools do: a new file renamed over the old one.
void replaceFile(const std::string& path, const std::string& text) {
  writeFile(path + ".tmp", text);
  ASSERT_EQ(::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

struct ResumeEnv {
  TempDir dir;
  testcerts::TestCa ca;
  HttpBackend backend;

  ResumeEnv() {
    testcerts::writeFile(dir.file("ca.pem"), ca.pem());
    auto pem = ca.issue({"site.test"}, testcerts::Key::Ecdsa, -3600, 86400L * 30);
    testcerts::writeFile(dir.file("site.pem"), pem.cert);
    testcerts::writeFile(dir.file("site.key"), pem.key);
    backend = startHttpBackend(dir, "b1");
  }
  std::string config(uint16_t port, const std::string& tlsExtra = "") {
    return httpConfig(port, httpPool("web", {backend.port}),
                      "    tls:\n      certificates:\n        - cert: site.pem\n          key: site.key\n" + tlsExtra,
                      "web");
  }
  // One s_client connection; with `sessOut` its session (and the TLS 1.3 tickets, read while
  // stdin stays open a moment) saved there; with `sessIn`, offered for resumption.
  std::string connect(uint16_t port, const std::string& version, const std::string& sessOut,
                      const std::string& sessIn = "") {
    std::string cmd = "(sleep 0.3) | timeout 10 /usr/bin/openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                      " " + version + " -servername site.test -CAfile " + dir.file("ca.pem");
    if (!sessOut.empty()) {
      cmd += " -sess_out " + sessOut;
    }
    if (!sessIn.empty()) {
      cmd += " -sess_in " + sessIn;
    }
    return shell(cmd + " 2>&1", 20s).output;
  }
  static bool reused(const std::string& out) { return out.find("Reused, TLSv1.") != std::string::npos; }
  static bool fresh(const std::string& out) { return out.find("New, TLSv1.") != std::string::npos; }
};

const char* kVersions[] = {"-tls1_2", "-tls1_3"};

}  // namespace

TEST(TlsResumption, TwoInstancesWithTheSameKeyFileResumeEachOthersSessionsAndOthersDoNot) {
  ResumeEnv env;
  writeFile(env.dir.file("tickets.keys"), "# older key, still decrypts\n" + newTicketKey() + "\n" + newTicketKey() + "\n");
  const std::string tickets = "      session_tickets:\n        key_file: tickets.keys\n";
  uint16_t a = freePort();
  uint16_t b = freePort();
  uint16_t c = freePort();
  auto fa = startFulcrum(env.dir, env.config(a, tickets), a, 2, "a.yaml");
  auto fb = startFulcrum(env.dir, env.config(b, tickets), b, 2, "b.yaml");
  auto fc = startFulcrum(env.dir, env.config(c), c, 2, "c.yaml");  // keys of its own
  for (const char* v : kVersions) {
    std::string sess = env.dir.file(std::string("sess") + v);
    std::string first = env.connect(a, v, sess);
    ASSERT_TRUE(ResumeEnv::fresh(first)) << v << ": " << first;
    std::string other = env.connect(b, v, "", sess);
    EXPECT_TRUE(ResumeEnv::reused(other)) << v << ": a's session resumes on b: " << other;
    std::string third = env.connect(c, v, "", sess);
    EXPECT_TRUE(ResumeEnv::fresh(third)) << v << ": not on an instance without the key file: " << third;
    env.connect(b, v, sess);  // a session made on b
    std::string onA = env.connect(a, v, "", sess);
    EXPECT_TRUE(ResumeEnv::reused(onA)) << v << ": b's session resumes on a: " << onA;
    std::string sessC = env.dir.file(std::string("sessC") + v);
    ASSERT_TRUE(ResumeEnv::fresh(env.connect(c, v, sessC))) << v;
    EXPECT_TRUE(ResumeEnv::reused(env.connect(c, v, "", sessC))) << v << ": c resumes its own";
    EXPECT_TRUE(ResumeEnv::fresh(env.connect(a, v, "", sessC))) << v << ": and a does not resume c's";
  }
}

TEST(TlsResumption, SessionsResumeAfterAReloadAndAKeyFileIsReadAgainWhenItChanges) {
  ResumeEnv env;
  uint16_t port = freePort();
  auto f = startFulcrum(env.dir, env.config(port), port);
  std::string sess12 = env.dir.file("sess12");
  std::string sess13 = env.dir.file("sess13");
  ASSERT_TRUE(ResumeEnv::fresh(env.connect(port, "-tls1_2", sess12)));
  ASSERT_TRUE(ResumeEnv::fresh(env.connect(port, "-tls1_3", sess13)));
  // A reload rebuilds the TLS contexts (the certificates are read again): the keys stay.
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "config applied") == 2; }, 5s)) << f->log();
  std::string r12 = env.connect(port, "-tls1_2", "", sess12);
  EXPECT_TRUE(ResumeEnv::reused(r12)) << r12;
  std::string r13 = env.connect(port, "-tls1_3", "", sess13);
  EXPECT_TRUE(ResumeEnv::reused(r13)) << r13;

  // A key file, set by a reload: then replaced by one without the key of a saved session.
  std::string keys = env.dir.file("tickets.keys");
  writeFile(keys, newTicketKey() + "\n");
  std::string yaml = readFile(env.dir.file("fulcrum.yaml"));  // (with the admin port the harness chose)
  yaml.insert(yaml.find("key: site.key\n") + 14, "      session_tickets:\n        key_file: tickets.keys\n");
  writeFile(env.dir.file("fulcrum.yaml"), yaml);
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "config applied") == 3; }, 5s)) << f->log();
  ASSERT_TRUE(ResumeEnv::fresh(env.connect(port, "-tls1_3", sess13)));
  EXPECT_TRUE(ResumeEnv::reused(env.connect(port, "-tls1_3", "", sess13)));
  replaceFile(keys, newTicketKey() + "\n");
  ASSERT_TRUE(waitFor([&] { return f->log().find("session ticket keys read again") != std::string::npos; }, 5s))
      << f->log();
  std::string gone = env.connect(port, "-tls1_3", "", sess13);
  EXPECT_TRUE(ResumeEnv::fresh(gone)) << "its key left the file: " << gone;
  // A bad file: said once, with the file and why; the keys in use keep working.
  ASSERT_TRUE(ResumeEnv::fresh(env.connect(port, "-tls1_3", sess13)));
  replaceFile(keys, "not a key\n");
  ASSERT_TRUE(waitFor([&] { return f->log().find("session ticket key file rejected") != std::string::npos; }, 5s))
      << f->log();
  EXPECT_NE(f->log().find(keys + ": line 1: not base64"), std::string::npos) << f->log();
  std::string kept = env.connect(port, "-tls1_3", "", sess13);
  EXPECT_TRUE(ResumeEnv::reused(kept)) << kept;
  std::this_thread::sleep_for(1500ms);  // another poll or two: no second line for the same bad file
  EXPECT_EQ(count(f->log(), "session ticket key file rejected"), 1u) << f->log();
  // ... and a reload with it is rejected, naming the config entry and the file.
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return f->log().find("reload rejected") != std::string::npos; }, 5s)) << f->log();
  EXPECT_NE(f->log().find("fulcrum.yaml:11:9: listeners[0].tls.session_tickets.key_file: " + keys + ": line 1"),
            std::string::npos)
      << f->log();
  EXPECT_TRUE(ResumeEnv::reused(env.connect(port, "-tls1_3", "", sess13)));
}

TEST(TlsResumption, ATicketIssuedBeforeARotationStillResumes) {
  ResumeEnv env;
  uint16_t port = freePort();
  // rotate 3s: tickets live 6s (twice the interval, what the ring of three keys covers).
  auto f = startFulcrum(env.dir, env.config(port, "      session_tickets:\n        rotate: 3s\n"), port);
  for (const char* v : kVersions) {
    ASSERT_TRUE(ResumeEnv::fresh(env.connect(port, v, env.dir.file(std::string("sess") + v)))) << v;
  }
  // A rotation after both tickets were issued.
  size_t rotations = count(f->log(), "session ticket key rotated");
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "session ticket key rotated") > rotations; }, 5s)) << f->log();
  for (const char* v : kVersions) {
    std::string after = env.connect(port, v, "", env.dir.file(std::string("sess") + v));
    EXPECT_TRUE(ResumeEnv::reused(after)) << v << ": the previous key still decrypts: " << after;
  }
}

TEST(TlsResumption, ABadTicketKeyFileIsAConfigErrorWithFileLineColumnAndReason) {
  ResumeEnv env;
  writeFile(env.dir.file("short.keys"), "# a comment\n\nc2hvcnQ=\n");
  writeFile(env.dir.file("bad.yaml"), env.config(1, "      session_tickets:\n        key_file: short.keys\n"));
  auto bad = runCommand({FULCRUM_BIN, "check", env.dir.file("bad.yaml")});
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("bad.yaml:11:9: listeners[0].tls.session_tickets.key_file: " + env.dir.file("short.keys") +
                            ": line 3: a key of 5 bytes; expected the base64 of 80 random bytes"),
            std::string::npos)
      << bad.output;
  writeFile(env.dir.file("none.yaml"), env.config(1, "      session_tickets:\n        key_file: missing.keys\n"));
  auto none = runCommand({FULCRUM_BIN, "check", env.dir.file("none.yaml")});
  EXPECT_NE(none.output.find("missing.keys: cannot read the session ticket key file"), std::string::npos)
      << none.output;
  writeFile(env.dir.file("both.yaml"),
            env.config(1, "      session_tickets:\n        key_file: short.keys\n        rotate: 1h\n"));
  auto both = runCommand({FULCRUM_BIN, "check", env.dir.file("both.yaml")});
  EXPECT_NE(both.output.find("rotate: keys from a key_file change when the file does"), std::string::npos)
      << both.output;
}
