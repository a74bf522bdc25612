#pragma once
#include <cstdint>

namespace gw {

// Token usage in OpenAI's terms: promptTokens counts every input token,
// cached and cache-written ones included. `known` is false until a response
// or the final stream chunk carried it; `estimated` marks counts the gateway
// worked out itself because the provider sent none.
struct Usage {
  bool known = false;
  bool estimated = false;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
  int64_t totalTokens = 0;
  int64_t cachedPromptTokens = 0;   // cache reads
  int64_t cacheCreationTokens = 0;  // cache writes (Anthropic)
  int64_t reasoningTokens = 0;      // thinking, counted (and billed) within completionTokens
};

}  // namespace gw
