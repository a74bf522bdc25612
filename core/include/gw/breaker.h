#pragma once
// A circuit breaker per routing target, on the host's clock (passed in; the
// core never reads time). Closed -> open after N consecutive failures or a
// failure ratio over a sliding window; open -> half-open once the open time
// has passed, admitting one probe; the probe's success closes it, its
// failure opens it again. States are shared between isolates as small JSON
// records (KV), merged so that a trip seen anywhere is honoured everywhere.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw {

struct BreakerPolicy {
  int64_t consecutiveFailures = 5;  // trip after this many failures in a row
  double failureRatio = 0.5;    // ...or this share of failures in the window
  int minRequests = 10;         // the ratio needs at least this many calls in the window
  int64_t windowMs = 60000;
  int64_t openMs = 60000;       // how long an open breaker refuses before one probe
};

enum class BreakerState { Closed, Open, HalfOpen };

// Where a target's shared breaker record lives in KV, and how long an
// instance trusts its copy of the records other instances publish: a trip
// anywhere is honoured everywhere within about that long.
constexpr std::string_view BREAKER_KEY_PREFIX = "breaker:";
constexpr int64_t BREAKER_READ_MS = 2000;
inline std::string breakerKey(std::string_view target) { return std::string(BREAKER_KEY_PREFIX) + std::string(target); }

const char* breakerStateName(BreakerState s);

class CircuitBreaker {
 public:
  // Whether a call may go to the target now. In half-open state this admits
  // exactly one probe until its outcome is recorded (or, if the probe's
  // outcome never arrives, another after a further open time).
  bool allow(const BreakerPolicy& p, int64_t nowMs);
  void onSuccess(const BreakerPolicy& p, int64_t nowMs);
  void onFailure(const BreakerPolicy& p, int64_t nowMs);
  BreakerState state(int64_t nowMs) const;
  int64_t openUntilMs() const { return openUntilMs_; }

  // Shared form: {"open_until":ms,"version":n}, the version counting trips
  // and closes. Adopting a record (the object at `node`) takes its state when
  // its version is newer than ours, so a stale record never undoes a change.
  void writeShared(json::Writer& w) const;
  bool adoptShared(const json::Tape& t, uint32_t node);
  // Whether a change since the last writeShared should be published.
  bool sharedChanged() const { return sharedDirty_; }

 private:
  void trip(const BreakerPolicy& p, int64_t nowMs);
  void slide(const BreakerPolicy& p, int64_t nowMs);

  int consecutive_ = 0;
  // The window as two buckets (current and previous half), enough for a ratio.
  int64_t bucketStartMs_ = 0;
  int calls_[2] = {0, 0}, failures_[2] = {0, 0};
  int64_t openUntilMs_ = 0;   // > 0: tripped; refusing until then, then half-open
  int64_t probeSentMs_ = -1;  // half-open: when the probe went out
  int64_t version_ = 0;  // trips and closes, here or adopted
  mutable bool sharedDirty_ = false;
};

}  // namespace gw
