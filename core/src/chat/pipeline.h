#pragma once
// The chat pipeline behind every chat-shaped endpoint: validate, resolve the
// model, check its capabilities, encode for the provider's wire format, call
// it (retrying 429/5xx/network/timeouts before the first byte reaches the
// client), translate the answer or stream, price it, and render it in the
// client's dialect. Endpoints differ only in how they read the request
// (translateRequest) and in their dialect.
#include <memory>
#include <string>
#include <vector>

#include "wire/openai_chat.h"
#include "wire/wire_format.h"
#include "dialects/dialect.h"
#include "gw/cache.h"
#include "gw/chat_request.h"
#include "gw/model_resolver.h"
#include "gw/routing.h"
#include "gw/session.h"

namespace gw::chat {

class ChatPipeline : public Handler {
 public:
  explicit ChatPipeline(const Dialect& dialect) : dialect_(dialect) {}

  Access access() const override { return Access::Metered; }
  std::string renderError(const ApiError& e) const override { return dialect_.renderError(e); }
  std::string_view requestIdHeader() const override { return dialect_.requestIdHeader(); }
  void start(Session& s) override;
  void onFetchHead(Session& s, uint32_t id, int status, const json::Tape& meta, uint32_t headers) override;
  void onFetchChunk(Session& s, uint32_t id, std::string_view data) override;
  void onFetchEnd(Session& s, uint32_t id) override;
  void onFetchError(Session& s, uint32_t id, std::string_view reason, std::string_view message) override;
  void onCancel(Session& s) override;
  void onDone(Session& s) override;
  void onFlightLanded(Session& s, const std::string* entry) override;

 protected:
  // Produces the OpenAI chat request for the client's body. The default reads
  // the body as one; other endpoints translate into `translated`.
  virtual ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated);
  const char* apiType() const override { return "chat_completion"; }
  bool useCache_ = true;  // the generate API's useCache

 private:
  bool streaming() const { return req_.stream && upstreamStatus_ >= 200 && upstreamStatus_ < 300; }
  Headers commonHeaders(const Session& s) const;
  // Takes the provider's usage (estimating it from `outputBytes` when
  // missing, if `estimate`) and prices it into the request record; the
  // session charges it when the request finishes.
  void price(Session& s, const Usage& reported, size_t outputBytes, bool estimate = true);
  void addCostHeaders(const Session& s, Headers& h) const;
  CallSummary summary(const Session& s) const;
  // The record names the current target (the provider and its model).
  void noteTarget(Session& s) const;
  // Builds the routing chain (the model, then the request's `models` or the
  // registry's fallbacks) and orders it by the routing policy.
  ApiError buildChain(Session& s);
  // The user's saved choice as a target, when it can serve this request.
  bool preferredTarget(Session& s, Target& out) const;
  // Builds the chain and reserves for it (after the saved choice, if any, is known).
  void plan(Session& s);
  // Makes chain_[current_] the target and sends to it; an error when it
  // cannot be used (breaker open, encoding failed), recorded as an attempt.
  ApiError startTarget(Session& s);
  // Moves to the next usable target in the chain; false when none is left.
  bool failOver(Session& s);
  // Reads the breakers other instances published for the chain's targets
  // (when this instance's copy is older than BREAKER_READ_MS), alongside
  // the ledger reservation; admitted() runs once both are done.
  void readSharedBreakers(Session& s);
  void oneReady(Session& s);
  // Publishes this target's breaker when it tripped or closed.
  void shareBreaker(Session& s);
  void sendAttempt(Session& s, int64_t delayMs);
  bool maybeRetry(Session& s, int64_t retryAfterMs);
  // One upstream attempt, for the provider's statistics: `up` when the
  // provider answered (a 4xx or 429 included), not when it failed (5xx,
  // network, timeout, a broken stream).
  void recordAttempt(Session& s, bool up, std::string_view error);
  // The request's one outcome at the current target, for its breaker:
  // retries of a target and rate limits are not outages of their own.
  void closeTarget(Session& s);
  static std::string targetId(const Target& t) { return t.provider->id + "/" + t.upstream; }
  // The 502 once every target in a chain of several has failed.
  ApiError allTargetsFailed(const Session& s) const;
  void startStream(Session& s);
  void drainWriter(Session& s);
  void finishStream(Session& s);
  void failStream(Session& s, const ApiError& e);
  // A stream whose output passed what was reserved for it (the provider
  // ignored max_tokens): ended as `length`, as if it had honoured it.
  void cutStream(Session& s);
  // The count a stream's output may reach before it is cut: the
  // reservation, with a quarter's slack (the count is an estimate, and a
  // provider that honours max_tokens must never be cut short).
  int64_t outputCutoff() const { return reservedOutput_ + reservedOutput_ / 4 + 16; }
  void finishSuccess(Session& s);
  // An unconfigured provider (demo mode auto) or the built-in demo.
  bool answersFromDemo() const { return !target_.provider->configured() || target_.provider->builtinDemo; }
  void admitted(Session& s);
  // Reserves the worst case and reads shared breakers; admitted() follows.
  void reserve(Session& s);
  // The cache stage (cache_stage.cc): look the answer up (or wait for an
  // identical request in flight), serve a hit, store an answer, and hand
  // it to the requests that waited.
  void lookup(Session& s);
  void serveHit(Session& s, const cache::Entry& e);
  void storeAnswer(Session& s, const Completion& c);
  void landFlight(Session& s);
  void leaveFlight(Session& s);
  void answerFromDemo(Session& s);
  // Answers with a whole completion: JSON, or replayed as a stream when the
  // client streams (the demo, cache hits).
  void respondWhole(Session& s, const Completion& c, const CallSummary& sum, Headers h);
  void finishWithError(Session& s, const ApiError& e, const Headers& extra = {});

