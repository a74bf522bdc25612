#pragma once
// One upstream stream on its way to the client. An OpenAI client of an
// OpenAI-format provider gets the provider's events as they came
// (forwarded); a client that spoke the provider's own format (Anthropic's
// to Anthropic) gets them as they came too, decoded beside for usage and
// the recorder; any other gets them decoded and written in its dialect,
// teed to a recorder when the cache will keep the answer. Either way the
// output is counted, so the pipeline can cut a stream that passes its
// reservation. The relay decides nothing about the request: the pipeline
// reads what feed() says and ends the stream one of three ways.
#include <memory>
#include <string>
#include <string_view>

#include "dialects/dialect.h"
#include "gw/completion.h"
#include "wire/openai_chat.h"
#include "wire/wire_format.h"

namespace gw::chat {

class StreamRelay {
 public:
  enum class Mode { Render, ForwardOpenAi, ForwardNative };
  // `record`: keep the answer (the cache, stored responses).
  StreamRelay(const Dialect& dialect, const AnswerCodec& codec, const ProviderConfig& provider, const CallSummary& start,
              bool clientWantsUsage, Mode mode, bool record);

  enum class Fed { More, Complete, Failed };
  // Appends the client's bytes for `data` to `out`. Complete: a forwarded
  // stream's [DONE] arrived; Failed: error() says why.
  Fed feed(std::string_view data, std::string& out);
  // The provider's stream ended as a complete one.
  bool complete() const;
  // The output so far, as OutputCounter counts it (for the cut-off).
  int64_t tokens() const;
  const Usage& usage() const;
  // Bytes of content sent, for estimating usage the provider did not report.
  size_t outputBytes() const;
  const ApiError& error() const { return error_; }

  // The three ends, each appending the stream's last bytes to `out`:
  // the summary (priced) and terminator; `length` as if max_tokens held; an
  // error event in the client's dialect.
  void finish(const CallSummary& summary, std::string& out);
  void cut(const CallSummary& summary, std::string& out);
  void fail(const ApiError& e, std::string& out);
  // The answer as recorded, when recording.
  const Completion* recorded() const { return recorder_ ? &recorder_->completion() : nullptr; }
  // ForwardNative: the answer object the provider's stream ended with, if its format has one.
  std::string_view nativeDocument() const { return decoder_ ? decoder_->document() : std::string_view(); }

 private:
  void drain(std::string& out);

  const Dialect& dialect_;
  bool clientWantsUsage_;
  std::unique_ptr<openai_chat::StreamForwarder> forwarder_;
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<StreamWriter> writer_;
  std::unique_ptr<CompletionRecorder> recorder_;
  std::unique_ptr<ChunkSink> tee_;          // writer_ and recorder_ together
  std::unique_ptr<OutputCounter> counter_;  // what the decoder feeds: counts, then writer_ (or tee_)
  // ForwardNative: the decoded events end here (teed to recorder_), the bytes go out as they came.
  std::unique_ptr<ChunkSink> sink_;
  bool native_ = false;
  ApiError error_;
};

}  // namespace gw::chat
