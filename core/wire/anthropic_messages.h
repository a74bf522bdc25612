#pragma once
// Wire format: Anthropic Messages (POST /v1/messages). System messages are
// lifted to `system`, tools and tool results become tool_use / tool_result
// blocks, images become image blocks, and answers and SSE events come back as
// OpenAI completions and chunks, cache read/creation tokens included.
#include <vector>

#include "gw/sse.h"
#include "wire_format.h"

namespace gw::anthropic_messages {

// The tool a JSON answer is asked for through, on models without
// structured outputs; its input comes back as the answer's text.
constexpr std::string_view JSON_TOOL = "json_output";

// Anthropic stop_reason -> OpenAI finish_reason, and back.
std::string_view finishReason(std::string_view stopReason);
std::string_view stopReason(std::string_view finishReason);

// Reads an Anthropic `usage` object into OpenAI terms (prompt = input + cache
// reads + cache writes).
void readUsage(const json::Tape& t, uint32_t usage, Usage& u);

ApiError mapProviderError(int status, std::string_view body, std::string_view providerId);

// An Anthropic client's own request for an Anthropic target: the body as
// the client sent it (thinking, output_config, top_k, cache_control and
// fields not yet known pass) with only the model renamed, and its
// anthropic-version and anthropic-beta headers.
ApiError encodeNative(std::string_view clientBody, std::string_view anthropicVersion, std::string_view anthropicBeta,
                      const Target& target, UpstreamRequest& out);

class Codec : public ChatCodec {
 public:
  ApiError encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const override;
  bool decode(std::string_view body, const ProviderConfig& p, Completion& out) const override;
  std::unique_ptr<StreamDecoder> streamDecoder(const ProviderConfig& p) const override;
  ApiError mapError(int status, std::string_view body, const ProviderConfig& p) const override {
    return mapProviderError(status, body, p.id);
  }
  const char* requestIdHeader() const override { return "request-id"; }
};

class EventDecoder : public SseStreamDecoder {
 public:
  bool feed(std::string_view bytes, ChunkSink& sink) override;
  bool complete() const override { return stopped_; }

 private:
  struct Block {
    bool tool = false;
    int toolIndex = 0;
    bool json = false;  // the JSON tool's input: the answer's text
  };
  std::vector<Block> blocks_;  // by Anthropic content block index
  int tools_ = 0;
  bool jsonAnswer_ = false;
  bool stopped_ = false;
};

}  // namespace gw::anthropic_messages
