// Retry backoff, circuit breakers on simulated time, and every routing
// policy's choice on fixed inputs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "gw/backoff.h"
#include "gw/breaker.h"
#include "gw/routing.h"

using gw::BreakerPolicy;
using gw::BreakerState;
using gw::CircuitBreaker;

TEST_CASE("backoff is full jitter under an exponential ceiling, capped, and honours Retry-After") {
  gw::Random random(42);
  const gw::BackoffPolicy p{1000, 8000, 60000};
  for (int retry = 0; retry < 8; ++retry) {
    const int64_t ceiling = std::min<int64_t>(8000, int64_t{1000} << retry);
    int64_t lo = INT64_MAX, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      const int64_t d = gw::backoffDelay(p, retry, -1, random);
      REQUIRE(d >= 0);
      REQUIRE(d <= ceiling);
      lo = std::min(lo, d), hi = std::max(hi, d);
    }
    // Full jitter: the draws spread over the whole window, not around its top.
    CHECK(lo < ceiling / 10);
    CHECK(hi > ceiling * 9 / 10);
  }
  // A provider's Retry-After is a floor; one beyond the cap means "do not retry".
  CHECK(gw::backoffDelay(p, 0, 5000, random) >= 5000);
  CHECK(gw::backoffDelay(p, 0, 60000, random) == 60000);
  CHECK(gw::backoffDelay(p, 0, 60001, random) == -1);
  // The same seed replays the same delays.
  gw::Random a(7), b(7);
  for (int i = 0; i < 10; ++i) CHECK(gw::backoffDelay(p, i % 4, -1, a) == gw::backoffDelay(p, i % 4, -1, b));
  CHECK(gw::parseRetryAfterMs("3") == 3000);
  CHECK(gw::parseRetryAfterMs("Wed, 21 Oct 2026 07:28:00 GMT") == -1);
  CHECK(gw::parseRetryAfterMs("") == -1);
}

TEST_CASE("a breaker opens after consecutive failures, refuses, probes once half-open, and recovers") {
  const BreakerPolicy p{5, 0.5, 10, 60000, 60000};
  CircuitBreaker b;
  int64_t now = 1000000;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(b.allow(p, now));
    b.onFailure(p, now);
  }
  CHECK(b.state(now) == BreakerState::Closed);
  b.onSuccess(p, now);  // a success resets the run
  for (int i = 0; i < 4; ++i) b.onFailure(p, now);
  CHECK(b.state(now) == BreakerState::Closed);
  b.onFailure(p, now);
  CHECK(b.state(now) == BreakerState::Open);
  CHECK_FALSE(b.allow(p, now + 59999));
  // Half-open after the open time: exactly one probe.
  now += 60000;
  CHECK(b.state(now) == BreakerState::HalfOpen);
  CHECK(b.allow(p, now));
  CHECK_FALSE(b.allow(p, now + 10));
  // The probe fails: open again for a full open time.
  b.onFailure(p, now + 20);
  CHECK(b.state(now + 20) == BreakerState::Open);
  CHECK_FALSE(b.allow(p, now + 60019));
  now += 20 + 60000;
  REQUIRE(b.allow(p, now));
  b.onSuccess(p, now + 5);
  CHECK(b.state(now + 5) == BreakerState::Closed);
  CHECK(b.allow(p, now + 6));
  // A probe whose outcome never came back does not wedge the breaker.
  for (int i = 0; i < 5; ++i) b.onFailure(p, now + 10);
  REQUIRE(b.state(now + 60010) == BreakerState::HalfOpen);
  REQUIRE(b.allow(p, now + 60010));
  CHECK_FALSE(b.allow(p, now + 60010 + 59999));
  CHECK(b.allow(p, now + 60010 + 60000));
}

TEST_CASE("a breaker opens on a failure ratio over the window, and old calls slide out") {
  const BreakerPolicy p{100, 0.5, 10, 60000, 30000};
  CircuitBreaker b;
  int64_t now = 0;
  // Alternating success and failure: never 100 in a row, but half fail.
  for (int i = 0; i < 9; ++i) {
    if (i % 2) b.onFailure(p, now); else b.onSuccess(p, now);
    now += 100;
  }
  CHECK(b.state(now) == BreakerState::Closed);  // 4 of 9: under the minimum of 10 calls
  b.onFailure(p, now);
  CHECK(b.state(now) == BreakerState::Open);  // 5 of 10 reaches the ratio

  CircuitBreaker slow;
  for (int i = 0; i < 8; ++i) slow.onFailure(p, i);
  // Two minutes later the failures have left the window: successes dominate.
  for (int i = 0; i < 10; ++i) slow.onSuccess(p, 120000 + i);
  slow.onFailure(p, 120100);
  CHECK(slow.state(120100) == BreakerState::Closed);
}

