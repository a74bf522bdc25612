#pragma once
// Helpers shared by the wire formats that rebuild a request (Anthropic,
// Gemini) from the validated OpenAI-shaped tape.
#include <cstdint>
#include <string>
#include <string_view>

#include "gw/api_error.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw::parts {

// Present and not null.
bool present(const json::Tape& t, uint32_t v);
// The string member `key` of object `obj` (0 is the root), or "" when absent,
// null or not a string.
std::string str(const json::Tape& t, uint32_t obj, std::string_view key);

// System and developer messages joined, for formats with a separate system prompt.
std::string systemText(const json::Tape& t, uint32_t messages);

// A string or an array of strings (OpenAI's `stop`), written as an array.
void writeStringList(json::Writer& w, const json::Tape& t, uint32_t stringOrArray);

// Writes messages as role runs: consecutive messages that map to the same
// provider role share one message, as Anthropic and Gemini require
// alternation. `listKey` names the message's block list ("content", "parts").
class RoleRuns {
 public:
  RoleRuns(json::Writer& w, std::string_view listKey) : w_(w), listKey_(listKey) {}
  void open(std::string_view role);
  void close();
  bool any() const { return any_; }

 private:
  json::Writer& w_;
  std::string_view listKey_;
  std::string current_;
  bool any_ = false;
};

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
