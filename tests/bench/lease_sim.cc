// Many isolates against one tenant ledger, on simulated time: each isolate
// is a whole gateway (the real core, its credit leases and report jobs), all
// sharing one ledger, with Poisson arrivals. Prints one JSON line per
// scenario: what was offered, served and refused, the ledger calls per 100
// requests, the share admitted per request at the ledger, and at a limit
// the requests served per minute against it. Every scenario ends by checking
// that the ledger counted exactly what was served, with nothing left held.
// Used by scripts/bench for the capacity model in docs/BENCHMARKS.md.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fake_host.h"
#include "gw/nlohmann.h"

using gw::testing::FakeHost;
using nlohmann::json;

namespace {

const std::string HELLO = R"({"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":"hi"}]})";

struct Scenario {
  std::string name;
  std::vector<double> ratePerIsolate;  // requests per second, one entry per isolate
  int64_t seconds = 90;
  int64_t rpm = -1;  // the key's requests per minute (-1: ample headroom)
};

struct Arrival {
  int64_t atMs;
  size_t isolate;
};

int countOps(const FakeHost& h, const char* op) {
  int n = 0;
  const std::string needle = std::string("\"op\":\"") + op + "\"";
  for (const std::string& o : h.ledgerOps) n += o.find(needle) != std::string::npos;
  return n;
}

json run(const Scenario& sc, uint64_t seed) {
  gw::testing::Vars vars = {{"AI_QUOTA_DAILY_LIMIT", "100000000"}, {"AI_QUOTA_MONTHLY_LIMIT", "1000000000"},
                            {"AI_QUOTA_MONTHLY_SPEND_LIMIT", "1000000"}, {"AI_RATE_LIMIT_TPM", "1000000000000"},
                            {"AI_RATE_LIMIT_RPM", std::to_string(sc.rpm > 0 ? sc.rpm : 10000000)}};
  FakeHost ledger(vars);
  ledger.d1Down = true;
  std::vector<std::unique_ptr<FakeHost>> isolates;
  for (size_t i = 0; i < sc.ratePerIsolate.size(); ++i) {
    isolates.push_back(std::make_unique<FakeHost>(vars));
    isolates.back()->ledgerHost = &ledger;
    isolates.back()->upstreamLatencyMs = 0;
    isolates.back()->d1Down = true;  // the usage rows are not what is measured
    // Request (and so lease) ids differ across isolates, as random entropy makes them.
    char prefix[17];
    std::snprintf(prefix, sizeof prefix, "%08zx", (i + 1) & 0xffffffffu);
    isolates.back()->entropy.replace(0, 8, prefix, 8);
  }
  // Minute-aligned, as the ledger's per-minute windows are.
  const int64_t start = ledger.nowMs - ledger.nowMs % 60000 + 60000;
  for (auto& h : isolates) h->nowMs = start;
  std::mt19937_64 rng(seed);
  std::vector<Arrival> arrivals;
  for (size_t i = 0; i < sc.ratePerIsolate.size(); ++i) {
    std::exponential_distribution<double> gap(sc.ratePerIsolate[i] / 1000.0);
    for (double t = gap(rng); t < sc.seconds * 1000.0; t += gap(rng))
      arrivals.push_back({start + static_cast<int64_t>(t), i});
  }
  std::sort(arrivals.begin(), arrivals.end(), [](const Arrival& a, const Arrival& b) { return a.atMs < b.atMs; });
  int64_t served = 0, refused = 0;
  std::vector<int64_t> perMinute(static_cast<size_t>(sc.seconds / 60 + 1), 0);
  // Each isolate's timers fire on time: its due report jobs run before any later arrival.
  auto runJobsUntil = [&](int64_t t) {
    for (auto& h : isolates)
      if (!h->jobs.empty()) {
        h->nowMs = std::max(h->nowMs, t);
        h->runDueJobs();
      }
  };
  for (const Arrival& a : arrivals) {
    runJobsUntil(a.atMs);
    FakeHost& h = *isolates[a.isolate];
    h.nowMs = std::max(h.nowMs, a.atMs);
    const int status = h.chat(HELLO).status;
    if (status == 200) {
      ++served;
      ++perMinute[static_cast<size_t>((a.atMs - start) / 60000)];
    } else {
      ++refused;
    }
  }
  const int64_t calls = static_cast<int64_t>(ledger.ledgerOps.size());
  const int64_t perRequest = countOps(ledger, "reserve");
  // Every lease stops admitting and is reported by its isolate's job, on time.
  for (int64_t t = start + sc.seconds * 1000; t <= start + (sc.seconds + 120) * 1000; t += 500) runJobsUntil(t);
  ledger.nowMs = start + (sc.seconds + 600) * 1000;
  json usage = json::parse(ledger.request("GET", "/api/budget/current-usage?tenantId=acme", "", gw::testing::adminHeaders()).body,
                           nullptr, false);
  const bool exact = usage["tenant"]["totalRequests"] == served && usage["inFlightRequests"] == 0;
  if (!exact) std::fprintf(stderr, "%s: ledger %s, served %lld\n", sc.name.c_str(), usage.dump().c_str(), static_cast<long long>(served));
  json out = {{"scenario", sc.name},
              {"isolates", sc.ratePerIsolate.size()},
              {"offered", arrivals.size()},
              {"served", served},
              {"refused", refused},
              {"ledger_calls_per_100", calls * 100.0 / std::max<int64_t>(1, served + refused)},
              {"per_request_share", perRequest * 1.0 / std::max<int64_t>(1, served)},
              {"exact", exact}};
  if (sc.rpm > 0) {
    int64_t most = 0, sum = 0, full = 0;
    for (size_t m = 0; static_cast<int64_t>(m + 1) * 60 <= sc.seconds; ++m)  // whole minutes only
      most = std::max(most, perMinute[m]), sum += perMinute[m], ++full;
    out["rpm"] = sc.rpm;
    out["most_in_a_minute"] = most;
    out["mean_per_minute"] = full ? sum * 1.0 / full : 0.0;
  }
  return out;
}

}  // namespace

int main() {
  std::vector<Scenario> scenarios = {
      {"1 isolate, 1 req/s", {1.0}},
      {"1 isolate, 100 req/s", {100.0}},
      {"8 isolates, 10 req/s each", std::vector<double>(8, 10.0)},
      {"8 isolates, 100 req/s each", std::vector<double>(8, 100.0)},
      {"64 isolates, 1 req/s each", std::vector<double>(64, 1.0)},
      {"64 isolates, 10 req/s each", std::vector<double>(64, 10.0)},
  };
  // At a limit: 600 requests per minute offered 1.5 times over, evenly and skewed (one isolate half the load).
  Scenario even{"8 isolates at a 600 rpm limit, 1.5x offered evenly", std::vector<double>(8, 15.0 / 8), 300, 600};
  Scenario skewed{"8 isolates at a 600 rpm limit, 1.5x offered, one isolate half of it", std::vector<double>(8, 7.5 / 7), 300, 600};
  skewed.ratePerIsolate[0] = 7.5;
  scenarios.push_back(even);
  scenarios.push_back(skewed);
  uint64_t seed = 1;
  for (const Scenario& sc : scenarios) std::printf("%s\n", run(sc, seed++).dump().c_str());
  return 0;
}
