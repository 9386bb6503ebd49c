// `fulcrum watch` against a real fulcrum: the track file keepalived reads follows the process
// (a kill -9 is seen through a pidfd at once), a hung process (SIGSTOP) and a stuck worker
// thread (stopped alone with ptrace, as a thread stuck in a call would be: /readyz names it).
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <csignal>
#include <dirent.h>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono;

namespace {

struct WatchEnv {
  AdminEnv env;
  std::string track;
  std::unique_ptr<Process> watcher;

  // workerStall: timeouts.worker_stall.
  void start(const std::string& workerStall = "2s") {
    env.start("timeouts:\n  worker_stall: " + workerStall +
                  "\nlisteners:\n  - name: web\n    bind: 127.0.0.1:" + std::to_string(env.port) +
                  "\n    protocol: http\n    http:\n      routes:\n        - respond: {status: 200, body: \"ok\\n\"}\n"
                  "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" + std::to_string(deadPort()) + "\n",
              "", 2);
    track = env.dir.file("track");
    watcher = std::make_unique<Process>(
        std::vector<std::string>{FULCRUM_BIN, "watch", "--pid", std::to_string(env.fulcrum->pid()), "--ready",
                                 env.adminUrl("/readyz"), "--track-file", track, "--interval", "50", "--timeout",
                                 "100"},
        env.dir.file("watch.log"));
  }
  // Waits (bounded) until the track file says `want`; how long it took.
  std::optional<milliseconds> waitTrack(const std::string& want, milliseconds limit) {
    auto start = steady_clock::now();
    bool ok = waitFor([&] { return readFile(track) == want; }, limit);
    if (!ok) return std::nullopt;
    return duration_cast<milliseconds>(steady_clock::now() - start);
  }
};

// The thread of `pid` named `name` ("fulcrum-w0"), or -1.
pid_t threadNamed(pid_t pid, const std::string& name) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return -1;
  pid_t found = -1;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string comm = readFile(dir + "/" + e->d_name + "/comm");
    if (comm == name + "\n") found = static_cast<pid_t>(std::stoi(e->d_name));
  }
  closedir(d);
  return found;
}

}  // namespace

TEST(Watch, AKilledFulcrumIsDownAtOnce) {
  WatchEnv w;
  w.start();
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << "never ready: " << w.watcher->log();
  w.env.fulcrum->signal(SIGKILL);
  auto took = w.waitTrack("1\n", 5s);
  ASSERT_TRUE(took) << w.watcher->log();
  std::printf("[ figure ] kill -9 to track file down: %lld ms (the pidfd; no probe needed)\n",
              static_cast<long long>(took->count()));
  EXPECT_EQ(w.watcher->wait(5s), std::optional<int>(1)) << "the watched process is gone: exit 1";
  EXPECT_TRUE(waitFor([&] { return w.watcher->log().find("down (the process is gone)") != std::string::npos; }, 5s))
      << w.watcher->log();
}

TEST(Watch, AHungFulcrumGoesDownAndComesBackWhenItResumes) {
  WatchEnv w;
  w.start();
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << w.watcher->log();
  w.env.fulcrum->signal(SIGSTOP);
  auto took = w.waitTrack("1\n", 5s);
  w.env.fulcrum->signal(SIGCONT);
  ASSERT_TRUE(took) << w.watcher->log();
  std::printf("[ figure ] SIGSTOP to track file down: %lld ms (probes every 50 ms, fall 2)\n",
              static_cast<long long>(took->count()));
  // (the file is written first, the log line right after)
  EXPECT_TRUE(waitFor([&] { return w.watcher->log().find("down (not ready: ") != std::string::npos; }, 5s))
      << w.watcher->log();
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << w.watcher->log();
  w.watcher->signal(SIGTERM);
  EXPECT_EQ(w.watcher->wait(5s), std::optional<int>(0));
  EXPECT_EQ(readFile(w.track), "1\n") << "a stopped watcher leaves the address to the peer";
}

TEST(Watch, AStuckWorkerMakesFulcrumUnready) {
  WatchEnv w;
  w.start("300ms");
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << w.watcher->log();
  pid_t tid = threadNamed(w.env.fulcrum->pid(), "fulcrum-w0");
  ASSERT_GT(tid, 0) << "worker threads are named fulcrum-wN";
  // Stop that one thread (a loop stuck in a call), leaving the control thread answering.
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    GTEST_SKIP() << "ptrace is not permitted here (" << std::strerror(errno)
                 << "): a worker thread cannot be stopped alone";
  }
  ASSERT_EQ(ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr), 0) << std::strerror(errno);
  int status = 0;
  ASSERT_EQ(waitpid(tid, &status, __WALL), tid);
  auto took = w.waitTrack("1\n", 5s);
  auto [code, body] = w.env.api("GET", "/readyz");
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  ASSERT_TRUE(took) << w.watcher->log();
  std::printf("[ figure ] worker stopped to track file down: %lld ms (worker_stall 300 ms)\n",
              static_cast<long long>(took->count()));
  EXPECT_EQ(code, 503);
  EXPECT_NE(body.find("worker 0 has not turned its event loop"), std::string::npos) << body;
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << "the worker runs again: ready again\n" << w.watcher->log();
  EXPECT_EQ(w.env.api("GET", "/readyz").first, 200);
}

