#pragma once
// The usage log in D1 (gateway_usage_logs, migrations/0003): one row per
// client request, written after the response so it never delays it.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/session.h"

namespace gw {


// The request header a client may name its conversation with.
constexpr std::string_view CONVERSATION_HEADER = "x-aigw-conversation-id";

// Writes the row from the session's request record (request id, time,
// attribution and latency come from the session); Session::finish calls it.
void recordUsage(Session& s, int status, std::string_view errorClass, std::string_view errorMessage);

// The row an admitted request leaves if it never ends (its runtime died and
// the ledger dropped its hold when it expired): rendered when the hold is
// taken (the ledger keeps it with the hold), written by the ledger then.
// Status 500, error_class `abandoned`, nothing charged, latency the hold's
// lifetime. It never replaces the request's own row (INSERT OR IGNORE),
// and the request's own row, should it come later, replaces it.
std::string abandonedRowParams(const Session& s, int64_t holdMs);
std::string_view insertAbandonedRowSql();

// Rows that came through the usage queue (each the parameters of one row's
// INSERT, as recordUsage sent them) as one statement: its one parameter is
// the JSON array of the rows.
std::string_view usageBatchSql();
// The parameters of one row hold this many values; rows queued by a
// gateway before key_source, metadata and detail hold up to three fewer
// (written with them NULL).
constexpr uint32_t USAGE_ROW_VALUES = 29;
constexpr uint32_t USAGE_ROW_VALUES_BEFORE = 26;

}  // namespace gw
