#include "gw/chat_request.h"

#include <algorithm>

#include <string>

namespace gw {

namespace {

using json::Kind;
using json::Tape;

const char* kindName(const Tape& t, uint32_t i) {
  switch (t.kind(i)) {
    case Kind::Object: return "an object";
    case Kind::Array: return "an array";
    case Kind::String: return "a string";
    case Kind::Number: return t.isInteger(i, nullptr) ? "an integer" : "a decimal";
    case Kind::True:
    case Kind::False: return "a boolean";
    case Kind::Null: return "null";
  }
  return "a value";
}

bool isNull(const Tape& t, uint32_t i) { return i == 0 || t.kind(i) == Kind::Null; }
bool isBool(const Tape& t, uint32_t i) { return t.kind(i) == Kind::True || t.kind(i) == Kind::False; }

// Checks an optional number field in [min, max] (whole bounds: no floating-point formatting).
ApiError checkNumber(const Tape& t, uint32_t root, const char* name, int64_t min, int64_t max) {
  uint32_t v = t.find(root, name);
  if (isNull(t, v)) return {};
  if (t.kind(v) != Kind::Number) return invalidType(name, "a number", kindName(t, v));
  double d = t.number(v);
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    return invalidValue(name, "expected a number between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                                  std::string(t.raw(v)) + ".");
  return {};
}

ApiError checkInteger(const Tape& t, uint32_t root, const char* name, int64_t min, int64_t max, int64_t* out) {
  uint32_t v = t.find(root, name);
  if (isNull(t, v)) return {};
  int64_t value;
  if (t.kind(v) != Kind::Number || !t.isInteger(v, &value)) return invalidType(name, "an integer", kindName(t, v));
  if (value < min || value > max)
    return invalidValue(name, "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) +
                                  ", got " + std::to_string(value) + ".");
  if (out) *out = value;
  return {};
}

ApiError checkBool(const Tape& t, uint32_t root, const char* name) {
  uint32_t v = t.find(root, name);
  if (isNull(t, v) || isBool(t, v)) return {};
  return invalidType(name, "a boolean", kindName(t, v));
}

ApiError checkString(const Tape& t, uint32_t root, const char* name) {
  uint32_t v = t.find(root, name);
  if (isNull(t, v) || t.kind(v) == Kind::String) return {};
  return invalidType(name, "a string", kindName(t, v));
}

bool oneOf(const Tape& t, uint32_t s, std::initializer_list<std::string_view> values) {
  for (auto v : values)
    if (t.stringEquals(s, v)) return true;
  return false;
}

// A content part: {"type":"text","text":...} or {"type":"image_url",...} etc.
ApiError checkContentPart(const Tape& t, uint32_t part, const std::string& path, bool textOnly, ChatRequest& out) {
  if (t.kind(part) != Kind::Object) return invalidType(path, "an object", kindName(t, part));
  uint32_t type = t.find(part, "type");
  if (type == 0) return missingParameter(path + ".type");
  if (t.kind(type) != Kind::String) return invalidType(path + ".type", "a string", kindName(t, type));
  if (t.stringEquals(type, "text")) {
    uint32_t text = t.find(part, "text");
    if (text == 0) return missingParameter(path + ".text");
    if (t.kind(text) != Kind::String) return invalidType(path + ".text", "a string", kindName(t, text));
    out.promptBytes += t.rawString(text).size();
    return {};
  }
  if (textOnly)
    return invalidValue(path + ".type", "'" + t.string(type) + "' is not supported here; expected 'text'.");
  if (t.stringEquals(type, "image_url")) {
    uint32_t image = t.find(part, "image_url");
    if (image == 0) return missingParameter(path + ".image_url");
    if (t.kind(image) != Kind::Object) return invalidType(path + ".image_url", "an object", kindName(t, image));
    uint32_t url = t.find(image, "url");
    if (url == 0) return missingParameter(path + ".image_url.url");
    if (t.kind(url) != Kind::String) return invalidType(path + ".image_url.url", "a string", kindName(t, url));
    if (out.firstImagePath.empty()) out.firstImagePath = path;
    return {};
  }
  if (oneOf(t, type, {"input_audio", "file", "refusal"})) return {};
  return invalidValue(path + ".type", "'" + t.string(type) +
                                          "' is not a supported content part; expected 'text', 'image_url', "
                                          "'input_audio' or 'file'.");
}

ApiError checkContent(const Tape& t, uint32_t content, const std::string& path, bool textOnly, ChatRequest& out) {
  if (t.kind(content) == Kind::String) {
    out.promptBytes += t.rawString(content).size();
    return {};
  }
  if (t.kind(content) != Kind::Array) return invalidType(path, "a string or an array of content parts", kindName(t, content));
  uint32_t index = 0;
  for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part), ++index) {
    if (ApiError e = checkContentPart(t, part, path + "[" + std::to_string(index) + "]", textOnly, out)) return e;
  }
  return {};
}

// An assistant message's thinking_blocks: the Anthropic thinking (with its
// signature) the gateway's answer carried, echoed back so a tool loop keeps it.
ApiError checkThinkingBlocks(const Tape& t, uint32_t blocks, const std::string& path) {
  if (isNull(t, blocks)) return {};
  if (t.kind(blocks) != Kind::Array) return invalidType(path, "an array", kindName(t, blocks));
  uint32_t i = 0;
  for (uint32_t b = t.firstChild(blocks); b != 0; b = t.nextSibling(blocks, b), ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (t.kind(b) != Kind::Object) return invalidType(at, "an object", kindName(t, b));
    uint32_t type = t.find(b, "type");
    const bool redacted = t.stringEquals(type, "redacted_thinking");
    if (!redacted && !t.stringEquals(type, "thinking"))
      return invalidValue(at + ".type", "expected 'thinking' or 'redacted_thinking'.");
    static constexpr const char* THINKING[] = {"thinking", "signature"};
    static constexpr const char* REDACTED[] = {"data"};
    for (size_t n = 0; n < (redacted ? 1 : 2); ++n) {
      const std::string key = redacted ? REDACTED[n] : THINKING[n];
      uint32_t v = t.find(b, key);
      if (v == 0) return missingParameter(at + "." + key);
      if (t.kind(v) != Kind::String) return invalidType(at + "." + key, "a string", kindName(t, v));
    }
  }
  return {};
}

ApiError checkMessage(const Tape& t, uint32_t msg, uint32_t index, ChatRequest& out) {
  const std::string path = "messages[" + std::to_string(index) + "]";
  if (t.kind(msg) != Kind::Object) return invalidType(path, "an object", kindName(t, msg));
  uint32_t role = t.find(msg, "role");
  if (role == 0) return missingParameter(path + ".role");
  if (t.kind(role) != Kind::String) return invalidType(path + ".role", "a string", kindName(t, role));
  const bool system = oneOf(t, role, {"system", "developer"});
  const bool user = t.stringEquals(role, "user");
  const bool assistant = t.stringEquals(role, "assistant");
  const bool tool = t.stringEquals(role, "tool");
  const bool function = t.stringEquals(role, "function");
  if (!system && !user && !assistant && !tool && !function)
    return invalidValue(path + ".role", "'" + t.string(role) +
                                            "' is not a supported role; expected 'system', 'developer', 'user', "
                                            "'assistant', 'tool' or 'function'.");
  uint32_t content = t.find(msg, "content");
  uint32_t name = t.find(msg, "name");
  if (name != 0 && t.kind(name) != Kind::String) return invalidType(path + ".name", "a string", kindName(t, name));
  if (assistant) {
    uint32_t toolCalls = t.find(msg, "tool_calls");
    bool hasCalls = !isNull(t, toolCalls) || !isNull(t, t.find(msg, "function_call"));
    if (!isNull(t, toolCalls)) {
      if (t.kind(toolCalls) != Kind::Array) return invalidType(path + ".tool_calls", "an array", kindName(t, toolCalls));
      uint32_t k = 0;
      for (uint32_t call = t.firstChild(toolCalls); call != 0; call = t.nextSibling(toolCalls, call), ++k) {
        std::string callPath = path + ".tool_calls[" + std::to_string(k) + "]";
        if (t.kind(call) != Kind::Object) return invalidType(callPath, "an object", kindName(t, call));
        uint32_t fn = t.find(call, "function");
        if (fn == 0) return missingParameter(callPath + ".function");
        if (t.kind(fn) != Kind::Object) return invalidType(callPath + ".function", "an object", kindName(t, fn));
        uint32_t fnName = t.find(fn, "name");
        if (fnName == 0) return missingParameter(callPath + ".function.name");
        if (t.kind(fnName) != Kind::String)
          return invalidType(callPath + ".function.name", "a string", kindName(t, fnName));
      }
    }
    if (ApiError e = checkThinkingBlocks(t, t.find(msg, "thinking_blocks"), path + ".thinking_blocks")) return e;
    if (isNull(t, content)) {
      if (!hasCalls && isNull(t, t.find(msg, "refusal"))) return missingParameter(path + ".content");
      return {};
    }
    return checkContent(t, content, path + ".content", false, out);
  }
  if (content == 0) return missingParameter(path + ".content");
  if (function && t.kind(content) == Kind::Null) return {};
  if (ApiError e = checkContent(t, content, path + ".content", system || tool, out)) return e;
  if (tool) {
    uint32_t id = t.find(msg, "tool_call_id");
    if (id == 0) return missingParameter(path + ".tool_call_id");
    if (t.kind(id) != Kind::String) return invalidType(path + ".tool_call_id", "a string", kindName(t, id));
  }
  if (function && name == 0) return missingParameter(path + ".name");
  if (user) {
    if (t.kind(content) == Kind::String) {
      out.lastUserText = t.string(content);
    } else {
      out.lastUserText.clear();
      for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part)) {
        uint32_t text = t.find(part, "text");
        if (text != 0 && t.kind(text) == Kind::String) out.lastUserText += t.string(text);
      }
    }
  }
  return {};
}