TEST(Watch, BadArgumentsAreUsageErrorsAndAMissingProcessFails) {
  TempDir dir;
  auto bad = runCommand({FULCRUM_BIN, "watch", "--pid", "1", "--ready", "https://127.0.0.1/readyz", "--track-file",
                         dir.file("t")});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("must start with http://"), std::string::npos) << bad.output;
  auto noTrack = runCommand({FULCRUM_BIN, "watch", "--pid", "1"});
  EXPECT_EQ(noTrack.code, 2) << noTrack.output;
  // A PID that no process holds (above the default pid_max of 4194304 is refused as usage).
  Process gone({"/bin/true"}, dir.file("true.log"));
  pid_t pid = gone.pid();
  ASSERT_TRUE(gone.wait(5s).has_value());
  auto missing = runCommand({FULCRUM_BIN, "watch", "--pid", std::to_string(pid), "--track-file", dir.file("t")});
  EXPECT_EQ(missing.code, 1) << missing.output;
  EXPECT_NE(missing.output.find("cannot watch process"), std::string::npos) << missing.output;
  EXPECT_EQ(readFile(dir.file("t")), "1\n") << "nothing to watch: down";
}

// The backup of a pair listens on the virtual address before it holds it (no traffic is sent
// to it here: 192.0.2.0/24 is TEST-NET-1, on no interface of this host).
TEST(Freebind, AListenerBindsAVirtualAddressBeforeItArrives) {
  TempDir dir;
  uint16_t port = freePort();
  auto cfg = [&](bool freebind) {
    return std::string("listeners:\n  - name: vip\n    bind: 192.0.2.45:") + std::to_string(port) +
           "\n    protocol: http\n" + (freebind ? "    freebind: true\n" : "") +
           "    http:\n      routes:\n        - respond: {status: 200, body: \"ok\\n\"}\n"
           "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" + std::to_string(deadPort()) + "\n";
  };
  auto refused = startFulcrum(dir, cfg(false), 0, 1, "without.yaml");
  auto code = refused->wait(10s);
  ASSERT_TRUE(code.has_value()) << refused->log();
  EXPECT_NE(*code, 0);
  EXPECT_NE(refused->log().find("set freebind: true on the listener"), std::string::npos) << refused->log();
  auto bound = startFulcrum(dir, cfg(true), 0, 1, "with.yaml");
  EXPECT_TRUE(bound->running()) << bound->log();
  EXPECT_NE(bound->log().find("fulcrum started"), std::string::npos) << bound->log();
  bool listening = false;
  {
    // /proc/net/tcp lists 192.0.2.45 as 2D0200C0 (little-endian) with the port in hex.
    char want[32];
    std::snprintf(want, sizeof want, "2D0200C0:%04X", port);
    listening = readFile("/proc/net/tcp").find(want) != std::string::npos;
  }
  EXPECT_TRUE(listening) << "a listening socket on 192.0.2.45:" << port;
  bound->signal(SIGTERM);
  EXPECT_TRUE(bound->wait(10s).has_value());
}

// The pair's keepalived configuration is one keepalived accepts, every keyword known (a
// broken copy is refused, so the check is real).
TEST(HaKit, TheKeepalivedExampleIsValid) {
  TempDir dir;
  std::string example = std::string(SOURCE_DIR) + "/examples/ha/keepalived.conf";
  const std::string keepalived = "/usr/sbin/keepalived";  // Debian's (scripts/deps.sh installs it)
  auto ok = runCommand({keepalived, "--config-test=" + dir.file("ok.log"), "-f", example});
  EXPECT_EQ(ok.code, 0) << ok.output << readFile(dir.file("ok.log"));
  EXPECT_EQ(readFile(dir.file("ok.log")).find("Unknown keyword"), std::string::npos) << readFile(dir.file("ok.log"));
  std::string broken = readFile(example);
  broken.replace(broken.find("advert_int"), 10, "advert_intx");
  writeFile(dir.file("broken.conf"), broken);
  auto bad = runCommand({keepalived, "--config-test=" + dir.file("bad.log"), "-f", dir.file("broken.conf")});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE((bad.output + readFile(dir.file("bad.log"))).find("Unknown keyword 'advert_intx'"), std::string::npos)
      << bad.output << readFile(dir.file("bad.log"));
}

// The pair in network namespaces the test makes (tests/integration/ha/pair.py) at 200 new
// connections per second: kill -9, SIGSTOP and a stuck worker thread (stopped alone with
// ptrace) in the master's fulcrum, two trials each, must
// fail over to the other balancer, and the faulty one, back, must not take the address again
// (nopreempt); ten seconds with every core busy must not move the address (no flap). The gaps
// and failed requests are printed as figures (docs/ha.md), not asserted.
TEST(HaPair, TheMastersFaultsFailOverAndALoadedPairDoesNotFlap) {
  TempDir dir;
  auto r = runCommand({"/usr/bin/python3", SOURCE_DIR "/tests/integration/ha/pair.py", FULCRUM_BIN, dir.file("pair"),
                       "2", "200", "kill,stop,worker,busy", "10"},
                      180s);
  if (r.code == 77) {
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("summary kill: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary stop: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary worker: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("busy 1: "), std::string::npos) << r.output;
}
