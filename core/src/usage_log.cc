#include "gw/usage_log.h"

#include "gw/json_writer.h"

namespace gw {

namespace {

#define GW_USAGE_ROW                                                                                            \
  " INTO gateway_usage_logs (request_id, created_at, tenant_id, user_id, agent_id, key_id, "                        \
  "conversation_id, api_type, provider, model, upstream_model, input_tokens, output_tokens, cached_tokens, "       \
  "usage_estimated, cost_usd_pico, cost_brl_pico, latency_ms, ttft_ms, status, stream, error_class, error_message, " \
  "cache_status, attempts, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
constexpr std::string_view INSERT_ROW = "INSERT OR REPLACE" GW_USAGE_ROW;
constexpr std::string_view INSERT_ABANDONED_ROW = "INSERT OR IGNORE" GW_USAGE_ROW;
#undef GW_USAGE_ROW

constexpr size_t MAX_TEXT = 500;  // error messages and names are cut to this

void optional(json::Writer& w, std::string_view v) {
  if (v.empty()) w.null();
  else w.string(v.substr(0, MAX_TEXT));
}

struct Outcome {
  int status;
  std::string_view errorClass, errorMessage;  // empty on success
};

std::string rowParams(const Session& s, const Outcome& o, bool charged, int64_t latencyMs) {
  const Principal& p = s.principal();
  const RequestRecord& r = s.record();
  std::string params;
  json::Writer w(params);
  w.beginArray().string(s.requestId()).integer(s.openedMs()).string(p.tenantId);
  optional(w, p.userId);
  optional(w, p.agentId);
  optional(w, p.keyId);
  optional(w, s.request().header(CONVERSATION_HEADER).substr(0, 128));
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
  w.endArray();
  return params;
}

}  // namespace

void recordUsage(Session& s, int status, std::string_view errorClass, std::string_view errorMessage) {
  if (s.principal().tenantId.empty()) return;  // refused before it belonged to anyone
  s.d1Detached(INSERT_ROW, rowParams(s, {status, errorClass, errorMessage}, true, s.nowMs() - s.openedMs()));
}

std::string abandonedRowParams(const Session& s, int64_t holdMs) {
  const Outcome abandoned{500, "abandoned",
                          "The request never ended (the gateway's runtime stopped); its hold expired and nothing was "
                          "charged."};
  return rowParams(s, abandoned, false, holdMs);
}

std::string_view insertAbandonedRowSql() { return INSERT_ABANDONED_ROW; }

}  // namespace gw
