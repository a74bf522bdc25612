// The one end of every request (Session::finish): whatever ended it, the
// hold is charged or given back once, and a metered request leaves one log
// line and one usage row, both from its record.
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/periods.h"
#include "gw/session.h"
#include "gw/usage_log.h"

namespace gw {

namespace {

// `promptBytes`: how much of the last user message goes in (0: none).
void writeLogLine(const Session& s, std::string& line, size_t promptBytes, int status, std::string_view outcome,
                  int64_t overshoot) {
  const RequestRecord& r = s.record();
  json::Writer w(line);
  w.beginObject().field("event", s.handler().apiType()).field("status", status).field("outcome", outcome);
  w.field("model", r.model).field("stream", r.stream);
  // Prompt text only when the operator asked for it (LOG_PROMPTS), and cut short.
  if (promptBytes > 0 && !r.prompt.empty()) w.field("prompt", r.prompt.substr(0, promptBytes));
  if (!r.provider.empty()) {
    w.field("provider", r.provider);
    if (!r.upstreamModel.empty()) w.field("upstream_model", r.upstreamModel);
  }
  w.field("attempts", r.attempts).field("duration_ms", s.nowMs() - s.openedMs()).field("cache", r.cacheStatus);
  if (!r.cacheBypass.empty()) w.field("cache_bypass", r.cacheBypass);
  if (!r.route.empty()) w.field("route", r.route);
  if (!r.keySource.empty()) w.field("key_source", r.keySource);
  if (!r.metadata.empty()) w.key("metadata").raw(r.metadata);
  if (!r.failedAttempts.empty()) {
    w.key("failed_attempts").beginArray();
    for (const FailedAttempt& a : r.failedAttempts)
      w.beginObject().field("target", a.target).field("status", a.status).field("message", a.message).endObject();
    w.endArray();
  }
  if (r.usage.known) {
    w.key("usage").beginObject().field("prompt_tokens", r.usage.promptTokens);
    w.field("completion_tokens", r.usage.completionTokens).field("total_tokens", r.usage.totalTokens);
    w.field("cached_prompt_tokens", r.usage.cachedPromptTokens);
    if (r.usage.cacheCreationTokens) w.field("cache_creation_tokens", r.usage.cacheCreationTokens);
    if (r.usage.estimated) w.field("estimated", true);
    w.endObject();
    if (overshoot > 0) w.field("overshoot_tokens", overshoot);
    if (r.cost.priced) w.key("cost_usd").raw(formatPico(r.cost.picoUsd)).key("cost_brl").raw(formatPico(r.cost.picoBrl));
  }
  w.endObject();
}

// The request log's bodies, to R2 past the response: the request as the
// client sent it and what it was answered, each as JSON where it is JSON.
void storeBodies(Session& s, int status) {
  RequestRecord& r = s.record();
  if (!r.storeBody) return;
  const Principal& p = s.principal();
  const std::string created = isoTimestamp(s.openedMs());
  // By day first: retention deletes the oldest keys, which list first.
  r.bodyKey = "bodies/" + created.substr(0, 10) + "/" + p.tenantId + "/" + s.requestId() + ".json";
  std::string doc;
  json::Writer w(doc);
  w.beginObject().field("request_id", s.requestId()).field("tenant_id", p.tenantId);
  if (!p.userId.empty()) w.field("user_id", p.userId);
  w.field("created_at", created).field("status", status);
  auto part = [&](std::string_view name, std::string_view text) {
    json::Tape t;
    if (!text.empty() && t.parse(text)) w.key(name).raw(text);
    else w.field(name, text);
  };
  part("request", s.body());
  part("response", r.responseBody);
  w.field("response_format", r.responseReassembled ? "reassembled" : r.stream ? "sse" : "json");
  if (r.responseTruncated) w.field("response_truncated", true);
  w.endObject();
  s.blobPutDetached(r.bodyKey, doc);
}

}  // namespace

void Session::finish(int status, std::string_view outcome, const ApiError& error) {
  if (finished_) return;
  finished_ = true;
  handler_->onDone(*this);
  RequestRecord& r = record_;
  int64_t overshoot = 0;  // tokens the provider used beyond the hold (not charged)
  if (r.usage.known) overshoot = r.meter.settle(*this, r.usage.totalTokens, r.cost);
  else r.meter.release(*this);
  if (handler_->apiType() == nullptr) return;  // only metered endpoints leave a line and a row
  std::string line;
  const size_t promptBytes = config_ && config_->logPrompts ? static_cast<size_t>(config_->logPromptMaxBytes) : 0;
  writeLogLine(*this, line, promptBytes, status, outcome, overshoot);
  log(status >= 500 ? "error" : "info", line);
  storeBodies(*this, status);
  if (error) recordUsage(*this, status, outcome, error.message);
  else recordUsage(*this, status, {}, {});
}

}  // namespace gw
