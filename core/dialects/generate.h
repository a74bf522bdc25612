#pragma once
// The gateway's own simple API (POST /api/v1/ai/generate):
//   in:  {tenantId, userId, agentId, model, messages, temperature, maxTokens, stream, useCache}
//   out: {requestId, content, usage:{promptTokens, completionTokens, totalTokens},
//         latencyMs, cost, costBrl, model, provider, finishReason, timestamp}
// With stream: true, SSE `{"type":"delta","content":…}` events and a final
// `{"type":"done",…summary}`.
#include <string>
#include <string_view>

#include "dialects/dialect.h"
#include "gw/api_error.h"
#include "gw/json_tape.h"

namespace gw::generate_dialect {

// The request as read: its attribution (narrowed against the key by the
// endpoint) and whether it may use the cache.
struct Request {
  json::Tape tape;
  std::string tenantId, userId, agentId;
  bool useCache = true;
};

// Validates the body, naming the bad field.
ApiError read(std::string_view body, Request& r);
// The OpenAI chat request it stands for, attributed to `user` (empty: none).
void translate(const Request& r, std::string_view user, std::string& out);

const chat::Dialect& dialect();

}  // namespace gw::generate_dialect
