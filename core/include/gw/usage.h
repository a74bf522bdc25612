#pragma once
#include <cstdint>

namespace gw {

// Token usage as reported by a provider; `known` is false until a response
// or the final stream chunk carried it.
struct Usage {
  bool known = false;
  int64_t promptTokens = 0;
  int64_t completionTokens = 0;
  int64_t totalTokens = 0;
  int64_t cachedPromptTokens = 0;
};

}  // namespace gw
