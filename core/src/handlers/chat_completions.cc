// POST /v1/chat/completions: validate, resolve the model to a provider, call
// it (retrying 429/5xx/network/timeouts before the first byte reaches the
// client), and pass the answer or the stream through.
#include <algorithm>
#include <memory>
#include <string>

#include "../../providers/demo.h"
#include "../../providers/openai_chat.h"
#include "gw/chat_request.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

constexpr int64_t RETRY_AFTER_CAP_MS = 60000;

bool retryableStatus(int status) { return status == 429 || status >= 500; }

// Retry-After as delta-seconds; HTTP dates are ignored (not worth a calendar).
int64_t parseRetryAfterMs(std::string_view v) {
  if (v.empty() || v.size() > 9) return -1;
  int64_t seconds = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return -1;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds * 1000;
}

std::string headerValue(const json::Tape& t, uint32_t headers, std::string_view name) {
  if (headers == 0) return {};
  uint32_t v = t.find(headers, name);
  return v != 0 && t.kind(v) == json::Kind::String ? t.string(v) : std::string();
}

class ChatCompletions : public Handler {
 public:
  void start(Session& s) override {
    const Config& c = s.config();
    const RequestEnvelope& r = s.request();
    if (r.bodyTruncated || static_cast<int64_t>(s.body().size()) > c.maxBodyBytes) {
      uint64_t size = std::max<uint64_t>(r.bodySize, s.body().size());
      ApiError e = invalidRequest("Request body is too large: " + std::to_string(size) + " bytes; the limit is " +
                                      std::to_string(c.maxBodyBytes) + " bytes.",
                                  "", "request_too_large");
      e.status = 413;
      return finishWithError(s, e);
    }
    if (ApiError e = parseChatRequest(s.body(), req_)) return finishWithError(s, e);

    model_ = c.model(req_.model);
    if (model_ != nullptr && !model_->enabled) model_ = nullptr;
    if (model_ == nullptr && !c.allowUnknownModels) {
      ApiError e = invalidRequest("The model '" + req_.model + "' does not exist or you do not have access to it.",
                                  "model", "model_not_found");
      e.status = 404;
      return finishWithError(s, e);
    }
    provider_ = c.provider(model_ ? model_->provider : c.defaultProvider);
    upstreamModel_ = model_ ? model_->upstream : req_.model;
    if (!provider_->configured()) {
      if (c.demoMode == DemoMode::Auto) return answerFromDemo(s);
      ApiError e = serverError(503,
                               "Provider '" + provider_->id + "' is not configured: set " + provider_->apiKeySecret +
                                   " (or " + envPrefix(provider_->id) + "_BASE_URL for a self-hosted server).",
                               "server_error", "provider_not_configured");
      return finishWithError(s, e);
    }
    if (provider_->builtinDemo) return answerFromDemo(s);

    upstreamBody_ = openai_chat::encodeRequest(req_, model_, upstreamModel_, c.defaultMaxTokens);
    deadlineMs_ = s.startedMs() + c.requestTimeoutMs;
    forwarder_ = std::make_unique<openai_chat::StreamForwarder>(req_.clientWantsUsage);
    sendAttempt(s, 0);
  }

  void onFetchHead(Session& s, uint32_t id, int status, const json::Tape& meta, uint32_t headers) override {
    if (id != fetchId_) return;
    upstreamStatus_ = status;
    firstByteMs_ = s.nowMs();
    upstreamRequestId_ = headerValue(meta, headers, "x-request-id");
    retryAfterMs_ = parseRetryAfterMs(headerValue(meta, headers, "retry-after"));
    buffer_.clear();
    if (status >= 200 && status < 300 && req_.stream) {
      recordAttempt(s, true, "");
      Headers h = commonHeaders();
      h.emplace_back("content-type", "text/event-stream; charset=utf-8");
      h.emplace_back("cache-control", "no-cache");
      s.respondHead(200, h, true);
    }
  }

