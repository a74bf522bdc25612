// Credit leases on simulated time: isolates admit requests against blocks
// the ledger granted them, renew ahead of need, fall back to per-request
// admission near a limit, and vanish. However they are scheduled, spend
// never passes a budget, a minute never serves more than its limit, and
// every lease ends reported or charged.
#include <catch2/catch.hpp>

#include <random>

#include "gw/ledger.h"
#include "gw/nlohmann.h"

using nlohmann::json;

namespace {

constexpr int64_t START = 1795341600000;  // 2026-11-22T10:00:00Z
constexpr int64_t RPM = 30;
constexpr int64_t BUDGET_TOKENS = 4000;
constexpr int64_t WORST_TOKENS = 100;

// Every op runs on the ledger kept in memory and on one loaded from what
// it stored: equal answers mean the stored document keeps the leases.
struct Sim {
  gw::ledger::Ledger ledger;
  std::map<std::string, std::string> stored;
  int64_t now = START;
  json op(json o) {
    o["tenant"] = "acme";  // every op names its tenant, as the worker's do
    gw::ledger::Outcome reloaded = gw::ledger::Ledger(gw::ledger::storedDocument(stored)).apply(o.dump(), now);
    gw::ledger::Outcome out = ledger.apply(o.dump(), now);
    REQUIRE(reloaded.result == out.result);
    for (const auto& [key, value] : out.writes) stored[key] = value;
    json r = json::parse(out.result, nullptr, false);
    REQUIRE_FALSE(r.is_discarded());
    return r;
  }
  json base(const char* name, const std::string& id) {
    return {{"op", name}, {"tenant", "acme"}, {"key", "k1"}, {"user", "u1"}, {"key_limits", {{"rpm", RPM}}},
            {"user_defaults", json::object()}, {name == std::string("reserve") ? "request_id" : "lease_id", id}};
  }
  int64_t budgetUsed() { return op({{"op", "usage"}})["budgets"][0]["used"].get<int64_t>(); }
  int64_t inFlight() { return op({{"op", "usage"}})["inFlightRequests"].get<int64_t>(); }
};

struct Isolate {
  bool holding = false;
  std::string lease;
  int64_t requests = 0, tokens = 0;  // what is left of the lease
  int64_t served = 0, spent = 0;     // what it admitted against it
};

}  // namespace

TEST_CASE("leases: a grant is what is left, renewals report, an unreported lease is charged in full") {
  Sim s;
  s.op({{"op", "budget_set"},
        {"budget", {{"id", "tok"}, {"type", "tokens"}, {"limit", 1000}, {"period", "daily"}, {"pause", true}}}});
  json a = s.base("lease", "L1");
  a.update({{"requests", 10}, {"tokens", 600}, {"min_tokens", WORST_TOKENS}, {"ttl_ms", 30000}});
  json g = s.op(a);
  REQUIRE(g["ok"] == true);
  CHECK(g["lease"]["requests"] == 10);
  CHECK(g["lease"]["tokens"] == 600);
  CHECK(g["lease"]["expires_ms"] == START + 30000);
  // Another isolate gets only what is left of the budget.
  json b = s.base("lease", "L2");
  b.update({{"requests", 25}, {"tokens", 900}, {"min_tokens", WORST_TOKENS}, {"ttl_ms", 120000}});
  json g2 = s.op(b);
  REQUIRE(g2["ok"] == true);
  CHECK(g2["lease"]["expires_ms"] == START + 60000);  // it ends with the minute its requests count in
  CHECK(g2["lease"]["requests"] == 13);  // so it is half the ttl asked for: half of 25
  CHECK(g2["lease"]["tokens"] == 400);   // half of 900, cut to what is left
  // Nothing left for one more request's worst case: refused, and per-request admission refuses too.
  json c = s.base("lease", "L3");
  c.update({{"requests", 5}, {"tokens", 100}, {"min_tokens", WORST_TOKENS}});
  json refused = s.op(c);
  CHECK(refused["ok"] == false);
  CHECK(refused["lease"] == false);
  // L1 reports (3 requests, 250 tokens) and renews in one call: the unused grant comes back.
  json renew = s.base("lease", "L4");
  renew.update({{"requests", 10}, {"tokens", 600}, {"min_tokens", WORST_TOKENS},
                {"report", {{"lease_id", "L1"}, {"requests", 3}, {"tokens", 250}}}});
  json g4 = s.op(renew);
  REQUIRE(g4["ok"] == true);
  CHECK(g4["lease"]["tokens"] == 350);  // 1000 - 250 spent - 400 held by L2
  CHECK(s.budgetUsed() == 250);
  // L2's isolate vanishes: at its expiry it is charged in full.
  s.now += 61000;
  s.op({{"op", "tick"}});
  CHECK(s.budgetUsed() == 250 + 400 + 350);  // L4 expired unreported too
  CHECK(s.inFlight() == 0);
  // A late report of an expired lease changes nothing.
  json late = s.op({{"op", "lease_report"}, {"lease_id", "L2"}, {"requests", 1}, {"tokens", 10}});
  CHECK(late["known"] == false);
  CHECK(s.budgetUsed() == 1000);
}

