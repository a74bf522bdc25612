#pragma once
// Deterministic PRNG seeded from the entropy the host passes in: the core
// never asks the platform for randomness, so tests replay exactly.
#include <cstdint>

namespace gw {

class Random {
 public:
  explicit Random(uint64_t seed = 0) : state_(seed) {}
  // splitmix64
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound].
  uint64_t upTo(uint64_t bound) { return bound == UINT64_MAX ? next() : next() % (bound + 1); }

 private:
  uint64_t state_;
};

}  // namespace gw
