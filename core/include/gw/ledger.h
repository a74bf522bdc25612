#pragma once
// The ledger: one tenant's exact counters, reservations and budgets, as a
// pure function over a JSON document. The host keeps the document in a
// Durable Object (one per tenant, so every change to it is serialised) and
// calls apply() for each operation with the object's clock; nothing here
// reads time or performs I/O, so the native tests drive it on simulated time.
//
// Operations (JSON, "op" names one):
//   reserve      {request_id, key, user, key_limits, user_defaults, tokens, usd, brl, ttl_ms}
//   settle       {request_id, key, user, tokens, usd, brl}
//   release      {request_id}
//   set_tenant   {enabled?, limits?}         set_quota {user, limits}    reset_quota {user}
//   budget_set   {budget}                    budget_delete {id?}         (no id: all)
//   revoke       {key}                       usage {user?}               get {}
//   tick         {}                          alerts_sent {seqs: [...]}
// Results: {"ok":true, ...} or {"ok":false,"status","type","code","message","param",
// "retry_after_ms"}; any result may carry "alerts" (to post to the budget
// webhook) and "snapshot" (the blocked-scopes summary to mirror into KV).
#include <cstdint>
#include <string>
#include <string_view>

namespace gw::ledger {

struct Outcome {
  bool stateChanged = false;
  std::string state;   // the new document when stateChanged
  std::string result;  // JSON
};

Outcome apply(std::string_view state, std::string_view op, int64_t nowMs);

}  // namespace gw::ledger
