#pragma once
// The usage ledger in D1 (gateway_usage_logs, migrations/0003): one row per
// client request, written after the response so it never delays it.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/pricing.h"
#include "gw/session.h"
#include "gw/usage.h"

namespace gw {

struct UsageRecord {
  std::string_view apiType;  // chat_completion | messages | generate | embeddings
  std::string_view provider, model, upstreamModel;
  Usage usage;
  Cost cost;
  int64_t ttftMs = -1;  // streams: until the first bytes went to the client; -1: none
  int status = 0;
  bool stream = false;
  std::string_view errorClass, errorMessage;  // empty on success
  std::string_view cacheStatus = "BYPASS";
  int attempts = 0;
  std::string_view route;
};

// The request header a client may name its conversation with.
constexpr std::string_view CONVERSATION_HEADER = "x-aigw-conversation-id";

// Writes the row (request id, time, attribution and latency come from the session).
void recordUsage(Session& s, const UsageRecord& r);

// The row an admitted request leaves if it never ends (its runtime died and
// the ledger dropped its hold when it expired): rendered when the hold is
// taken (the ledger keeps it with the hold), written by the ledger then.
// Status 500, error_class `abandoned`, nothing charged, latency the hold's
// lifetime. It never replaces the request's own row (INSERT OR IGNORE),
// and the request's own row, should it come later, replaces it.
std::string abandonedRowParams(const Session& s, const UsageRecord& r, int64_t holdMs);
std::string_view insertAbandonedRowSql();

}  // namespace gw
