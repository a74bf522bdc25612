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
// chat request to `out`.
ApiError translateRequest(std::string_view body, std::string& out);

const chat::Dialect& dialect();

}  // namespace gw::anthropic_dialect
