#pragma once
// Wire format: Google Gemini generateContent / streamGenerateContent?alt=sse.
// Messages become `contents` with `parts`, system messages
// `systemInstruction`, options `generationConfig`, tools function
// declarations; answers, streams and usageMetadata come back in OpenAI terms.
#include <vector>

#include "gw/sse.h"
#include "wire_format.h"

namespace gw::gemini_generate {

std::string_view finishReason(std::string_view geminiReason);
void readUsage(const json::Tape& t, uint32_t usageMetadata, Usage& u);

ApiError mapProviderError(int status, std::string_view body, std::string_view providerId);

class Codec : public ChatCodec {
 public:
  ApiError encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const override;
  bool decode(std::string_view body, const ProviderConfig& p, Completion& out) const override;
  std::unique_ptr<StreamDecoder> streamDecoder(const ProviderConfig& p) const override;
  ApiError mapError(int status, std::string_view body, const ProviderConfig& p) const override {
    return mapProviderError(status, body, p.id);
  }
};

class EventDecoder : public SseStreamDecoder {
 public:
  bool feed(std::string_view bytes, ChunkSink& sink) override;
  bool complete() const override { return finished_; }

 private:
  std::vector<int> toolCalls_;  // per candidate
  bool finished_ = false;
};

}  // namespace gw::gemini_generate
