#pragma once
// Incremental Server-Sent Events decoder (WHATWG framing: LF, CRLF or CR line
// ends, "data:" lines joined with LF, comments ignored). Fed arbitrary byte
// slices; an event is produced only when its terminating blank line arrives,
// so the result never depends on where the transport split the stream.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gw {

struct SseEvent {
  std::string event;  // "" means the default "message" type
  std::string data;
  std::string id;
};

class SseDecoder {
 public:
  explicit SseDecoder(size_t maxEventBytes = 8u << 20) : maxEventBytes_(maxEventBytes) {}

  // Appends every event completed by `bytes` to `out`. Returns false once an
  // event grew past the size limit; the decoder then ignores further input.
  bool feed(std::string_view bytes, std::vector<SseEvent>& out);

  // True when bytes of an unterminated event are buffered (a cut stream).
  bool hasPartialEvent() const { return !line_.empty() || !data_.empty() || sawField_; }
  bool overflowed() const { return overflowed_; }

 private:
  void processLine(std::vector<SseEvent>& out);

  size_t maxEventBytes_;
  std::string line_;
  std::string data_;
  std::string event_;
  std::string id_;
  bool sawData_ = false;
  bool sawField_ = false;
  bool pendingCr_ = false;
  bool overflowed_ = false;
};

}  // namespace gw
