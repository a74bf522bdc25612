#pragma once
// Anthropic-native ingress: POST /v1/messages from Anthropic clients (the
// official SDKs), routed to any provider. The request is translated into the
// OpenAI chat request the pipeline runs on, and answers, stream events and
// errors are rendered back in Anthropic's shapes.
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "dialects/dialect.h"

namespace gw::anthropic_dialect {

// Validates an Anthropic Messages request (naming the bad field as
// Anthropic does, e.g. messages.0.content) and writes the equivalent OpenAI
// chat request to `out`: `thinking` and `output_config.effort` as
// reasoning_effort, `output_config.format` (or the beta `output_format`) as
// response_format. Content only Anthropic takes (document blocks and the
// like) is left out, and `nativeOnly` names the first: an Anthropic target
// gets the body as sent, any other a 400 naming it.
ApiError translateRequest(std::string_view body, std::string& out, std::string& nativeOnly);

// The reasoning effort a thinking budget stands for (the README's table).
std::string_view effortOfBudget(int64_t budgetTokens);

const chat::Dialect& dialect();

}  // namespace gw::anthropic_dialect
