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

// A client dialect's body: a JSON object naming its model (a non-empty
// string). Parses into `t` and finds `model`, or says what is wrong.
ApiError readModelRequest(std::string_view body, json::Tape& t, uint32_t& model);
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

// An image part of a user message: inline base64 data, or a URL to fetch.
struct Image {
  bool isInline = false;
  DataUrl data;     // when inline (views into `url`)
  std::string url;  // http(s) otherwise
};

// Calls onText(text) and onImage(image) for each part of a user message's
// content, in order (a string is one text part). Other part types, and image
// URLs that are neither http(s) nor base64 data: URLs, are 400s naming the part.
template <typename OnText, typename OnImage>
ApiError forEachUserPart(const json::Tape& t, uint32_t content, const std::string& path, std::string_view providerId,
                         OnText&& onText, OnImage&& onImage);

// Calls fn(id, name, arguments) for each tool call of an assistant message,
// the arguments as a JSON object; a call whose arguments are not one is a 400
// naming it.
template <typename Fn>
ApiError forEachToolCall(const json::Tape& t, uint32_t message, const std::string& path, Fn&& fn);

// Calls fn(name, description, parametersNode or 0) for each declared tool.
template <typename Fn>
void forEachTool(const json::Tape& t, uint32_t tools, Fn&& fn);

// The error for a request feature a provider cannot express.
ApiError unsupported(std::string param, std::string_view what, std::string_view providerId);

// The function name of the earlier assistant tool call with this id.
std::string toolNameFor(const json::Tape& t, uint32_t messages, std::string_view toolCallId);

template <typename OnText, typename OnImage>
ApiError forEachUserPart(const json::Tape& t, uint32_t content, const std::string& path, std::string_view providerId,
                         OnText&& onText, OnImage&& onImage) {
  if (t.kind(content) == json::Kind::String) {
    onText(t.string(content));
    return {};
  }
  uint32_t index = 0;
  for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part), ++index) {
    const std::string partPath = path + "[" + std::to_string(index) + "]";
    uint32_t type = t.find(part, "type");
    if (t.stringEquals(type, "text")) {
      onText(t.string(t.find(part, "text")));
    } else if (t.stringEquals(type, "image_url")) {
      Image image;
      image.url = t.string(t.find(t.find(part, "image_url"), "url"));
      image.isInline = parseDataUrl(image.url, image.data);
      if (!image.isInline && image.url.rfind("https://", 0) != 0 && image.url.rfind("http://", 0) != 0)
        return invalidValue(partPath + ".image_url.url", "expected an https URL or a base64 data: URL.");
      onImage(static_cast<const Image&>(image));
    } else {
      return unsupported(partPath + ".type", "Content of type '" + t.string(type) + "'", providerId);
    }
  }
  return {};
}

template <typename Fn>
ApiError forEachToolCall(const json::Tape& t, uint32_t message, const std::string& path, Fn&& fn) {
  uint32_t calls = t.find(message, "tool_calls");
  if (!present(t, calls)) return {};
  std::string args;
  uint32_t k = 0;
  for (uint32_t call = t.firstChild(calls); call != 0; call = t.nextSibling(calls, call), ++k) {
    uint32_t function = t.find(call, "function");
    if (!argumentsObject(str(t, function, "arguments"), args))
      return invalidValue(path + ".tool_calls[" + std::to_string(k) + "].function.arguments",
                          "expected a JSON object encoded as a string.");
    fn(str(t, call, "id"), str(t, function, "name"), args);
  }
  return {};
}

template <typename Fn>
void forEachTool(const json::Tape& t, uint32_t tools, Fn&& fn) {
  for (uint32_t tool = t.firstChild(tools); tool != 0; tool = t.nextSibling(tools, tool)) {
    uint32_t function = t.find(tool, "function");
    uint32_t params = t.find(function, "parameters");
    fn(str(t, function, "name"), str(t, function, "description"), present(t, params) ? params : 0);
  }
}

}  // namespace gw::parts
