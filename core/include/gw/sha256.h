#pragma once
// SHA-256 (FIPS 180-4), incremental. API keys are stored and looked up by
// their digest only; the response cache keys on it too.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

class Sha256 {
 public:
  Sha256();
  Sha256& update(std::string_view bytes);
  std::array<uint8_t, 32> finish();

 private:
  void block(const uint8_t* p);

  uint32_t h_[8];
  uint8_t buf_[64];
  uint64_t length_ = 0;  // bytes hashed so far
  size_t used_ = 0;      // bytes waiting in buf_
};

// Lower-case hex digest of `bytes`.
std::string sha256Hex(std::string_view bytes);
std::string toHex(const uint8_t* bytes, size_t n);
// Compares without an early exit, so timing does not reveal the matching prefix.
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace gw
