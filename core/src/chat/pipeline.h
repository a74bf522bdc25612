#pragma once
// The chat pipeline behind every chat-shaped endpoint: validate, resolve the
// model, check its capabilities, encode for the provider's wire format, call
// it (retrying 429/5xx/network/timeouts before the first byte reaches the
// client), translate the answer or stream, price it, and render it in the
// client's dialect. Endpoints differ only in how they read the request
// (translateRequest) and in their dialect.
//
// Its phases, in order (pipeline.cc has every transition):
//   Validating → Planning → LookingUp → Reserving → Calling → Relaying → Done
// with the shortcuts a request can take: Planning skips LookingUp when the
// cache is bypassed; LookingUp ends in Done on a hit; Reserving ends in
// Done on a refusal; Calling ends in Done with a whole answer or a failure,
// or moves to Relaying when a stream starts. Collaborators own their state:
// the routing chain (chain.cc), the cache stage (cache_stage.cc), the
// upstream attempt (upstream_attempt.h) and the stream relay (stream_relay.h).
#include <memory>
#include <string>
#include <vector>

#include "dialects/dialect.h"
#include "gw/cache.h"
#include "gw/chat_request.h"
#include "gw/model_resolver.h"
#include "gw/routing.h"
#include "wire/provider_fetch.h"
#include "gw/session.h"
#include "stream_relay.h"
#include "upstream_attempt.h"
#include "wire/wire_format.h"

namespace gw::chat {

class ChatPipeline : public Handler {
 public:
  explicit ChatPipeline(const Dialect& dialect) : dialect_(dialect), attempt_(*this) {}

  Access access() const override { return Access::Metered; }
  std::string renderError(const ApiError& e) const override { return dialect_.renderError(e); }
  std::string_view requestIdHeader() const override { return dialect_.requestIdHeader(); }
  std::string streamErrorEvent(const ApiError& e) const override { return dialect_.streamErrorEvent(e); }
  void start(Session& s) override;
  void onCancel(Session& s) override;
  void onDone(Session& s) override;
  void onFlightLanded(Session& s, const std::string* entry) override;

 protected:
  // Produces the OpenAI chat request for the client's body. The default reads
  // the body as one; other endpoints translate into `translated`.
  virtual ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated);
  const char* apiType() const override { return "chat_completion"; }
  // Writes the request for `target`. An endpoint whose clients speak the
  // target's own format sends it their request as it came and sets
  // `native` to the codec that reads the answer (which then goes back as
  // it came too); the default encodes the chat request in the target's
  // wire format.
  virtual ApiError encodeRequest(Session& s, const Target& target, UpstreamRequest& out, const AnswerCodec*& native);
  // Endpoints that keep answers (stored responses) get each whole answer
  // as the client received it, a replayed stream's or a cache hit's too;
  // `native` is the provider's own answer object when it went to the client
  // as it came (empty otherwise).
  virtual bool keepsAnswers() const { return false; }
  virtual void onAnswer(Session&, const Completion&, const CallSummary&, std::string_view /*native*/) {}
  bool useCache_ = true;  // the generate API's useCache
  // What the cache key covers: the chat request, unless the endpoint sends
  // more than it translates (/v1/messages to Anthropic) and keys on its own body.
  std::string_view cacheEndpoint_ = "chat";
  const json::Tape* cacheKeyRequest_ = nullptr;
  std::string echo_;      // CallSummary::echo, when the dialect repeats request parameters

 private:
  enum class Phase { Validating, Planning, LookingUp, Reserving, Calling, Relaying, Done };

  // Phase entries (pipeline.cc).
  void plan(Session& s);       // Planning: the chain, after the saved preference if the policy reads one
  void reserve(Session& s);    // Reserving: the worst case held, shared breakers read; call() follows both
  void call(Session& s);       // Calling: the first usable target of the chain
  void oneReady(Session& s);   // one of reserve()'s reads came back

  // What the upstream attempt reports.
  friend class UpstreamAttempt;
  void onStreamStart(Session& s);
  void onStreamData(Session& s, std::string_view data);
  void onStreamEnd(Session& s);
  void onResponse(Session& s);
  void onFailure(Session& s, std::string_view reason, std::string_view message);

  // The ends of a request (each enters Done and finishes the session).
  void finishSuccess(Session& s);
  void finishStream(Session& s);
  void keepReassembled(Session& s, const Completion& answer, const CallSummary& sum);
  // A stream whose output passed what was reserved for it (the provider
  // ignored max_tokens): ended as `length`, as if it had honoured it.
  void cutStream(Session& s);
  void failStream(Session& s, const ApiError& e);
  void finishWithError(Session& s, const ApiError& e, const Headers& extra = {});
  void answerFromDemo(Session& s);
  // Answers with a whole completion: JSON, or replayed as a stream when the
  // client streams (the demo, cache hits).
  void respondWhole(Session& s, const Completion& c, const CallSummary& sum, Headers h);

