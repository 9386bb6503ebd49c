// `fulcrum watch` against a real fulcrum: the track file keepalived reads follows the process
// (a kill -9 is seen through a pidfd at once), a hung process (SIGSTOP) and a stuck worker
// thread (stopped alone with ptrace, as a thread stuck in a call would be: /readyz names it);
// the BIRD protocol it toggles follows it too, across BIRD restarts; and the HA kits'
// examples and namespace harnesses (tests/integration/ha/).
#include <gtest/gtest.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <csignal>
#include <dirent.h>
#include <sstream>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

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

// `fulcrum upgrade` under a watcher given the control socket: the old process's exit is not a
// death (the watcher follows the new process; the track file never says down), and a kill -9
// of the new one still is.
TEST(Watch, AnUpgradeIsFollowedAndAKillAfterItStillGoesDown) {
  WatchEnv w;
  w.start();
  // Restart the watcher with the control socket (<config>.sock, the default).
  w.watcher->signal(SIGTERM);
  ASSERT_TRUE(w.watcher->wait(5s).has_value());
  std::string config = w.env.dir.file("fulcrum.yaml");
  ASSERT_FALSE(readFile(config).empty()) << "startFulcrum writes the config here";
  w.watcher = std::make_unique<Process>(
      std::vector<std::string>{FULCRUM_BIN, "watch", "--pid", std::to_string(w.env.fulcrum->pid()), "--ready",
                               w.env.adminUrl("/readyz"), "--track-file", w.track, "--interval", "50", "--timeout",
                               "100", "--control-socket", config + ".sock"},
      w.env.dir.file("watch2.log"));
  ASSERT_TRUE(w.waitTrack("0\n", 10s)) << w.watcher->log();
  // Every change of the track file is seen: it is sampled until the old process is gone.
  std::atomic<bool> sampling{true};
  std::atomic<int> downs{0};
  std::thread sampler([&] {
    while (sampling.load()) {
      downs += readFile(w.track) == "1\n";
      std::this_thread::sleep_for(1ms);
    }
  });
  Process upgrade({FULCRUM_BIN, "upgrade", "-c", config}, w.env.dir.file("upgrade.log"));
  auto code = upgrade.wait(20s);
  std::string out = upgrade.log();
  size_t at = out.find("the new fulcrum (pid ");
  pid_t successor = at == std::string::npos ? 0 : static_cast<pid_t>(std::atoi(out.c_str() + at + 21));
  // The new fulcrum is the upgrade command's child, not ours: ended by pid whatever happens.
  std::unique_ptr<void, std::function<void(void*)>> reap(reinterpret_cast<void*>(1), [successor](void*) {
    if (successor > 0) {
      ::kill(successor, SIGKILL);
    }
  });
  auto oldExit = w.env.fulcrum->wait(10s);
  std::this_thread::sleep_for(300ms);  // a watcher that took the exit for a death has written by now
  sampling = false;
  sampler.join();
  ASSERT_EQ(code, 0) << out;
  ASSERT_GT(successor, 0) << out;
  EXPECT_EQ(oldExit, std::optional<int>(0));
  EXPECT_EQ(downs.load(), 0) << w.watcher->log();
  EXPECT_EQ(readFile(w.track), "0\n") << w.watcher->log();
  EXPECT_TRUE(w.watcher->running()) << w.watcher->log();
  EXPECT_NE(w.watcher->log().find("watching its successor, process " + std::to_string(successor)), std::string::npos)
      << w.watcher->log();
  ::kill(successor, SIGKILL);
  auto took = w.waitTrack("1\n", 5s);
  EXPECT_TRUE(took) << w.watcher->log();
  EXPECT_EQ(w.watcher->wait(5s), std::optional<int>(1)) << w.watcher->log();
  EXPECT_NE(w.watcher->log().find("down (the process is gone)"), std::string::npos) << w.watcher->log();
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
// connections per second and 200 requests per second over 20 keep-alive connections: kill -9,
// SIGSTOP and a stuck worker thread (stopped alone with ptrace) in the master's fulcrum, two
// trials each, and its link set down, must fail over to the other balancer, and the faulty one,
// back, must not take the address again (nopreempt); a killed master repaired under load must
// stay backup with not one request failed (no failback); ten seconds with every core busy must
// not move the address (no flap). The gaps and failed requests are printed as figures
// (docs/ha.md: the 10-trial runs, 60 s busy and HAProxy in the same harness), not asserted.
TEST(HaPair, TheMastersFaultsFailOverAndALoadedPairDoesNotFlap) {
  TempDir dir;
  auto r = runCommand({"/usr/bin/python3", SOURCE_DIR "/tests/integration/ha/pair.py", FULCRUM_BIN, dir.file("pair"),
                       "2", "200", "kill,stop,worker,link,repair,busy", "10"},
                      240s);
  if (r.code == 77) {
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("summary kill: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary stop: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary worker: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary link: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("summary repair: 2 trials"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("busy 1: "), std::string::npos) << r.output;
}

namespace {

const std::string kBird = "/usr/sbin/bird";    // Debian's bird2 (scripts/deps.sh installs it)
const std::string kBirdc = "/usr/sbin/birdc";

// A BIRD of its own, in an empty network namespace (unshare --net: nothing it does reaches this
// host's routes), with the service route in protocol fulcrum_vip, disabled at start as in
// examples/ha/bird.conf. Its control socket is a file in dir, reachable from here.
struct TestBird {
  TempDir& dir;
  std::string socket = dir.file("bird.ctl");
  std::unique_ptr<Process> proc;

  explicit TestBird(TempDir& d) : dir(d) {
    writeFile(dir.file("bird.conf"),
              "log stderr all;\nrouter id 192.0.2.1;\nprotocol device { }\n"
              "protocol static fulcrum_vip {\n  disabled;\n  ipv4;\n  route 192.0.2.100/32 blackhole;\n}\n");
  }
  bool start() {
    ::unlink(socket.c_str());
    proc = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/unshare", "--net", kBird, "-f", "-c",
                                                              dir.file("bird.conf"), "-s", socket, "-P",
                                                              dir.file("bird.pid")},
                                     dir.file("bird.log"));
    struct stat st{};
    return waitFor([&] { return ::stat(socket.c_str(), &st) == 0; }, 5s);
  }
  // "up" (the route is announced), "down" (withdrawn), or what went wrong.
  std::string state() const {
    auto r = runCommand({kBirdc, "-s", socket, "show", "protocols", "fulcrum_vip"}, 5s);
    size_t at = r.output.find("\nfulcrum_vip ");
    if (at == std::string::npos) return "? " + r.output;
    std::istringstream line(r.output.substr(at + 1));
    std::string name, proto, table, state;
    line >> name >> proto >> table >> state;
    return state;
  }
  bool waitState(const std::string& want, milliseconds limit) const {
    return waitFor([&] { return state() == want; }, limit);
  }
};

}  // namespace

// The watcher drives BIRD over its control socket: withdrawn until fulcrum is ready, announced
// then, announced again by a watcher that reconnects to a restarted BIRD (whose bird.conf says
// disabled), withdrawn the moment fulcrum is killed.
TEST(WatchBird, TheRouteFollowsFulcrumAndIsAssertedAgainAfterABirdRestart) {
  if (::access(kBird.c_str(), X_OK) != 0) {
    GTEST_SKIP() << kBird << " is missing (scripts/deps.sh installs bird2)";
  }
  AdminEnv env;
  env.start("listeners:\n  - name: web\n    bind: 127.0.0.1:" + std::to_string(env.port) +
                "\n    protocol: http\n    http:\n      routes:\n        - respond: {status: 200, body: \"ok\\n\"}\n"
                "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" + std::to_string(deadPort()) + "\n",
            "", 1);
  TestBird bird(env.dir);
  if (!bird.start()) {
    GTEST_SKIP() << "BIRD cannot run in a network namespace here: " << bird.proc->log();
  }
  ASSERT_EQ(bird.state(), "down") << "bird.conf starts the route withdrawn";
  Process watcher({FULCRUM_BIN, "watch", "--pid", std::to_string(env.fulcrum->pid()), "--ready",
                   env.adminUrl("/readyz"), "--bird-socket", bird.socket, "--bird-protocol", "fulcrum_vip",
                   "--interval", "50"},
                  env.dir.file("watch.log"));
  ASSERT_TRUE(bird.waitState("up", 5s)) << watcher.log();
  EXPECT_NE(watcher.log().find("route announced (BIRD protocol fulcrum_vip)"), std::string::npos) << watcher.log();

  // BIRD restarts: it starts with the route withdrawn; the watcher reconnects and announces it.
  bird.proc->signal(SIGKILL);
  ASSERT_TRUE(bird.proc->wait(5s).has_value());
  ASSERT_TRUE(bird.start());
  ASSERT_TRUE(bird.waitState("up", 5s)) << watcher.log();
  EXPECT_NE(watcher.log().find("BIRD closed its control socket; reconnecting"), std::string::npos) << watcher.log();

  // Someone disables it by hand: the periodic assertion undoes it.
  runCommand({kBirdc, "-s", bird.socket, "disable", "fulcrum_vip"}, 5s);
  ASSERT_TRUE(bird.waitState("up", 5s)) << watcher.log();
  EXPECT_TRUE(waitFor([&] { return watcher.log().find("changed behind the watcher's back") != std::string::npos; }, 2s))
      << watcher.log();

  env.fulcrum->signal(SIGKILL);
  ASSERT_TRUE(bird.waitState("down", 2s)) << watcher.log();
  EXPECT_EQ(watcher.wait(5s), std::optional<int>(1));
  EXPECT_NE(watcher.log().find("route withdrawn (BIRD protocol fulcrum_vip)"), std::string::npos) << watcher.log();
}

TEST(WatchBird, BadBirdArgumentsAreUsageErrors) {
  TempDir dir;
  auto alone = runCommand({FULCRUM_BIN, "watch", "--pid", "1", "--bird-socket", dir.file("s")});
  EXPECT_EQ(alone.code, 2) << alone.output;
  EXPECT_NE(alone.output.find("--bird-socket and --bird-protocol go together"), std::string::npos) << alone.output;
  auto bad = runCommand({FULCRUM_BIN, "watch", "--pid", "1", "--bird-socket", dir.file("s"), "--bird-protocol",
                         "vip; disable all"});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("not a BIRD protocol name"), std::string::npos) << bad.output;
  auto none = runCommand({FULCRUM_BIN, "watch", "--pid", "1"});
  EXPECT_EQ(none.code, 2) << none.output;
  EXPECT_NE(none.output.find("nothing to tell"), std::string::npos) << none.output;
}

