#include "watch/bird_reply.h"

namespace fulcrum::watch {

Status BirdReplyReader::feed(std::string_view bytes, std::vector<BirdReply>& out) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (partial_.size() + piece.size() > kMaxLine) {
      return Error{"BIRD sent a line longer than " + std::to_string(kMaxLine) + " bytes"};
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      return {};
    }
    bytes.remove_prefix(nl + 1);
    Status s;
    if (partial_.empty()) {
      s = line(piece, out);
    } else {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      s = line(whole, out);
    }
    if (!s) {
      return s;
    }
  }
  return {};
}

Status BirdReplyReader::line(std::string_view l, std::vector<BirdReply>& out) {
  std::string_view text;
  bool last = false;
  if (!l.empty() && l.front() == ' ') {
    // Continues the code of the line before: only inside a reply.
    if (!open_) {
      return Error{"BIRD sent a continuation line outside a reply"};
    }
    text = l.substr(1);
  } else {
    if (l.size() < 5 || (l[4] != '-' && l[4] != ' ')) {
      return Error{"not a BIRD control-socket reply line: \"" + std::string(l.substr(0, 40)) + "\""};
    }
    int code = 0;
    for (size_t i = 0; i < 4; ++i) {
      if (l[i] < '0' || l[i] > '9') {
        return Error{"not a BIRD reply code: \"" + std::string(l.substr(0, 4)) + "\""};
      }
      code = code * 10 + (l[i] - '0');
    }
    if (!open_) {
      current_.code = code;  // the answer; a multi-line one ends with "0000 "
    } else if (code >= 8000 && current_.code < 8000) {
      current_.code = code;  // an error anywhere is the answer
    }
    last = l[4] == ' ';
    text = l.substr(5);
  }
  if (current_.text.size() + text.size() + 1 > kMaxReply) {
    return Error{"BIRD sent a reply longer than " + std::to_string(kMaxReply) + " bytes"};
  }
  if (open_) {
    current_.text.push_back('\n');
  }
  current_.text.append(text);
  open_ = true;
  if (last) {
    out.push_back(std::move(current_));
    current_ = BirdReply{};
    open_ = false;
  }
  return {};
}

}  // namespace fulcrum::watch
