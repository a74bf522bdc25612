#include "upstream_attempt.h"

#include "pipeline.h"

#include <algorithm>

#include "gw/backoff.h"
#include "gw/breaker.h"
#include "gw/json_writer.h"
#include "wire/provider_fetch.h"

namespace gw::chat {

namespace {

std::string headerValue(const json::Tape& t, uint32_t headers, std::string_view name) {
  if (headers == 0) return {};
  uint32_t v = t.find(headers, name);
  return v != 0 && t.kind(v) == json::Kind::String ? t.string(v) : std::string();
}

}  // namespace

void UpstreamAttempt::start(Session& s, const Target& target, const std::string& targetId, TargetHealth& health,
                            const UpstreamRequest& request, const AnswerCodec& codec, bool stream, int64_t deadlineMs,
                            size_t targetsLeft) {
  target_ = &target;
  targetId_ = &targetId;
  health_ = &health;
  request_ = &request;
  codec_ = &codec;
  stream_ = stream;
  deadlineMs_ = deadlineMs;
  targetsLeft_ = targetsLeft;
  retries_ = 0;
  tried_ = up_ = closed_ = false;
  send(s, 0);
}

void UpstreamAttempt::send(Session& s, int64_t delayMs) {
  const Config& c = s.config();
  const ProviderConfig& p = *target_->provider;
  FetchSpec f = providerFetch(p, stream_, target_->tenantKey, s.principal().tenantId);
  f.url = request_->url;
  f.body = request_->body;
  setHeaders(f, request_->headers);
  f.delayMs = delayMs;
  const int64_t remaining = deadlineMs_ - s.nowMs() - delayMs;
  int64_t perAttempt = p.timeoutMs > 0 ? p.timeoutMs : c.requestTimeoutMs;
  // A target that hangs must leave time for the rest of its chain.
  if (targetsLeft_ > 1) perAttempt = std::min<int64_t>(perAttempt, remaining / static_cast<int64_t>(targetsLeft_));
  f.timeoutMs = std::max<int64_t>(1, std::min(perAttempt, remaining));
  const int64_t firstByte = p.firstByteTimeoutMs > 0 ? p.firstByteTimeoutMs : c.firstByteTimeoutMs;
  if (firstByte > 0 && firstByte < f.timeoutMs) f.firstByteTimeoutMs = firstByte;
  if (stream_) f.idleTimeoutMs = p.streamIdleTimeoutMs > 0 ? p.streamIdleTimeoutMs : c.streamIdleTimeoutMs;
  startMs_ = s.nowMs() + delayMs;
  status_ = 0;
  ++s.record().attempts;
  fetchId_ = s.fetch(f, *this);
}

// Full-jitter exponential backoff within the request's deadline; a
// provider's Retry-After is honoured when it fits under the cap.
bool UpstreamAttempt::retry(Session& s, int64_t retryAfterMs) {
  const Config& c = s.config();
  if (retries_ >= c.maxRetries || s.headSent()) return false;
  const int64_t delay = backoffDelay({c.retryBaseMs, c.retryMaxMs}, retries_, retryAfterMs, s.random());
  if (delay < 0 || s.nowMs() + delay >= deadlineMs_) return false;
  ++retries_;
  body_.clear();
  send(s, delay);
  return true;
}

void UpstreamAttempt::record(Session& s, bool up, std::string_view error) {
  const double latency = static_cast<double>(std::max<int64_t>(0, (firstByteMs_ ? firstByteMs_ : s.nowMs()) - startMs_));
  // A tenant's own key is counted apart: its failures are not the provider's health.
  const std::string& provider = target_->provider->id;
  s.state().recordAttempt(target_->tenantKey ? provider + "#" + s.principal().tenantId : provider, s.nowMs(), status_,
                          up, latency, error);
  if (up) addSample(stream_ ? health_->ttftEwmaMs : health_->latencyEwmaMs, latency);
  tried_ = true;
  up_ = up;
  firstByteMs_ = 0;
}

void UpstreamAttempt::close(Session& s) {
  if (!tried_ || closed_) return;
  closed_ = true;
  CircuitBreaker& b = health_->breaker;
  if (up_) b.onSuccess(s.config().breaker, s.nowMs());
  else b.onFailure(s.config().breaker, s.nowMs());
  if (!b.sharedChanged()) return;
  std::string record;
  json::Writer w(record);
  b.writeShared(w);
  // KV's shortest expiry is 60 s; the record outlives the open time a little.
  const int64_t ttl = std::max<int64_t>(60, s.config().breaker.openMs / 1000 + 60);
  s.kvPut(breakerKey(*targetId_), record, [](Session&, const EffectResult&) {}, ttl);
}

void UpstreamAttempt::onHead(Session& s, int status, const json::Tape& meta, uint32_t headers) {
  status_ = status;
  firstByteMs_ = s.nowMs();
  upstreamRequestId_ = headerValue(meta, headers, codec_->requestIdHeader());
  retryAfterMs_ = parseRetryAfterMs(headerValue(meta, headers, "retry-after"));
  body_.clear();
  if (!streaming()) return;
  record(s, true, "");
  pipeline_.onStreamStart(s);
}

void UpstreamAttempt::onChunk(Session& s, std::string_view data) {
  if (streaming()) return pipeline_.onStreamData(s, data);
  if (static_cast<int64_t>(body_.size() + data.size()) > s.config().maxUpstreamBodyBytes) {
    abort(s);
    record(s, false, "response too large");
    return pipeline_.onFailure(s, "too_large", "response too large");
  }
  body_.append(data);
}

void UpstreamAttempt::onEnd(Session& s) {
  if (streaming()) return pipeline_.onStreamEnd(s);
  pipeline_.onResponse(s);
}

void UpstreamAttempt::onError(Session& s, std::string_view reason, std::string_view message) {
  pipeline_.onFailure(s, reason, message);
}

}  // namespace gw::chat
