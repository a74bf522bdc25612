#pragma once
// Wire format: OpenAI's own Responses API (POST /responses), for the
// providers that serve it (the catalog's responses_api). Only Responses
// clients' requests go there, as they came, so this format encodes no chat
// request: it renames the model, holds the output to what was reserved,
// and reads the answers (a `response` object, or the Responses event
// sequence) into the internal Completion for pricing, the cache and the
// stored responses.
#include <string>
#include <string_view>
#include <vector>

#include "wire_format.h"

namespace gw::responses_wire {

// The client's body (read by parts::readModelRequest) for `target`: model
// renamed to the upstream's, and max_output_tokens set to `maxOutput` when
// the client set none (the ledger holds that much; a budget must not pass it).
void encodeNative(const json::Tape& clientBody, const Target& target, int64_t maxOutput, UpstreamRequest& out);

// Reads a `response` object (the whole answer, or the one a stream ends
// with) into `out`; false when it is not one.
bool readResponse(const json::Tape& t, uint32_t response, Completion& out);

// The Responses event sequence, fed arbitrary byte slices; `provider` is
// named in the errors the stream carries.
class EventDecoder : public SseStreamDecoder {
 public:
  explicit EventDecoder(std::string provider = "openai") : provider_(std::move(provider)) {}
  bool feed(std::string_view bytes, ChunkSink& sink) override;
  bool complete() const override { return complete_; }
  std::string_view document() const override { return document_; }

 private:
  // The chat tool index of the function call at an output index (-1: none).
  int toolAt(int64_t outputIndex) const {
    return outputIndex >= 0 && static_cast<size_t>(outputIndex) < toolOfItem_.size() ? toolOfItem_[outputIndex] : -1;
  }

  std::string provider_;
  std::vector<int> toolOfItem_;
  std::vector<bool> argumentsSeen_;
  int tools_ = 0;
  int64_t summaryIndex_ = -1;  // the reasoning summary part being written
  bool reasoningSeen_ = false;
  bool complete_ = false;
  std::string document_;
};

class Codec : public AnswerCodec {
 public:
  bool decode(std::string_view body, const ProviderConfig& p, Completion& out) const override;
  std::unique_ptr<StreamDecoder> streamDecoder(const ProviderConfig& p) const override;
  ApiError mapError(int status, std::string_view body, const ProviderConfig& p) const override;
};

const Codec& codec();

}  // namespace gw::responses_wire
