// The routing chain of a chat request: which targets it may go to, in
// which order (the routing policy over breaker health, price, latency and
// quality), and moving along it when a target fails. Kept apart from the
// streaming hot path in pipeline.cc (and built for size).
#include <algorithm>

#include "wire/provider_fetch.h"
#include "gw/json_writer.h"
#include "gw/preferences.h"
#include "pipeline.h"

namespace gw::chat {

bool ChatPipeline::preferredTarget(Session& s, Target& out) const {
  if (preferred_.provider.empty()) return false;
  // A saved choice the config, the key or the request no longer allows is passed over.
  if (preferences::resolve(s.config(), preferred_.provider, preferred_.model, out)) return false;
  out.tenantKey = tenantKeyFor(s, out.provider->id);
  return !checkModelAllowed(s.principal(), preferred_.model, out) && !checkCapabilities(req_, out) &&
         usable(*out.provider, out.tenantKey) && !out.provider->builtinDemo;
}

ApiError ChatPipeline::buildChain(Session& s) {
  const Config& c = s.config();
  Target preferred;
  const bool hasPreferred = preferredTarget(s, preferred);
  target_.tenantKey = tenantKeyFor(s, target_.provider->id);
  chain_.assign(1, target_);
  // The demo (built in, or standing in for a provider with no key) cannot
  // fail: no chain, unless the user's saved choice is a real provider.
  if ((target_.provider->builtinDemo || (!usable(*target_.provider, target_.tenantKey) && c.demoMode == DemoMode::Auto)) &&
      !hasPreferred) {
    s.record().route = "demo";
    return {};
  }
  // The request's `models`, else the registry's fallbacks for the model,
  // else the gateway's default chain.
  const bool fromRequest = !req_.fallbackModels.empty();
  const std::vector<std::string>& names =
      fromRequest ? req_.fallbackModels
                  : (target_.model != nullptr && !target_.model->fallbacks.empty() ? target_.model->fallbacks
                                                                                   : c.defaultFallbacks);
  auto add = [this](Target t) {
    if (std::none_of(chain_.begin(), chain_.end(), [&](const Target& x) { return targetId(x) == targetId(t); }))
      chain_.push_back(std::move(t));
  };
  for (const std::string& name : names) {
    Target t;
    if (ApiError e = resolveModel(c, name, ModelKind::Chat, t)) {
      if (!fromRequest) continue;
      e.param = "models";
      return e;
    }
    if (ApiError e = checkModelAllowed(s.principal(), name, t)) {
      if (!fromRequest) continue;
      e.param = "models";
      return e;
    }
    t.tenantKey = tenantKeyFor(s, t.provider->id);
    if (checkCapabilities(req_, t) || !usable(*t.provider, t.tenantKey) || t.provider->builtinDemo) continue;
    add(std::move(t));
  }
  std::string preferredId;
  if (hasPreferred) {
    preferredId = targetId(preferred);
    add(std::move(preferred));
  }
  // A primary that cannot be called (no key, or the demo) is skipped when something else can answer.
  if (!usable(*target_.provider, target_.tenantKey) || target_.provider->builtinDemo) {
    if (chain_.size() == 1) return providerNotConfigured(*target_.provider);
    chain_.erase(chain_.begin());
  }
  const RoutePolicy policy = policy_;
  if (chain_.size() > 1) {
    std::vector<RouteCandidate> candidates;
    for (const Target& t : chain_) {
      RouteCandidate rc;
      rc.id = targetId(t);
      auto known = s.state().targets.find(healthId(s, t));
      rc.healthy = known == s.state().targets.end() ||
                   (known->second.breaker.state(s.nowMs()) != BreakerState::Open &&
                    known->second.rateLimitedUntilMs <= s.nowMs());
      const int64_t maxOutput = req_.maxTokens > 0 ? req_.maxTokens : defaultMaxTokens(c, t);
      rc.estimatedPico = worstCase(t.price, req_.promptBytes, req_.messageCount, maxOutput, c.usdBrlRateMicro).cost.picoUsd;
      if (known != s.state().targets.end()) {
        rc.latencyEwmaMs = known->second.latencyEwmaMs;
        rc.ttftEwmaMs = known->second.ttftEwmaMs;
      }
      rc.quality = t.model != nullptr ? static_cast<double>(t.model->quality) : 0;
      candidates.push_back(std::move(rc));
    }
    RouteDecision d = route(policy, candidates, preferredId, s.state().roundRobin++, s.random());
    std::vector<Target> ordered;
    s.record().route = d.reason + ";";
    for (size_t i : d.order) {
      s.record().route += (ordered.empty() ? " " : ">") + candidates[i].id;
      ordered.push_back(chain_[i]);
    }
    chain_ = std::move(ordered);
  } else {
    s.record().route = std::string(routePolicyName(policy)) + "; " + targetId(chain_[0]);
  }
  // A tenant key that may fall back to the gateway's: the same target with
  // the gateway's key right after it (a refused key never gets there).
  for (size_t i = 0; i < chain_.size(); ++i) {
    const Target& t = chain_[i];
    if (t.tenantKey == nullptr || !t.tenantKey->allowGatewayFallback || !t.provider->configured()) continue;
    Target gatewayKey = t;
    gatewayKey.tenantKey = nullptr;
    const std::string id = targetId(gatewayKey);
    if (std::any_of(chain_.begin(), chain_.end(), [&](const Target& x) { return targetId(x) == id; })) continue;
    chain_.insert(chain_.begin() + static_cast<std::ptrdiff_t>(++i), std::move(gatewayKey));
    s.record().route += ">" + id;
  }
  chainIds_.clear();
  healthIds_.clear();
  for (const Target& t : chain_) {
    chainIds_.push_back(targetId(t));
    healthIds_.push_back(healthId(s, t));
  }
  target_ = chain_[0];
  noteTarget(s);
  if (!preferredId.empty() && chainIds_[0] == preferredId)
    preferences::noteUsed(s, s.principal().tenantId, s.principal().accountUser(), context_);
  return {};
}

ApiError ChatPipeline::startTarget(Session& s) {
  const Config& c = s.config();
  target_ = chain_[current_];
  noteTarget(s);
  const std::string& id = chainIds_[current_];
  health_ = &s.state().targets[healthIds_[current_]];
  if (health_->rateLimitedUntilMs > s.nowMs()) {
    const int64_t wait = health_->rateLimitedUntilMs - s.nowMs();
    ApiError e = serverError(429,
                             "The upstream provider '" + target_.provider->id + "' is rate limiting the gateway; calls to '" +
                                 id + "' resume in " + std::to_string((wait + 999) / 1000) + " s.",
                             "rate_limit_error", "upstream_rate_limited");
    s.record().failedAttempts.push_back({id, "rate_limited", e.message, s.nowMs() - s.openedMs()});
    return e;
  }
  if (!health_->breaker.allow(c.breaker, s.nowMs())) {
    const int64_t wait = std::max<int64_t>(0, health_->breaker.openUntilMs() - s.nowMs());
    ApiError e = serverError(503,
                             "The upstream provider '" + target_.provider->id + "' is failing; calls to '" + id +
                                 "' are paused for " + std::to_string((wait + 999) / 1000) + " s (circuit open).",
                             "service_unavailable", "circuit_open");
    s.record().failedAttempts.push_back({id, "circuit_open", e.message, s.nowMs() - s.openedMs()});
    return e;
  }
  upstream_ = UpstreamRequest{};
  const AnswerCodec* nativeCodec = nullptr;
  ApiError encoded = encodeRequest(s, target_, upstream_, nativeCodec);
  native_ = nativeCodec != nullptr;
  codec_ = native_ ? nativeCodec : &chatCodec(target_.provider->format);
  // A forwarded OpenAI stream the cache or the request log will keep is
  // decoded (to record it) instead; a native one is decoded beside the forwarding.
  passthrough_ = native_ || (dialect_.openAiPassthrough() && target_.provider->format == WireFormat::OpenAiChat &&
                             !(req_.stream && (cache_.mode != cache::Mode::Bypass || s.record().storeBody)));
  if (ApiError e = std::move(encoded)) {
    s.record().failedAttempts.push_back({id, "not_sent", e.message, s.nowMs() - s.openedMs()});
    return e;
  }
  // What the ledger held for this target's output, and what it was sent as max_tokens.
  reservedOutput_ = req_.maxTokens > 0 ? req_.maxTokens : defaultMaxTokens(c, target_);
  attempt_.start(s, target_, healthIds_[current_], *health_, upstream_, *codec_, req_.stream, deadlineMs_,
                 chain_.size() - current_);
  return {};
}

bool ChatPipeline::failOver(Session& s) {
  attempt_.close(s);  // the request is done with this target
  while (current_ + 1 < chain_.size()) {
    ++current_;
    if (!startTarget(s)) return true;
  }
  return false;
}

void ChatPipeline::readSharedBreakers(Session& s) {
  if (answersFromDemo()) return;
  for (const std::string& id : healthIds_) {
    TargetHealth& health = s.state().targets[id];
    if (health.sharedReadMs != 0 && s.nowMs() - health.sharedReadMs < BREAKER_READ_MS) continue;
    health.sharedReadMs = s.nowMs();
    ++waiting_;
    s.kvGet(breakerKey(id), [this, &health](Session& s, const EffectResult& r) {
      json::Tape t;
      if (r.ok && t.parse(r.data)) health.breaker.adoptShared(t, t.root());
      oneReady(s);
    });
  }
}

ApiError ChatPipeline::allTargetsFailed(const Session& s) const {
  std::string summary, attempts;
  json::Writer w(attempts);
  w.beginArray();
  for (const FailedAttempt& a : s.record().failedAttempts) {
    summary += (summary.empty() ? "" : ", ") + a.target + " (" + a.status + ")";
    w.beginObject().field("target", a.target).field("status", a.status).field("message", a.message).endObject();
  }
  w.endArray();
  ApiError e = serverError(502, "Every routing target failed: " + summary + ".", "upstream_error", "all_targets_failed");
  e.attempts = std::move(attempts);
  return e;
}

}  // namespace gw::chat