ApiError checkToolChoice(const Tape& t, uint32_t root);

ApiError checkTools(const Tape& t, uint32_t root, ChatRequest& out) {
  uint32_t tools = t.find(root, "tools");
  if (isNull(t, tools)) return checkToolChoice(t, root);
  if (t.kind(tools) != Kind::Array) return invalidType("tools", "an array", kindName(t, tools));
  uint32_t index = 0;
  out.hasTools = t.node(tools).count > 0;
  for (uint32_t tool = t.firstChild(tools); tool != 0; tool = t.nextSibling(tools, tool), ++index) {
    const std::string path = "tools[" + std::to_string(index) + "]";
    if (t.kind(tool) != Kind::Object) return invalidType(path, "an object", kindName(t, tool));
    uint32_t type = t.find(tool, "type");
    if (type == 0) return missingParameter(path + ".type");
    if (!t.stringEquals(type, "function"))
      return invalidValue(path + ".type", "expected 'function'.");
    uint32_t fn = t.find(tool, "function");
    if (fn == 0) return missingParameter(path + ".function");
    if (t.kind(fn) != Kind::Object) return invalidType(path + ".function", "an object", kindName(t, fn));
    uint32_t name = t.find(fn, "name");
    if (name == 0) return missingParameter(path + ".function.name");
    if (t.kind(name) != Kind::String || t.rawString(name).empty())
      return invalidValue(path + ".function.name", "expected a non-empty string.");
    uint32_t params = t.find(fn, "parameters");
    if (!isNull(t, params) && t.kind(params) != Kind::Object)
      return invalidType(path + ".function.parameters", "an object", kindName(t, params));
  }
  return checkToolChoice(t, root);
}