  const Dialect& dialect_;
  std::string translated_;
  ChatRequest req_;
  Target target_;
  const ChatCodec* codec_ = nullptr;
  bool passthrough_ = false;
  UpstreamRequest upstream_;
  std::string upstreamRequestId_;
  std::unique_ptr<openai_chat::StreamForwarder> forwarder_;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<StreamWriter> writer_;
  std::string buffer_;
  std::string out_;
  std::vector<Target> chain_;      // routing order; chain_[current_] is target_
  std::vector<std::string> chainIds_;  // targetId of each, computed once
  size_t current_ = 0;
  TargetHealth* health_ = nullptr; // the current target's (the instance's map never drops entries)
  RoutePolicy policy_ = RoutePolicy::Ordered;
  std::string context_;            // x-aigw-context (policy preference)
  CachedPreference preferred_;     // the user's saved choice there; empty provider: none
  int waiting_ = 0;                // reservation + breaker reads still out
  bool refused_ = false;           // the reservation was refused: never start
  uint32_t fetchId_ = 0;
  int attempt_ = 0;
  int upstreamStatus_ = 0;
  int64_t retryAfterMs_ = -1;
  int64_t deadlineMs_ = 0;
  int64_t attemptStartMs_ = 0;
  int64_t firstByteMs_ = 0;
  bool demo_ = false;
  bool streamEnded_ = false;
  cache::Decision cache_;
  std::string cacheKey_, cacheStorageKey_, cacheScope_;
  bool leading_ = false;                // other sessions may wait on this one's answer
  std::string storedEntry_;             // the entry this request stored, for them
  std::unique_ptr<CompletionRecorder> recorder_;  // a stream's answer, for the cache
  std::unique_ptr<ChunkSink> tee_;      // writer_ and recorder_ together
  std::unique_ptr<OutputCounter> counter_;  // what the decoder feeds: counts, then writer_ (or tee_)
  int64_t reservedOutput_ = 0;          // the current target's max_tokens, as reserved
  bool targetTried_ = false;            // an attempt reached the current target
  bool targetUp_ = false;               // ...and its last one found it up
  bool targetClosed_ = false;           // its breaker has this request's outcome
};

// 403 when the caller's key may not use the model (by requested name, the
// resolved id, or "<provider>/*").
ApiError checkModelAllowed(const Principal& p, std::string_view requested, const Target& target);

// 400 when the request needs what the model lacks (images, tools, JSON
// mode, streaming) or asks for more output than it can produce.
ApiError checkCapabilities(const ChatRequest& req, const Target& target);

}  // namespace gw::chat
