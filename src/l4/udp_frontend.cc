#include "l4/udp_frontend.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/time.h"
#include "net/address.h"
#include "upstream/outlier.h"
#include "upstream/take_host.h"

namespace fulcrum::l4 {

namespace {
constexpr size_t kMaxDatagram = 65535;
constexpr int kReceiveBatch = 64;

std::string flowKey(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    std::string k(6, '\0');
    std::memcpy(k.data(), &in->sin_addr, 4);
    std::memcpy(k.data() + 4, &in->sin_port, 2);
    return k;
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  std::string k(18, '\0');
  std::memcpy(k.data(), &in6->sin6_addr, 16);
  std::memcpy(k.data() + 16, &in6->sin6_port, 2);
  return k;
}
}  // namespace

UdpFlow::UdpFlow(UdpFrontend& fe, std::shared_ptr<const ListenerRuntime> rt, size_t host, core::Fd upstream)
    : fe_(fe), rt_(std::move(rt)), host_(host), upstream_(std::move(upstream)), timer_([this] { onTimer(); }) {}

UdpFlow::~UdpFlow() {
  rt_->cluster->hosts[host_].release();
}

void UdpFlow::forward(const uint8_t* data, size_t len) {
  last_activity_ms_ = fe_.ctx_.loop.nowMs();
  bytes_in_ += len;
  // A datagram that does not fit the socket buffer is dropped, as the network would.
  ::send(upstream_.get(), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void UdpFlow::onIoEvents(uint32_t) {
  if (removed_) {
    return;
  }
  uint8_t buf[kMaxDatagram];
  for (;;) {
    ssize_t n = ::recv(upstream_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n >= 0) {
      last_activity_ms_ = fe_.ctx_.loop.nowMs();
      if (!answered_) {
        answered_ = true;
        upstream::recordSuccess(*rt_->cluster, host_);
      }
      fe_.sendToClient(*this, buf, static_cast<size_t>(n));
      continue;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN) {
      return;
    }
    // ECONNREFUSED: the server's port is closed (ICMP). Forget the flow so the client's
    // next datagram picks another server.
    const auto& host = rt_->cluster->hosts[host_];
    host.state->connect_failures.fetch_add(1, std::memory_order_relaxed);
    upstream::recordFailure(*rt_->cluster, host_, fe_.ctx_.loop.nowMs());
    log::warn("udp server error", {{"pool", rt_->cluster->config.name},
                                   {"server", host.config.address.text},
                                   {"error", std::strerror(errno)}});
    fe_.removeFlow(*this, "server error");
    return;
  }
}

const upstream::HostState* UdpFlow::hostState() const { return rt_->cluster->hosts[host_].state.get(); }

void UdpFlow::onTimer() {
  uint64_t idle = static_cast<uint64_t>(rt_->listener->udp_flow_idle.count());
  uint64_t quiet = fe_.ctx_.loop.nowMs() - last_activity_ms_;
  if (quiet >= idle) {
    fe_.removeFlow(*this, "idle");
    return;
  }
  fe_.ctx_.loop.timers().schedule(timer_, idle - quiet);
}

UdpFrontend::UdpFrontend(WorkerContext& ctx, int fd, std::shared_ptr<const void> keepalive)
    : ctx_(ctx),
      fd_(fd),
      keepalive_(std::move(keepalive)),
      pickers_(ctx.worker_index, ctx.picker_generation),
      resume_([this] { receiveAll(); }) {}

UdpFrontend::~UdpFrontend() { stop(); }

void UdpFrontend::update(std::shared_ptr<const ListenerRuntime> runtime) {
  const upstream::PoolState* pool = runtime->cluster->pool_state.get();
  pickers_.retainOnly([pool](const upstream::PoolState* p) { return p == pool; });
  picker_ = &pickers_.get(runtime->cluster);  // new flows only: they all use runtime_
  runtime_ = std::move(runtime);
}

bool UdpFrontend::start() {
  if (!registered_) {
    registered_ = ctx_.loop.add(fd_, EPOLLIN | EPOLLET, this);
  }
  return registered_;
}

void UdpFrontend::stop() {
  if (registered_) {
    ctx_.loop.remove(fd_);
    registered_ = false;
  }
  ctx_.loop.timers().cancel(resume_);
  while (!flows_.empty()) {
    removeFlow(*flows_.begin()->second, "stopped");
  }
}

void UdpFrontend::onIoEvents(uint32_t) { receiveAll(); }

void UdpFrontend::receiveAll() {
  uint8_t buf[kMaxDatagram];
  alignas(cmsghdr) char control[256];
  for (int taken = 0; registered_; ++taken) {
    if (taken == kReceiveBatch) {
      ctx_.loop.timers().schedule(resume_, 0);  // fairness, as for TCP accepts
      return;
    }
    sockaddr_storage from{};
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN, or a transient error reported on the socket
    }
    std::string key = flowKey(from);
    UdpFlow* flow = nullptr;
    if (auto it = flows_.find(key); it != flows_.end()) {
      flow = it->second.get();
    } else {
      flow = createFlow(from, msg.msg_namelen, key);
      if (!flow) {
        continue;  // dropped; already logged
      }
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          auto* l = reinterpret_cast<sockaddr_in*>(&flow->local);
          l->sin_family = AF_INET;
          l->sin_addr = pi.ipi_addr;
          flow->local_ifindex = pi.ipi_ifindex;
          flow->has_local = true;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo pi;
          std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
          auto* l = reinterpret_cast<sockaddr_in6*>(&flow->local);
          l->sin6_family = AF_INET6;
          l->sin6_addr = pi.ipi6_addr;
          flow->local_ifindex = static_cast<int>(pi.ipi6_ifindex);
          flow->has_local = true;
        }
      }
    }
    flow->forward(buf, static_cast<size_t>(n));
  }
}