ApiError checkToolChoice(const Tape& t, uint32_t root) {
  uint32_t choice = t.find(root, "tool_choice");
  if (isNull(t, choice)) return {};
  if (t.kind(choice) == Kind::String) {
    if (!oneOf(t, choice, {"none", "auto", "required"}))
      return invalidValue("tool_choice", "expected 'none', 'auto', 'required' or an object naming a function.");
    return {};
  }
  if (t.kind(choice) != Kind::Object) return invalidType("tool_choice", "a string or an object", kindName(t, choice));
  return {};
}

ApiError checkStop(const Tape& t, uint32_t root) {
  uint32_t stop = t.find(root, "stop");
  if (isNull(t, stop) || t.kind(stop) == Kind::String) return {};
  if (t.kind(stop) != Kind::Array) return invalidType("stop", "a string or an array of strings", kindName(t, stop));
  if (t.node(stop).count > 4)
    return invalidValue("stop", "expected at most 4 sequences, got " + std::to_string(t.node(stop).count) + ".");
  uint32_t index = 0;
  for (uint32_t s = t.firstChild(stop); s != 0; s = t.nextSibling(stop, s), ++index)
    if (t.kind(s) != Kind::String)
      return invalidType("stop[" + std::to_string(index) + "]", "a string", kindName(t, s));
  return {};
}

