#pragma once
// Retry delays: exponential backoff with full jitter, and a provider's
// Retry-After honoured up to a cap. Pure: the host schedules the delay the
// core computes (the fetch effect's delay_ms); the core never sleeps.
#include <cstdint>
#include <string_view>

#include "gw/random.h"

namespace gw {

struct BackoffPolicy {
  int64_t baseMs = 1000;
  int64_t capMs = 8000;           // the jitter window never grows past this
  int64_t retryAfterCapMs = 60000;  // a longer Retry-After means: do not retry
};

// The delay before retry number `retry` (0 = the first retry): uniform in
// [0, min(cap, base * 2^retry)], raised to `retryAfterMs` when the provider
// sent one (>= 0). Returns -1 when Retry-After exceeds its cap.
int64_t backoffDelay(const BackoffPolicy& p, int retry, int64_t retryAfterMs, Random& random);

// Retry-After as delta-seconds, in ms; -1 when absent or an HTTP date
// (dates would need a calendar and providers send seconds).
int64_t parseRetryAfterMs(std::string_view value);

}  // namespace gw
