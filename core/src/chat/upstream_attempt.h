#pragma once
// The calls a chat request makes to its current target: each attempt's
// fetch (with the time left of the request's deadline shared fairly with
// the targets after it), retries with backoff, the response buffered or
// streamed, and what each attempt tells the target's statistics and
// breaker. It owns the fetch (the session routes its results here) and
// tells the pipeline what came of it; the pipeline decides what follows.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/routing.h"
#include "gw/session.h"
#include "wire/wire_format.h"

namespace gw::chat {

class ChatPipeline;

class UpstreamAttempt : private FetchObserver {
 public:
  // Tells `pipeline` what came of each call (ChatPipeline's "what the
  // upstream attempt reports"): a streamed call's 2xx head, its bytes and
  // its end; a whole response, any status (status(), body()); or none
  // (reason timeout | stalled | network, or too_large: a body over
  // max_upstream_body_bytes, already recorded as a failed attempt).
  explicit UpstreamAttempt(ChatPipeline& pipeline) : pipeline_(pipeline) {}

  // Starts on a target: the first attempt, sent now. `targetsLeft` counts it
  // and those after it in the chain.
  void start(Session& s, const Target& target, const std::string& targetId, TargetHealth& health,
             const UpstreamRequest& request, const AnswerCodec& codec, bool stream, int64_t deadlineMs, size_t targetsLeft);
  // Another attempt at the same target after a backoff (the provider's
  // Retry-After when it fits); false when none is left in the budget or the
  // deadline.
  bool retry(Session& s, int64_t retryAfterMs);
  // The current fetch is no longer wanted.
  void abort(Session& s) { s.abortFetch(fetchId_); }
  // One attempt, for the provider's statistics: `up` when the provider
  // answered (a 4xx or 429 included), not when it failed (5xx, network,
  // timeout, a broken stream).
  void record(Session& s, bool up, std::string_view error);
  // The request's one outcome at this target, for its breaker (published
  // when it tripped or closed): retries and rate limits are not outages.
  void close(Session& s);

  int status() const { return status_; }
  int64_t retryAfterMs() const { return retryAfterMs_; }
  const std::string& body() const { return body_; }
  const std::string& upstreamRequestId() const { return upstreamRequestId_; }

 private:
  void send(Session& s, int64_t delayMs);
  void onHead(Session& s, int status, const json::Tape& meta, uint32_t headers) override;
  void onChunk(Session& s, std::string_view data) override;
  void onEnd(Session& s) override;
  void onError(Session& s, std::string_view reason, std::string_view message) override;
  bool streaming() const { return stream_ && status_ >= 200 && status_ < 300; }

  ChatPipeline& pipeline_;
  const Target* target_ = nullptr;
  const std::string* targetId_ = nullptr;  // the pipeline's chain holds it
  const UpstreamRequest* request_ = nullptr;
  const AnswerCodec* codec_ = nullptr;
  TargetHealth* health_ = nullptr;  // the instance's map never drops entries
  bool stream_ = false;
  int64_t deadlineMs_ = 0;
  size_t targetsLeft_ = 1;
  uint32_t fetchId_ = 0;
  int retries_ = 0;
  int status_ = 0;
  int64_t retryAfterMs_ = -1;
  int64_t startMs_ = 0;      // when the current attempt was sent (after its delay)
  int64_t firstByteMs_ = 0;  // when its head arrived; 0 before
  std::string body_;
  std::string upstreamRequestId_;
  bool tried_ = false;   // an attempt reached this target
  bool up_ = false;      // ...and its last one found it up
  bool closed_ = false;  // its breaker has this request's outcome
};

}  // namespace gw::chat
