#include "server/server.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "admin/audit.h"
#include "common/log.h"
#include "config/address.h"
#include "config/loader.h"
#include "handover/control_path.h"
#include "net/address.h"
#include "server/tls_contexts.h"

namespace fulcrum::server {

namespace {
constexpr uint64_t kStopPollMs = 20;
// Each step of a takeover (connect, the transfer, the old one's confirmation) gets this long.
constexpr std::chrono::milliseconds kTakeoverStep{5000};
// Workers pick a snapshot up at their next loop turn; this is far more than that.
constexpr std::chrono::milliseconds kWorkersServingWithin{5000};

sigset_t handledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  return set;
}

// Each connection costs two fds and more; take all the kernel allows.
void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string counted(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string describe(const config::Config& c) {
  return counted(c.listeners.size(), "listener") + ", " + counted(c.pools.size(), "pool");
}
}  // namespace

void blockSignals() {
  sigset_t set = handledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

Server::Server(Options options)
    : options_(std::move(options)), withdraw_timer_([this] { beginDrain("withdrawn"); }),
      stop_poll_([this] { checkStopped(); }), rate_timer_([this] { sampleRates(); }),
      tls_timer_([this] { pollTls(); }) {}

void Server::sampleRates() {
  if (stopping_ || !current_) {
    return;
  }
  uint64_t now = loop_.nowMs();
  for (const auto& [name, cluster] : current_->clusters) {
    for (const auto& h : cluster->hosts) {
      auto& s = *h.state;
      auto t = s.traffic->sum();
      if (s.rate_at_ms != 0 && now > s.rate_at_ms) {
        double dt = static_cast<double>(now - s.rate_at_ms) / 1000.0;
        // Exponential smoothing over about three samples: steady, yet quick to follow.
        s.request_rate += 0.4 * (static_cast<double>(t.requests - s.rate_requests) / dt - s.request_rate);
        s.connection_rate += 0.4 * (static_cast<double>(t.connections - s.rate_connections) / dt - s.connection_rate);
      }
      s.rate_requests = t.requests;
      s.rate_connections = t.connections;
      s.rate_at_ms = now;
    }
  }
  loop_.timers().schedule(rate_timer_, 1000);
}

void Server::pollTls() {
  if (stopping_ || !current_) {
    return;
  }
  ticket_keys_.poll(loop_.nowMs());
  const auto now = static_cast<int64_t>(unixNow());
  for (const auto& [name, ctx] : tls_.listeners) {
    for (const auto& file : ctx->expireOcsp(now)) {
      log::warn("OCSP response expired: no longer stapled until the file holds a current one",
                {{"listener", name}, {"file", file}});
    }
  }
  const auto config = current_->config;  // held: a rebuild publishes a new snapshot
  for (const auto& l : config->listeners) {
    if (auto it = tls_files_.find(l.name); it != tls_files_.end() && it->second.poll()) {
      rebuildTls(l, it->second);
    }
  }
  loop_.timers().schedule(tls_timer_, 1000);
}

void Server::rebuildTls(const config::Listener& l, WatchedFiles& files) {
  std::string changed;
  for (const auto& f : files.changed()) {
    changed += (changed.empty() ? "" : ",") + f;
  }
  std::string error;
  TlsBuildSources sources{acme_challenges_, &ticket_keys_, loop_.nowMs(), false};
  auto ctx = buildListenerTls(*current_->config, l, static_cast<int64_t>(unixNow()), sources, error);
  if (!ctx) {
    files.rejected();
    log::error("certificate change rejected: the certificates in use keep serving",
               {{"listener", l.name}, {"changed", changed}, {"error", error}});
    return;
  }
  auto previous = tls_.listeners[l.name];
  tls_.listeners[l.name] = ctx;
  // The same path as a reload's, with the same config: a new snapshot with this context.
  if (auto st = apply(current_->config, true); !st) {
    tls_.listeners[l.name] = previous;
    files.rejected();
    log::error("certificate change rejected: the certificates in use keep serving",
               {{"listener", l.name}, {"changed", changed}, {"error", st.message()}});
    return;
  }
  files.read();
  log::info("certificates read again: the files changed", {{"listener", l.name}, {"changed", changed}});
}

Server::~Server() {
  acme_.reset();
  for (auto& w : workers_) {
    w->forceStop();
    w->join();
  }
}

int Server::run() {
  raiseFdLimit();
  auto loaded = config::loadFile(options_.config_path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      log::error("config error", {{"error", d.str()}});
    }
    log::error("not started: the config has errors", {{"config", options_.config_path}, {"errors", loaded.errors.size()}});
    return 1;
  }
  log::Level level;
  if (log::parseLevel(loaded.config->log_level, level)) {
    log::setLevel(level);
  }
  start_time_ = unixNow();
  file_checksum_ = admin::checksumHex(readWhole(options_.config_path));
  admin_config_ = loaded.config->admin;
  state_path_ = admin_config_.state_file.empty() ? options_.config_path + ".state.json" : admin_config_.state_file;
  audit_path_ = admin_config_.audit_log.empty() ? options_.config_path + ".audit.log" : admin_config_.audit_log;
  auto state = readState();
  if (!state) {
    log::error("not started: the state file (API changes) is not valid; fix or remove it",
               {{"state_file", state_path_}, {"error", state.error().message}});
    return 1;
  }
  overrides_ = std::move(*state);
  if (!overrides_.empty()) {
    log::info("API changes restored", {{"state_file", state_path_}, {"servers", overrides_.count()}});
  }
  file_config_ = loaded.config;
  std::vector<std::string> notes;
  std::string stateBefore = admin::toJson(overrides_);
  auto merged = admin::merge(*loaded.config, overrides_, notes);
  for (const auto& n : notes) {
    log::warn("API change dropped", {{"note", n}});
  }
  for (const auto& line : admin::shadowed(*loaded.config, overrides_)) {
    log::warn("a config file value is shadowed by an API change", {{"value", line}});
  }
  worker_count_ = options_.workers.value_or(loaded.config->workers);
  if (worker_count_ == 0) {
    worker_count_ = std::max(1u, std::thread::hardware_concurrency());
  }

  sigset_t set = handledSignals();
  signal_fd_ = core::Fd(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd_ || !loop_.add(signal_fd_.get(), EPOLLIN | EPOLLET, &signal_handler_)) {
    log::error("cannot set up signal handling", {{"error", std::strerror(errno)}});
    return 1;
  }

  for (size_t i = 0; i < worker_count_; ++i) {
    workers_.push_back(std::make_unique<Worker>(i));
  }
  snapshots_.setWorkers(worker_count_);
  snapshots_.setAcmeChallenges(acme_challenges_);
  upstream::HealthMonitor::Hooks hooks;
  hooks.republish = [this] { republish(); };
  hooks.close_sessions = [this](std::shared_ptr<upstream::HostState> state) {
    for (auto& w : workers_) {
      w->closeSessionsTo(state);
    }
  };
  health_ = std::make_unique<upstream::HealthMonitor>(loop_, std::move(hooks));
  shared_state::Service::Hooks sharedHooks;
  sharedHooks.each_worker = [this](shared_state::Service::WorkerFn fn) {
    for (auto& w : workers_) {
      w->withSharedTables(fn);
    }
  };
  sharedHooks.on_worker = [this](size_t worker, shared_state::Service::WorkerFn fn) {
    if (worker < workers_.size()) {
      workers_[worker]->withSharedTables(std::move(fn));
    }
  };
  shared_state_ = std::make_unique<shared_state::Service>(loop_, std::move(sharedHooks));
  handover::InheritedSockets inherited;
  std::optional<handover::Takeover> takeover;
  if (!gatherInherited(inherited, takeover)) {
    return 1;
  }
  const bool hadInherited = !inherited.empty();
  inherited_ = &inherited;
  Status applied = apply(merged, false, true);
  inherited_ = nullptr;
  if (!applied) {
    log::error("not started", {{"error", applied.message()}});
    return 1;
  }
  if (hadInherited) {
    log::info("listening sockets adopted",
              {{"adopted", listeners_.adopted()}, {"shared", listeners_.shared()}, {"bound", listeners_.bound()}});
  }
  if (admin::toJson(overrides_) != stateBefore) {
    if (auto st = saveState(overrides_); !st) {
      log::warn("cannot update the state file", {{"error", st.message()}});
    }
  }
  if (admin_config_.enabled) {
    api_ = std::make_unique<admin::Api>(*this, admin_config_.token);
    admin::AdminListener::Limits limits;
    limits.head_timeout_ms = static_cast<uint64_t>(admin_config_.head_timeout.count());
    limits.max_per_client = admin_config_.max_connections_per_client;
    admin_listener_ = std::make_unique<admin::AdminListener>(loop_, *api_, limits);
    // The old one's admin socket, if it was at this address (nothing else may bind it meanwhile).
    core::Fd adminFd = inherited.take(
        handover::socketKey(handover::SocketKind::Tcp, net::formatAddress(admin_config_.bind.sa())), 0);
    std::shared_ptr<const tls::ServerContext> adminTls;
    if (auto it = tls_.listeners.find(kAdminTls); it != tls_.listeners.end()) {
      adminTls = it->second;  // (built with the listeners' contexts: a bad certificate failed the start)
    }
    if (auto st = admin_listener_->start(admin_config_.bind, std::move(adminFd), adminTls); !st) {
      log::error("not started", {{"error", st.message()}});
      health_->stop();
      return 1;
    }
    log::info("admin listener", {{"bind", admin_config_.bind.text},
                                 {"port", admin_listener_->port()},
                                 {"token", admin_config_.token.empty() ? "none (loopback only)" : "required"},
                                 {"tls", admin_config_.tls.enabled() ? "on" : "off"},
                                 {"state_file", state_path_}});
  }
  for (const auto& gone : inherited.closeRest()) {
    log::info("inherited socket closed: no listener of this config has its address", {{"socket", gone}});
  }
  if (!startControlSocket(takeover.has_value())) {
    health_->stop();
    return 1;
  }
  for (auto& w : workers_) {
    w->start();
  }
  if (takeover) {
    completeTakeover(*takeover);
  }
  loop_.timers().schedule(rate_timer_, 1000);
  loop_.timers().schedule(tls_timer_, 1000);
  log::info("fulcrum started", {{"version", FULCRUM_VERSION},
                                {"config", options_.config_path},
                                {"workers", worker_count_},
                                {"pid", static_cast<long>(getpid())}});
  loop_.run();
  acme_.reset();  // stops its thread (an order in flight ends at once)
  for (auto& w : workers_) {
    w->join();
  }
  workers_.clear();
  admin_listener_.reset();
  health_.reset();
  shared_state_.reset();
  if (control_) {
    // The successor publishes its control socket right after we confirm the drain; a drain
    // with nothing open can end first. Our exit must find it in place (watchers follow it).
    control_->awaitSuccessorAtPath(std::chrono::seconds(1));
  }
  log::info("fulcrum stopped");
  return exit_code_;
}

Status Server::apply(std::shared_ptr<const config::Config> config, bool quiet, bool readCertificates) {
  TlsContexts tls = tls_;
  std::unordered_map<std::string, WatchedFiles> tlsFiles;
  if (readCertificates) {
    for (const auto& l : config->listeners) {
      if (l.tls.enabled()) {
        tlsFiles.emplace(l.name, WatchedFiles(server::tlsFiles(l.tls)));  // stamped before the read
      }
    }
    std::vector<std::string> tlsErrors;
    tls = buildTlsContexts(*config, static_cast<int64_t>(unixNow()), tlsErrors,
                           TlsBuildSources{acme_challenges_, &ticket_keys_, loop_.nowMs()});
    if (!tlsErrors.empty()) {
      std::string all;
      for (const auto& e : tlsErrors) {
        all += (all.empty() ? "" : "; ") + e;
      }
      return Error{all};
    }
  }
  auto sockets = listeners_.prepare(*config, worker_count_, inherited_);
  if (!sockets) {
    return sockets.error();
  }
  if (auto st = updateAccessLog(*config); !st) {
    return st;
  }
  const uint64_t balancers_before = snapshots_.hosts().balancersBuilt();
  auto snap = snapshots_.build(config, *sockets, config->access_log.enabled ? access_log_ : nullptr, loop_.nowMs(),
                               current_.get(), tls);
  std::vector<std::shared_ptr<const upstream::Cluster>> clusters;
  for (const auto& pool : config->pools) {
    clusters.push_back(snap->clusters.at(pool.name));
  }
  for (const auto& l : config->listeners) {
    if (!quiet) {
      log::info("listener", {{"name", l.name},
                             {"bind", l.bind.text},
                             {"protocol", l.protocol == config::Protocol::Udp    ? "udp"
                                          : l.protocol == config::Protocol::Http ? "http"
                                                                                 : "tcp"},
                             {"pool", l.pool},
                             {"routes", l.http.routes.size()}});
    }
  }
  listeners_.commit(*sockets);
  current_ = snap;
  tls_ = std::move(tls);
  if (readCertificates) {
    tls_files_ = std::move(tlsFiles);
    std::vector<std::string> names;
    for (const auto& l : config->listeners) {
      names.push_back(l.name);
    }
    ticket_keys_.retain(names);
  }
  for (auto& w : workers_) {
    w->publish(snap);
  }
  snapshots_.hosts().prune();
  health_->update(clusters, static_cast<uint64_t>(config->timeouts.drain.count()));
  shared_state_->configure(config->shared_state);
  if (quiet) {
    log::debug("snapshot republished",
               {{"version", snap->version},
                {"balancers_rebuilt", snapshots_.hosts().balancersBuilt() - balancers_before}});
    return {};
  }
  ++generation_;
  last_reload_time_ = unixNow();
  updateAcme(*config);
  log::info("config applied", {{"version", snap->version}, {"config", config->source}, {"summary", describe(*config)}});
  return {};
}

void Server::updateAcme(const config::Config& config) {
  auto sets = acme::nameSets(config);
  bool wanted = config.acme.enabled && !sets.empty();
  if (acme_ && wanted && acme_->sameAs(config.acme, sets)) {
    return;
  }
  if (acme_) {
    acme_failures_before_ += acme_->failures();
    acme_issued_before_ += acme_->issued();
    acme_failures_ = acme_failures_before_;
    acme_issued_ = acme_issued_before_;
    acme_.reset();
  }
  if (!wanted) {
    return;
  }
  acme_ = std::make_unique<acme::Manager>(config.acme, std::move(sets), acme_challenges_, loop_,
                                          [this] { onAcmeIssued(); });
}

void Server::onAcmeIssued() {
  if (stopping_ || !current_) {
    return;
  }
  // The same config with the certificates read anew: new connections get the new one, open
  // ones keep the context they began with.
  if (auto st = apply(current_->config, true, true); !st) {
    log::error("acme certificate not installed: the old certificates keep serving", {{"error", st.message()}});
    return;
  }
  log::info("acme certificate installed", {{"version", snapshots_.version()}});
}

admin::ReloadOutcome Server::reload(const std::string& actor) {
  admin::ReloadOutcome out;
  log::info("reload requested", {{"config", options_.config_path}, {"by", actor}});
  auto loaded = config::loadFile(options_.config_path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.errors) {
      log::error("config error", {{"error", d.str()}});
      out.errors.push_back(d.str());
    }
    log::error("reload rejected: the running config keeps serving",
               {{"errors", loaded.errors.size()}, {"version", snapshots_.version()}});
    ++reloads_failed_;
    out.generation = generation_;
    audit(actor, "reload", std::to_string(out.errors.size()) + " config error(s)", false);
    return out;
  }
  const auto& a = loaded.config->admin;
  if (a.enabled != admin_config_.enabled || !config::sameEndpoint(a.bind, admin_config_.bind) ||
      a.token != admin_config_.token || a.state_file != admin_config_.state_file ||
      a.audit_log != admin_config_.audit_log || a.head_timeout != admin_config_.head_timeout ||
      a.max_connections_per_client != admin_config_.max_connections_per_client) {
    log::warn("the admin section changed: it takes effect at the next restart");
    out.notes.push_back("the admin section changed: it takes effect at the next restart");
  }
  // The state file is read again: one edited or deleted by hand counts from now on.
  auto state = readState();
  if (!state) {
    log::error("reload rejected: the state file (API changes) is not valid; the running config keeps serving",
               {{"error", state.error().message}, {"version", snapshots_.version()}});
    out.errors.push_back(state.error().message);
    ++reloads_failed_;
    out.generation = generation_;
    audit(actor, "reload", state.error().message, false);
    return out;
  }
  admin::Overrides next = std::move(*state);
  if (next.empty() && !overrides_.empty()) {
    out.notes.push_back("the state file " + state_path_ + " has no API changes (or is gone): the " +
                        std::to_string(overrides_.count()) + " server(s) changed through the API follow the file again");
  }
  std::string stateBefore = admin::toJson(next);
  auto merged = admin::merge(*loaded.config, next, out.notes);
  out.shadowed = admin::shadowed(*loaded.config, next);
  if (auto st = apply(merged, false, true); !st) {
    log::error("reload rejected: the running config keeps serving",
               {{"error", st.message()}, {"version", snapshots_.version()}});
    out.errors.push_back(st.message());
    ++reloads_failed_;
    out.generation = generation_;
    audit(actor, "reload", st.message(), false);
    return out;
  }
  file_checksum_ = admin::checksumHex(readWhole(options_.config_path));
  file_config_ = loaded.config;
  for (const auto& n : out.notes) {
    log::warn("reload note", {{"note", n}});
  }
  for (const auto& line : out.shadowed) {
    log::warn("a config file value is shadowed by an API change", {{"value", line}});
  }
  if (admin::toJson(next) != stateBefore) {
    if (auto st = saveState(next); !st) {
      log::warn("cannot update the state file", {{"error", st.message()}});
    }
  }
  overrides_ = std::move(next);
  log::Level level;
  if (log::parseLevel(loaded.config->log_level, level)) {
    log::setLevel(level);
  }
  ++reloads_ok_;
  out.ok = true;
  out.generation = generation_;
  audit(actor, "reload", "config version " + std::to_string(generation_), true);
  return out;
}

