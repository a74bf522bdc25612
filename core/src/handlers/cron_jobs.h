#pragma once
// The scheduled run's jobs besides the ledgers and the probes (cron.cc):
// each is given the run and reports to it exactly once.
#include <string>
#include <string_view>

#include "gw/move_function.h"
#include "gw/session.h"

namespace gw::handlers::scheduled {

using FetchOutcome = gw::FetchOutcome;
using FetchThen = FetchCallback;

class Run {
 public:
  virtual ~Run() = default;
  // A fetch whose whole response (bodies up to 2 MiB) goes to `then`.
  virtual void fetch(Session& s, const FetchSpec& spec, FetchThen then) = 0;
  // A job's report, `"name": summary` in the run's answer; a failed job
  // makes the run incomplete (503).
  virtual void finish(Session& s, std::string_view name, std::string summary, bool failed) = 0;
};

constexpr int64_t DAY_MS = 86400000;
// KV: the last pricing sync's outcome.
constexpr std::string_view PRICING_SYNC_KEY = "pricing:sync";

// Daily rollups of the usage log (migration 0004), from the last rolled
// day (at most 90 days back) to now.
void rollUpUsage(Session& s, Run& run);
// Prices from PRICING_URL into the registry, when pricing_sync_hours have passed.
void syncPricing(Session& s, Run& run);
// The error-rate and latency alert to GATEWAY_ALERT_WEBHOOK_URL.
void checkAlerts(Session& s, Run& run);
// Deletes the request log's bodies (R2) older than body_retention_days: up
// to 1000 a run, the oldest first (their keys begin with the day).
void expireBodies(Session& s, Run& run);

}  // namespace gw::handlers::scheduled
