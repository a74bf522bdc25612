#pragma once
// Helpers shared by the wire formats that rebuild a request (Anthropic,
// Gemini) from the validated OpenAI-shaped tape.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "gw/json_tape.h"

namespace gw::parts {

// A message's text: the string, or its text parts joined.
std::string text(const json::Tape& t, uint32_t content);

struct DataUrl {
  std::string_view mime;
  std::string_view data;  // base64
};
// data:<mime>;base64,<data>
bool parseDataUrl(std::string_view url, DataUrl& out);
// From an https URL's extension; image/jpeg when unknown.
std::string_view guessImageMime(std::string_view url);

// Checks that `args` (a tool call's arguments) is a JSON object; "" counts
// as {}. Writes the compact object to `out`.
bool argumentsObject(std::string_view args, std::string& out);

// The error for a request feature a provider cannot express.
ApiError unsupported(std::string param, std::string_view what, std::string_view providerId);

// The function name of the earlier assistant tool call with this id.
std::string toolNameFor(const json::Tape& t, uint32_t messages, std::string_view toolCallId);

}  // namespace gw::parts