std::optional<admin::ApiError> Server::change(const std::vector<admin::Change>& changes, const std::string& actor) {
  if (stopping_ || !current_) {
    return admin::ApiError{503, "stopping: no changes accepted"};
  }
  // Validate every change against a working copy; only a complete, valid set is applied.
  auto working = std::make_shared<config::Config>(*current_->config);
  admin::Overrides next = overrides_;
  std::string summary;
  for (size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (auto e = admin::applyChange(c, *working, next)) {
      if (changes.size() > 1) {
        e->message = "changes[" + std::to_string(i) + "]: " + e->message + " (nothing was applied)";
      }
      audit(actor, admin::opName(c.op), c.pool + " " + c.server + ": " + e->message, false);
      return e;
    }
    summary += (summary.empty() ? "" : "; ") + std::string(admin::opName(c.op)) + " " + c.pool + " " + c.server;
    if (c.op == admin::Change::Op::Weight || c.op == admin::Change::Op::Add) {
      summary += " weight=" + std::to_string(c.weight);
    }
  }
  return commitOverrides(std::move(next), actor, "change", summary);
}

std::optional<admin::ApiError> Server::reset(const std::string& pool, const std::string& server,
                                             const std::string& actor, size_t& cleared) {
  if (stopping_ || !current_) {
    return admin::ApiError{503, "stopping: no changes accepted"};
  }
  admin::Overrides next = overrides_;
  std::string what = pool.empty() ? "every pool" : server.empty() ? "pool " + pool : pool + " " + server;
  if (auto e = admin::resetOverrides(*current_->config, next, pool, server, cleared)) {
    audit(actor, "reset", what + ": " + e->message, false);
    return e;
  }
  if (cleared == 0) {
    audit(actor, "reset", what + ": no API changes to reset", true);
    return std::nullopt;
  }
  return commitOverrides(std::move(next), actor, "reset",
                         what + ": the file's values again for " + std::to_string(cleared) + " server(s)");
}

