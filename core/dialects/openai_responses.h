#pragma once
// The OpenAI Responses API (POST /v1/responses) from any client, routed to
// any provider: the request is translated into the OpenAI chat request the
// pipeline runs on, and answers, stream events and errors are rendered as
// `response` objects and the Responses event sequence.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gw/api_error.h"
#include "gw/json_tape.h"
#include "dialects/dialect.h"

namespace gw::openai_responses {

// Most input items a request may carry.
constexpr uint32_t MAX_INPUT_ITEMS = 2048;

// Most bytes a stored response (its answer, conversation and input) may
// take; a larger one is answered but not kept.
constexpr size_t MAX_STORED_BYTES = 4 << 20;

// The conversation a previous_response_id continues.
struct Previous {
  std::string id;
  std::string_view conversation;  // chat messages as a JSON array, instructions excluded
};

struct Translation {
  std::string chat;          // the chat request the pipeline runs
  std::string echo;          // the parameters every `response` object repeats (`"instructions":…`, no braces)
  std::string conversation;  // the chat messages so far, instructions excluded: what a stored response keeps
  std::string input;         // this request's input items, as a JSON array
  bool store = true;
  std::string previousId;    // previous_response_id, when the request names one
  int64_t maxOutput = 0;     // max_output_tokens, when set
  // The client's field each chat message came from (instructions,
  // previous_response_id, input[i]), so an error a provider's encoding
  // names in chat terms (messages[2].content[0]) names what the client sent.
  std::vector<std::string> origins;
  // The first built-in tool or tool item (web search, …): what only OpenAI's
  // own Responses API takes, as the 400 any other provider's request gets.
  // The chat translation leaves them out.
  ApiError nativeOnly;
};

// Output items of stored responses by item id (their JSON), for the
// item_reference inputs that name them (the AI SDK sends those by default).
using StoredItems = std::map<std::string, std::string_view, std::less<>>;
// The response an output item id was made for ("" for ids the gateway did
// not make): item ids carry their response's hex (msg_<hex>, fc_<hex>_<n>).
std::string responseIdOfItem(std::string_view itemId);

// Validates a Responses request (naming the bad field as OpenAI does, e.g.
// input[2].call_id) and translates it, after the previous conversation when
// there is one. `body` is the client's, as parts::readModelRequest read it.
ApiError translateRequest(const json::Tape& body, const Previous* previous, const StoredItems* stored, Translation& out);

// `e` with its param (and message) in the request's terms: messages[n] as the field it came from.
ApiError inClientTerms(ApiError e, const Translation& t);

// A stored response: the response object, and the conversation and input
// it came from; `native`, the provider that answered it on its own
// Responses API (and keeps it too), or empty.
std::string storedResponse(std::string_view response, std::string_view conversation, const Completion& answer,
                           std::string_view input, std::string_view native = {});

const chat::Dialect& dialect();

}  // namespace gw::openai_responses
