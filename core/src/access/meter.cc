#include "gw/meter.h"

#include "authenticate.h"
#include "leases.h"

#include <algorithm>

#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/session.h"
#include "gw/usage_log.h"

namespace gw {

using json::Kind;

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
  held_ = worst;
  if (cfg.creditLeases) scope_ = p.ledgerScope();
  if (HeldLease* l = scope_.empty() ? nullptr : leases::admit(s, scope_, worst)) {
    lease_ = l->id;
    // The rate the ledger counted at the grant, with what this lease has not admitted yet.
    if ((hasRequests_ = l->rateRequests.known)) {
      limitRequests_ = l->rateRequests.limit, remainingRequests_ = l->rateRequests.remaining + l->requests;
      resetRequestsMs_ = std::max<int64_t>(0, l->rateRequests.resetAtMs - s.nowMs());
    }
    if ((hasTokens_ = l->rateTokens.known)) {
      limitTokens_ = l->rateTokens.limit, remainingTokens_ = l->rateTokens.remaining + l->tokens;
      resetTokensMs_ = std::max<int64_t>(0, l->rateTokens.resetAtMs - s.nowMs());
    }
    authMs_ = s.admittedMs() - s.openedMs();
    ledgerMs_ = 0;  // admitted with no ledger wait
    ++s.state().admissions.viaLease;
    holding_ = true;
    return done(s, ApiError{});
  }
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "reserve").field("request_id", s.requestId()).field("key", p.keyId);
  w.field("user", p.accountUser()).key("key_limits");
  writeQuotaLimitsWire(w, cfg.keyDefaults.overlay(p.limits));
  w.key("user_defaults");
  writeQuotaLimitsWire(w, cfg.userDefaults);
  w.field("tokens", worst.tokens).field("usd", worst.cost.picoUsd).field("brl", worst.cost.picoBrl);
  const int64_t holdMs = s.config().requestTimeoutMs + 60000;
  w.field("ttl_ms", holdMs).key("abandoned_row").raw(abandonedRowParams(s, holdMs)).endObject();
  authMs_ = s.admittedMs() - s.openedMs();
  s.ledger(p.tenantId, op, [this, done = std::move(done), sentMs = s.nowMs()](Session& s, const EffectResult& r) {
    ledgerMs_ = s.nowMs() - sentMs;
    json::Tape t;
    if (!r.ok || !t.parse(r.data) || t.kind(t.root()) != Kind::Object)
      return done(s, serverError(503, "The quota ledger is unavailable; the request was not sent.",
                                 "service_unavailable", "ledger_unavailable"));
    const uint32_t root = t.root();
    const uint32_t rate = t.find(root, "rate");
    const uint32_t requests = rate == 0 ? 0 : t.find(rate, "requests");
    const uint32_t tokens = rate == 0 ? 0 : t.find(rate, "tokens");
    if ((hasRequests_ = requests != 0)) {
      limitRequests_ = t.integerAt(requests, "limit"), remainingRequests_ = t.integerAt(requests, "remaining");
      resetRequestsMs_ = t.integerAt(requests, "reset_ms");
    }
    if ((hasTokens_ = tokens != 0)) {
      limitTokens_ = t.integerAt(tokens, "limit"), remainingTokens_ = t.integerAt(tokens, "remaining");
      resetTokensMs_ = t.integerAt(tokens, "reset_ms");
    }
    uint32_t ok = t.find(root, "ok");
    if (ok != 0 && t.kind(ok) == Kind::True) {
      ++s.state().admissions.viaLedger;
      holding_ = true;
      return done(s, ApiError{});
    }
    const int status = static_cast<int>(t.integerAt(root, "status", 429));
    // A key revoked since this isolate cached it: the same 401 as any bad key.
    if (status == 401) return done(s, invalidApiKey());
    ApiError e;
    e.status = status;
    e.message = t.stringAt(root, "message");
    e.code = t.stringAt(root, "code");
    e.type = t.stringAt(root, "type");
    if (status == 429) retryAfterMs_ = t.integerAt(root, "retry_after_ms", 1000);
    done(s, e);
  });
}

int64_t Meter::settle(Session& s, int64_t tokens, const Cost& actual) {
  if (!holding_) return 0;
  holding_ = false;
  const int64_t chargedTokens = std::min(tokens, held_.tokens);
  const int64_t chargedUsd = std::min(actual.picoUsd, held_.cost.picoUsd);
  const int64_t chargedBrl = std::min(actual.picoBrl, held_.cost.picoBrl);
  const int64_t overTokens = tokens - chargedTokens;
  if (overTokens > 0 || actual.picoUsd > chargedUsd) {
    OvershootCounts& o = s.state().overshoot;
    ++o.requests;
    o.tokens += overTokens;
    o.picoUsd += actual.picoUsd - chargedUsd;
  }
  if (HeldLease* l = leases::find(s, scope_, lease_)) {
    // Settled into the lease: what it spent is reported with it, the rest of the hold is its again.
    --l->running, ++l->served;
    l->spentTokens += chargedTokens, l->spentUsd += chargedUsd, l->spentBrl += chargedBrl;
    l->tokens += held_.tokens - chargedTokens, l->usd += held_.cost.picoUsd - chargedUsd;
    l->brl += held_.cost.picoBrl - chargedBrl;
    leases::tend(s, scope_, held_);
    return overTokens;
  }
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "settle").field("request_id", s.requestId()).field("key", s.principal().keyId);
  w.field("user", s.principal().accountUser()).field("tokens", chargedTokens).field("usd", chargedUsd);
  w.field("brl", chargedBrl).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
  if (!scope_.empty()) leases::tend(s, scope_, held_);
  return overTokens;
}

void Meter::release(Session& s) {
  if (!holding_) return;
  holding_ = false;
  if (HeldLease* l = leases::find(s, scope_, lease_)) {
    // Never sent: the lease has it back.
    --l->running, ++l->requests;
    l->tokens += held_.tokens, l->usd += held_.cost.picoUsd, l->brl += held_.cost.picoBrl;
    leases::tend(s, scope_, held_);
    return;
  }
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "release").field("request_id", s.requestId()).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
  if (!scope_.empty()) leases::tend(s, scope_, held_);
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
  if (authMs_ >= 0) {
    std::string timing = "auth;dur=" + std::to_string(authMs_);
    if (ledgerMs_ >= 0) timing += ", ledger;dur=" + std::to_string(ledgerMs_);
    h.emplace_back("server-timing", timing);
  }
}

}  // namespace gw
