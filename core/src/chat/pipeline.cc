#include "pipeline.h"

#include <algorithm>

#include "../../providers/demo.h"
#include "../handlers/upstream_call.h"
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
  if (ApiError e = resolveModel(c, req_.model, ModelKind::Chat, target_)) {
    if (req_.modelNode == 0) e.param = "models";  // the first of `models` stood for `model`
    return finishWithError(s, e);
  }
  if (ApiError e = checkCapabilities(req_, target_)) return finishWithError(s, e);
  if (ApiError e = checkModelAllowed(s.principal(), req_.model, target_)) return finishWithError(s, e);
  if (ApiError e = cache::decide(c.cache, req_.tape, s.request().header("cache-control"),
                                s.request().header("x-aigw-cache-ttl"), useCache_, cache_))
    return finishWithError(s, e);
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
    const Price price = &t == &chain_[0] && answersFromDemo() ? FREE : t.price;
    const int64_t maxOutput = req_.maxTokens > 0 ? req_.maxTokens : defaultMaxTokens(c, t);
    worst = worstOf(worst, worstCase(price, req_.promptBytes, req_.messageCount, maxOutput, c.usdBrlRateMicro));
  }
  waiting_ = 1;
  UsageRecord row;
  row.apiType = apiType();
  row.model = req_.model;
  row.stream = req_.stream;
  row.cacheStatus = cacheStatus_;
  meter_.reserve(s, worst, row, [this](Session& s, const ApiError& e) {
                   if (e) {
                     refused_ = true;
                     return finishWithError(s, e, commonHeaders());
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
  Headers h = commonHeaders();
  if (e.status == 429 && chain_.size() == 1)
    h.emplace_back("retry-after", std::to_string((health_->rateLimitedUntilMs - s.nowMs() + 999) / 1000));
  finishWithError(s, chain_.size() > 1 ? allTargetsFailed() : e, h);
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
  Headers h = commonHeaders();
  h.emplace_back("content-type", "text/event-stream; charset=utf-8");
  h.emplace_back("cache-control", "no-cache");
  s.respondHead(200, h, true);
  streamStartMs_ = s.nowMs();
  if (passthrough_) {
    forwarder_ = std::make_unique<openai_chat::StreamForwarder>(req_.clientWantsUsage);
  } else {
    decoder_ = codec_->streamDecoder(target_.provider->id);
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
  ApiError e = codec_->mapError(upstreamStatus_, buffer_, target_.provider->id);
  recordAttempt(s, upstreamStatus_ < 500, e.message);
  if (upstreamStatus_ == 429) {
    // Every request to this target waits out the provider's retry-after (1 s when it gave none).
    const int64_t wait = std::clamp<int64_t>(retryAfterMs_ >= 0 ? retryAfterMs_ : 1000, 0, 60000);
    health_->rateLimitedUntilMs = std::max(health_->rateLimitedUntilMs, s.nowMs() + wait);
  }
  attempts_.push_back({chainIds_[current_], std::to_string(upstreamStatus_), e.message});
  // Another target first (users should not wait out a backoff when one is
  // ready), then retries of the last one.
  if (failsOver(upstreamStatus_) && failOver(s)) return;
  if (retryableStatus(upstreamStatus_) && maybeRetry(s, retryAfterMs_)) return;
  if (chain_.size() > 1 && failsOver(upstreamStatus_)) return finishWithError(s, allTargetsFailed(), commonHeaders());
  Headers h = commonHeaders();
  if (upstreamStatus_ == 429 && retryAfterMs_ >= 0) h.emplace_back("retry-after", std::to_string(retryAfterMs_ / 1000));
  finishWithError(s, e, h);
}

void ChatPipeline::finishSuccess(Session& s) {
  recordAttempt(s, true, "");
  Headers h = commonHeaders();
  if (passthrough_) {
    Usage reported = openai_chat::decodeResponseUsage(buffer_);
    settle(s, reported, reported.known ? 0 : openai_chat::responseContentBytes(buffer_));
    addCostHeaders(h);
    if (cache_.mode != cache::Mode::Bypass) {
      Completion answer;
      if (codec_->decode(buffer_, answer)) storeAnswer(s, answer);
    }
    s.respondJson(upstreamStatus_, buffer_, h);
    return logOutcome(s, upstreamStatus_, "ok");
  }
  Completion completion;
  if (!codec_->decode(buffer_, completion)) {
    return finishWithError(
        s, serverError(502, "Upstream provider '" + target_.provider->id + "' sent a response the gateway cannot read.",
                       "upstream_error", "upstream_bad_response"),
        h);
  }
  if (!completion.promptBlocked.empty()) {
    settle(s, completion.usage, 0, false);
    return finishWithError(s, blockedPrompt(completion.promptBlocked, target_.provider->id), h);
  }
  settle(s, completion.usage, outputBytes(completion));
  completion.usage = usage_;
  CallSummary sum = summary(s);
  if (!completion.choices.empty()) sum.finishReason = completion.choices[0].finishReason;
  addCostHeaders(h);
  storeAnswer(s, completion);
  s.respondJson(200, dialect_.renderCompletion(completion, sum), h);
  logOutcome(s, 200, "ok");
}

void ChatPipeline::finishStream(Session& s) {
  streamEnded_ = true;
  if (passthrough_) {
    settle(s, forwarder_->usage(), forwarder_->contentBytes());
    out_ = costComment(usage_, cost_);
    out_ += "data: [DONE]\n\n";
    s.respondChunk(out_);
  } else {
    settle(s, decoder_->usage(), writer_->outputBytes());
    writer_->end(summary(s));
    drainWriter(s);
    if (recorder_) storeAnswer(s, recorder_->completion());
  }
  s.respondEnd();
  logOutcome(s, 200, "ok");
}

void ChatPipeline::cutStream(Session& s) {
  streamEnded_ = true;
  s.abortFetch(fetchId_);
  ++s.state().overshoot.streamsCut;
  if (passthrough_) {
    settle(s, forwarder_->usage(), forwarder_->contentBytes());
    // The forwarded chunks were the provider's own; the last is ours.
    std::unique_ptr<StreamWriter> tail = dialect_.streamWriter(summary(s), req_.clientWantsUsage);
    tail->finish(0, "length");
    tail->end(summary(s));
    s.respondChunk(tail->pending());
  } else {
    settle(s, decoder_->usage(), writer_->outputBytes());
    counter_->cut();
    writer_->end(summary(s));
    drainWriter(s);
  }
  s.respondEnd();
  logOutcome(s, 200, "output_cut");
}

// A stream that already started cannot change status: it ends with an error
// event in the client's dialect instead of hanging or stopping silently.
void ChatPipeline::failStream(Session& s, const ApiError& e) {
  streamEnded_ = true;
  error_ = e;
  s.abortFetch(fetchId_);
  recordAttempt(s, false, e.message);
  if (passthrough_) {
    settle(s, forwarder_->usage(), 0, false);
    s.respondChunk("data: " + renderError(e) + "\n\n");
  } else {
    settle(s, decoder_->usage(), 0, false);
    writer_->failure(e);
    drainWriter(s);
  }
  s.respondEnd();
  logOutcome(s, 200, "stream_error");
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
  attempts_.push_back({chainIds_[current_], timeout ? "timeout" : "network", detail});
  if (failOver(s) || maybeRetry(s, -1)) return;
  if (chain_.size() > 1) return finishWithError(s, allTargetsFailed(), commonHeaders());
  if (timeout) {
    return finishWithError(s,
                           serverError(504,
                                       "The upstream provider '" + provider + "' did not answer within " +
                                           std::to_string(s.config().requestTimeoutMs) + " ms.",
                                       "timeout_error", "upstream_timeout"),
                           commonHeaders());
  }
  finishWithError(s,
                  serverError(502, "Could not reach the upstream provider '" + provider + "': " + detail,
                              "upstream_error", "upstream_unreachable"),
                  commonHeaders());
}

void ChatPipeline::onCancel(Session& s) {
  leaveFlight(s);
  // The client went away mid-stream: charge and record what was delivered.
  if (decoder_) settle(s, decoder_->usage(), writer_ ? writer_->outputBytes() : 0);
  if (forwarder_) settle(s, forwarder_->usage(), forwarder_->contentBytes());
  error_ = invalidRequest("The client closed the connection.", "", "client_cancelled");
  logOutcome(s, 499, "client_cancelled");
}

Headers ChatPipeline::commonHeaders() const {
  Headers h;
  meter_.addHeaders(h);
  h.emplace_back("x-aigw-cache", cacheStatus_);
  if (target_.provider == nullptr) return h;
  h.emplace_back("x-aigw-provider", demo_ ? "demo" : target_.provider->id);
  h.emplace_back("x-aigw-model", demo_ ? req_.model : target_.upstream);
  h.emplace_back("x-aigw-attempts", std::to_string(sent_));
  if (!route_.empty()) h.emplace_back("x-aigw-route", route_);
  if (!upstreamRequestId_.empty()) h.emplace_back("x-aigw-upstream-request-id", upstreamRequestId_);
  return h;
}

void ChatPipeline::settle(Session& s, const Usage& reported, size_t outputBytes, bool estimate) {
  usage_ = reported;
  if (estimate) estimateUsage(usage_, req_.promptBytes, req_.messageCount, outputBytes);
  cost_ = usage_.known ? priceUsage(target_.price, usage_, s.config().usdBrlRateMicro) : Cost{};
}

void ChatPipeline::addCostHeaders(Headers& h) const {
  if (cost_.priced) {
    h.emplace_back("x-aigw-cost-usd", formatPico(cost_.picoUsd));
    h.emplace_back("x-aigw-cost-brl", formatPico(cost_.picoBrl));
  }
  if (usage_.estimated) h.emplace_back("x-aigw-usage-estimated", "true");
}

CallSummary ChatPipeline::summary(Session& s) const {
  CallSummary sum;
  sum.requestId = s.requestId();
  sum.responseId = "chatcmpl-" + s.requestId().substr(5);
  sum.model = req_.model;
  sum.provider = demo_ ? "demo" : (target_.provider ? target_.provider->id : "");
  sum.upstreamModel = target_.upstream;
  sum.created = s.startedMs() / 1000;
  sum.nowMs = s.nowMs();
  sum.latencyMs = s.nowMs() - s.startedMs();
  sum.usage = usage_;
  sum.cost = cost_;
  return sum;
}

void ChatPipeline::sendAttempt(Session& s, int64_t delayMs) {
  const Config& c = s.config();
  const ProviderConfig& p = *target_.provider;
  FetchSpec f = handlers::providerFetch(p, req_.stream);
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
  ++sent_;
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
  target_.price = FREE;
  demo::Reply reply = demo::compose(req_);
  settle(s, reply.usage, 0, false);
  Completion completion;
  completion.choices.emplace_back();
  completion.choices[0].content = reply.text;
  completion.choices[0].hasContent = true;
  completion.choices[0].finishReason = "stop";
  completion.usage = usage_;
  CallSummary sum = summary(s);
  sum.finishReason = "stop";
  storeAnswer(s, completion);
  respondWhole(s, completion, sum, commonHeaders());
  logOutcome(s, 200, "ok");
}

void ChatPipeline::respondWhole(Session& s, const Completion& c, const CallSummary& sum, Headers h) {
  if (!req_.stream) {
    addCostHeaders(h);
    return s.respondJson(200, dialect_.renderCompletion(c, sum), h);
  }
  // Streamed in word-sized pieces, as a model would.
  h.emplace_back("content-type", "text/event-stream; charset=utf-8");
  h.emplace_back("cache-control", "no-cache");
  s.respondHead(200, h, true);
  streamStartMs_ = s.nowMs();
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
  error_ = e;
  // Refused before the common headers apply: still say what the cache did.
  s.respond(e.status, "application/json", dialect_.renderError(e),
            extra.empty() ? Headers{{"x-aigw-cache", cacheStatus_}} : extra);
  logOutcome(s, e.status, e.code.empty() ? e.type : e.code);
}

void ChatPipeline::logOutcome(Session& s, int status, std::string_view outcome) {
  // Every exit passes here once: charge what was used, or give the hold
  // back; requests waiting on this one get its answer (or go on their own).
  if (recorded_) return;
  recorded_ = true;
  closeTarget(s);
  int64_t overshoot = 0;  // tokens the provider used beyond the hold (not charged)
  if (usage_.known) overshoot = meter_.settle(s, usage_.totalTokens, cost_);
  else meter_.release(s);
  if (leading_) landFlight(s);
  std::string record;
  json::Writer w(record);
  w.beginObject().field("event", apiType()).field("status", status).field("outcome", outcome);
  w.field("model", req_.model).field("stream", req_.stream);
  // Prompt text only when the operator asked for it (LOG_PROMPTS), and cut short.
  if (s.config().logPrompts) w.field("prompt", std::string_view(req_.lastUserText).substr(0, 2000));
  if (demo_) w.field("provider", "demo");
  else if (target_.provider != nullptr) w.field("provider", target_.provider->id).field("upstream_model", target_.upstream);
  w.field("attempts", sent_).field("duration_ms", s.nowMs() - s.startedMs()).field("cache", cacheStatus_);
  if (!cache_.reason.empty()) w.field("cache_bypass", cache_.reason);
  if (!route_.empty()) w.field("route", route_);
  if (!attempts_.empty()) {
    w.key("failed_attempts").beginArray();
    for (const auto& a : attempts_)
      w.beginObject().field("target", a.target).field("status", a.status).field("message", a.message).endObject();
    w.endArray();
  }
  if (usage_.known) {
    w.key("usage").beginObject().field("prompt_tokens", usage_.promptTokens);
    w.field("completion_tokens", usage_.completionTokens).field("total_tokens", usage_.totalTokens);
    w.field("cached_prompt_tokens", usage_.cachedPromptTokens);
    if (usage_.cacheCreationTokens) w.field("cache_creation_tokens", usage_.cacheCreationTokens);
    if (usage_.estimated) w.field("estimated", true);
    w.endObject();
    if (overshoot > 0) w.field("overshoot_tokens", overshoot);
    if (cost_.priced) w.key("cost_usd").raw(formatPico(cost_.picoUsd)).key("cost_brl").raw(formatPico(cost_.picoBrl));
  }
  w.endObject();
  s.log(status >= 500 ? "error" : "info", record);

  UsageRecord row;
  row.apiType = apiType();
  row.provider = demo_ ? "demo" : (target_.provider != nullptr ? std::string_view(target_.provider->id) : "");
  row.model = req_.model;
  row.upstreamModel = target_.upstream;
  row.usage = usage_;
  row.cost = cost_;  // zero for a hit (serveHit)
  if (streamStartMs_ >= 0) row.ttftMs = streamStartMs_ - s.startedMs();
  row.status = status;
  row.stream = req_.stream;
  if (error_) row.errorClass = outcome, row.errorMessage = error_.message;
  row.cacheStatus = cacheStatus_;
  row.attempts = sent_;
  row.route = route_;
  recordUsage(s, row);
}

}  // namespace gw::chat
