#include "stream_relay.h"

namespace gw::chat {

namespace {

ApiError oversizedEvent() {
  return serverError(502, "The upstream stream sent an oversized event.", "upstream_error", "upstream_stream_error");
}

// Where a forwarded native stream's decoded events end: the content bytes, counted.
class ContentBytes : public ChunkSink {
 public:
  void text(int, std::string_view d) override { bytes += d.size(); }
  void toolCall(int, int, std::string_view, std::string_view n) override { bytes += n.size(); }
  void toolArguments(int, int, std::string_view d) override { bytes += d.size(); }
  void finish(int, std::string_view) override {}
  size_t bytes = 0;
};

}  // namespace

StreamRelay::StreamRelay(const Dialect& dialect, const AnswerCodec& codec, const ProviderConfig& provider,
                         const CallSummary& start, bool clientWantsUsage, Mode mode, bool record)
    : dialect_(dialect), clientWantsUsage_(clientWantsUsage) {
  if (mode == Mode::ForwardOpenAi) {
    forwarder_ = std::make_unique<openai_chat::StreamForwarder>(clientWantsUsage, &provider.quirks);
    return;
  }
  decoder_ = codec.streamDecoder(provider);
  if (mode == Mode::ForwardNative) {
    native_ = true;
    sink_ = std::make_unique<ContentBytes>();
    if (record) {
      recorder_ = std::make_unique<CompletionRecorder>();
      tee_ = std::make_unique<TeeSink>(*sink_, *recorder_);
    }
    counter_ = std::make_unique<OutputCounter>(tee_ ? *tee_ : *sink_);
    return;
  }
  writer_ = dialect.streamWriter(start, clientWantsUsage);
  if (record) {
    recorder_ = std::make_unique<CompletionRecorder>();
    tee_ = std::make_unique<TeeSink>(*writer_, *recorder_);
  }
  counter_ = std::make_unique<OutputCounter>(tee_ ? *tee_ : static_cast<ChunkSink&>(*writer_));
}

StreamRelay::Fed StreamRelay::feed(std::string_view data, std::string& out) {
  if (forwarder_) {
    if (!forwarder_->feed(data, out)) {
      error_ = oversizedEvent();
      return Fed::Failed;
    }
    return forwarder_->sawDone() ? Fed::Complete : Fed::More;
  }
  const bool ok = decoder_->feed(data, *counter_);
  if (native_) out.append(data);
  else drain(out);
  if (decoder_->error()) {
    error_ = decoder_->error();
    return Fed::Failed;
  }
  if (!ok) {
    error_ = oversizedEvent();
    return Fed::Failed;
  }
  return Fed::More;
}

bool StreamRelay::complete() const { return forwarder_ ? forwarder_->sawDone() : decoder_->complete(); }

int64_t StreamRelay::tokens() const { return forwarder_ ? forwarder_->tokens() : counter_->tokens(); }

const Usage& StreamRelay::usage() const { return forwarder_ ? forwarder_->usage() : decoder_->usage(); }

size_t StreamRelay::outputBytes() const {
  if (forwarder_) return forwarder_->contentBytes();
  return native_ ? static_cast<const ContentBytes&>(*sink_).bytes : writer_->outputBytes();
}

void StreamRelay::finish(const CallSummary& summary, std::string& out) {
  if (native_) {
    out += costComment(summary.usage, summary.cost);
    return;
  }
  if (forwarder_) {
    out += costComment(summary.usage, summary.cost);
    out += "data: [DONE]\n\n";
    return;
  }
  writer_->end(summary);
  drain(out);
}

void StreamRelay::cut(const CallSummary& summary, std::string& out) {
  if (native_) {
    out += dialect_.nativeStreamCut(summary);
    return;
  }
  if (forwarder_) {
    // The forwarded chunks were the provider's own; the last is ours.
    std::unique_ptr<StreamWriter> tail = dialect_.streamWriter(summary, clientWantsUsage_);
    tail->finish(0, "length");
    tail->end(summary);
    out += tail->pending();
    return;
  }
  counter_->cut();
  writer_->end(summary);
  drain(out);
}

void StreamRelay::fail(const ApiError& e, std::string& out) {
  if (forwarder_ || native_) {
    out += dialect_.streamErrorEvent(e);
    return;
  }
  writer_->failure(e);
  drain(out);
}

void StreamRelay::drain(std::string& out) {
  out += writer_->pending();
  writer_->pending().clear();
}

}  // namespace gw::chat
