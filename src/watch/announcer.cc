#include "watch/announcer.h"

namespace fulcrum::watch {

void Announcer::setWanted(bool announce) {
  if (announce != wanted_) {
    wanted_ = announce;
    refused_ = false;  // a new state is worth a try at once
  }
}

void Announcer::onConnected() {
  connected_ = true;
  in_flight_.reset();
  known_.reset();
  refused_ = false;
}

void Announcer::onDisconnected() {
  connected_ = false;
  in_flight_.reset();
  known_.reset();
}

std::string Announcer::next(uint64_t nowMs) {
  if (!connected_ || in_flight_) {
    return "";
  }
  bool due = nowMs >= next_assert_ms_;
  if (refused_ ? !due : known_ == wanted_ && !due) {
    return "";
  }
  in_flight_ = wanted_;
  return (wanted_ ? "enable " : "disable ") + protocol_ + "\n";
}

std::string Announcer::onReply(const BirdReply& reply, uint64_t nowMs) {
  if (!in_flight_) {
    return "";  // (nothing was asked: an unsolicited line, ignored)
  }
  bool asked = *in_flight_;
  in_flight_.reset();
  next_assert_ms_ = nowMs + reassert_ms_;
  std::optional<bool> before = known_;
  switch (reply.code) {
    case kBirdEnabled:
    case kBirdAlreadyEnabled:
      known_ = true;
      break;
    case kBirdDisabled:
    case kBirdAlreadyDisabled:
      known_ = false;
      break;
    default:
      known_.reset();
      refused_ = true;
      return "BIRD refused \"" + std::string(asked ? "enable " : "disable ") + protocol_ + "\": " +
             std::to_string(reply.code) + " " + reply.text.substr(0, reply.text.find('\n')) + " (trying again in " + std::to_string(reassert_ms_) +
             " ms)";
  }
  refused_ = false;
  bool changed = reply.code == kBirdEnabled || reply.code == kBirdDisabled;
  if (!changed) {
    return "";
  }
  std::string what = *known_ ? "announced" : "withdrawn";
  if (before.has_value() && *before == asked) {
    // BIRD had already agreed, yet the protocol had to be changed again: someone else did.
    return "route " + what + " again (protocol " + protocol_ + " was changed behind the watcher's back)";
  }
  return "route " + what + " (BIRD protocol " + protocol_ + ")";
}

bool validProtocolName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return false;
  }
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name.front())) {
    return false;
  }
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace fulcrum::watch
