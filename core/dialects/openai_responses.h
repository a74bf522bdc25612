#pragma once
// The OpenAI Responses API (POST /v1/responses) from any client, routed to
// any provider: the request is translated into the OpenAI chat request the
// pipeline runs on, and answers, stream events and errors are rendered as
// `response` objects and the Responses event sequence.
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "dialects/dialect.h"

namespace gw::openai_responses {

// Most input items a request may carry.
constexpr uint32_t MAX_INPUT_ITEMS = 2048;

// Validates a Responses request (naming the bad field as OpenAI does, e.g.
// input[2].call_id) and writes the equivalent chat request to `chat`, and to
// `echo` the request's parameters as the members every `response` object
// repeats (`"instructions":…,"tools":[…],…`, without braces).
ApiError translateRequest(std::string_view body, std::string& chat, std::string& echo);

const chat::Dialect& dialect();

}  // namespace gw::openai_responses