// The active-active kit's BIRD configurations are ones BIRD 2 accepts (bird -p parses only;
// a broken copy is refused, so the check is real).
TEST(HaKit, TheBirdExamplesAreValid) {
  if (::access(kBird.c_str(), X_OK) != 0) {
    GTEST_SKIP() << kBird << " is missing (scripts/deps.sh installs bird2)";
  }
  TempDir dir;
  for (const char* name : {"bird.conf", "router-bird.conf"}) {
    std::string example = std::string(SOURCE_DIR) + "/examples/ha/" + name;
    auto ok = runCommand({kBird, "-p", "-c", example});
    EXPECT_EQ(ok.code, 0) << name << ": " << ok.output;
    std::string broken = readFile(example);
    ASSERT_NE(broken.find("bfd on;"), std::string::npos) << name << " has BFD on its sessions";
    broken.replace(broken.find("bfd on;"), 7, "bfd onn;");
    writeFile(dir.file(name), broken);
    auto bad = runCommand({kBird, "-p", "-c", dir.file(name)});
    EXPECT_NE(bad.code, 0) << name << ": " << bad.output;
  }
  EXPECT_NE(readFile(std::string(SOURCE_DIR) + "/examples/ha/bird.conf").find("export where proto = \"fulcrum_vip\""),
            std::string::npos)
      << "the service prefix is exported only from the protocol the watcher toggles";
}

// Three balancers behind a router over BGP/ECMP in network namespaces the test makes
// (tests/integration/ha/ecmp.py): kill -9 of a fulcrum, a graceful drain (twice), the drained
// balancer returning, kill -9 of a BIRD (it restarts and the watcher announces again) and a
// cut link (BFD). The route must change each time; a drain must refuse no new connection
// (timeouts.withdraw). Times and failed requests are printed as figures (docs/ha.md).
TEST(HaEcmp, ThreeBalancersWithdrawAndReturnOverBgp) {
  TempDir dir;
  auto r = runCommand({"/usr/bin/python3", SOURCE_DIR "/tests/integration/ha/ecmp.py", FULCRUM_BIN, dir.file("ecmp"),
                       "1", "kill,drain,drain,return,bird,link", "resilient", "3"},
                      180s);
  if (r.code == 77) {
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* s : {"summary kill:", "summary drain:", "summary return:", "summary bird:", "summary link:"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  }
  EXPECT_NE(r.output.find("the watcher re-announced the route"), std::string::npos) << r.output;
}
