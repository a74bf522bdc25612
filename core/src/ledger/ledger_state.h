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
  int64_t cacheHits = 0, savedTokens = 0, savedUsd = 0;  // answered from the response cache
};

struct BudgetState {
  Budget budget;
  int64_t periodStart = 0;
  int64_t used = 0;
  std::vector<int64_t> alerted;  // thresholds already announced this period
};

// A hold: one request's worst case (reserve), or a credit lease: a block of
// `requests` and amounts an isolate admits requests against itself (lease).
struct Reservation {
  std::string id, key, user;
  int64_t tokens = 0, usd = 0, brl = 0, atMs = 0, expiresMs = 0;
  std::string abandonedRow;  // the usage row's parameters (a JSON array) should the request never end
  int64_t requests = 1;      // requests it counted (a lease's block)
  bool lease = false;
  int64_t admitUntilMs = 0;  // a lease admits until then; its holds wait for the report until expiresMs
  // What a lease's progress reports already recorded as served and spent
  // (reports are cumulative, so one lost or repeated changes nothing).
  int64_t reportedRequests = 0, reportedTokens = 0, reportedUsd = 0, reportedBrl = 0;
  // Still held: the grant less what was reported spent.
  int64_t heldTokens() const { return tokens - reportedTokens; }
  int64_t heldUsd() const { return usd - reportedUsd; }
  int64_t heldBrl() const { return brl - reportedBrl; }
};

// A threshold crossing waiting to be posted to the budget webhook.
struct Alert {
  int64_t seq = 0;
  std::string budgetId, user, type, period;
  int64_t periodStart = 0, threshold = 0, atMs = 0;
  std::string used, limit;  // formatted for the budget's type ("12.5", "40000")
};

// A scope refused until a known time, for the KV snapshot.
struct Block {
  int64_t until = 0;
  std::string message;
  std::string code = "insufficient_quota";  // and OpenAI's error type
  std::string type = "insufficient_quota";
  int64_t limit = -1;  // a minute's limit that was reached (requests or tokens)
};

// A ledger is stored as several entries, so an operation rewrites only what
// it changed: "meta" (switches, tenant limits, budgets, reservations,
// alerts, the snapshot), "quotas", "revoked", and one "a:<account>" per
// account ("a:tenant", "a:user:<id>", "a:key:<id>"). To load, the host hands
// back every entry as one JSON object {"meta":{...},"a:tenant":{...},...}.
struct State {
  bool enabled = true;
  bool storeBodies = false;  // its requests' bodies go to R2 (the request log)
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
  std::string tenant;    // whose ledger this is, as its ops say (not stored)
  // Rows of requests whose holds expired in this operation, for the host to write.
  std::vector<std::string> abandonedRows;

  // Not stored: what changed since the last write, and each account's
  // block (derived from the accounts, computed on first use after loading).
  std::set<std::string, std::less<>> dirtyAccounts;
  bool quotasDirty = false, revokedDirty = false;
  std::map<std::string, Block, std::less<>> accountBlocks;
  bool blocksKnown = false;

  // The account to change: created when new, and written with the next change.
  Account& touch(std::string_view name);
};

// An unreadable document reads as an empty ledger: the stored text only ever
// comes from storedEntries, so this is a fresh tenant, not lost data.
State readState(std::string_view text);
// The entries to store after a change (always "meta", plus whatever is
// dirty), and clears the dirty marks.
void storedEntries(State& s, std::vector<std::pair<std::string, std::string>>& out);
void writeAlert(json::Writer& w, const Alert& a);

}  // namespace gw::ledger