std::optional<admin::ApiError> Server::commitOverrides(admin::Overrides next, const std::string& actor,
                                                       const std::string& action, const std::string& summary) {
  // The file with the overrides merged on, exactly as a reload or restart would build it;
  // merge also drops what only repeats the file (a drain undone).
  std::vector<std::string> notes;
  auto merged = admin::merge(*file_config_, next, notes);
  auto previous = current_->config;
  if (auto st = apply(merged); !st) {
    audit(actor, action, summary + ": " + st.message(), false);
    return admin::ApiError{422, "cannot apply: " + st.message() + " (nothing was applied)"};
  }
  if (auto st = saveState(next); !st) {
    // Not kept = not done: put the previous config back.
    if (auto back = apply(previous); !back) {
      log::error("cannot restore the previous config", {{"error", back.message()}});
    }
    audit(actor, action, summary + ": " + st.message(), false);
    return admin::ApiError{500, "cannot save the state file, so the change was undone: " + st.message()};
  }
  overrides_ = std::move(next);
  log::info("config changed through the API", {{"by", actor}, {"changes", summary}, {"version", generation_}});
  audit(actor, action, summary, true);
  return std::nullopt;
}

admin::View Server::view() {
  admin::View v;
  v.now_ms = loop_.nowMs();
  v.health = health_.get();
  v.generation = generation_;
  v.config_path = options_.config_path;
  v.state_file = state_path_;
  v.file_checksum = file_checksum_;
  v.checksum = admin::checksumHex(file_checksum_ + admin::toJson(overrides_));
  v.overrides = overrides_.count();
  v.api_overrides = overrides_;
  v.file_config = file_config_;
  v.start_time = start_time_;
  v.last_reload_time = last_reload_time_;
  v.now = unixNow();
  v.workers = worker_count_;
  for (const auto& w : workers_) {
    v.worker_beats.push_back(w->lastBeatMs());
  }
  v.reloads_ok = reloads_ok_;
  v.reloads_failed = reloads_failed_;
  v.serving = !stopping_ && !withdrawing_ && current_ != nullptr;
  v.withdrawing = withdrawing_;
  v.shared_state = shared_state_ ? &shared_state_->status() : nullptr;
  if (acme_) {
    acme_failures_ = acme_failures_before_ + acme_->failures();
    acme_issued_ = acme_issued_before_ + acme_->issued();
  }
  v.acme = acme_ != nullptr;
  v.acme_failures = acme_failures_;
  v.acme_issued = acme_issued_;
  if (!current_) {
    return v;
  }
  v.config = current_->config;
  for (const auto& l : current_->config->listeners) {
    admin::ListenerView lv;
    lv.config = &l;
    lv.stats = snapshots_.statsFor("l:" + l.name);
    if (auto it = tls_.listeners.find(l.name); it != tls_.listeners.end()) {
      for (const auto& c : it->second->certificates()) {
        std::string names;
        for (const auto& n : c->names()) {
          names += (names.empty() ? "" : ",") + n;
        }
        lv.certificates.push_back({c->certFile(), names, c->notAfter()});
      }
    }
    for (const auto& r : l.http.routes) {
      lv.routes.push_back(snapshots_.statsFor("r:" + l.name + "\n" + r.name));
    }
    v.listeners.push_back(std::move(lv));
  }
  for (const auto& p : current_->config->pools) {
    v.clusters.push_back(current_->clusters.at(p.name));
  }
  return v;
}

