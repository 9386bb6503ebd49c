#pragma once
// Announcer: what the watcher tells BIRD, from its verdict and BIRD's answers. Pure (time is
// passed in). The service route lives in a BIRD protocol (a static one, `disabled` in
// bird.conf, so it starts withdrawn and a restarted BIRD starts withdrawn too); the watcher
// announces it with `enable NAME` and withdraws it with `disable NAME`. One command is in
// flight at a time. On every new connection (BIRD restarted) the wanted state is asserted
// again, and every `reassert_ms` while connected, so a reconfiguration or a hand-typed
// birdc command that changed the protocol is undone.
#include <cstdint>
#include <optional>
#include <string>

#include "watch/bird_reply.h"

namespace fulcrum::watch {

class Announcer {
 public:
  // protocol: a BIRD protocol name (letters, digits, '_'; checked by validProtocolName).
  Announcer(std::string protocol, uint64_t reassertMs) : protocol_(std::move(protocol)), reassert_ms_(reassertMs) {}

  // The verdict: announce (ready) or withdraw (anything else).
  void setWanted(bool announce);
  // A control connection is up and BIRD greeted it: BIRD's state is unknown until it answers.
  void onConnected();
  // The connection is gone; a command in flight is forgotten.
  void onDisconnected();

  // The command line to send now ("enable fulcrum_vip\n"), or "" when nothing is to be sent
  // (not connected, a command in flight, BIRD already agrees and no re-assertion is due).
  std::string next(uint64_t nowMs);

  // BIRD's answer to the command in flight. Returns a line for the log when the answer says
  // something happened (announced, withdrawn, undone behind the watcher's back, refused),
  // else "". A refusal (no such protocol) is retried after reassert_ms, not at once.
  std::string onReply(const BirdReply& reply, uint64_t nowMs);

  bool wanted() const { return wanted_; }
  // BIRD confirmed the wanted state and nothing is in flight.
  bool settled() const { return connected_ && !in_flight_ && known_ == wanted_; }
  // What BIRD last said: true announced, false withdrawn, nullopt unknown.
  std::optional<bool> known() const { return known_; }

 private:
  std::string protocol_;
  uint64_t reassert_ms_;
  bool wanted_ = false;
  bool connected_ = false;
  std::optional<bool> in_flight_;  // the state the command in flight asks for
  std::optional<bool> known_;
  bool refused_ = false;  // the last command was refused: wait before the next try
  uint64_t next_assert_ms_ = 0;
};

// BIRD protocol names: a letter then letters, digits and '_' (what bird.conf accepts unquoted).
bool validProtocolName(std::string_view name);

}  // namespace fulcrum::watch