UdpFlow* UdpFrontend::createFlow(const sockaddr_storage& client, socklen_t len, const std::string& key) {
  const auto& rt = runtime_;
  uint64_t now = ctx_.loop.nowMs();
  auto dropWarn = [&](const char* why) {
    if (now - last_drop_warning_ms_ >= 1000 || last_drop_warning_ms_ == 0) {
      last_drop_warning_ms_ = now;
      log::warn("udp datagram dropped", {{"listener", rt->listener->name}, {"reason", why}});
    }
  };
  if (flows_.size() >= rt->listener->udp_max_flows) {
    dropWarn("max_flows reached");
    return nullptr;
  }
  const auto& hosts = rt->cluster->hosts;
  upstream::ClusterLoad load(*rt->cluster, now);
  balance::PickRequest req;
  req.hash = needsClientHash(*rt->cluster) ? clientHash(reinterpret_cast<const sockaddr*>(&client)) : 0;
  req.now = static_cast<double>(now) / 1000.0;
  std::vector<bool> tried;  // (a datagram is never retried)
  auto taken = upstream::takeHost(*rt->cluster, *picker_, load, req, tried);
  if (taken.host < 0) {
    dropWarn("no usable server");
    return nullptr;
  }
  const size_t pick = static_cast<size_t>(taken.host);
  const auto& addr = hosts[pick].config.address;
  core::Fd fd(::socket(addr.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd || ::connect(fd.get(), addr.sa(), addr.length) != 0) {
    if (errno == EMFILE || errno == ENFILE) {
      onFdExhausted(ctx_, "udp flow");
    } else {
      dropWarn(std::strerror(errno));
    }
    hosts[pick].release();
    return nullptr;
  }
  int ufd = fd.get();
  auto flow = std::make_unique<UdpFlow>(*this, rt, pick, std::move(fd));
  flow->key = key;
  std::memcpy(&flow->client, &client, len);
  flow->last_activity_ms_ = now;
  if (!ctx_.loop.add(ufd, EPOLLIN | EPOLLET, flow.get())) {
    return nullptr;  // flow's destructor releases the slot
  }
  ctx_.loop.timers().schedule(flow->timer_, rt->listener->udp_flow_idle.count());
  UdpFlow* raw = flow.get();
  raw->start_us_ = ctx_.loop.clock().nowUs();
  rt->stats->worker(ctx_.worker_index).connections.add();
  rt->stats->worker(ctx_.worker_index).active.add(1);
  rt->cluster->hosts[pick].state->traffic->worker(ctx_.worker_index).connections.add();
  flows_.emplace(key, std::move(flow));
  ++ctx_.udp_flow_count;
  return raw;
}

void UdpFrontend::sendToClient(UdpFlow& flow, const uint8_t* data, size_t len) {
  flow.bytes_out_ += len;
  iovec iov{const_cast<uint8_t*>(data), len};
  msghdr msg{};
  msg.msg_name = &flow.client;
  msg.msg_namelen = net::addressLength(reinterpret_cast<const sockaddr*>(&flow.client));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  if (flow.has_local) {
    // Reply from the address the client sent to, or it would not recognise the answer.
    msg.msg_control = control;
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
    if (flow.local.ss_family == AF_INET) {
      in_pktinfo pi{};
      pi.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(&flow.local)->sin_addr;
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
    } else {
      in6_pktinfo pi{};
      pi.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(&flow.local)->sin6_addr;
      pi.ipi6_ifindex = static_cast<unsigned>(flow.local_ifindex);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof pi);
      std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof pi);
    }
  }
  ::sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

