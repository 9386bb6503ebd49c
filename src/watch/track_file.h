#pragma once
// keepalived's track_file: a file holding one integer that keepalived re-reads; with
// `weight 0` any value but 0 puts the VRRP instance in FAULT, so the peer takes the address.
// Written whole or not at all (a temporary file renamed over it), so keepalived never reads
// a half-written value.
#include <string>

#include "common/result.h"

namespace fulcrum::watch {

// 0 = this Fulcrum may hold the address; 1 = it may not.
Status writeTrackFile(const std::string& path, bool up);

}  // namespace fulcrum::watch
