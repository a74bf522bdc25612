#include "meter.h"

#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw {

namespace {

using json::Kind;

int64_t num(const json::Tape& t, uint32_t obj, std::string_view key, int64_t fallback = 0) {
  uint32_t v = t.find(obj, key);
  int64_t out = fallback;
  if (v != 0 && t.kind(v) == Kind::Number && t.isInteger(v, &out)) return out;
  return fallback;
}

std::string str(const json::Tape& t, uint32_t obj, std::string_view key) {
  uint32_t v = t.find(obj, key);
  return v != 0 && t.kind(v) == Kind::String ? t.string(v) : std::string();
}

}  // namespace

Worst worstCase(const Price& price, size_t promptBytes, size_t messages, int64_t maxOutput, int64_t usdBrlRateMicro) {
  Worst w;
  Usage estimate;
  estimateUsage(estimate, promptBytes, messages, 0);
  w.tokens = estimate.promptTokens + maxOutput;
  // A BPE token is at least one byte, so bytes (plus framing) bound the
  // prompt from above; charge it at the dearer of input and cache-write.
  Usage upper;
  upper.known = true;
  upper.promptTokens = static_cast<int64_t>(promptBytes) + 8 * static_cast<int64_t>(messages) + 16;
  if (price.cacheWrite > price.input) upper.cacheCreationTokens = upper.promptTokens;
  upper.completionTokens = maxOutput;
  w.cost = priceUsage(price, upper, usdBrlRateMicro);
  return w;
}

std::string formatReset(int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms < 1000) return std::to_string(ms) + "ms";
  int64_t seconds = (ms + 999) / 1000;
  if (seconds < 60) return std::to_string(seconds) + "s";
  return std::to_string(seconds / 60) + "m" + std::to_string(seconds % 60) + "s";
}

void Meter::reserve(Session& s, const Worst& worst, Admitted done) {
  const Principal& p = s.principal();
  const AccessConfig& cfg = s.config().access;
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "reserve").field("request_id", s.requestId()).field("key", p.keyId);
  w.field("user", p.userId).key("key_limits");
  writeQuotaLimitsWire(w, cfg.keyDefaults.overlay(p.limits));
  w.key("user_defaults");
  writeQuotaLimitsWire(w, cfg.userDefaults);
  w.field("tokens", worst.tokens).field("usd", worst.cost.picoUsd).field("brl", worst.cost.picoBrl);
  w.field("ttl_ms", s.config().requestTimeoutMs + 60000).endObject();
  s.ledger(p.tenantId, op, [this, done = std::move(done)](Session& s, const EffectResult& r) {
    json::Tape t;
    if (!r.ok || !t.parse(r.data) || t.kind(t.root()) != Kind::Object)
      return done(s, serverError(503, "The quota ledger is unavailable; the request was not sent.",
                                 "service_unavailable", "ledger_unavailable"));
    const uint32_t root = t.root();
    const uint32_t rate = t.find(root, "rate");
    const uint32_t requests = rate == 0 ? 0 : t.find(rate, "requests");
    const uint32_t tokens = rate == 0 ? 0 : t.find(rate, "tokens");
    if ((hasRequests_ = requests != 0)) {
      limitRequests_ = num(t, requests, "limit"), remainingRequests_ = num(t, requests, "remaining");
      resetRequestsMs_ = num(t, requests, "reset_ms");
    }
    if ((hasTokens_ = tokens != 0)) {
      limitTokens_ = num(t, tokens, "limit"), remainingTokens_ = num(t, tokens, "remaining");
      resetTokensMs_ = num(t, tokens, "reset_ms");
    }
    uint32_t ok = t.find(root, "ok");
    if (ok != 0 && t.kind(ok) == Kind::True) {
      holding_ = true;
      return done(s, ApiError{});
    }
    ApiError e;
    e.status = static_cast<int>(num(t, root, "status", 429));
    e.message = str(t, root, "message");
    e.code = str(t, root, "code");
    e.type = e.status == 401 ? "invalid_request_error" : str(t, root, "type");
    if (e.status == 401) e.message = "Invalid or missing API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.";
    if (e.status == 429) retryAfterMs_ = num(t, root, "retry_after_ms", 1000);
    done(s, e);
  });
}

void Meter::settle(Session& s, int64_t tokens, const Cost& actual) {
  if (!holding_) return;
  holding_ = false;
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "settle").field("request_id", s.requestId()).field("key", s.principal().keyId);
  w.field("user", s.principal().userId).field("tokens", tokens).field("usd", actual.picoUsd);
  w.field("brl", actual.picoBrl).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
}

void Meter::release(Session& s) {
  if (!holding_) return;
  holding_ = false;
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "release").field("request_id", s.requestId()).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
}

void Meter::addHeaders(Headers& h) const {
  if (hasRequests_) {
    h.emplace_back("x-ratelimit-limit-requests", std::to_string(limitRequests_));
    h.emplace_back("x-ratelimit-remaining-requests", std::to_string(remainingRequests_));
    h.emplace_back("x-ratelimit-reset-requests", formatReset(resetRequestsMs_));
  }
  if (hasTokens_) {
    h.emplace_back("x-ratelimit-limit-tokens", std::to_string(limitTokens_));
    h.emplace_back("x-ratelimit-remaining-tokens", std::to_string(remainingTokens_));
    h.emplace_back("x-ratelimit-reset-tokens", formatReset(resetTokensMs_));
  }
  if (retryAfterMs_ >= 0) h.emplace_back("retry-after", std::to_string((retryAfterMs_ + 999) / 1000));
}

}  // namespace gw
