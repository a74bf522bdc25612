#include "gw/sse.h"

namespace gw {

bool SseDecoder::feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (overflowed_) return false;
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    if (pendingCr_) {
      pendingCr_ = false;
      if (bytes[i] == '\n') {  // second half of a CRLF split across slices
        ++i;
        continue;
      }
    }
    size_t j = i;
    while (j < n && bytes[j] != '\n' && bytes[j] != '\r') ++j;
    line_.append(bytes.data() + i, j - i);
    if (line_.size() + data_.size() > maxEventBytes_) {
      overflowed_ = true;
      return false;
    }
    if (j == n) break;  // line continues in the next slice
    if (bytes[j] == '\r') pendingCr_ = true;
    i = j + 1;
    if (pendingCr_ && i < n && bytes[i] == '\n') {
      pendingCr_ = false;
      ++i;
    }
    processLine(out);
  }
  return true;
}

void SseDecoder::processLine(std::vector<SseEvent>& out) {
  if (line_.empty()) {
    if (sawData_) {
      if (!data_.empty() && data_.back() == '\n') data_.pop_back();
      out.push_back({std::move(event_), std::move(data_), id_});
    }
    data_.clear();
    event_.clear();
    sawData_ = false;
    sawField_ = false;
    return;
  }
  if (line_[0] == ':') {  // comment, e.g. keep-alive
    line_.clear();
    return;
  }
  std::string_view line(line_);
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  sawField_ = true;
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    sawData_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_.assign(value);
  }
  line_.clear();
}

}  // namespace gw
