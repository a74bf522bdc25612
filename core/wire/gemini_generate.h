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

// A function call's thought signature, carried in the id the gateway gives
// the call (`call_0_1__ts_<signature in base64url>`): only [A-Za-z0-9_-],
// so the id is one every provider's tool-call ids allow.
std::string callIdWithSignature(std::string_view id, std::string_view signature);
// The signature an id carries (standard base64), or "".
std::string signatureOfCallId(std::string_view id);
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
