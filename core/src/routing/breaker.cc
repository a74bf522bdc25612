#include "gw/breaker.h"

#include <algorithm>

namespace gw {

const char* breakerStateName(BreakerState s) {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "closed";
}

BreakerState CircuitBreaker::state(int64_t nowMs) const {
  if (openUntilMs_ == 0) return BreakerState::Closed;
  return nowMs < openUntilMs_ ? BreakerState::Open : BreakerState::HalfOpen;
}

void CircuitBreaker::slide(const BreakerPolicy& p, int64_t nowMs) {
  const int64_t half = std::max<int64_t>(p.windowMs / 2, 1);
  if (nowMs - bucketStartMs_ < half) return;
  if (nowMs - bucketStartMs_ < 2 * half) {
    calls_[1] = calls_[0], failures_[1] = failures_[0];
  } else {
    calls_[1] = failures_[1] = 0;
  }
  calls_[0] = failures_[0] = 0;
  bucketStartMs_ = nowMs - (nowMs - bucketStartMs_) % half;
}

bool CircuitBreaker::allow(const BreakerPolicy& p, int64_t nowMs) {
  switch (state(nowMs)) {
    case BreakerState::Closed: return true;
    case BreakerState::Open: return false;
    case BreakerState::HalfOpen:
      // One probe at a time; a probe whose outcome never came back is
      // forgotten after another open time.
      if (probeSentMs_ >= 0 && nowMs - probeSentMs_ < p.openMs) return false;
      probeSentMs_ = nowMs;
      return true;
  }
  return true;
}

void CircuitBreaker::trip(const BreakerPolicy& p, int64_t nowMs) {
  openUntilMs_ = nowMs + std::max<int64_t>(p.openMs, 1);
  probeSentMs_ = -1;
  consecutive_ = 0;
  calls_[0] = calls_[1] = failures_[0] = failures_[1] = 0;
  ++version_;
  sharedDirty_ = true;
}

void CircuitBreaker::onSuccess(const BreakerPolicy& p, int64_t nowMs) {
  if (openUntilMs_ != 0) {
    // Only the half-open probe (or a call sent before the trip) can succeed here.
    if (state(nowMs) == BreakerState::Open) return;
    openUntilMs_ = 0;
    probeSentMs_ = -1;
    ++version_;
    sharedDirty_ = true;
  }
  slide(p, nowMs);
  consecutive_ = 0;
  ++calls_[0];
}

void CircuitBreaker::onFailure(const BreakerPolicy& p, int64_t nowMs) {
  if (openUntilMs_ != 0) {
    if (state(nowMs) == BreakerState::HalfOpen) trip(p, nowMs);  // the probe failed
    return;
  }
  slide(p, nowMs);
  ++consecutive_;
  ++calls_[0], ++failures_[0];
  const int calls = calls_[0] + calls_[1], failures = failures_[0] + failures_[1];
  if (consecutive_ >= p.consecutiveFailures ||
      (calls >= p.minRequests && static_cast<double>(failures) >= p.failureRatio * calls))
    trip(p, nowMs);
}

void CircuitBreaker::writeShared(json::Writer& w) const {
  w.beginObject().field("open_until", openUntilMs_).field("version", version_).endObject();
  sharedDirty_ = false;
}

bool CircuitBreaker::adoptShared(const json::Tape& t, uint32_t node) {
  if (t.kind(node) != json::Kind::Object) return false;
  const int64_t until = t.integerAt(node, "open_until", -1);
  const int64_t version = t.integerAt(node, "version", -1);
  if (until < 0 || version <= version_) return false;
  openUntilMs_ = until;
  probeSentMs_ = -1;
  consecutive_ = 0;
  version_ = version;
  return true;
}

}  // namespace gw
