#pragma once
// Effects a session wants performed, batched until the host polls. A batch is
//   u32 little-endian length of the JSON header | JSON header | body bytes
// where the header is {"effects":[...],"done":bool,"wake":[...]?} and an effect's "body" is
// an [offset, length] range into the bytes after the header: bodies cross the
// boundary raw, never base64.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/json_writer.h"

namespace gw {

class Outbox {
 public:
  // Starts an effect object and returns a writer positioned inside it; the
  // caller adds fields, then calls endEffect().
  json::Writer beginEffect(std::string_view type) {
    if (!effects_.empty()) effects_.push_back(',');
    effects_.push_back('{');
    json::Writer w(effects_, /*inside=*/true);
    w.field("type", type);
    return w;
  }
  void endEffect() { effects_.push_back('}'); }

  // Adds a [offset,length] field (`body` unless named) referring to `bytes` copied to the blob.
  void body(json::Writer& w, std::string_view bytes, std::string_view field = "body") {
    w.key(field).beginArray().integer(static_cast<int64_t>(blob_.size())).integer(static_cast<int64_t>(bytes.size()));
    w.endArray();
    blob_.append(bytes);
  }

  bool empty() const { return effects_.empty(); }

  // Serialises the batch into `out` and clears the outbox. `wake` names
  // other sessions that have effects waiting (the host polls them too).
  void drain(std::string& out, bool done, const std::vector<uint32_t>& wake = {});

 private:
  std::string effects_;
  std::string blob_;
};

}  // namespace gw
