#pragma once
// The gateway's internal model of a chat answer, in OpenAI's terms: wire
// formats decode provider answers into it and client dialects render it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/api_error.h"
#include "gw/usage.h"

namespace gw {

// What a provider may claim about an answer's shape. Its indexes are
// untrusted input: decoders drop choices and tool calls outside these bounds
// (a request asks for at most 128 choices), and sinks may rely on them.
constexpr int MAX_CHOICES = 128;
constexpr int MAX_TOOL_CALLS = 1024;
inline bool validChoice(int64_t index) { return index >= 0 && index < MAX_CHOICES; }
inline bool validToolCall(int64_t index) { return index >= 0 && index < MAX_TOOL_CALLS; }

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

struct Choice {
  int index = 0;
  std::string content;
  bool hasContent = false;
  std::vector<ToolCall> toolCalls;
  std::string finishReason;  // OpenAI vocabulary: stop, length, tool_calls, content_filter
  std::string reasoning;           // thinking text or summary, where the provider gives it
  std::string reasoningSignature;  // the provider's signature over it (Anthropic), to send back with it
};

struct Completion {
  std::string model;
  std::string promptBlocked;  // the provider refused the prompt (e.g. Gemini's blockReason)
  std::vector<Choice> choices;
  Usage usage;
};

// What a stream decoder reports, in OpenAI's terms, as upstream bytes arrive.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual void text(int choice, std::string_view delta) = 0;
  // A tool call starts (index counts the choice's tool calls from 0).
  virtual void toolCall(int choice, int index, std::string_view id, std::string_view name) = 0;
  virtual void toolArguments(int choice, int index, std::string_view delta) = 0;
  virtual void finish(int choice, std::string_view reason) = 0;
  // Reasoning (thinking, thought summaries), before the answer it led to,
  // and the provider's signature over it. Sinks without a place for it
  // leave it out.
  virtual void reasoning(int, std::string_view) {}
  virtual void reasoningSignature(int, std::string_view) {}
};

// Decodes one upstream stream format; fed arbitrary byte slices.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // False on a protocol error (oversized event); `error()` is set when the
  // provider reported an error inside the stream.
  virtual bool feed(std::string_view bytes, ChunkSink& sink) = 0;
  // The provider said the answer is complete.
  virtual bool complete() const = 0;
  virtual const Usage& usage() const = 0;
  virtual const ApiError& error() const = 0;
  // The whole answer object the stream ended with, where the format sends
  // one (the Responses API's response.completed); empty otherwise.
  virtual std::string_view document() const { return {}; }
};

// Records decoded events into a Completion.
class CompletionRecorder : public ChunkSink {
 public:
  void text(int choice, std::string_view delta) override;
  void toolCall(int choice, int index, std::string_view id, std::string_view name) override;
  void toolArguments(int choice, int index, std::string_view delta) override;
  void finish(int choice, std::string_view reason) override;
  void reasoning(int choice, std::string_view delta) override;
  void reasoningSignature(int choice, std::string_view signature) override;
  Completion& completion() { return completion_; }

 private:
  Choice& at(int choice);
  Completion completion_;
};

// Sends every event to two sinks (a client's stream and a recorder).
class TeeSink : public ChunkSink {
 public:
  TeeSink(ChunkSink& a, ChunkSink& b) : a_(a), b_(b) {}
  void text(int choice, std::string_view delta) override {
    a_.text(choice, delta);
    b_.text(choice, delta);
  }
  void toolCall(int choice, int index, std::string_view id, std::string_view name) override {
    a_.toolCall(choice, index, id, name);
    b_.toolCall(choice, index, id, name);
  }
  void toolArguments(int choice, int index, std::string_view delta) override {
    a_.toolArguments(choice, index, delta);
    b_.toolArguments(choice, index, delta);
  }
  void finish(int choice, std::string_view reason) override {
    a_.finish(choice, reason);
    b_.finish(choice, reason);
  }
  void reasoning(int choice, std::string_view delta) override {
    a_.reasoning(choice, delta);
    b_.reasoning(choice, delta);
  }
  void reasoningSignature(int choice, std::string_view signature) override {
    a_.reasoningSignature(choice, signature);
    b_.reasoningSignature(choice, signature);
  }

 private:
  ChunkSink& a_;
  ChunkSink& b_;
};

// Counts a stream's output as it arrives and passes every event on, so the
// pipeline can end a stream that runs past what was reserved for it: each
// delta is at least one token, and text counts at the estimate's 4 bytes
// per token, whichever is more.
class OutputCounter : public ChunkSink {
 public:
  explicit OutputCounter(ChunkSink& next) : next_(next) {}
  void text(int choice, std::string_view delta) override { count(choice, delta), next_.text(choice, delta); }
  void toolCall(int choice, int index, std::string_view id, std::string_view name) override {
    count(choice, name), next_.toolCall(choice, index, id, name);
  }
  void toolArguments(int choice, int index, std::string_view delta) override {
    count(choice, delta), next_.toolArguments(choice, index, delta);
  }
  void finish(int choice, std::string_view reason) override {
    if (validChoice(choice)) finished_[choice] = true;
    next_.finish(choice, reason);
  }
  // Reasoning is output too (billed as such): it counts toward the cut-off.
  void reasoning(int choice, std::string_view delta) override { count(choice, delta), next_.reasoning(choice, delta); }
  void reasoningSignature(int choice, std::string_view signature) override { next_.reasoningSignature(choice, signature); }
  int64_t tokens() const;
  // Ends every choice that is still open as `length`.
  void cut();

 private:
  void count(int choice, std::string_view delta) {
    if (!validChoice(choice) || delta.empty()) return;
    ++deltas_, bytes_ += static_cast<int64_t>(delta.size());
    open_[choice] = true;
  }
  ChunkSink& next_;
  int64_t deltas_ = 0, bytes_ = 0;
  bool open_[MAX_CHOICES] = {};
  bool finished_[MAX_CHOICES] = {};
};

// Bytes of generated text and tool arguments, for usage estimates.
size_t outputBytes(const Completion& c);

}  // namespace gw