TEST_CASE("a trip published by one instance is honoured by another, and a later close too") {
  const BreakerPolicy p;
  CircuitBreaker here, there;
  for (int i = 0; i < 5; ++i) here.onFailure(p, 1000);
  REQUIRE(here.sharedChanged());
  std::string shared;
  gw::json::Writer w(shared);
  here.writeShared(w);
  CHECK_FALSE(here.sharedChanged());
  gw::json::Tape t;
  REQUIRE(t.parse(shared));
  CHECK(there.adoptShared(t, t.root()));
  CHECK(there.state(2000) == BreakerState::Open);
  CHECK_FALSE(there.adoptShared(t, t.root()));  // nothing new
  // The first instance's probe succeeds and it publishes the close.
  REQUIRE(here.allow(p, 1000 + p.openMs));
  here.onSuccess(p, 1000 + p.openMs);
  shared.clear();
  gw::json::Writer w2(shared);
  here.writeShared(w2);
  gw::json::Tape closed;
  REQUIRE(closed.parse(shared));
  CHECK(there.adoptShared(closed, closed.root()));
  CHECK(there.state(1000 + p.openMs) == BreakerState::Closed);
  // A stale record (the trip) read after the close changes nothing.
  CHECK_FALSE(there.adoptShared(t, t.root()));
  CHECK(there.state(1000 + p.openMs) == BreakerState::Closed);
  // Garbage is ignored.
  gw::json::Tape junk;
  REQUIRE(junk.parse(R"({"open_until":"soon","version":9})"));
  CHECK_FALSE(there.adoptShared(junk, 0));
}

namespace {

std::vector<gw::RouteCandidate> fleet() {
  std::vector<gw::RouteCandidate> c(4);
  c[0] = {"openai/gpt-4o", true, true, 2500, 900, 400, 0.9, 1};
  c[1] = {"anthropic/claude-haiku-4-5", true, true, 1000, 700, 300, 0.8, 3};
  c[2] = {"groq/llama-3.3-70b", true, true, 600, 300, 0, 0.7, 0};
  c[3] = {"gemini/gemini-2.5-flash", false, true, 300, 200, 100, 0.85, 5};  // breaker open
  return c;
}

std::vector<std::string> ids(const std::vector<gw::RouteCandidate>& c, const gw::RouteDecision& d) {
  std::vector<std::string> out;
  for (size_t i : d.order) out.push_back(c[i].id);
  return out;
}

}  // namespace

TEST_CASE("each routing policy orders healthy capable targets, unhealthy ones last") {
  auto c = fleet();
  gw::Random r(1);
  using V = std::vector<std::string>;
  CHECK(ids(c, gw::route(gw::RoutePolicy::Ordered, c, "", 0, r)) ==
        V{"openai/gpt-4o", "anthropic/claude-haiku-4-5", "groq/llama-3.3-70b", "gemini/gemini-2.5-flash"});
  CHECK(ids(c, gw::route(gw::RoutePolicy::Cost, c, "", 0, r)) ==
        V{"groq/llama-3.3-70b", "anthropic/claude-haiku-4-5", "openai/gpt-4o", "gemini/gemini-2.5-flash"});
  // Time to first token when known, else total latency.
  CHECK(ids(c, gw::route(gw::RoutePolicy::Latency, c, "", 0, r)) ==
        V{"anthropic/claude-haiku-4-5", "groq/llama-3.3-70b", "openai/gpt-4o", "gemini/gemini-2.5-flash"});
  CHECK(ids(c, gw::route(gw::RoutePolicy::Quality, c, "", 0, r)) ==
        V{"openai/gpt-4o", "anthropic/claude-haiku-4-5", "groq/llama-3.3-70b", "gemini/gemini-2.5-flash"});
  CHECK(ids(c, gw::route(gw::RoutePolicy::Preference, c, "groq/llama-3.3-70b", 0, r))[0] == "groq/llama-3.3-70b");
  gw::RouteDecision unavailable = gw::route(gw::RoutePolicy::Preference, c, "gemini/gemini-2.5-flash", 0, r);
  CHECK(ids(c, unavailable)[0] == "openai/gpt-4o");  // the preferred target's breaker is open
  CHECK(unavailable.reason == "preference unavailable, ordered");
  CHECK(ids(c, gw::route(gw::RoutePolicy::RoundRobin, c, "", 0, r))[0] == "openai/gpt-4o");
  CHECK(ids(c, gw::route(gw::RoutePolicy::RoundRobin, c, "", 1, r))[0] == "anthropic/claude-haiku-4-5");
  CHECK(ids(c, gw::route(gw::RoutePolicy::RoundRobin, c, "", 5, r))[0] == "groq/llama-3.3-70b");
  // An incapable target is never offered.
  c[1].capable = false;
  CHECK(gw::route(gw::RoutePolicy::Ordered, c, "", 0, r).order.size() == 3);
}

TEST_CASE("weighted routing follows the weights, and the same entropy makes the same choice") {
  auto c = fleet();
  std::map<std::string, int> firsts;
  gw::Random r(99);
  for (int i = 0; i < 4000; ++i) ++firsts[c[gw::route(gw::RoutePolicy::Weighted, c, "", 0, r).order[0]].id];
  // Healthy weights 1 : 3 : 0 (gemini's 5 does not count: its breaker is open).
  CHECK(firsts["groq/llama-3.3-70b"] == 0);
  CHECK(firsts["gemini/gemini-2.5-flash"] == 0);
  CHECK(firsts["anthropic/claude-haiku-4-5"] > 2800);
  CHECK(firsts["anthropic/claude-haiku-4-5"] < 3200);
  gw::Random a(5), b(5);
  for (int i = 0; i < 20; ++i)
    CHECK(gw::route(gw::RoutePolicy::Weighted, c, "", 0, a).order == gw::route(gw::RoutePolicy::Weighted, c, "", 0, b).order);
  gw::RoutePolicy parsed;
  CHECK(gw::parseRoutePolicy("round_robin", parsed));
  CHECK(parsed == gw::RoutePolicy::RoundRobin);
  CHECK_FALSE(gw::parseRoutePolicy("fastest", parsed));
}