Status Server::updateAccessLog(const config::Config& config) {
  if (!config.access_log.enabled) {
    access_log_.reset();
    return {};
  }
  if (access_log_ && access_log_->sameAs(config.access_log)) {
    return {};
  }
  auto log = upstream::AccessLog::open(config.access_log, std::max<size_t>(worker_count_, 1));
  if (!log) {
    return log.error();
  }
  access_log_ = *log;
  return {};
}

Result<admin::Overrides> Server::readState() {
  if (::access(state_path_.c_str(), F_OK) != 0) {
    return admin::Overrides{};  // no API changes yet, or the file was removed
  }
  return admin::parseOverrides(readWhole(state_path_), state_path_);
}

Status Server::saveState(const admin::Overrides& o) {
  std::string text = admin::toJson(o);
  std::string tmp = state_path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
  }
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error{"cannot write " + tmp + ": " + std::strerror(err)};
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error{"cannot write " + tmp + ": " + std::strerror(errno)};
  }
  if (::rename(tmp.c_str(), state_path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error{"cannot replace " + state_path_ + ": " + std::strerror(errno)};
  }
  return {};
}

void Server::audit(const std::string& actor, const std::string& action, const std::string& detail, bool ok) {
  std::string line = admin::auditLine(actor, action, detail, ok, generation_);
  int fd = ::open(audit_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    log::warn("cannot write the audit log", {{"path", audit_path_}, {"error", std::strerror(errno)}});
  }
  if (fd >= 0) {
    ::close(fd);
  }
  log::info("audit", {{"actor", actor}, {"action", action}, {"detail", detail}, {"ok", ok}});
}