ApiError checkResponseFormat(const Tape& t, uint32_t root, ChatRequest& out) {
  uint32_t rf = t.find(root, "response_format");
  if (isNull(t, rf)) return {};
  if (t.kind(rf) != Kind::Object) return invalidType("response_format", "an object", kindName(t, rf));
  uint32_t type = t.find(rf, "type");
  if (type == 0) return missingParameter("response_format.type");
  if (!oneOf(t, type, {"text", "json_object", "json_schema"}))
    return invalidValue("response_format.type", "expected 'text', 'json_object' or 'json_schema'.");
  out.wantsJson = !t.stringEquals(type, "text");
  return {};
}

}  // namespace

ApiError parseChatRequest(std::string_view body, ChatRequest& out) {
  Tape& t = out.tape;
  if (!t.parse(body)) return unreadableBody(t.error());
  const uint32_t root = t.root();
  if (t.kind(root) != Kind::Object)
    return invalidRequest(std::string("The request body must be a JSON object, not ") + kindName(t, root) + ".", "",
                          "invalid_json");

  // `models` (as OpenRouter and Vercel accept): targets to try in order,
  // after `model` when both are given.
  constexpr uint32_t MAX_MODELS = 8;
  uint32_t models = t.find(root, "models");
  std::vector<std::string> listed;
  if (!isNull(t, models)) {
    if (t.kind(models) != Kind::Array) return invalidType("models", "an array of model names", kindName(t, models));
    if (t.node(models).count > MAX_MODELS)
      return invalidValue("models", "at most " + std::to_string(MAX_MODELS) + " models may be listed.");
    uint32_t i = 0;
    for (uint32_t m = t.firstChild(models); m != 0; m = t.nextSibling(models, m), ++i) {
      const std::string param = "models[" + std::to_string(i) + "]";
      if (t.kind(m) != Kind::String || t.rawString(m).empty())
        return invalidType(param, "a non-empty model name", kindName(t, m));
      listed.push_back(t.string(m));
    }
    out.modelsNode = models;
  }
  uint32_t model = t.find(root, "model");
  if (isNull(t, model) && listed.empty()) return missingParameter("model");
  if (!isNull(t, model)) {
    if (t.kind(model) != Kind::String) return invalidType("model", "a string", kindName(t, model));
    if (t.rawString(model).empty()) return invalidValue("model", "expected a non-empty model name.");
    out.model = t.string(model);
    out.modelNode = model;
  } else {
    out.model = listed.front();
  }
  for (auto& name : listed)
    if (name != out.model &&
        std::find(out.fallbackModels.begin(), out.fallbackModels.end(), name) == out.fallbackModels.end())
      out.fallbackModels.push_back(std::move(name));

  uint32_t messages = t.find(root, "messages");
  if (isNull(t, messages)) return missingParameter("messages");
  if (t.kind(messages) != Kind::Array) return invalidType("messages", "an array", kindName(t, messages));
  if (t.node(messages).count == 0)
    return invalidRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages",
                          "empty_array");
  uint32_t index = 0;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m), ++index)
    if (ApiError e = checkMessage(t, m, index, out)) return e;
  out.messageCount = index;

  if (ApiError e = checkNumber(t, root, "temperature", 0, 2)) return e;
  if (ApiError e = checkNumber(t, root, "top_p", 0, 1)) return e;
  if (ApiError e = checkNumber(t, root, "presence_penalty", -2, 2)) return e;
  if (ApiError e = checkNumber(t, root, "frequency_penalty", -2, 2)) return e;
  if (ApiError e = checkInteger(t, root, "n", 1, 128, &out.n)) return e;
  if (ApiError e = checkInteger(t, root, "max_tokens", 1, 100000000, &out.maxTokens)) return e;
  if (ApiError e = checkInteger(t, root, "max_completion_tokens", 1, 100000000, &out.maxTokens)) return e;
  if (ApiError e = checkInteger(t, root, "seed", INT64_MIN, INT64_MAX, nullptr)) return e;
  if (ApiError e = checkInteger(t, root, "top_logprobs", 0, 20, nullptr)) return e;
  if (ApiError e = checkBool(t, root, "logprobs")) return e;
  if (ApiError e = checkBool(t, root, "parallel_tool_calls")) return e;
  if (ApiError e = checkBool(t, root, "stream")) return e;
  if (ApiError e = checkString(t, root, "user")) return e;
  if (uint32_t effort = t.find(root, "reasoning_effort"); effort != 0 && t.kind(effort) != Kind::Null) {
    if (t.kind(effort) != Kind::String) return invalidType("reasoning_effort", "a string", kindName(t, effort));
    out.reasoningEffort = t.string(effort);
    const std::string& e = out.reasoningEffort;
    if (e != "none" && e != "minimal" && e != "low" && e != "medium" && e != "high" && e != "xhigh")
      return invalidValue("reasoning_effort", "expected 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'.");
    out.reasoningEffortNode = effort;
  }
  if (ApiError e = checkStop(t, root)) return e;
  if (ApiError e = checkTools(t, root, out)) return e;
  if (ApiError e = checkResponseFormat(t, root, out)) return e;
  uint32_t bias = t.find(root, "logit_bias");
  if (!isNull(t, bias) && t.kind(bias) != Kind::Object) return invalidType("logit_bias", "an object", kindName(t, bias));

  uint32_t stream = t.find(root, "stream");
  out.stream = stream != 0 && t.kind(stream) == Kind::True;
  uint32_t options = t.find(root, "stream_options");
  if (!isNull(t, options)) {
    if (t.kind(options) != Kind::Object) return invalidType("stream_options", "an object", kindName(t, options));
    if (!out.stream)
      return invalidRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                            "stream_options", "invalid_value");
    uint32_t usage = t.find(options, "include_usage");
    if (!isNull(t, usage) && !isBool(t, usage))
      return invalidType("stream_options.include_usage", "a boolean", kindName(t, usage));
    out.clientWantsUsage = usage != 0 && t.kind(usage) == Kind::True;
    out.streamOptionsNode = options;
  }
  uint32_t maxTokens = t.find(root, "max_tokens");
  if (!isNull(t, maxTokens)) {
    out.maxTokensNode = maxTokens;
    out.maxTokensKey = maxTokens - 1;
  }
  uint32_t maxCompletion = t.find(root, "max_completion_tokens");
  if (!isNull(t, maxCompletion)) out.maxCompletionTokensNode = maxCompletion;
  return {};
}

}  // namespace gw
