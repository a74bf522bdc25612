#include "gw/meter.h"

#include "authenticate.h"

#include <algorithm>

#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/session.h"
#include "gw/usage_log.h"

namespace gw {

namespace {

using json::Kind;

// A lease: how long the ledger is asked to grant it for, and how close to
// its end it stops admitting (so what it admits settles before it expires).
constexpr int64_t LEASE_MS = 30000, LEASE_MARGIN_MS = 2000;
constexpr int64_t MIN_LEASE_REQUESTS = 4, MAX_LEASE_REQUESTS = 256;

bool hasRoom(const HeldLease& l, const Worst& w, int64_t now) {
  return l.expiresMs - LEASE_MARGIN_MS > now && l.requests >= 1 && l.tokens >= w.tokens && l.usd >= w.cost.picoUsd &&
         l.brl >= w.cost.picoBrl;
}

void writeLimits(json::Writer& w, const Session& s) {
  const Principal& p = s.principal();
  const AccessConfig& cfg = s.config().access;
  w.field("key", p.keyId).field("user", p.accountUser()).key("key_limits");
  writeQuotaLimitsWire(w, cfg.keyDefaults.overlay(p.limits));
  w.key("user_defaults");
  writeQuotaLimitsWire(w, cfg.userDefaults);
}

void writeReport(json::Writer& w, const HeldLease& l) {
  w.field("lease_id", l.id).field("requests", l.served).field("tokens", l.spentTokens).field("usd", l.spentUsd);
  w.field("brl", l.spentBrl);
}

}  // namespace

bool Meter::admitFromLease(Session& s, const Worst& worst) {
  auto scope = s.state().leases.find(s.principal().ledgerScope());
  if (scope == s.state().leases.end()) return false;
  for (HeldLease& l : scope->second.held) {
    if (!hasRoom(l, worst, s.nowMs())) continue;
    --l.requests, l.tokens -= worst.tokens, l.usd -= worst.cost.picoUsd, l.brl -= worst.cost.picoBrl;
    ++l.running;
    lease_ = l.id;
    return true;
  }
  return false;
}

void Meter::tendLeases(Session& s, const Worst& worst) {
  if (!s.config().access.creditLeases) return;
  const std::string name = s.principal().ledgerScope();
  LeaseScope& scope = s.state().leases[name];
  const std::string& tenant = s.principal().tenantId;
  // Leases that cannot admit the next request like this one, with nothing
  // running: reported (an expired one was charged in full; its report would change nothing).
  bool room = false;
  std::vector<HeldLease> done;
  for (auto it = scope.held.begin(); it != scope.held.end();) {
    if (hasRoom(*it, worst, s.nowMs())) {
      room = true;
      ++it;
      continue;
    }
    if (it->running > 0) {
      ++it;
      continue;
    }
    scope.nextAsk = std::clamp<int64_t>(2 * it->served, MIN_LEASE_REQUESTS, MAX_LEASE_REQUESTS);
    if (it->expiresMs > s.nowMs()) done.push_back(std::move(*it));
    it = scope.held.erase(it);
  }
  const bool ask = !room && !scope.asking;
  // One report rides with the next lease's call; any other goes alone.
  for (size_t i = ask ? 1 : 0; i < done.size(); ++i) {
    std::string op;
    json::Writer w(op);
    w.beginObject().field("op", "lease_report");
    writeReport(w, done[i]);
    w.endObject();
    s.ledgerDetached(tenant, op);
  }
  if (!ask) return;
  // The next lease, sized to this instance's pace, asked for after the
  // response: requests until it lands are admitted by the ledger one by one.
  scope.asking = true;
  const int64_t n = scope.nextAsk;
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "lease").field("lease_id", s.requestId() + "-" + std::to_string(++scope.seq));
  writeLimits(w, s);
  w.field("requests", n).field("tokens", n * worst.tokens).field("usd", n * worst.cost.picoUsd);
  w.field("brl", n * worst.cost.picoBrl).field("min_tokens", worst.tokens).field("min_usd", worst.cost.picoUsd);
  w.field("min_brl", worst.cost.picoBrl).field("ttl_ms", LEASE_MS);
  if (!done.empty()) {
    w.key("report").beginObject();
    writeReport(w, done[0]);
    w.endObject();
  }
  w.endObject();
  s.ledger(tenant, op, [name](Session& s, const EffectResult& r) {
    LeaseScope& scope = s.state().leases[name];
    scope.asking = false;
    json::Tape t;
    if (!r.ok || !t.parse(r.data) || t.kind(t.root()) != Kind::Object) return;
    const uint32_t lease = t.find(t.root(), "lease");
    if (t.kind(t.find(t.root(), "ok")) != Kind::True || lease == 0 || t.kind(lease) != Kind::Object) return;
    HeldLease l;
    l.id = t.stringAt(lease, "id");
    l.requests = l.granted = t.integerAt(lease, "requests");
    l.tokens = t.integerAt(lease, "tokens"), l.usd = t.integerAt(lease, "usd"), l.brl = t.integerAt(lease, "brl");
    l.expiresMs = t.integerAt(lease, "expires_ms");
    if (!l.id.empty()) scope.held.push_back(std::move(l));
  });
}

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
  if (cfg.creditLeases && admitFromLease(s, worst)) {
    authMs_ = s.admittedMs() - s.openedMs();
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
  if (HeldLease* l = heldLease(s)) {
    // Settled into the lease: what it spent is reported with it, the rest of the hold is its again.
    --l->running, ++l->served;
    l->spentTokens += chargedTokens, l->spentUsd += chargedUsd, l->spentBrl += chargedBrl;
    l->tokens += held_.tokens - chargedTokens, l->usd += held_.cost.picoUsd - chargedUsd;
    l->brl += held_.cost.picoBrl - chargedBrl;
    tendLeases(s, held_);
    return overTokens;
  }
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "settle").field("request_id", s.requestId()).field("key", s.principal().keyId);
  w.field("user", s.principal().accountUser()).field("tokens", chargedTokens).field("usd", chargedUsd);
  w.field("brl", chargedBrl).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
  tendLeases(s, held_);
  return overTokens;
}

HeldLease* Meter::heldLease(Session& s) const {
  if (lease_.empty()) return nullptr;
  auto scope = s.state().leases.find(s.principal().ledgerScope());
  if (scope == s.state().leases.end()) return nullptr;
  for (HeldLease& l : scope->second.held)
    if (l.id == lease_) return &l;
  return nullptr;
}

void Meter::release(Session& s) {
  if (!holding_) return;
  holding_ = false;
  if (HeldLease* l = heldLease(s)) {
    // Never sent: the lease has it back.
    --l->running, ++l->requests;
    l->tokens += held_.tokens, l->usd += held_.cost.picoUsd, l->brl += held_.cost.picoBrl;
    tendLeases(s, held_);
    return;
  }
  std::string op;
  json::Writer w(op);
  w.beginObject().field("op", "release").field("request_id", s.requestId()).endObject();
  s.ledgerDetached(s.principal().tenantId, op);
  tendLeases(s, held_);
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