void Server::republish() {
  // Coalesce: checks and ramps may ask many times in one turn.
  if (republish_pending_ || stopping_) {
    return;
  }
  republish_pending_ = true;
  loop_.post([this] {
    republish_pending_ = false;
    if (current_ && !stopping_) {
      if (auto st = apply(current_->config, true); !st) {
        log::error("republish failed", {{"error", st.message()}});
      }
    }
  });
}

void Server::beginStop(const char* why) {
  if (stopping_) {
    log::warn("second stop signal: closing every connection now");
    for (auto& w : workers_) {
      w->forceStop();
    }
    return;
  }
  if (withdrawing_) {
    log::info("second stop signal: draining now, not waiting for the withdrawal", {{"signal", why}});
    loop_.timers().cancel(withdraw_timer_);
    beginDrain(why);
    return;
  }
  uint64_t withdraw = current_ ? static_cast<uint64_t>(current_->config->timeouts.withdraw.count()) : 0;
  if (withdraw > 0) {
    // /readyz fails from now on, so the watcher withdraws the route; meanwhile what the
    // router still sends here is served, on connections that close at each request's end.
    withdrawing_ = true;
    log::info("stopping: unready, still accepting until the network has withdrawn this instance; connections "
              "close at request boundaries",
              {{"signal", why}, {"withdraw_ms", withdraw}});
    for (auto& w : workers_) {
      w->closeKeepAlive();
    }
    loop_.timers().schedule(withdraw_timer_, withdraw);
    return;
  }
  beginDrain(why);
}