TEST_CASE("leases on simulated time: random isolates, renewals, crashes and expiries never pass a limit") {
  std::mt19937_64 rng(GENERATE(1, 2, 3, 4, 5, 6, 7, 8));
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  Sim s;
  s.op({{"op", "budget_set"},
        {"budget", {{"id", "tok"}, {"type", "tokens"}, {"limit", BUDGET_TOKENS}, {"period", "daily"}, {"pause", true}}}});
  std::vector<Isolate> isolates(5);
  std::map<int64_t, int64_t> servedInMinute;
  int64_t actualSpend = 0, leases = 0, reserves = 0, refusals = 0;

  auto report = [](const Isolate& iso) {
    return json{{"lease_id", iso.lease}, {"requests", iso.served}, {"tokens", iso.spent}};
  };
  auto serve = [&](int64_t actual) {
    actualSpend += actual;
    ++servedInMinute[s.now / 60000];
  };
  for (int step = 0; step < 3000; ++step) {
    Isolate& iso = isolates[pick(0, isolates.size() - 1)];
    const int64_t roll = pick(0, 99);
    if (roll < 8) {
      s.now += pick(0, 15000);
    } else if (roll < 11) {
      iso = Isolate{};  // the isolate vanishes with its lease, unreported
    } else if (roll < 14 && iso.holding) {
      s.op({{"op", "lease_report"}, {"tenant", "acme"}, {"lease_id", iso.lease}, {"requests", iso.served}, {"tokens", iso.spent}});
      iso = Isolate{};
    } else {
      const int64_t actual = pick(1, WORST_TOKENS);
      if (iso.holding && iso.requests >= 1 && iso.tokens >= WORST_TOKENS) {
        // Admitted in the isolate, no ledger call: at most the lease's worst case.
        --iso.requests, iso.tokens -= actual, ++iso.served, iso.spent += actual;
        serve(actual);
        continue;
      }
      // Renew (reporting the old lease), sized to the isolate's pace.
      json ask = s.base("lease", "L" + std::to_string(++leases));
      ask.update({{"requests", pick(1, 20)}, {"tokens", pick(1, 20) * WORST_TOKENS}, {"min_tokens", WORST_TOKENS},
                  {"ttl_ms", pick(1000, 60000)}});
      if (iso.holding) ask["report"] = report(iso);
      json g = s.op(ask);
      iso = Isolate{};
      if (g["ok"] == true) {
        iso.holding = true;
        iso.lease = g["lease"]["id"];
        iso.requests = g["lease"]["requests"];
        iso.tokens = g["lease"]["tokens"];
        REQUIRE(iso.requests >= 1);
        REQUIRE(iso.tokens >= WORST_TOKENS);
        --iso.requests, iso.tokens -= actual, ++iso.served, iso.spent += actual;
        serve(actual);
        continue;
      }
      // Near a limit: per request, as without leases.
      const std::string id = "R" + std::to_string(++reserves);
      json req = s.base("reserve", id);
      req["tokens"] = WORST_TOKENS;
      req["ttl_ms"] = 60000;
      if (s.op(req)["ok"] == true) {
        serve(actual);
        s.op({{"op", "settle"}, {"tenant", "acme"}, {"request_id", id}, {"tokens", actual}});
      } else {
        ++refusals;
      }
    }
    // The promises, after every step.
    REQUIRE(actualSpend <= BUDGET_TOKENS);
    REQUIRE(servedInMinute[s.now / 60000] <= RPM);
    REQUIRE(s.budgetUsed() <= BUDGET_TOKENS);
  }
  // Everything ends: reported, or expired and charged.
  for (Isolate& iso : isolates)
    if (iso.holding && pick(0, 1) == 0)
      s.op({{"op", "lease_report"}, {"tenant", "acme"}, {"lease_id", iso.lease}, {"requests", iso.served}, {"tokens", iso.spent}});
  s.now += 10 * 60000;
  s.op({{"op", "tick"}});
  CHECK(s.inFlight() == 0);
  CHECK(actualSpend <= s.budgetUsed());  // recorded spend covers all that was served
  CHECK(s.budgetUsed() <= BUDGET_TOKENS);
  CHECK(refusals > 0);  // the budget was reached: the run went near the limit
}