  // The count a stream's output may reach before it is cut: the
  // reservation, with a quarter's slack (the count is an estimate, and a
  // provider that honours max_tokens must never be cut short).
  int64_t outputCutoff() const { return reservedOutput_ + reservedOutput_ / 4 + 16; }
  // An unconfigured provider (demo mode auto) or the built-in demo.
  bool answersFromDemo() const { return !usable(*target_.provider, target_.tenantKey) || target_.provider->builtinDemo; }
  Headers commonHeaders(const Session& s) const;
  // Takes the provider's usage (estimating it from `outputBytes` when
  // missing, if `estimate`) and prices it into the request record; the
  // session charges it when the request finishes.
  void price(Session& s, const Usage& reported, size_t outputBytes, bool estimate = true);
  void addCostHeaders(const Session& s, Headers& h) const;
  CallSummary summary(const Session& s) const;
  // The record names the current target (the provider and its model).
  void noteTarget(Session& s) const;

  // The routing chain (chain.cc): the model, then the request's `models` or
  // the registry's fallbacks, ordered by the routing policy.
  ApiError buildChain(Session& s);
  // The user's saved choice as a target, when it can serve this request.
  bool preferredTarget(Session& s, Target& out) const;
  // Makes chain_[current_] the target and sends to it; an error when it
  // cannot be used (breaker open, rate limited, encoding failed), recorded
  // as a failed attempt.
  ApiError startTarget(Session& s);
  // Moves to the next usable target in the chain; false when none is left.
  bool failOver(Session& s);
  // Reads the breakers other instances published for the chain's targets
  // (when this instance's copy is older than BREAKER_READ_MS).
  void readSharedBreakers(Session& s);
  // How the route and the attempts name a target: "provider/model", and
  // " (tenant key)" when the call carries the tenant's own key.
  static std::string targetId(const Target& t) {
    return t.provider->id + "/" + t.upstream + (t.tenantKey != nullptr ? " (tenant key)" : "");
  }
  // Its health (breaker, rate limit, latency) in the instance: a tenant's
  // own key has its own, so its failures trip nothing for anyone else.
  static std::string healthId(const Session& s, const Target& t) {
    return t.provider->id + "/" + t.upstream + (t.tenantKey != nullptr ? "#" + s.principal().tenantId : "");
  }
  // The 502 once every target in a chain of several has failed.
  ApiError allTargetsFailed(const Session& s) const;

  // The cache stage (cache_stage.cc): look the answer up (or wait for an
  // identical request in flight), serve a hit, store an answer, and hand
  // it to the requests that waited.
  void lookup(Session& s);
  void serveHit(Session& s, const cache::Entry& e);
  void storeAnswer(Session& s, const Completion& c);
  void landFlight(Session& s);
  void leaveFlight(Session& s);

  const Dialect& dialect_;
  Phase phase_ = Phase::Validating;
  std::string translated_;
  ChatRequest req_;
  Target target_;
  const AnswerCodec* codec_ = nullptr;
  bool passthrough_ = false;     // the current target's answer goes to the client as it came
  bool native_ = false;          // ...because the client spoke the target's own format (encodeRequest)
  bool demo_ = false;            // the demo answered
  UpstreamRequest upstream_;     // the current target's encoded request
  UpstreamAttempt attempt_;
  std::unique_ptr<StreamRelay> relay_;
  std::string out_;              // bytes for the client, reused
  std::vector<Target> chain_;    // routing order; chain_[current_] is target_
  std::vector<std::string> chainIds_;  // targetId of each, computed once
  std::vector<std::string> healthIds_; // healthId of each
  size_t current_ = 0;
  TargetHealth* health_ = nullptr;  // the current target's (the instance's map never drops entries)
  RoutePolicy policy_ = RoutePolicy::Ordered;
  std::string context_;            // x-aigw-context (policy preference)
  CachedPreference preferred_;     // the user's saved choice there; empty provider: none
  int waiting_ = 0;                // reserve()'s reads still out
  int64_t deadlineMs_ = 0;
  int64_t reservedOutput_ = 0;     // the current target's max_tokens, as reserved
  cache::Decision cache_;
  std::string cacheKey_, cacheStorageKey_, cacheScope_;
  bool leading_ = false;           // other sessions may wait on this one's answer
  std::string storedEntry_;        // the entry this request stored, for them
};

// 403 when the caller's key may not use the model (by requested name, the
// resolved id, or "<provider>/*").
ApiError checkModelAllowed(const Principal& p, std::string_view requested, const Target& target);

// 400 when the request needs what the model lacks (images, tools, JSON
// mode, streaming) or asks for more output than it can produce.
ApiError checkCapabilities(const ChatRequest& req, const Target& target);

}  // namespace gw::chat