void Server::beginDrain(const char* why) {
  withdrawing_ = false;
  stopping_ = true;
  health_->stop();
  if (control_) {
    control_->close();  // no upgrade of a process that stops
  }
  shared_state_->stop();
  uint64_t drain = current_ ? static_cast<uint64_t>(current_->config->timeouts.drain.count()) : 0;
  log::info("stopping: no new connections, open ones may finish", {{"signal", why}, {"drain_ms", drain}});
  for (auto& w : workers_) {
    w->drain(drain);
  }
  // Workers drop their references when they drain; this closes the sockets for good.
  listeners_.clear();
  current_.reset();
  checkStopped();
}

void Server::checkStopped() {
  for (auto& w : workers_) {
    if (!w->finished()) {
      loop_.timers().schedule(stop_poll_, kStopPollMs);
      return;
    }
  }
  if (admin_listener_) {
    admin_listener_->stop();  // its sessions are deleted at the end of this turn, on the loop
  }
  loop_.stop();
}

bool Server::gatherInherited(handover::InheritedSockets& inherited, std::optional<handover::Takeover>& takeover) {
  std::vector<std::string> warnings;
  if (auto st = handover::adoptSystemdSockets(inherited, warnings); !st) {
    log::error("not started", {{"error", st.message()}});
    return false;
  }
  for (const auto& w : warnings) {
    log::warn("an inherited descriptor is not a usable socket", {{"detail", w}});
  }
  if (!inherited.empty()) {
    log::info("systemd passed listening sockets", {{"sockets", inherited.size()}});
  }
  if (options_.takeover_path.empty()) {
    return true;
  }
  auto t = handover::Takeover::start(options_.takeover_path, inherited, kTakeoverStep);
  if (!t) {
    log::error("not started: cannot take over the listening sockets of the running fulcrum; it serves on",
               {{"control_socket", options_.takeover_path}, {"error", t.error().message}});
    return false;
  }
  log::info("upgrade: received the listening sockets of the running fulcrum",
            {{"pid", static_cast<long>(t->predecessor())}, {"sockets", t->received()}});
  takeover = std::move(*t);
  return true;
}

