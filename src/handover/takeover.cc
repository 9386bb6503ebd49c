#include "handover/takeover.h"

#include <unistd.h>

#include "handover/wire.h"

namespace fulcrum::handover {

Result<Takeover> Takeover::start(const std::string& path, InheritedSockets& into, std::chrono::milliseconds timeout) {
  auto channel = Channel::connect(path);
  if (!channel) {
    return channel.error();
  }
  Takeover t;
  t.channel_ = std::move(*channel);
  if (auto st = t.channel_.send(encodeTakeover(::getpid())); !st) {
    return Error{"asking for the sockets: " + st.message()};
  }
  auto first = t.channel_.receive(timeout);
  if (!first) {
    return Error{"waiting for the running fulcrum to start the transfer: " + first.error().message};
  }
  auto head = parseMessage(first->text);
  if (!head) {
    return head.error();
  }
  auto begin = decodeBegin(*head);
  if (!begin) {
    return Error{"the running fulcrum refused: " + begin.error().message};
  }
  t.predecessor_ = begin->pid;
  // Received sockets wait here until all are in and checked: a failed transfer adopts nothing.
  InheritedSockets got;
  std::string from = "fulcrum pid " + std::to_string(begin->pid);
  auto partial = [&](const std::string& why) {
    return Error{why + " (got " + std::to_string(t.received_) + " of " + std::to_string(begin->count) + " sockets)"};
  };
  for (;;) {
    auto msg = t.channel_.receive(timeout);
    if (!msg) {
      return partial("the transfer broke off: " + msg.error().message);
    }
    auto m = parseMessage(msg->text);
    if (!m) {
      return partial(m.error().message);
    }
    if (m->verb == "end") {
      if (!msg->fds.empty()) {
        return partial("descriptor count mismatch: \"end\" came with " + std::to_string(msg->fds.size()) +
                       " descriptors");
      }
      break;
    }
    auto records = decodeSockets(*m, msg->fds.size());
    if (!records) {
      return partial(records.error().message);
    }
    if (t.received_ + records->size() > begin->count) {
      return partial("descriptor count mismatch: more sockets than the " + std::to_string(begin->count) + " announced");
    }
    for (size_t i = 0; i < records->size(); ++i) {
      if (auto st = checkSocket(msg->fds[i].get(), (*records)[i]); !st) {
        return partial(st.message());
      }
      got.add(std::move((*records)[i]), std::move(msg->fds[i]), from);
      ++t.received_;
    }
  }
  if (t.received_ != begin->count) {
    return partial("descriptor count mismatch: \"end\" before all sockets came");
  }
  // Hand them over only now, all checked.
  into.merge(std::move(got));
  return t;
}

Result<uint64_t> Takeover::confirmReady(std::chrono::milliseconds timeout) {
  if (auto st = channel_.send(encodeReady(::getpid())); !st) {
    return Error{"telling the running fulcrum we serve: " + st.message()};
  }
  auto reply = channel_.receive(timeout);
  if (!reply) {
    return Error{"waiting for the running fulcrum to confirm its drain: " + reply.error().message};
  }
  auto m = parseMessage(reply->text);
  if (!m) {
    return m.error();
  }
  auto drain = decodeDraining(*m);
  channel_.close();
  return drain;
}

}  // namespace fulcrum::handover
