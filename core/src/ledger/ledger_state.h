#pragma once
// The ledger's in-memory state and its stored document (compact JSON,
// snake_case, integer pico units). Kept apart from the rules so the rules
// never see text and the stored form can change in one place.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gw/limits.h"

namespace gw::ledger {

struct Account {
  std::string user;    // key accounts: whose key it is
  QuotaLimits limits;  // effective limits last enforced (for the KV snapshot)
  int64_t minute = 0, minuteRequests = 0, minuteTokens = 0;
  int64_t day = 0, dayRequests = 0;
  int64_t month = 0, monthRequests = 0, monthTokens = 0, monthUsd = 0, monthBrl = 0;
  int64_t totalRequests = 0, totalTokens = 0, totalUsd = 0, totalBrl = 0;
};

struct BudgetState {
  Budget budget;
  int64_t periodStart = 0;
  int64_t used = 0;
  std::vector<int64_t> alerted;  // thresholds already announced this period
};

struct Reservation {
  std::string id, key, user;
  int64_t tokens = 0, usd = 0, brl = 0, atMs = 0, expiresMs = 0;
};

// A threshold crossing waiting to be posted to the budget webhook.
struct Alert {
  int64_t seq = 0;
  std::string budgetId, user, type, period;
  int64_t periodStart = 0, threshold = 0, atMs = 0;
  std::string used, limit;  // formatted for the budget's type ("12.5", "40000")
};

struct State {
  bool enabled = true;
  QuotaLimits tenantLimits;
  QuotaLimits userDefaults;  // the gateway's per-user defaults, as last sent with a reserve
  std::map<std::string, QuotaLimits, std::less<>> quotas;  // per user
  std::map<std::string, Account, std::less<>> accounts;    // "tenant", "user:<id>", "key:<id>"
  std::set<std::string, std::less<>> revoked;
  std::vector<BudgetState> budgets;
  std::vector<Reservation> reservations;
  std::vector<Alert> alerts;
  int64_t alertSeq = 0;
  std::string snapshot;  // the last snapshot mirrored to KV
};

// An unreadable document reads as an empty ledger: the stored text only ever
// comes from writeState, so this is a fresh tenant, not lost data.
State readState(std::string_view text);
std::string writeState(const State& s);
void writeAlert(json::Writer& w, const Alert& a);

}  // namespace gw::ledger