bool Server::startControlSocket(bool takeover) {
  std::string path = handover::controlSocketPath(admin_config_, options_.config_path);
  ControlSocket::Hooks hooks;
  hooks.sockets = [this] {
    std::vector<std::pair<handover::SocketRecord, int>> out;
    if (current_) {
      out = listeners_.handoverList(*current_->config);
    }
    if (admin_listener_ && admin_listener_->listenFd() >= 0) {
      handover::SocketRecord r;
      r.address = net::formatAddress(admin_config_.bind.sa());
      if (auto actual = handover::describeSocket(admin_listener_->listenFd())) {
        r.address = actual->address;
      }
      r.listener = "admin";
      out.emplace_back(std::move(r), admin_listener_->listenFd());
    }
    return out;
  };
  hooks.hand_over = [this](pid_t pid) { return handOver(pid); };
  hooks.serving = [this] { return !stopping_ && current_ != nullptr; };
  control_ = std::make_unique<ControlSocket>(loop_, std::move(hooks));
  bool conflict = false;
  Status st = takeover ? control_->listenBeside(path) : control_->listen(path, &conflict);
  if (!st && conflict) {
    log::error("not started", {{"error", st.message()}});
    return false;
  }
  if (!st) {
    // Serving matters more than upgrading in place: go on without it, loudly.
    log::warn("no control socket: `fulcrum upgrade` cannot replace this process", {{"error", st.message()}});
    control_.reset();
    return true;
  }
  log::info("control socket", {{"path", path}});
  return true;
}