  void onFetchChunk(Session& s, uint32_t id, std::string_view data) override {
    if (id != fetchId_) return;
    if (streaming()) {
      out_.clear();
      if (!forwarder_->feed(data, out_)) return failStream(s, "the upstream stream sent an oversized event");
      s.respondChunk(out_);
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

  void onFetchEnd(Session& s, uint32_t id) override {
    if (id != fetchId_) return;
    if (streaming()) {
      if (!forwarder_->sawDone()) return failStream(s, "the upstream stream ended before it was complete");
      usage_ = forwarder_->usage();
      s.respondEnd();
      return logOutcome(s, 200, "ok");
    }
    if (upstreamStatus_ >= 200 && upstreamStatus_ < 300) {
      recordAttempt(s, true, "");
      usage_ = openai_chat::decodeResponseUsage(buffer_);
      Headers h = commonHeaders();
      s.respondJson(upstreamStatus_, buffer_, h);
      return logOutcome(s, upstreamStatus_, "ok");
    }
    ApiError e = openai_chat::mapError(upstreamStatus_, buffer_, provider_->id);
    recordAttempt(s, upstreamStatus_ < 500 && upstreamStatus_ != 429, e.message);
    attempts_.push_back(std::to_string(upstreamStatus_));
    if (retryableStatus(upstreamStatus_) && maybeRetry(s, retryAfterMs_)) return;
    Headers h = commonHeaders();
    if (upstreamStatus_ == 429 && retryAfterMs_ >= 0) h.emplace_back("retry-after", std::to_string(retryAfterMs_ / 1000));
    finishWithError(s, e, h);
  }

  void onFetchError(Session& s, uint32_t id, std::string_view reason, std::string_view message) override {
    if (id != fetchId_) return;
    const bool timeout = reason == "timeout";
    if (streaming()) {
      return failStream(s, timeout ? "the upstream stream timed out" : "the upstream connection failed mid-stream");
    }
    std::string detail = message.empty() ? std::string(reason) : std::string(message);
    recordAttempt(s, false, detail);
    attempts_.push_back(timeout ? "timeout" : "network");
    if (maybeRetry(s, -1)) return;
    if (timeout) {
      return finishWithError(
          s, serverError(504,
                         "The upstream provider '" + provider_->id + "' did not answer within " +
                             std::to_string(s.config().requestTimeoutMs) + " ms.",
                         "timeout_error", "upstream_timeout"),
          commonHeaders());
    }
    finishWithError(s,
                    serverError(502, "Could not reach the upstream provider '" + provider_->id + "': " + detail,
                                "upstream_error", "upstream_unreachable"),
                    commonHeaders());
  }

  void onCancel(Session& s) override { logOutcome(s, 499, "client_cancelled"); }

 private:
  bool streaming() const { return req_.stream && upstreamStatus_ >= 200 && upstreamStatus_ < 300; }

  Headers commonHeaders() const {
    Headers h;
    if (provider_ == nullptr) return h;
    h.emplace_back("x-aigw-provider", provider_->id);
    h.emplace_back("x-aigw-model", upstreamModel_);
    h.emplace_back("x-aigw-attempts", std::to_string(attempt_ + 1));
    if (!upstreamRequestId_.empty()) h.emplace_back("x-aigw-upstream-request-id", upstreamRequestId_);
    return h;
  }

  void sendAttempt(Session& s, int64_t delayMs) {
    const Config& c = s.config();
    FetchSpec f;
    f.url = provider_->baseUrl + "/chat/completions";
    f.headers = {{"content-type", "application/json"},
                 {"accept", req_.stream ? "text/event-stream" : "application/json"}};
    if (provider_->authStyle != AuthStyle::None && provider_->keyPresent) {
      f.authSecret = provider_->apiKeySecret;
      f.authStyle = provider_->authStyle == AuthStyle::Bearer ? "bearer" : "header";
      f.authHeader = provider_->authHeader;
    }
    f.body = upstreamBody_;
    f.stream = req_.stream;
    f.delayMs = delayMs;
    int64_t remaining = deadlineMs_ - s.nowMs() - delayMs;
    int64_t perAttempt = provider_->timeoutMs > 0 ? provider_->timeoutMs : c.requestTimeoutMs;
    f.timeoutMs = std::max<int64_t>(1, std::min(perAttempt, remaining));
    attemptStartMs_ = s.nowMs() + delayMs;
    upstreamStatus_ = 0;
    fetchId_ = s.fetch(f);
  }

  // Full-jitter exponential backoff within the request's deadline; a
  // provider's Retry-After is honoured when it fits under the cap.
  bool maybeRetry(Session& s, int64_t retryAfterMs) {
    const Config& c = s.config();
    if (attempt_ >= c.maxRetries || s.headSent()) return false;
    int64_t ceiling = c.retryBaseMs;
    for (int i = 0; i < attempt_ && ceiling < c.retryMaxMs; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, c.retryMaxMs);
    auto delay = static_cast<int64_t>(s.random().upTo(static_cast<uint64_t>(ceiling)));
    if (retryAfterMs > RETRY_AFTER_CAP_MS) return false;
    if (retryAfterMs >= 0) delay = std::max(delay, retryAfterMs);
    if (s.nowMs() + delay >= deadlineMs_) return false;
    ++attempt_;
    buffer_.clear();
    sendAttempt(s, delay);
    return true;
  }

  void recordAttempt(Session& s, bool success, std::string_view error) {
    double latency = static_cast<double>(std::max<int64_t>(0, (firstByteMs_ ? firstByteMs_ : s.nowMs()) - attemptStartMs_));
    s.state().recordAttempt(provider_->id, s.nowMs(), upstreamStatus_, success, latency, error);
    firstByteMs_ = 0;
  }

  // A stream that already started cannot change status: it ends with an
  // OpenAI-style error event instead of hanging or stopping silently.
  void failStream(Session& s, const std::string& why) {
    s.abortFetch(fetchId_);
    recordAttempt(s, false, why);
    ApiError e = serverError(502, "Upstream provider '" + provider_->id + "' failed: " + why + ".", "upstream_error",
                             "upstream_stream_error");
    std::string event = "data: " + renderError(e) + "\n\n";
    s.respondChunk(event);
    s.respondEnd();
    usage_ = forwarder_->usage();
    logOutcome(s, 200, "stream_error");
  }

  void answerFromDemo(Session& s) {
    demo::Reply reply = demo::compose(req_);
    usage_ = reply.usage;
    std::string id = "chatcmpl-" + s.requestId().substr(5);
    int64_t created = s.nowMs() / 1000;
    Headers h{{"x-aigw-provider", "demo"}, {"x-aigw-model", req_.model}};
    if (req_.stream) {
      h.emplace_back("content-type", "text/event-stream; charset=utf-8");
      h.emplace_back("cache-control", "no-cache");
      s.respondHead(200, h, true);
      s.respondChunk(demo::completionStream(reply, req_.model, id, created, req_.clientWantsUsage));
      s.respondEnd();
    } else {
      s.respondJson(200, demo::completionJson(reply, req_.model, id, created), h);
    }
    demo_ = true;
    logOutcome(s, 200, "ok");
  }

  void finishWithError(Session& s, const ApiError& e, const Headers& extra = {}) {
    s.respondError(e, extra);
    logOutcome(s, e.status, e.code.empty() ? e.type : e.code);
  }

  void logOutcome(Session& s, int status, std::string_view outcome) {
    std::string record;
    json::Writer w(record);
    w.beginObject().field("event", "chat_completion").field("status", status).field("outcome", outcome);
    w.field("model", req_.model).field("stream", req_.stream);
    if (demo_) w.field("provider", "demo");
    else if (provider_ != nullptr) w.field("provider", provider_->id).field("upstream_model", upstreamModel_);
    w.field("attempts", attempt_ + (fetchId_ ? 1 : 0)).field("duration_ms", s.nowMs() - s.startedMs());
    if (!attempts_.empty()) {
      w.key("failed_attempts").beginArray();
      for (const auto& a : attempts_) w.string(a);
      w.endArray();
    }
    if (usage_.known) {
      w.key("usage").beginObject().field("prompt_tokens", usage_.promptTokens);
      w.field("completion_tokens", usage_.completionTokens).field("total_tokens", usage_.totalTokens);
      w.field("cached_prompt_tokens", usage_.cachedPromptTokens).endObject();
    }
    w.endObject();
    s.log(status >= 500 ? "error" : "info", record);
  }

  ChatRequest req_;
  const ModelConfig* model_ = nullptr;
  const ProviderConfig* provider_ = nullptr;
  std::string upstreamModel_;
  std::string upstreamBody_;
  std::string upstreamRequestId_;
  std::unique_ptr<openai_chat::StreamForwarder> forwarder_;
  std::string buffer_;
  std::string out_;
  std::vector<std::string> attempts_;
  Usage usage_;
  uint32_t fetchId_ = 0;
  int attempt_ = 0;
  int upstreamStatus_ = 0;
  int64_t retryAfterMs_ = -1;
  int64_t deadlineMs_ = 0;
  int64_t attemptStartMs_ = 0;
  int64_t firstByteMs_ = 0;
  bool demo_ = false;
};

}  // namespace

std::unique_ptr<Handler> chatCompletions() { return std::make_unique<ChatCompletions>(); }

}  // namespace gw::handlers
