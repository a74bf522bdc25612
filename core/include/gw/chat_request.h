#pragma once
// Validation of an OpenAI chat completions request, done on the JSON tape:
// every field the gateway or a provider depends on is type- and range-checked
// and a failure names its `param`. The document is not rebuilt; the wire
// format splices the few fields it changes.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gw/api_error.h"
#include "gw/json_tape.h"

namespace gw {

struct ChatRequest {
  json::Tape tape;
  std::string model;
  bool stream = false;
  bool clientWantsUsage = false;  // stream_options.include_usage from the client
  int64_t n = 1;
  // Tape indices of fields the wire format rewrites (0: absent or null).
  uint32_t modelNode = 0;
  uint32_t modelsNode = 0;               // value node of the gateway's `models` (never sent upstream)
  std::vector<std::string> fallbackModels;  // `models` after the first target, in order
  uint32_t streamOptionsNode = 0;
  uint32_t maxTokensNode = 0;            // value node of max_tokens
  uint32_t maxCompletionTokensNode = 0;  // value node of max_completion_tokens
  uint32_t maxTokensKey = 0;             // key node of max_tokens
  size_t promptBytes = 0;                // text content bytes, for estimates
  size_t messageCount = 0;
  int64_t maxTokens = 0;                 // max_tokens or max_completion_tokens; 0: unset
  // What the request needs of the model, for capability checks.
  std::string firstImagePath;            // e.g. messages[1].content[0]; empty: no images
  bool hasTools = false;
  bool wantsJson = false;                // response_format json_object / json_schema
  std::string reasoningEffort;           // reasoning_effort: none … xhigh; empty: the model's default
  uint32_t reasoningEffortNode = 0;      // its value node (dropped for models that do not reason)
  std::string lastUserText;              // for the demo upstream
};

// Parses and validates `body` (which must outlive `out`). Returns an error
// with status 0 on success.
ApiError parseChatRequest(std::string_view body, ChatRequest& out);

}  // namespace gw