TEST_CASE("leases: holds wait grace_ms past the admission end for the report; reports come in batches") {
  Sim s;
  s.op({{"op", "budget_set"},
        {"budget", {{"id", "tok"}, {"type", "tokens"}, {"limit", 1000}, {"period", "daily"}, {"pause", true}}}});
  json a = s.base("lease", "L1");
  a.update({{"requests", 5}, {"tokens", 500}, {"min_tokens", WORST_TOKENS}, {"ttl_ms", 10000}, {"grace_ms", 120000}});
  REQUIRE(s.op(a)["lease"]["expires_ms"] == START + 10000);  // it admits until then
  json b = s.base("lease", "L2");
  b.update({{"requests", 5}, {"tokens", 200}, {"min_tokens", WORST_TOKENS}, {"ttl_ms", 10000}});
  REQUIRE(s.op(b)["ok"] == true);
  // Past L1's admission end a request it admitted last is still running:
  // the ledger still holds the lease, and its report is what counts.
  s.now += 60000;
  s.op({{"op", "tick"}});
  CHECK(s.inFlight() == 1);  // L2 (no grace) expired and was charged in full
  CHECK(s.budgetUsed() == 200);
  json report = s.op({{"op", "lease_report"},
                      {"reports", json::array({{{"lease_id", "L1"}, {"requests", 2}, {"tokens", 30}},
                                               {{"lease_id", "L2"}, {"requests", 1}, {"tokens", 10}}})}});
  CHECK(report["known"] == false);  // L2 was no longer held
  CHECK(s.budgetUsed() == 230);
  CHECK(s.inFlight() == 0);
}

TEST_CASE("leases end at a budget's next alert threshold, so the alert is not held back") {
  Sim s;
  s.op({{"op", "budget_set"},
        {"budget",
         {{"id", "tok"}, {"type", "tokens"}, {"limit", 1000}, {"period", "daily"}, {"pause", false}, {"thresholds", {50}}}}});
  json a = s.base("lease", "L1");
  a.update({{"requests", 10}, {"tokens", 1000}, {"min_tokens", WORST_TOKENS}});
  json g = s.op(a);
  REQUIRE(g["ok"] == true);
  CHECK(g["lease"]["tokens"] == 500);
  // Its report crosses the threshold: the alert is raised then.
  json renew = s.base("lease", "L2");
  renew.update({{"requests", 10}, {"tokens", 1000}, {"min_tokens", WORST_TOKENS},
                {"report", {{"lease_id", "L1"}, {"requests", 5}, {"tokens", 500}}}});
  json g2 = s.op(renew);
  INFO(g2.dump());
  REQUIRE(g2["ok"] == true);
  CHECK(g2["lease"]["tokens"] == 1000);  // past the last threshold, a budget that does not pause holds nothing back
  CHECK(s.op({{"op", "get"}})["pendingAlerts"] == 1);
}
