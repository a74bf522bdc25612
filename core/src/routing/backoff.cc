#include "gw/backoff.h"

#include <algorithm>

namespace gw {

int64_t backoffDelay(const BackoffPolicy& p, int retry, int64_t retryAfterMs, Random& random) {
  if (retryAfterMs > p.retryAfterCapMs) return -1;
  int64_t ceiling = std::max<int64_t>(p.baseMs, 0);
  for (int i = 0; i < retry && ceiling < p.capMs; ++i) ceiling *= 2;
  ceiling = std::clamp<int64_t>(ceiling, 0, std::max<int64_t>(p.capMs, 0));
  auto delay = static_cast<int64_t>(random.upTo(static_cast<uint64_t>(ceiling)));
  return retryAfterMs >= 0 ? std::max(delay, retryAfterMs) : delay;
}

int64_t parseRetryAfterMs(std::string_view v) {
  if (v.empty() || v.size() > 9) return -1;
  int64_t seconds = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds * 1000;
}

}  // namespace gw
