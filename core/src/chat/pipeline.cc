#include "pipeline.h"

#include <algorithm>

#include "../handlers/body_limit.h"
#include "gw/cache_store.h"
#include "gw/preferences.h"
#include "wire/demo.h"
#include "wire/openai_chat.h"

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

ApiError lacks(const Target& t, std::string param, std::string_view what) {
  return invalidRequest("The model '" + t.model->id + "' does not support " + std::string(what) + ".", std::move(param),
                        "unsupported_capability");
}

// The tenant's own key, refused by its provider.
ApiError tenantKeyRejected(const ProviderConfig& p, const vault::StoredKey& key, int status, std::string_view why) {
  return forbidden("The provider '" + p.id + "' refused this tenant's own API key for it (" + key.hint +
                             ", set by " + key.setBy + ") with status " + std::to_string(status) + ": " +
                             std::string(why.substr(0, 300)) +
                             " Replace the key on the dashboard's Setup page or with PUT /api/v1/ai/admin/credentials/" +
                             p.id + ".",
                   "", "provider_key_rejected");
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

ApiError ChatPipeline::encodeRequest(Session& s, const Target& target, UpstreamRequest& out, const AnswerCodec*&) {
  return chatCodec(target.provider->format).encode(req_, target, s.config(), out);
}

ApiError ChatPipeline::translateRequest(Session&, std::string&, bool& useTranslated) {
  useTranslated = false;
  return {};
}

// Validating: the body, the model and what the key may use, the cache
// decision and the routing policy.
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

// Planning → LookingUp, or → Reserving when the cache is bypassed.
void ChatPipeline::plan(Session& s) {
  phase_ = Phase::Planning;
  if (ApiError e = buildChain(s)) return finishWithError(s, e);
  if (cache_.mode == cache::Mode::Bypass) return reserve(s);
  phase_ = Phase::LookingUp;
  lookup(s);
}

// Reserving: the hold covers the dearest target the request may end up at;
// the shared breakers are read alongside. → Calling once both are back, or
// Done when the ledger refuses.
void ChatPipeline::reserve(Session& s) {
  phase_ = Phase::Reserving;
  const Config& c = s.config();
  Worst worst;
  for (const Target& t : chain_) {
    const Price targetPrice = &t == &chain_[0] && answersFromDemo() ? FREE : t.price;
    const int64_t maxOutput = req_.maxTokens > 0 ? req_.maxTokens : defaultMaxTokens(c, t);
    worst = worstOf(worst, worstCase(targetPrice, req_.promptBytes, req_.messageCount, maxOutput, c.usdBrlRateMicro));
  }
  waiting_ = 1;
  s.record().meter.reserve(s, worst, [this](Session& s, const ApiError& e) {
    if (e) return finishWithError(s, e, commonHeaders(s));
    oneReady(s);
  });
  readSharedBreakers(s);
}

void ChatPipeline::oneReady(Session& s) {
  if (--waiting_ > 0 || phase_ != Phase::Reserving) return;
  call(s);
}

// Calling: the first usable target (or the demo). → Relaying when a stream
// starts; Done with an answer or once every target failed.
void ChatPipeline::call(Session& s) {
  phase_ = Phase::Calling;
  if (answersFromDemo()) return answerFromDemo(s);
  deadlineMs_ = s.openedMs() + s.config().requestTimeoutMs;
  current_ = 0;
  ApiError e = startTarget(s);
  if (!e || failOver(s)) return;
  Headers h = commonHeaders(s);
  if (e.status == 429 && chain_.size() == 1)
    h.emplace_back("retry-after", std::to_string((health_->rateLimitedUntilMs - s.nowMs() + 999) / 1000));
  finishWithError(s, chain_.size() > 1 ? allTargetsFailed(s) : e, h);
}

// Calling → Relaying: the stream's head goes to the client.
void ChatPipeline::onStreamStart(Session& s) {
  phase_ = Phase::Relaying;
  Headers h = commonHeaders(s);
  h.emplace_back("content-type", "text/event-stream; charset=utf-8");
  h.emplace_back("cache-control", "no-cache");
  s.respondHead(200, h, true);
  s.record().ttftMs = s.nowMs() - s.openedMs();
  const StreamRelay::Mode mode = native_ ? StreamRelay::Mode::ForwardNative
                                 : passthrough_ ? StreamRelay::Mode::ForwardOpenAi
                                                : StreamRelay::Mode::Render;
  relay_ = std::make_unique<StreamRelay>(dialect_, *codec_, *target_.provider, summary(s), req_.clientWantsUsage, mode,
                                         cache_.mode != cache::Mode::Bypass || keepsAnswers() || s.record().storeBody);
}

void ChatPipeline::onStreamData(Session& s, std::string_view data) {
  if (phase_ != Phase::Relaying) return;
  out_.clear();
  const StreamRelay::Fed fed = relay_->feed(data, out_);
  s.respondChunk(out_);
  if (fed == StreamRelay::Fed::Failed) return failStream(s, relay_->error());
  if (fed == StreamRelay::Fed::Complete) return finishStream(s);
  if (relay_->tokens() > outputCutoff()) cutStream(s);
}

void ChatPipeline::onStreamEnd(Session& s) {
  if (phase_ != Phase::Relaying) return;
  if (!relay_->complete())
    return failStream(s, serverError(502,
                                     "Upstream provider '" + target_.provider->id +
                                         "' failed: the stream ended before it was complete.",
                                     "upstream_error", "upstream_stream_error"));
  finishStream(s);
}

// A whole response: the answer (→ Done), or an error that fails over,
// retries, or ends the request.
void ChatPipeline::onResponse(Session& s) {
  if (phase_ != Phase::Calling) return;
  const int status = attempt_.status();
  if (status >= 200 && status < 300) return finishSuccess(s);
  ApiError e = codec_->mapError(status, attempt_.body(), *target_.provider);
  attempt_.record(s, status < 500, e.message);
  if ((status == 401 || status == 403) && target_.tenantKey != nullptr) {
    // The tenant's own key, refused: the tenant must replace it. Said as
    // such, never hidden behind another target or the gateway's key.
    s.record().failedAttempts.push_back({chainIds_[current_], std::to_string(status), e.message, s.nowMs() - s.openedMs()});
    return finishWithError(s, tenantKeyRejected(*target_.provider, *target_.tenantKey, status, e.message),
                           commonHeaders(s));
  }
  const int64_t retryAfterMs = attempt_.retryAfterMs();
  if (status == 429) {
    // Every request to this target waits out the provider's retry-after (1 s when it gave none).
    const int64_t wait = std::clamp<int64_t>(retryAfterMs >= 0 ? retryAfterMs : 1000, 0, 60000);
    health_->rateLimitedUntilMs = std::max(health_->rateLimitedUntilMs, s.nowMs() + wait);
  }
  s.record().failedAttempts.push_back({chainIds_[current_], std::to_string(status), e.message, s.nowMs() - s.openedMs()});
  // Another target first (users should not wait out a backoff when one is
  // ready), then retries of the last one.
  if (failsOver(status) && failOver(s)) return;
  if (retryableStatus(status) && attempt_.retry(s, retryAfterMs)) return;
  if (chain_.size() > 1 && failsOver(status)) return finishWithError(s, allTargetsFailed(s), commonHeaders(s));
  Headers h = commonHeaders(s);
  if (status == 429 && retryAfterMs >= 0) h.emplace_back("retry-after", std::to_string(retryAfterMs / 1000));
  finishWithError(s, e, h);
}

// No response: mid-stream it ends the stream; before, it fails over,
// retries, or ends the request.
void ChatPipeline::onFailure(Session& s, std::string_view reason, std::string_view message) {
  const std::string& provider = target_.provider->id;
  if (reason == "too_large") {
    if (phase_ != Phase::Calling) return;
    return finishWithError(s, serverError(502, "The upstream response exceeded the gateway's size limit.",
                                          "upstream_error", "upstream_response_too_large"));
  }
  if (reason == "credential") {
    // The host could not open a key from the vault (GATEWAY_ENCRYPTION_KEY
    // unset, or rotated away from the one it was sealed under): no call was made.
    if (phase_ != Phase::Calling) return;
    s.record().failedAttempts.push_back({chainIds_[current_], "credential", std::string(message), s.nowMs() - s.openedMs()});
    return finishWithError(s, serverError(503,
                                          "The stored API key for provider '" + provider +
                                              "' could not be opened (GATEWAY_ENCRYPTION_KEY must hold the key it "
                                              "was sealed under): " + std::string(message),
                                          "server_error", "provider_key_unavailable"),
                           commonHeaders(s));
  }
  const bool stalled = reason == "stalled";
  const bool timeout = reason == "timeout" || stalled;
  if (phase_ == Phase::Relaying) {
    return failStream(s, serverError(502,
                                     "Upstream provider '" + provider + "' failed: " +
                                         (stalled   ? "the stream stalled (no data within the idle timeout)."
                                          : timeout ? "the stream timed out."
                                                    : "the connection failed mid-stream."),
                                     "upstream_error", "upstream_stream_error"));
  }
  if (phase_ != Phase::Calling) return;
  std::string detail = message.empty() ? std::string(reason) : std::string(message);
  attempt_.record(s, false, detail);
  s.record().failedAttempts.push_back({chainIds_[current_], timeout ? "timeout" : "network", detail, s.nowMs() - s.openedMs()});
  if (failOver(s) || attempt_.retry(s, -1)) return;
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

void ChatPipeline::finishSuccess(Session& s) {
  phase_ = Phase::Done;
  attempt_.record(s, true, "");
  const std::string& body = attempt_.body();
  Headers h = commonHeaders(s);
  if (native_) {
    Completion answer;
    const bool read = codec_->decode(body, *target_.provider, answer);
    price(s, answer.usage, read ? outputBytes(answer) : body.size());
    addCostHeaders(s, h);
    if (read) {
      storeAnswer(s, answer);
      if (keepsAnswers()) {
        CallSummary sum = summary(s);
        if (!answer.choices.empty()) sum.finishReason = answer.choices[0].finishReason;
        onAnswer(s, answer, sum, body);
      }
    }
    s.respondJson(attempt_.status(), body, h);
    return s.finish(attempt_.status(), "ok");
  }
  if (passthrough_) {
    Usage reported = openai_chat::decodeResponseUsage(body, target_.provider->quirks);
    price(s, reported, reported.known ? 0 : openai_chat::responseContentBytes(body));
    addCostHeaders(s, h);
    if (cache_.mode != cache::Mode::Bypass) {
      Completion answer;
      if (codec_->decode(body, *target_.provider, answer)) storeAnswer(s, answer);
    }
    s.respondJson(attempt_.status(), body, h);
    return s.finish(attempt_.status(), "ok");
  }
  Completion completion;
  if (!codec_->decode(body, *target_.provider, completion)) {
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
  onAnswer(s, completion, sum, {});
  s.respondJson(200, dialect_.renderCompletion(completion, sum), h);
  s.finish(200, "ok");
}

void ChatPipeline::finishStream(Session& s) {
  phase_ = Phase::Done;
  price(s, relay_->usage(), relay_->outputBytes());
  out_.clear();
  const CallSummary sum = summary(s);
  relay_->finish(sum, out_);
  s.respondChunk(out_);
  if (const Completion* answer = relay_->recorded()) {
    keepReassembled(s, *answer, sum);
    storeAnswer(s, *answer);
    onAnswer(s, *answer, sum, native_ ? relay_->nativeDocument() : std::string_view());
  }
  s.respondEnd();
  s.finish(200, "ok");
}

void ChatPipeline::cutStream(Session& s) {
  phase_ = Phase::Done;
  attempt_.abort(s);
  ++s.state().overshoot.streamsCut;
  price(s, relay_->usage(), relay_->outputBytes());
  out_.clear();
  const CallSummary sum = summary(s);
  relay_->cut(sum, out_);
  s.respondChunk(out_);
  if (const Completion* answer = relay_->recorded()) keepReassembled(s, *answer, sum);
  s.respondEnd();
  s.finish(200, "output_cut");
}

// A stream that already started cannot change status: it ends with an error
// event in the client's dialect instead of hanging or stopping silently.
void ChatPipeline::failStream(Session& s, const ApiError& e) {
  phase_ = Phase::Done;
  attempt_.abort(s);
  attempt_.record(s, false, e.message);
  price(s, relay_->usage(), 0, false);
  out_.clear();
  relay_->fail(e, out_);
  s.respondChunk(out_);
  s.respondEnd();
  s.finish(200, "stream_error", e);
}

// The request log's body of a stream: the answer as one document of the
// client's dialect, as it would have come unstreamed.
void ChatPipeline::keepReassembled(Session& s, const Completion& answer, const CallSummary& sum) {
  RequestRecord& r = s.record();
  if (!r.storeBody) return;
  r.responseBody = dialect_.renderCompletion(answer, sum);
  r.responseReassembled = true;
  r.responseTruncated = false;
}

void ChatPipeline::onCancel(Session& s) {
  phase_ = Phase::Done;
  leaveFlight(s);
  // The client went away mid-stream: charge and record what was delivered.
  if (relay_) price(s, relay_->usage(), relay_->outputBytes());
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
  if (!attempt_.upstreamRequestId().empty()) h.emplace_back("x-aigw-upstream-request-id", attempt_.upstreamRequestId());
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
  sum.created = s.openedMs() / 1000;
  sum.nowMs = s.nowMs();
  sum.latencyMs = s.nowMs() - s.openedMs();
  sum.usage = s.record().usage;
  sum.cost = s.record().cost;
  sum.echo = echo_;
  return sum;
}

void ChatPipeline::answerFromDemo(Session& s) {
  phase_ = Phase::Done;
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
  onAnswer(s, completion, sum, {});
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
  std::unique_ptr<StreamWriter> writer = dialect_.streamWriter(sum, req_.clientWantsUsage);
  for (const Choice& choice : c.choices) {
    for (std::string_view piece : demo::pieces(choice.content)) writer->text(choice.index, piece);
    for (size_t i = 0; i < choice.toolCalls.size(); ++i) {
      const ToolCall& call = choice.toolCalls[i];
      writer->toolCall(choice.index, static_cast<int>(i), call.id, call.name);
      writer->toolArguments(choice.index, static_cast<int>(i), call.arguments);
    }
    writer->finish(choice.index, choice.finishReason);
  }
  writer->end(sum);
  s.respondChunk(writer->pending());
  s.respondEnd();
}

void ChatPipeline::finishWithError(Session& s, const ApiError& e, const Headers& extra) {
  phase_ = Phase::Done;
  // Refused before the common headers apply: still say what the cache did.
  s.respond(e.status, "application/json", renderError(e),
            extra.empty() ? Headers{{"x-aigw-cache", s.record().cacheStatus}} : extra);
  s.finish(e.status, e.code.empty() ? e.type : e.code, e);
}

void ChatPipeline::onDone(Session& s) {
  attempt_.close(s);
  if (leading_) landFlight(s);  // requests waiting on this one get its answer (or go on their own)
}

}  // namespace gw::chat
