// Fuzzes what a client controls: the chat request body, through a whole
// session (validation, model resolution, upstream body splicing), plus the
// host-supplied envelope and effect metadata parsers.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gw/gateway.h"
#include "gw/json_tape.h"

namespace {

const char* CONFIG = R"({"gateway":{"config_refresh_ms":86400000},
 "providers":[{"id":"openai","base_url":"https://api.openai.com/v1"},{"id":"demo","format":"demo"},
   {"id":"anthropic","format":"anthropic_messages","base_url":"https://api.anthropic.com/v1","auth":"header","auth_header":"x-api-key"},
   {"id":"gemini","format":"gemini_generate","base_url":"https://generativelanguage.googleapis.com/v1beta"},
   {"id":"mistral","base_url":"https://api.mistral.ai/v1","quirks":{"drop":["user","logit_bias"],"rename":{"seed":"random_seed"}}},
   {"id":"ollama","base_url":"http://127.0.0.1:11434/v1","auth":"none","self_hosted":true}],
 "models":[{"id":"gpt-4o-mini","provider":"openai","price":{"input":0.15,"output":0.6}},
           {"id":"o3-mini","provider":"openai","max_tokens_param":"max_completion_tokens"},
           {"id":"claude","provider":"anthropic","price":{"input":3,"output":15}},
           {"id":"gemini","provider":"gemini","price":{"input":0.3,"output":2.5}},
           {"id":"small","provider":"mistral","price":{"input":0.1,"output":0.3}},
           {"id":"embed","provider":"gemini","type":"embedding","price":{"input":0.15}},
           {"id":"demo","provider":"demo"}]})";

// Endpoints a client reaches; the input's first byte picks one.
const char* const ENVELOPES[] = {
    R"({"method":"POST","path":"/v1/chat/completions","now_ms":1000,"entropy":"00112233445566778899aabbccddeeff"})",
    R"({"method":"POST","path":"/v1/messages","now_ms":1000,"entropy":"00112233445566778899aabbccddeeff"})",
    R"({"method":"POST","path":"/api/v1/ai/generate","now_ms":1000,"entropy":"00112233445566778899aabbccddeeff"})",
    R"({"method":"POST","path":"/v1/embeddings","now_ms":1000,"entropy":"00112233445566778899aabbccddeeff"})",
};

gw::Gateway& gateway() {
  static gw::Gateway g;
  static bool configured = false;
  if (!configured) {
    g.configure(CONFIG, R"({"vars":{},"secrets":["OPENAI_API_KEY","ANTHROPIC_API_KEY","GEMINI_API_KEY","MISTRAL_API_KEY"]})");
    configured = true;
  }
  return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  gw::Gateway& g = gateway();
  const char* envelope = ENVELOPES[size > 0 ? static_cast<uint8_t>(data[0]) % 4 : 0];
  int32_t sid = g.open(envelope, input);
  if (sid > 0) {
    std::string out;
    g.poll(static_cast<uint32_t>(sid), out);
    // Feed the same bytes back as effect metadata and as an upstream reply.
    g.feed(static_cast<uint32_t>(sid), input, input);
    g.feed(static_cast<uint32_t>(sid), R"({"id":1,"type":"fetch_head","status":200,"headers":{}})", "");
    g.feed(static_cast<uint32_t>(sid), R"({"id":1,"type":"fetch_chunk"})", input);
    g.feed(static_cast<uint32_t>(sid), R"({"id":1,"type":"fetch_end"})", "");
    g.poll(static_cast<uint32_t>(sid), out);
    g.close(static_cast<uint32_t>(sid));
  }
  int32_t other = g.open(input, input);
  if (other > 0) g.close(static_cast<uint32_t>(other));
  gw::json::Tape t;
  if (t.parse(input)) (void)t.string(0);
  return 0;
}
