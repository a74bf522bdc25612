#include "pipeline.h"

#include <algorithm>

#include "wire/demo.h"
#include "../handlers/body_limit.h"
#include "wire/provider_fetch.h"
#include "gw/backoff.h"
#include "gw/cache_store.h"
#include "gw/json_writer.h"
#include "gw/preferences.h"
#include "gw/usage_log.h"

namespace gw::chat {

namespace {

constexpr Price FREE{0, 0, 0, 0, true};  // the demo answers at no cost

bool retryableStatus(int status) { return status == 429 || status >= 500; }

// Worth another target: the provider is failing, refusing the gateway's key,
// or does not know the model. A 400 is the request's fault everywhere.
bool failsOver(int status) { return retryableStatus(status) || status == 401 || status == 403 || status == 404; }

Worst worstOf(const Worst& a, const Worst& b) {
  Worst w = a;
  w.tokens = std::max(a.tokens, b.tokens);
  if (b.cost.picoUsd > w.cost.picoUsd) w.cost = b.cost;
  return w;
}

std::string headerValue(const json::Tape& t, uint32_t headers, std::string_view name) {
  if (headers == 0) return {};
  uint32_t v = t.find(headers, name);
  return v != 0 && t.kind(v) == json::Kind::String ? t.string(v) : std::string();
}

ApiError lacks(const Target& t, std::string param, std::string_view what) {
  return invalidRequest("The model '" + t.model->id + "' does not support " + std::string(what) + ".", std::move(param),
                        "unsupported_capability");
}

}  // namespace

ApiError checkCapabilities(const ChatRequest& req, const Target& target) {
  const ModelConfig* m = target.model;
  if (m == nullptr) return {};
  if (!req.firstImagePath.empty() && !m->has(CAP_VISION))
    return lacks(target, req.firstImagePath, "image inputs (vision)");
  if (req.hasTools && !m->has(CAP_TOOLS)) return lacks(target, "tools", "tools (function calling)");
  if (req.wantsJson && !m->has(CAP_JSON)) return lacks(target, "response_format", "JSON output");
  if (req.stream && !m->has(CAP_STREAMING)) return lacks(target, "stream", "streaming");
  if (m->maxOutput > 0 && req.maxTokens > m->maxOutput) {
    return invalidRequest("max_tokens is too large: " + std::to_string(req.maxTokens) + ". The model '" + m->id +
                              "' supports at most " + std::to_string(m->maxOutput) + " completion tokens.",
                          req.maxCompletionTokensNode != 0 ? "max_completion_tokens" : "max_tokens", "invalid_value");
  }
  return {};
}

ApiError checkModelAllowed(const Principal& p, std::string_view requested, const Target& target) {
  if (p.models.empty()) return {};
  for (const auto& m : p.models) {
    if (m == requested || (target.model != nullptr && m == target.model->id)) return {};
    if (m.size() > 2 && m.compare(m.size() - 2, 2, "/*") == 0 && target.provider != nullptr &&
        m.compare(0, m.size() - 2, target.provider->id) == 0)
      return {};
  }
  return forbidden("This API key may not use the model '" + std::string(requested) + "'.", "model",
                   "model_not_allowed");
}

ApiError ChatPipeline::translateRequest(Session&, std::string&, bool& useTranslated) {
  useTranslated = false;
  return {};
}

void ChatPipeline::start(Session& s) {
  const Config& c = s.config();
  cache::flushHits(s);  // hits counted in this instance, written at most once a second
  if (ApiError e = handlers::bodyTooLarge(s)) return finishWithError(s, e);
  bool useTranslated = false;
  if (ApiError e = translateRequest(s, translated_, useTranslated)) return finishWithError(s, e);
  if (ApiError e = parseChatRequest(useTranslated ? std::string_view(translated_) : std::string_view(s.body()), req_))
    return finishWithError(s, e);
  RequestRecord& record = s.record();
  record.model = req_.model;
  record.stream = req_.stream;
  record.prompt = req_.lastUserText;
  if (ApiError e = resolveModel(c, req_.model, ModelKind::Chat, target_)) {
    if (req_.modelNode == 0) e.param = "models";  // the first of `models` stood for `model`
    return finishWithError(s, e);
  }
  noteTarget(s);
  if (ApiError e = checkCapabilities(req_, target_)) return finishWithError(s, e);
  if (ApiError e = checkModelAllowed(s.principal(), req_.model, target_)) return finishWithError(s, e);
  if (ApiError e = cache::decide(c.cache, req_.tape, s.request().header("cache-control"),
                                s.request().header("x-aigw-cache-ttl"), useCache_, cache_))
    return finishWithError(s, e);
  record.cacheBypass = cache_.reason;
  policy_ = c.routePolicy;
  const std::string_view asked = s.request().header("x-aigw-routing");
  if (!asked.empty() && !parseRoutePolicy(asked, policy_))
    return finishWithError(s, invalidValue("x-aigw-routing", "x-aigw-routing must be one of ordered, preference, cost, "
                                                             "latency, quality, round_robin, weighted."));
  if (policy_ != RoutePolicy::Preference) return plan(s);
  const std::string_view context = s.request().header(preferences::CONTEXT_HEADER);
  context_ = context.empty() ? preferences::DEFAULT_CONTEXT : context;
  if (!preferences::validContext(context_))
    return finishWithError(s, preferences::invalidContext(std::string(preferences::CONTEXT_HEADER)));
  preferences::load(s, s.principal().tenantId, s.principal().accountUser(), context_,
                    [this](Session& s, const CachedPreference* saved) {
                      if (saved != nullptr) preferred_ = *saved;
                      plan(s);
                    });
}

void ChatPipeline::plan(Session& s) {
  if (ApiError e = buildChain(s)) return finishWithError(s, e);
  if (cache_.mode == cache::Mode::Bypass) return reserve(s);
  lookup(s);
}

void ChatPipeline::reserve(Session& s) {
  const Config& c = s.config();

  // The hold covers the dearest target the request may end up at.
  Worst worst;
  for (const Target& t : chain_) {
    const Price targetPrice = &t == &chain_[0] && answersFromDemo() ? FREE : t.price;
    const int64_t maxOutput = req_.maxTokens > 0 ? req_.maxTokens : defaultMaxTokens(c, t);
    worst = worstOf(worst, worstCase(targetPrice, req_.promptBytes, req_.messageCount, maxOutput, c.usdBrlRateMicro));
  }
  waiting_ = 1;
  s.record().meter.reserve(s, worst, [this](Session& s, const ApiError& e) {
                   if (e) {
                     refused_ = true;
                     return finishWithError(s, e, commonHeaders(s));
                   }
                   oneReady(s);
                 });
  readSharedBreakers(s);
}

void ChatPipeline::admitted(Session& s) {
  if (answersFromDemo()) return answerFromDemo(s);
  deadlineMs_ = s.startedMs() + s.config().requestTimeoutMs;
  current_ = 0;
  ApiError e = startTarget(s);
  if (!e || failOver(s)) return;
  Headers h = commonHeaders(s);
  if (e.status == 429 && chain_.size() == 1)
    h.emplace_back("retry-after", std::to_string((health_->rateLimitedUntilMs - s.nowMs() + 999) / 1000));
  finishWithError(s, chain_.size() > 1 ? allTargetsFailed(s) : e, h);
}

void ChatPipeline::onFetchHead(Session& s, uint32_t id, int status, const json::Tape& meta, uint32_t headers) {
  if (id != fetchId_) return;
  upstreamStatus_ = status;
  firstByteMs_ = s.nowMs();
  upstreamRequestId_ = headerValue(meta, headers, codec_->requestIdHeader());
  retryAfterMs_ = parseRetryAfterMs(headerValue(meta, headers, "retry-after"));
  buffer_.clear();
  if (status >= 200 && status < 300 && req_.stream) {
    recordAttempt(s, true, "");
    startStream(s);
  }
}

void ChatPipeline::startStream(Session& s) {
  Headers h = commonHeaders(s);
  h.emplace_back("content-type", "text/event-stream; charset=utf-8");
  h.emplace_back("cache-control", "no-cache");
  s.respondHead(200, h, true);
  s.record().ttftMs = s.nowMs() - s.openedMs();
  if (passthrough_) {
    forwarder_ = std::make_unique<openai_chat::StreamForwarder>(req_.clientWantsUsage, &target_.provider->quirks);
  } else {
    decoder_ = codec_->streamDecoder(*target_.provider);
    writer_ = dialect_.streamWriter(summary(s), req_.clientWantsUsage);
    if (cache_.mode != cache::Mode::Bypass) {
      recorder_ = std::make_unique<CompletionRecorder>();
      tee_ = std::make_unique<TeeSink>(*writer_, *recorder_);
    }
    counter_ = std::make_unique<OutputCounter>(tee_ ? *tee_ : static_cast<ChunkSink&>(*writer_));
  }
}

void ChatPipeline::onFetchChunk(Session& s, uint32_t id, std::string_view data) {
  if (id != fetchId_ || streamEnded_) return;
  if (streaming()) {
    if (passthrough_) {
      out_.clear();
      bool ok = forwarder_->feed(data, out_);
      s.respondChunk(out_);
      if (!ok) return failStream(s, serverError(502, "The upstream stream sent an oversized event.", "upstream_error",
                                                "upstream_stream_error"));
      if (forwarder_->sawDone()) return finishStream(s);
      if (forwarder_->tokens() > outputCutoff()) cutStream(s);
      return;
    }
    bool ok = decoder_->feed(data, *counter_);
    drainWriter(s);
    if (decoder_->error()) return failStream(s, decoder_->error());
    if (!ok) return failStream(s, serverError(502, "The upstream stream sent an oversized event.", "upstream_error",
                                              "upstream_stream_error"));
    if (counter_->tokens() > outputCutoff()) cutStream(s);
    return;
  }
  if (static_cast<int64_t>(buffer_.size() + data.size()) > s.config().maxUpstreamBodyBytes) {
    s.abortFetch(fetchId_);
    recordAttempt(s, false, "response too large");
    return finishWithError(s, serverError(502, "The upstream response exceeded the gateway's size limit.",
                                          "upstream_error", "upstream_response_too_large"));
  }
  buffer_.append(data);
}

void ChatPipeline::drainWriter(Session& s) {
  if (writer_ == nullptr || writer_->pending().empty()) return;
  s.respondChunk(writer_->pending());
  writer_->pending().clear();
}

void ChatPipeline::onFetchEnd(Session& s, uint32_t id) {
  if (id != fetchId_ || streamEnded_) return;
  if (streaming()) {
    const bool complete = passthrough_ ? forwarder_->sawDone() : decoder_->complete();
    if (!complete)
      return failStream(s, serverError(502,
                                       "Upstream provider '" + target_.provider->id +
                                           "' failed: the stream ended before it was complete.",
                                       "upstream_error", "upstream_stream_error"));
    return finishStream(s);
  }
  if (upstreamStatus_ >= 200 && upstreamStatus_ < 300) return finishSuccess(s);
  ApiError e = codec_->mapError(upstreamStatus_, buffer_, *target_.provider);
  recordAttempt(s, upstreamStatus_ < 500, e.message);
  if (upstreamStatus_ == 429) {
    // Every request to this target waits out the provider's retry-after (1 s when it gave none).
    const int64_t wait = std::clamp<int64_t>(retryAfterMs_ >= 0 ? retryAfterMs_ : 1000, 0, 60000);
    health_->rateLimitedUntilMs = std::max(health_->rateLimitedUntilMs, s.nowMs() + wait);
  }
  s.record().failedAttempts.push_back({chainIds_[current_], std::to_string(upstreamStatus_), e.message});
  // Another target first (users should not wait out a backoff when one is
  // ready), then retries of the last one.
  if (failsOver(upstreamStatus_) && failOver(s)) return;
  if (retryableStatus(upstreamStatus_) && maybeRetry(s, retryAfterMs_)) return;
  if (chain_.size() > 1 && failsOver(upstreamStatus_)) return finishWithError(s, allTargetsFailed(s), commonHeaders(s));
  Headers h = commonHeaders(s);
  if (upstreamStatus_ == 429 && retryAfterMs_ >= 0) h.emplace_back("retry-after", std::to_string(retryAfterMs_ / 1000));
  finishWithError(s, e, h);
}

void ChatPipeline::finishSuccess(Session& s) {
  recordAttempt(s, true, "");
  Headers h = commonHeaders(s);
  if (passthrough_) {
    Usage reported = openai_chat::decodeResponseUsage(buffer_, target_.provider->quirks);
    price(s, reported, reported.known ? 0 : openai_chat::responseContentBytes(buffer_));
    addCostHeaders(s, h);
    if (cache_.mode != cache::Mode::Bypass) {
      Completion answer;
      if (codec_->decode(buffer_, *target_.provider, answer)) storeAnswer(s, answer);
    }
    s.respondJson(upstreamStatus_, buffer_, h);
    return s.finish(upstreamStatus_, "ok");
  }
  Completion completion;
  if (!codec_->decode(buffer_, *target_.provider, completion)) {
    return finishWithError(
        s, serverError(502, "Upstream provider '" + target_.provider->id + "' sent a response the gateway cannot read.",
                       "upstream_error", "upstream_bad_response"),
        h);
  }
  if (!completion.promptBlocked.empty()) {
    price(s, completion.usage, 0, false);
    return finishWithError(s, blockedPrompt(completion.promptBlocked, target_.provider->id), h);
  }
  price(s, completion.usage, outputBytes(completion));
  completion.usage = s.record().usage;
  CallSummary sum = summary(s);
  if (!completion.choices.empty()) sum.finishReason = completion.choices[0].finishReason;
  addCostHeaders(s, h);
  storeAnswer(s, completion);
  s.respondJson(200, dialect_.renderCompletion(completion, sum), h);
  s.finish(200, "ok");
}

void ChatPipeline::finishStream(Session& s) {
  streamEnded_ = true;
  if (passthrough_) {
    price(s, forwarder_->usage(), forwarder_->contentBytes());
    out_ = costComment(s.record().usage, s.record().cost);
    out_ += "data: [DONE]\n\n";
    s.respondChunk(out_);
  } else {
    price(s, decoder_->usage(), writer_->outputBytes());
    writer_->end(summary(s));
    drainWriter(s);
    if (recorder_) storeAnswer(s, recorder_->completion());
  }
  s.respondEnd();
  s.finish(200, "ok");
}

void ChatPipeline::cutStream(Session& s) {
  streamEnded_ = true;
  s.abortFetch(fetchId_);
  ++s.state().overshoot.streamsCut;
  if (passthrough_) {
    price(s, forwarder_->usage(), forwarder_->contentBytes());
    // The forwarded chunks were the provider's own; the last is ours.
    std::unique_ptr<StreamWriter> tail = dialect_.streamWriter(summary(s), req_.clientWantsUsage);
    tail->finish(0, "length");
    tail->end(summary(s));
    s.respondChunk(tail->pending());
  } else {
    price(s, decoder_->usage(), writer_->outputBytes());
    counter_->cut();
    writer_->end(summary(s));
    drainWriter(s);
  }
  s.respondEnd();
  s.finish(200, "output_cut");
}

// A stream that already started cannot change status: it ends with an error
// event in the client's dialect instead of hanging or stopping silently.
void ChatPipeline::failStream(Session& s, const ApiError& e) {
  streamEnded_ = true;
  s.abortFetch(fetchId_);
  recordAttempt(s, false, e.message);
  if (passthrough_) {
    price(s, forwarder_->usage(), 0, false);
    s.respondChunk("data: " + renderError(e) + "\n\n");
  } else {
    price(s, decoder_->usage(), 0, false);
    writer_->failure(e);
    drainWriter(s);
  }
  s.respondEnd();
  s.finish(200, "stream_error", e);
}

void ChatPipeline::onFetchError(Session& s, uint32_t id, std::string_view reason, std::string_view message) {
  if (id != fetchId_ || streamEnded_) return;
  const bool stalled = reason == "stalled";
  const bool timeout = reason == "timeout" || stalled;
  const std::string& provider = target_.provider->id;
  if (streaming()) {
    return failStream(s, serverError(502,
                                     "Upstream provider '" + provider + "' failed: " +
                                         (stalled   ? "the stream stalled (no data within the idle timeout)."
                                          : timeout ? "the stream timed out."
                                                    : "the connection failed mid-stream."),
                                     "upstream_error", "upstream_stream_error"));
  }
  std::string detail = message.empty() ? std::string(reason) : std::string(message);
  recordAttempt(s, false, detail);
  s.record().failedAttempts.push_back({chainIds_[current_], timeout ? "timeout" : "network", detail});
  if (failOver(s) || maybeRetry(s, -1)) return;
  if (chain_.size() > 1) return finishWithError(s, allTargetsFailed(s), commonHeaders(s));
  if (timeout) {
    return finishWithError(s,
                           serverError(504,
                                       "The upstream provider '" + provider + "' did not answer within " +
                                           std::to_string(s.config().requestTimeoutMs) + " ms.",
                                       "timeout_error", "upstream_timeout"),
                           commonHeaders(s));
  }
  finishWithError(s,
                  serverError(502, "Could not reach the upstream provider '" + provider + "': " + detail,
                              "upstream_error", "upstream_unreachable"),
                  commonHeaders(s));
}

void ChatPipeline::onCancel(Session& s) {
  leaveFlight(s);
  // The client went away mid-stream: charge and record what was delivered.
  if (decoder_) price(s, decoder_->usage(), writer_ ? writer_->outputBytes() : 0);
  if (forwarder_) price(s, forwarder_->usage(), forwarder_->contentBytes());
}

void ChatPipeline::noteTarget(Session& s) const {
  s.record().provider = target_.provider->id;
  s.record().upstreamModel = target_.upstream;
}

Headers ChatPipeline::commonHeaders(const Session& s) const {
  Headers h;
  s.record().meter.addHeaders(h);
  h.emplace_back("x-aigw-cache", s.record().cacheStatus);
  if (target_.provider == nullptr) return h;
  h.emplace_back("x-aigw-provider", demo_ ? "demo" : target_.provider->id);
  h.emplace_back("x-aigw-model", demo_ ? req_.model : target_.upstream);
  h.emplace_back("x-aigw-attempts", std::to_string(s.record().attempts));
  if (!s.record().route.empty()) h.emplace_back("x-aigw-route", s.record().route);
  if (!upstreamRequestId_.empty()) h.emplace_back("x-aigw-upstream-request-id", upstreamRequestId_);
  return h;
}

void ChatPipeline::price(Session& s, const Usage& reported, size_t outputBytes, bool estimate) {
  RequestRecord& r = s.record();
  r.usage = reported;
  if (estimate) estimateUsage(r.usage, req_.promptBytes, req_.messageCount, outputBytes);
  r.cost = r.usage.known ? priceUsage(target_.price, r.usage, s.config().usdBrlRateMicro) : Cost{};
}

void ChatPipeline::addCostHeaders(const Session& s, Headers& h) const {
  const RequestRecord& r = s.record();
  if (r.cost.priced) {
    h.emplace_back("x-aigw-cost-usd", formatPico(r.cost.picoUsd));
    h.emplace_back("x-aigw-cost-brl", formatPico(r.cost.picoBrl));
  }
  if (r.usage.estimated) h.emplace_back("x-aigw-usage-estimated", "true");
}

CallSummary ChatPipeline::summary(const Session& s) const {
  CallSummary sum;
  sum.requestId = s.requestId();
  sum.responseId = "chatcmpl-" + s.requestId().substr(5);
  sum.model = req_.model;
  sum.provider = demo_ ? "demo" : (target_.provider ? target_.provider->id : "");
  sum.upstreamModel = target_.upstream;
  sum.created = s.startedMs() / 1000;
  sum.nowMs = s.nowMs();
  sum.latencyMs = s.nowMs() - s.startedMs();
  sum.usage = s.record().usage;
  sum.cost = s.record().cost;
  return sum;
}

void ChatPipeline::sendAttempt(Session& s, int64_t delayMs) {
  const Config& c = s.config();
  const ProviderConfig& p = *target_.provider;
  FetchSpec f = providerFetch(p, req_.stream);
  f.url = upstream_.url;
  f.body = upstream_.body;
  f.delayMs = delayMs;
  int64_t remaining = deadlineMs_ - s.nowMs() - delayMs;
  int64_t perAttempt = p.timeoutMs > 0 ? p.timeoutMs : c.requestTimeoutMs;
  // A target that hangs must leave time for the rest of its chain.
  if (const size_t targetsLeft = chain_.size() - current_; targetsLeft > 1)
    perAttempt = std::min<int64_t>(perAttempt, remaining / static_cast<int64_t>(targetsLeft));
  f.timeoutMs = std::max<int64_t>(1, std::min(perAttempt, remaining));
  const int64_t firstByte = p.firstByteTimeoutMs > 0 ? p.firstByteTimeoutMs : c.firstByteTimeoutMs;
  if (firstByte > 0 && firstByte < f.timeoutMs) f.firstByteTimeoutMs = firstByte;
  if (req_.stream) f.idleTimeoutMs = p.streamIdleTimeoutMs > 0 ? p.streamIdleTimeoutMs : c.streamIdleTimeoutMs;
  attemptStartMs_ = s.nowMs() + delayMs;
  upstreamStatus_ = 0;
  ++s.record().attempts;
  fetchId_ = s.fetch(f);
}

// Full-jitter exponential backoff within the request's deadline; a
// provider's Retry-After is honoured when it fits under the cap.
bool ChatPipeline::maybeRetry(Session& s, int64_t retryAfterMs) {
  const Config& c = s.config();
  if (attempt_ >= c.maxRetries || s.headSent()) return false;
  const int64_t delay = backoffDelay({c.retryBaseMs, c.retryMaxMs}, attempt_, retryAfterMs, s.random());
  if (delay < 0 || s.nowMs() + delay >= deadlineMs_) return false;
  ++attempt_;
  buffer_.clear();
  sendAttempt(s, delay);
  return true;
}

void ChatPipeline::recordAttempt(Session& s, bool up, std::string_view error) {
  double latency =
      static_cast<double>(std::max<int64_t>(0, (firstByteMs_ ? firstByteMs_ : s.nowMs()) - attemptStartMs_));
  s.state().recordAttempt(target_.provider->id, s.nowMs(), upstreamStatus_, up, latency, error);
  if (up) addSample(req_.stream ? health_->ttftEwmaMs : health_->latencyEwmaMs, latency);
  targetTried_ = true;
  targetUp_ = up;
  firstByteMs_ = 0;
}

void ChatPipeline::closeTarget(Session& s) {
  if (!targetTried_ || targetClosed_) return;
  targetClosed_ = true;
  if (targetUp_) health_->breaker.onSuccess(s.config().breaker, s.nowMs());
  else health_->breaker.onFailure(s.config().breaker, s.nowMs());
  shareBreaker(s);
}

void ChatPipeline::answerFromDemo(Session& s) {
  demo_ = true;
  s.record().provider = "demo";
  target_.price = FREE;
  demo::Reply reply = demo::compose(req_);
  price(s, reply.usage, 0, false);
  Completion completion;
  completion.choices.emplace_back();
  completion.choices[0].content = reply.text;
  completion.choices[0].hasContent = true;
  completion.choices[0].finishReason = "stop";
  completion.usage = s.record().usage;
  CallSummary sum = summary(s);
  sum.finishReason = "stop";
  storeAnswer(s, completion);
  respondWhole(s, completion, sum, commonHeaders(s));
  s.finish(200, "ok");
}

void ChatPipeline::respondWhole(Session& s, const Completion& c, const CallSummary& sum, Headers h) {
  if (!req_.stream) {
    addCostHeaders(s, h);
    return s.respondJson(200, dialect_.renderCompletion(c, sum), h);
  }
  // Streamed in word-sized pieces, as a model would.
  h.emplace_back("content-type", "text/event-stream; charset=utf-8");
  h.emplace_back("cache-control", "no-cache");
  s.respondHead(200, h, true);
  s.record().ttftMs = s.nowMs() - s.openedMs();
  writer_ = dialect_.streamWriter(sum, req_.clientWantsUsage);
  for (const Choice& choice : c.choices) {
    for (std::string_view piece : demo::pieces(choice.content)) writer_->text(choice.index, piece);
    for (size_t i = 0; i < choice.toolCalls.size(); ++i) {
      const ToolCall& call = choice.toolCalls[i];
      writer_->toolCall(choice.index, static_cast<int>(i), call.id, call.name);
      writer_->toolArguments(choice.index, static_cast<int>(i), call.arguments);
    }
    writer_->finish(choice.index, choice.finishReason);
  }
  writer_->end(sum);
  drainWriter(s);
  s.respondEnd();
}

void ChatPipeline::finishWithError(Session& s, const ApiError& e, const Headers& extra) {
  // Refused before the common headers apply: still say what the cache did.
  s.respond(e.status, "application/json", dialect_.renderError(e),
            extra.empty() ? Headers{{"x-aigw-cache", s.record().cacheStatus}} : extra);
  s.finish(e.status, e.code.empty() ? e.type : e.code, e);
}

void ChatPipeline::onDone(Session& s) {
  closeTarget(s);
  if (leading_) landFlight(s);  // requests waiting on this one get its answer (or go on their own)
}

}  // namespace gw::chat
