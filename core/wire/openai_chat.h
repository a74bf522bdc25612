#pragma once
// Wire format: OpenAI chat completions, spoken by OpenAI and every
// OpenAI-compatible provider in the catalog. Requests are spliced, not
// re-serialised (the catalog's quirks rename or drop fields); answers to
// OpenAI-dialect clients pass through byte for byte.
#include <string>
#include <string_view>
#include <vector>

#include "gw/sse.h"
#include "wire_format.h"

namespace gw::openai_chat {

// The upstream body: model renamed, quirks applied, usage requested on
// streams, and the default token limit filled in when the client set none.
std::string encodeRequest(const ChatRequest& req, const Target& target, const Config& c);

// Reads `usage` from a chat.completion or chunk object, where the
// provider's response quirks say it is when not where OpenAI puts it.
Usage readUsage(const json::Tape& tape, uint32_t object, const Quirks& quirks);
Usage decodeResponseUsage(std::string_view body, const Quirks& quirks);
// Bytes of message content in a complete response, for estimates.
size_t responseContentBytes(std::string_view body);

ApiError mapError(int upstreamStatus, std::string_view body, std::string_view providerId, const Quirks& quirks);

class Codec : public ChatCodec {
 public:
  ApiError encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const override;
  bool decode(std::string_view body, const ProviderConfig& p, Completion& out) const override;
  std::unique_ptr<StreamDecoder> streamDecoder(const ProviderConfig& p) const override;
  ApiError mapError(int status, std::string_view body, const ProviderConfig& p) const override {
    return openai_chat::mapError(status, body, p.id, p.quirks);
  }
};

// Forwards an upstream SSE stream to an OpenAI client event by event, noting
// usage and completion. It drops the usage-only chunk the gateway asked for
// on the client's behalf when the client did not ask for it, and holds back
// [DONE] so the gateway can add its cost line first.
class StreamForwarder {
 public:
  // `quirks`: the provider's, when it has any (it outlives the forwarder).
  explicit StreamForwarder(bool clientWantsUsage, const Quirks* quirks = nullptr)
      : clientWantsUsage_(clientWantsUsage), quirks_(quirks) {}
  // Appends client-bound bytes for every complete event in `bytes` to `out`.
  bool feed(std::string_view bytes, std::string& out);
  bool sawDone() const { return sawDone_; }
  const Usage& usage() const { return usage_; }
  size_t contentBytes() const { return contentBytes_; }
  // The output so far, counted as OutputCounter counts it.
  int64_t tokens() const;

 private:
  SseDecoder decoder_;
  std::vector<SseEvent> events_;
  json::Tape tape_;
  Usage usage_;
  bool clientWantsUsage_;
  const Quirks* quirks_;
  bool sawDone_ = false;
  size_t contentBytes_ = 0;
  int64_t deltas_ = 0;
};

// Decodes OpenAI chunks into events, for clients of another dialect.
class ChunkDecoder : public SseStreamDecoder {
 public:
  // `provider` is named in the errors the stream carries; `quirks` (the
  // provider's, when it has any) outlive the decoder.
  explicit ChunkDecoder(std::string provider = "openai", const Quirks* quirks = nullptr)
      : provider_(std::move(provider)), quirks_(quirks) {}
  bool feed(std::string_view bytes, ChunkSink& sink) override;
  bool complete() const override { return sawDone_; }

 private:
  std::string provider_;
  const Quirks* quirks_;
  bool sawDone_ = false;
};

}  // namespace gw::openai_chat
