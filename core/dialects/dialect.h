#pragma once
// A client dialect: how answers are rendered for the API the client spoke
// (OpenAI chat completions, Anthropic messages, the gateway's generate API).
// The pipeline works in OpenAI terms; a dialect turns completions, stream
// events and errors into the client's shapes.
#include <memory>
#include <string>

#include "gw/completion.h"
#include "gw/pricing.h"

namespace gw::chat {

// What the gateway knows about a call when it answers.
struct CallSummary {
  std::string requestId;
  std::string responseId;  // e.g. chatcmpl-… / msg_…
  std::string model;       // as the client named it
  std::string provider;
  std::string upstreamModel;
  int64_t created = 0;  // seconds
  int64_t nowMs = 0;
  int64_t latencyMs = 0;
  Usage usage;
  Cost cost;
  std::string finishReason;
  // Members every answer repeats from the request (the Responses API's
  // parameters), spliced into its objects; empty for other dialects.
  std::string_view echo;
};

// Renders stream events for the client into pending bytes.
class StreamWriter : public ChunkSink {
 public:
  // Everything after the last event: usage, cost, the terminator.
  virtual void end(const CallSummary& summary) = 0;
  // A failure after the stream started: an error event in the dialect's shape.
  virtual void failure(const ApiError& e) = 0;
  std::string& pending() { return out_; }
  size_t outputBytes() const { return outputBytes_; }

 protected:
  std::string out_;
  size_t outputBytes_ = 0;
};

class Dialect {
 public:
  virtual ~Dialect() = default;
  // OpenAI clients get OpenAI-compatible upstream bytes unchanged.
  virtual bool openAiPassthrough() const { return false; }
  virtual std::unique_ptr<StreamWriter> streamWriter(const CallSummary& start, bool clientWantsUsage) const = 0;
  virtual std::string renderCompletion(const Completion& c, const CallSummary& summary) const = 0;
  virtual std::string renderError(const ApiError& e) const;
  // A failure after the stream started, as the dialect's error event (also
  // what the host sends should the core fault mid-stream).
  virtual std::string streamErrorEvent(const ApiError& e) const;
  // The end of a stream forwarded in the client's own format whose output
  // passed its reservation: the events that close it as a length stop.
  virtual std::string nativeStreamCut(const CallSummary&) const { return {}; }
  // The response header the dialect's SDK reads the request id from, beside x-request-id.
  virtual std::string_view requestIdHeader() const { return {}; }
};

const Dialect& openAiDialect();

// chat.completion JSON for a completion (also used for the demo upstream).
std::string renderOpenAiCompletion(const Completion& c, const CallSummary& summary);
// The SSE comment a passthrough stream carries before [DONE]: the cost.
std::string costComment(const Usage& usage, const Cost& cost);

}  // namespace gw::chat