void Server::completeTakeover(handover::Takeover& takeover) {
  // Serving means every worker accepts on the adopted sockets: wait for them to apply the
  // snapshot (a loop turn), bounded. Connections meanwhile queue in the shared sockets.
  uint64_t version = current_ ? current_->version : 0;
  auto until = std::chrono::steady_clock::now() + kWorkersServingWithin;
  auto serving = [&] {
    for (const auto& w : workers_) {
      if (w->appliedVersion() < version) {
        return false;
      }
    }
    return true;
  };
  while (!serving() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!serving()) {
    log::warn("upgrade: workers slow to pick up the config; telling the old fulcrum anyway");
  }
  if (options_.takeover_deadline_ms != 0 && core::EventLoop::monotonicMs() >= options_.takeover_deadline_ms) {
    // `fulcrum upgrade` has stopped waiting and reported a failure: the old one must serve on.
    // Connections this one took meanwhile finish in a drain, as at any stop.
    log::error("upgrade: too late, `fulcrum upgrade` gave up waiting; the old fulcrum serves on, this one stops");
    exit_code_ = 1;
    loop_.post([this] { beginStop("upgrade too late"); });
    return;
  }
  auto drain = takeover.confirmReady(kTakeoverStep);
  if (drain) {
    log::info("upgrade: serving; the old fulcrum stops accepting and drains",
              {{"old_pid", static_cast<long>(takeover.predecessor())}, {"drain_ms", *drain}});
  } else {
    log::warn("upgrade: serving, but the old fulcrum did not confirm its drain",
              {{"old_pid", static_cast<long>(takeover.predecessor())}, {"error", drain.error().message}});
  }
  if (control_) {
    if (auto st = control_->publish(); !st) {
      log::warn("control socket not moved into place: the next upgrade cannot find this process",
                {{"error", st.message()}});
    }
  }
  reportReady("ready " + std::to_string(::getpid()) + " adopted=" + std::to_string(listeners_.adopted()) +
              " bound=" + std::to_string(listeners_.bound()) + " old_pid=" + std::to_string(takeover.predecessor()) +
              " drain_ms=" + std::to_string(drain ? *drain : 0));
}

uint64_t Server::handOver(pid_t successor) {
  uint64_t drain = current_ ? static_cast<uint64_t>(current_->config->timeouts.drain.count()) : 0;
  log::info("upgrade: the new fulcrum serves; this one stops accepting and drains",
            {{"new_pid", static_cast<long>(successor)}, {"drain_ms", drain}});
  if (admin_listener_) {
    admin_listener_->stopAccepting();  // probes go to the new one now, never to a draining one
  }
  // After this batch: stopping destroys handlers that may have events queued in it.
  loop_.post([this] { beginStop("upgrade"); });
  return drain;
}

void Server::reportReady(const std::string& line) {
  if (options_.ready_fd < 0) {
    return;
  }
  std::string text = line + "\n";
  ssize_t n;
  do {
    n = ::write(options_.ready_fd, text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  ::close(options_.ready_fd);
  options_.ready_fd = -1;
}

void Server::onSignals() {
  signalfd_siginfo info;
  while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    switch (info.ssi_signo) {
      // Run after this epoll batch: both destroy handlers (checkers, probes) that may
      // still have events queued in it.
      case SIGHUP:
        loop_.post([this] {
          if (!stopping_) {
            reload("SIGHUP");
          }
        });
        break;
      case SIGTERM:
        loop_.post([this] { beginStop("SIGTERM"); });
        break;
      case SIGINT:
        loop_.post([this] { beginStop("SIGINT"); });
        break;
      case SIGUSR1:
        if (access_log_) {
          access_log_->reopen();
        }
        break;
      default:
        break;
    }
  }
}

}  // namespace fulcrum::server
