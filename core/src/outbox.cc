#include "gw/outbox.h"

namespace gw {

void Outbox::drain(std::string& out, bool done, const std::vector<uint32_t>& wake) {
  out.clear();
  out.resize(4);
  out += "{\"effects\":[";
  out += effects_;
  out += done ? "],\"done\":true" : "],\"done\":false";
  if (!wake.empty()) {
    out += ",\"wake\":[";
    for (size_t i = 0; i < wake.size(); ++i) {
      if (i > 0) out.push_back(',');
      out += std::to_string(wake[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  auto len = static_cast<uint32_t>(out.size() - 4);
  out[0] = static_cast<char>(len & 0xFF);
  out[1] = static_cast<char>((len >> 8) & 0xFF);
  out[2] = static_cast<char>((len >> 16) & 0xFF);
  out[3] = static_cast<char>((len >> 24) & 0xFF);
  out += blob_;
  effects_.clear();
  blob_.clear();
}

}  // namespace gw
