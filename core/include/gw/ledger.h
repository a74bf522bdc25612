#pragma once
// The ledger: one tenant's exact counters, reservations and budgets. The host
// keeps one Ledger per tenant in a Durable Object (so every change to it is
// serialised), stores the document it hands back, and calls apply() for each
// operation with the object's clock; nothing here reads time or performs
// I/O, so the native tests drive it on simulated time.
//
// Operations (JSON, "op" names one):
//   reserve      {request_id, key, user, key_limits, user_defaults, tokens, usd, brl, ttl_ms,
//                 abandoned_row}  (the usage row's parameters, written should the hold expire)
//   settle       {request_id, key, user, tokens, usd, brl}
//   release      {request_id}
//   lease        {lease_id, key, user, key_limits, user_defaults, requests, tokens, usd, brl,
//                 min_tokens, min_usd, min_brl, ttl_ms, grace_ms?, report?, reports?}  (a credit lease: see ledger.cc)
//   lease_report {lease_id, requests, tokens, usd, brl} or {reports: [...]}
//   hit          {key, user, key_limits, user_defaults, hits, tokens_saved, usd_saved}  (cache hits, counted after them)
//   set_tenant   {enabled?, store_bodies?, limits?}       set_quota {user, limits}    reset_quota {user}
//   budget_set   {budget}                    budget_delete {id?}         (no id: all)
//   revoke       {key}                       usage {user?, all_users?, progress?}   get {progress?}
//   (progress: [{lease_id, requests, tokens, usd, brl}], what the reader's leases served so far;
//   every lease report is cumulative since its grant)
//   tick         {}                          alerts_sent {seqs: [...]}
// Results: {"ok":true, ...} or {"ok":false,"status","type","code","message",
// "retry_after_ms"}; any result may carry "alerts" (to post to the budget
// webhook), "snapshot" (the blocked-scopes summary to mirror into KV) and
// "d1" ([{sql, params}]: rows of requests whose holds expired, to write).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gw::ledger {

// What one operation did. The host stores `writes` (storage key -> JSON
// text; only what changed) before it answers, and loads a ledger by handing
// every stored entry back as one object (storedDocument).
struct Outcome {
  std::vector<std::pair<std::string, std::string>> writes;
  std::string result;  // JSON
};

// {"<key>":<value>,...}: the stored entries as the document Ledger loads.
std::string storedDocument(const std::map<std::string, std::string>& entries);

struct State;

// A tenant's ledger held in memory between operations, so the hot path
// (reserve, settle) never re-reads its document.
class Ledger {
 public:
  // Loads a stored document; empty or unreadable text is a fresh tenant.
  explicit Ledger(std::string_view stored = {});
  ~Ledger();
  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;

  Outcome apply(std::string_view op, int64_t nowMs);

 private:
  std::unique_ptr<State> state_;
};

// One operation on a stored document (load, apply): for tests and one-shot hosts.
// The writes are what the host would merge into its stored entries.
Outcome apply(std::string_view stored, std::string_view op, int64_t nowMs);

}  // namespace gw::ledger
