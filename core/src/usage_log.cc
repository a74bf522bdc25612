#include "gw/usage_log.h"

#include "gw/json_writer.h"
#include "gw/metadata.h"

namespace gw {

namespace {

#define GW_USAGE_COLUMNS                                                                                        \
  " INTO gateway_usage_logs (request_id, created_at, tenant_id, user_id, agent_id, key_id, "                        \
  "conversation_id, api_type, provider, model, upstream_model, input_tokens, output_tokens, cached_tokens, "       \
  "usage_estimated, cost_usd_pico, cost_brl_pico, latency_ms, ttft_ms, status, stream, error_class, error_message, " \
  "cache_status, attempts, route, key_source, metadata, detail)"
#define GW_USAGE_ROW GW_USAGE_COLUMNS " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
constexpr std::string_view INSERT_ROW = "INSERT OR REPLACE" GW_USAGE_ROW;
constexpr std::string_view INSERT_ABANDONED_ROW = "INSERT OR IGNORE" GW_USAGE_ROW;
// Many rows in one statement, whatever their number: one parameter, a JSON
// array of rows (each the parameters of INSERT_ROW), read by json_each. A
// row delivered twice replaces itself.
#define GW_COLUMN(i) "json_extract(value, '$[" #i "]')"
constexpr std::string_view INSERT_BATCH =
    "INSERT OR REPLACE" GW_USAGE_COLUMNS " SELECT " GW_COLUMN(0) ", " GW_COLUMN(1) ", " GW_COLUMN(2) ", " GW_COLUMN(3) ", "
    GW_COLUMN(4) ", " GW_COLUMN(5) ", " GW_COLUMN(6) ", " GW_COLUMN(7) ", " GW_COLUMN(8) ", " GW_COLUMN(9) ", "
    GW_COLUMN(10) ", " GW_COLUMN(11) ", " GW_COLUMN(12) ", " GW_COLUMN(13) ", " GW_COLUMN(14) ", " GW_COLUMN(15) ", "
    GW_COLUMN(16) ", " GW_COLUMN(17) ", " GW_COLUMN(18) ", " GW_COLUMN(19) ", " GW_COLUMN(20) ", " GW_COLUMN(21) ", "
    GW_COLUMN(22) ", " GW_COLUMN(23) ", " GW_COLUMN(24) ", " GW_COLUMN(25) ", " GW_COLUMN(26) ", " GW_COLUMN(27) ", " GW_COLUMN(28) " FROM json_each(?)";
#undef GW_COLUMN
#undef GW_USAGE_ROW
#undef GW_USAGE_COLUMNS

constexpr size_t MAX_TEXT = 500;  // error messages and names are cut to this

void optional(json::Writer& w, std::string_view v) {
  if (v.empty()) w.null();
  else w.string(v.substr(0, MAX_TEXT));
}

struct Outcome {
  int status;
  std::string_view errorClass, errorMessage;  // empty on success
};

// The request log's detail: failed attempts and what admission waited for.
std::string detailOf(const RequestRecord& r) {
  const int64_t authMs = r.meter.authMs(), ledgerMs = r.meter.ledgerMs();
  if (r.failedAttempts.empty() && authMs < 0 && ledgerMs < 0 && r.bodyKey.empty()) return {};
  std::string out;
  json::Writer w(out);
  w.beginObject();
  if (!r.failedAttempts.empty()) {
    w.key("attempts").beginArray();
    for (const FailedAttempt& a : r.failedAttempts) {
      w.beginObject().field("target", a.target).field("status", a.status).field("message", std::string_view(a.message).substr(0, 300));
      if (a.atMs >= 0) w.field("at_ms", a.atMs);
      w.endObject();
    }
    w.endArray();
  }
  if (authMs >= 0) w.field("auth_ms", authMs);
  if (ledgerMs >= 0) w.field("ledger_ms", ledgerMs);
  if (!r.bodyKey.empty()) w.field("body", r.bodyKey);  // the request log's bodies in R2
  w.endObject();
  return out;
}

std::string rowParams(const Session& s, const Outcome& o, bool charged, int64_t latencyMs) {
  const Principal& p = s.principal();
  const RequestRecord& r = s.record();
  std::string params;
  json::Writer w(params);
  w.beginArray().string(s.requestId()).integer(s.openedMs()).string(p.tenantId);
  optional(w, p.userId);
  optional(w, p.agentId);
  optional(w, p.keyId);
  // The header, else the metadata's own conversation_id.
  std::string_view conversation = s.request().header(CONVERSATION_HEADER);
  std::string fromMetadata;
  if (conversation.empty() && !r.metadata.empty()) conversation = fromMetadata = metadata::member(r.metadata, "conversation_id");
  optional(w, conversation.substr(0, 128));
  w.string(s.handler().apiType());
  optional(w, r.provider);
  optional(w, r.model);
  optional(w, r.upstreamModel);
  const bool known = charged && r.usage.known;
  w.integer(known ? r.usage.promptTokens : 0).integer(known ? r.usage.completionTokens : 0);
  w.integer(known ? r.usage.cachedPromptTokens : 0).integer(known && r.usage.estimated ? 1 : 0);
  w.integer(charged ? r.cost.picoUsd : 0).integer(charged ? r.cost.picoBrl : 0).integer(latencyMs);
  if (r.ttftMs >= 0) w.integer(r.ttftMs);
  else w.null();
  w.integer(o.status).integer(r.stream ? 1 : 0);
  optional(w, o.errorClass);
  optional(w, o.errorMessage);
  w.string(r.cacheStatus).integer(r.attempts);
  optional(w, r.route);
  optional(w, r.keySource);
  if (r.metadata.empty()) w.null();
  else w.string(r.metadata);
  const std::string detail = detailOf(r);
  if (detail.empty()) w.null();
  else w.string(detail);
  w.endArray();
  return params;
}

}  // namespace

void recordUsage(Session& s, int status, std::string_view errorClass, std::string_view errorMessage) {
  if (s.principal().tenantId.empty()) return;  // refused before it belonged to anyone
  const std::string params = rowParams(s, {status, errorClass, errorMessage}, true, s.nowMs() - s.openedMs());
  // Through the queue, its consumer writes rows in batches (usageBatchSql);
  // the row itself is the message. Should the send fail, the host runs the
  // consumer on it at once.
  if (s.config().usageQueue) s.queueSendDetached(USAGE_QUEUE_BINDING, params, USAGE_QUEUE_JOB, s.config().usagePackMs);
  else s.d1Detached(INSERT_ROW, params);
}

std::string_view usageBatchSql() { return INSERT_BATCH; }

std::string abandonedRowParams(const Session& s, int64_t holdMs) {
  const Outcome abandoned{500, "abandoned",
                          "The request never ended (the gateway's runtime stopped); its hold expired and nothing was "
                          "charged."};
  return rowParams(s, abandoned, false, holdMs);
}

std::string_view insertAbandonedRowSql() { return INSERT_ABANDONED_ROW; }

}  // namespace gw