size_t UdpFrontend::removeFlowsTo(const upstream::HostState* state) {
  std::vector<UdpFlow*> doomed;
  for (auto& [key, flow] : flows_) {
    if (flow->hostState() == state) {
      doomed.push_back(flow.get());
    }
  }
  for (UdpFlow* f : doomed) {
    removeFlow(*f, "server drain timeout");
  }
  return doomed.size();
}

void UdpFrontend::removeFlow(UdpFlow& flow, const char* reason) {
  auto it = flows_.find(flow.key);
  if (it == flows_.end() || it->second.get() != &flow) {
    return;  // already gone (a newer flow may have the same client)
  }
  log::debug("udp flow closed", {{"reason", reason}});
  // Figures and the access log line of the flow (one "connection").
  const auto& rt = *flow.rt_;
  auto& l = rt.stats->worker(ctx_.worker_index);
  l.active.add(-1);
  l.bytes_in.add(flow.bytes_in_);
  l.bytes_out.add(flow.bytes_out_);
  const auto& host = rt.cluster->hosts[flow.host_];
  auto& h = host.state->traffic->worker(ctx_.worker_index);
  h.bytes_out.add(flow.bytes_in_);
  h.bytes_in.add(flow.bytes_out_);
  if (rt.access_log) {
    std::string client = net::formatIp(reinterpret_cast<const sockaddr*>(&flow.client));
    upstream::AccessRecord r;
    r.client = client;
    r.listener = rt.listener->name;
    r.protocol = "udp";
    r.pool = rt.cluster->config.name;
    r.server = host.config.address.text;
    r.termination = reason;
    r.bytes_in = flow.bytes_in_;
    r.bytes_out = flow.bytes_out_;
    r.total_us = static_cast<int64_t>(ctx_.loop.clock().nowUs() - flow.start_us_);
    rt.access_log->write(ctx_.worker_index, r);
  }
  flow.removed_ = true;
  ctx_.loop.remove(flow.upstream_.get());
  ctx_.loop.timers().cancel(flow.timer_);
  --ctx_.udp_flow_count;
  ctx_.loop.deferDelete(std::move(it->second));
  flows_.erase(it);
}

}  // namespace fulcrum::l4
