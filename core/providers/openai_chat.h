#pragma once
// Wire format: OpenAI chat completions, spoken by OpenAI and every
// OpenAI-compatible provider in the catalog. Requests are spliced, not
// re-serialised; streams are forwarded event by event as they arrive.
#include <string>
#include <string_view>
#include <vector>

#include "gw/api_error.h"
#include "gw/chat_request.h"
#include "gw/config.h"
#include "gw/sse.h"
#include "gw/usage.h"

namespace gw::openai_chat {

// The upstream body: model renamed to the upstream name, usage requested on
// streams, and the default token limit filled in when the client set none.
std::string encodeRequest(const ChatRequest& req, const ModelConfig* model, std::string_view upstreamModel,
                          int64_t defaultMaxTokens);

// Reads `usage` from a complete chat.completion (or chunk) document.
Usage readUsage(const json::Tape& tape, uint32_t object);
Usage decodeResponseUsage(std::string_view body);

// Maps an upstream error response to the client-facing error. 4xx keep their
// status and the provider's message; 5xx become 502.
ApiError mapError(int upstreamStatus, std::string_view body, std::string_view providerId);

// Forwards an upstream SSE stream to the client event by event, noting usage
// and completion, and dropping the usage-only chunk the gateway asked for on
// the client's behalf when the client did not ask for it.
class StreamForwarder {
 public:
  explicit StreamForwarder(bool clientWantsUsage) : clientWantsUsage_(clientWantsUsage) {}
  // Appends client-bound bytes for every complete event in `bytes` to `out`.
  bool feed(std::string_view bytes, std::string& out);
  bool sawDone() const { return sawDone_; }
  bool sawFinish() const { return sawFinish_; }
  bool cutMidEvent() const { return decoder_.hasPartialEvent(); }
  const Usage& usage() const { return usage_; }
  size_t eventsForwarded() const { return forwarded_; }

 private:
  SseDecoder decoder_;
  std::vector<SseEvent> events_;
  json::Tape tape_;
  Usage usage_;
  bool clientWantsUsage_;
  bool sawDone_ = false;
  bool sawFinish_ = false;
  size_t forwarded_ = 0;
};

}  // namespace gw::openai_chat
