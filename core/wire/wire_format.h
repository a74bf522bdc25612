#pragma once
// What every upstream wire format implements: request encoding from the
// validated OpenAI-shaped request, response decoding into the internal
// Completion, a stream decoder fed arbitrary byte slices, and error mapping.
// OpenAI-compatible providers differ only in catalog data (quirks).
#include <memory>
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "gw/chat_request.h"
#include "gw/completion.h"
#include "gw/config.h"
#include "gw/http.h"
#include "gw/json_tape.h"
#include "gw/model_resolver.h"
#include "gw/sse.h"

namespace gw {

struct UpstreamRequest {
  std::string url;
  std::string body;
  Headers headers;  // over the catalog's fixed headers (a client's own anthropic-version, anthropic-beta)
};

// What reads a provider's answers: whole responses, streams fed arbitrary
// byte slices, and its errors.
class AnswerCodec {
 public:
  virtual ~AnswerCodec() = default;
  // `p` is the provider answering: its response quirks (catalog data) say
  // where it puts what the format's own fields would hold, and its id is
  // named in the errors.
  virtual bool decode(std::string_view body, const ProviderConfig& p, Completion& out) const = 0;
  virtual std::unique_ptr<StreamDecoder> streamDecoder(const ProviderConfig& p) const = 0;
  virtual ApiError mapError(int status, std::string_view body, const ProviderConfig& p) const = 0;
  // The response header carrying the provider's request id.
  virtual const char* requestIdHeader() const { return "x-request-id"; }
};

// A wire format the chat pipeline can send any chat request in.
class ChatCodec : public AnswerCodec {
 public:
  // A 4xx when the request uses something the provider cannot express.
  virtual ApiError encode(const ChatRequest& req, const Target& target, const Config& c,
                          UpstreamRequest& out) const = 0;
};

// What every SSE-speaking provider's stream decoder holds: the framing, the
// event batch, a tape reused for each event, and the usage and error it found.
class SseStreamDecoder : public StreamDecoder {
 public:
  const Usage& usage() const final { return usage_; }
  const ApiError& error() const final { return error_; }

 protected:
  SseDecoder decoder_;
  std::vector<SseEvent> events_;
  json::Tape tape_;
  Usage usage_;
  ApiError error_;
};

const ChatCodec& chatCodec(WireFormat format);

// The token limit sent when the client set none: the gateway default, capped
// at the model's maximum output.
int64_t defaultMaxTokens(const Config& c, const Target& t);

// base_url + "/" + operation, or Azure's deployment URL shape.
std::string endpointUrl(const ProviderConfig& p, std::string_view upstreamModel, std::string_view operation);

// Shared error mapping: the provider's status and message, OpenAI-shaped,
// with the provider named. 5xx become 502 (503 when the provider says it is
// overloaded); prompts over the context window get context_length_exceeded.
// 400 content_filter: the provider refused the prompt itself.
ApiError blockedPrompt(std::string_view reason, std::string_view providerId);

ApiError upstreamError(int status, std::string message, std::string type, std::string code, std::string param,
                       std::string_view providerId);

}  // namespace gw
