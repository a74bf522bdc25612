#include "dialects/anthropic_messages.h"

#include "wire/anthropic_messages.h"
#include "wire/message_parts.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"

namespace gw::anthropic_dialect {

namespace {

using json::Kind;
using json::Tape;
using parts::present;
using parts::str;

// Text of a string or of an array of text blocks.
bool blockText(const Tape& t, uint32_t v, std::string& out) {
  if (t.kind(v) == Kind::String) {
    out = t.string(v);
    return true;
  }
  if (t.kind(v) != Kind::Array) return false;
  for (uint32_t b = t.firstChild(v); b != 0; b = t.nextSibling(v, b)) {
    if (t.kind(b) != Kind::Object) return false;
    if (!t.stringEquals(t.find(b, "type"), "text")) continue;
    if (!out.empty()) out += "\n";
    out += str(t, b, "text");
  }
  return true;
}

ApiError image(json::Writer& w, const Tape& t, uint32_t block, const std::string& path) {
  uint32_t source = t.find(block, "source");
  if (!present(t, source) || t.kind(source) != Kind::Object) return missingParameter(path + ".source");
  std::string type = str(t, source, "type");
  std::string url;
  if (type == "base64") url = "data:" + str(t, source, "media_type") + ";base64," + str(t, source, "data");
  else if (type == "url") url = str(t, source, "url");
  else return invalidValue(path + ".source.type", "expected 'base64' or 'url'.");
  w.beginObject().field("type", "image_url").key("image_url").beginObject().field("url", url).endObject().endObject();
  return {};
}

ApiError userMessage(json::Writer& w, const Tape& t, uint32_t content, const std::string& path, std::string& nativeOnly) {
  if (t.kind(content) == Kind::String) {
    w.beginObject().field("role", "user").field("content", t.string(content)).endObject();
    return {};
  }
  // Tool results become tool messages, which OpenAI wants right after the
  // assistant's calls; the rest of the turn follows as one user message.
  uint32_t index = 0;
  bool other = false;
  for (uint32_t b = t.firstChild(content); b != 0; b = t.nextSibling(content, b), ++index) {
    const std::string bpath = path + "." + std::to_string(index);
    if (t.kind(b) != Kind::Object) return invalidType(bpath, "an object", "another value");
    if (!t.stringEquals(t.find(b, "type"), "tool_result")) {
      other = true;
      continue;
    }
    std::string text;
    uint32_t c = t.find(b, "content");
    if (present(t, c) && !blockText(t, c, text)) return invalidValue(bpath + ".content", "expected a string or text blocks.");
    uint32_t isError = t.find(b, "is_error");
    if (isError != 0 && t.kind(isError) == Kind::True) text = "Error: " + text;
    std::string id = str(t, b, "tool_use_id");
    if (id.empty()) return missingParameter(bpath + ".tool_use_id");
    w.beginObject().field("role", "tool").field("tool_call_id", id).field("content", text).endObject();
  }
  if (!other) return {};
  w.beginObject().field("role", "user").key("content").beginArray();
  index = 0;
  for (uint32_t b = t.firstChild(content); b != 0; b = t.nextSibling(content, b), ++index) {
    const std::string bpath = path + "." + std::to_string(index);
    uint32_t type = t.find(b, "type");
    if (t.stringEquals(type, "tool_result")) continue;
    if (t.stringEquals(type, "text")) {
      w.beginObject().field("type", "text").field("text", str(t, b, "text")).endObject();
    } else if (t.stringEquals(type, "image")) {
      if (ApiError e = image(w, t, b, bpath)) return e;
    } else if (!present(t, type) || t.kind(type) != Kind::String) {
      return missingParameter(bpath + ".type");
    } else if (nativeOnly.empty()) {
      nativeOnly = bpath + ".type";  // document, search_result, …: Anthropic's own
    }
  }
  w.endArray().endObject();
  return {};
}

ApiError assistantMessage(json::Writer& w, const Tape& t, uint32_t content, const std::string& path) {
  w.beginObject().field("role", "assistant");
  if (t.kind(content) == Kind::String) {
    w.field("content", t.string(content)).endObject();
    return {};
  }
  std::string text;
  bool calls = false;
  for (uint32_t b = t.firstChild(content); b != 0; b = t.nextSibling(content, b)) {
    if (t.stringEquals(t.find(b, "type"), "text")) text += str(t, b, "text");
    if (t.stringEquals(t.find(b, "type"), "tool_use")) calls = true;
  }
  w.field("content", text);
  if (calls) {
    w.key("tool_calls").beginArray();
    uint32_t index = 0;
    for (uint32_t b = t.firstChild(content); b != 0; b = t.nextSibling(content, b), ++index) {
      if (!t.stringEquals(t.find(b, "type"), "tool_use")) continue;
      uint32_t input = t.find(b, "input");
      if (!present(t, input) || t.kind(input) != Kind::Object)
        return invalidType(path + "." + std::to_string(index) + ".input", "an object", "another value");
      w.beginObject().field("id", str(t, b, "id")).field("type", "function").key("function").beginObject();
      w.field("name", str(t, b, "name")).field("arguments", t.raw(input)).endObject().endObject();
    }
    w.endArray();
  }
  w.endObject();
  return {};
}

void tools(json::Writer& w, const Tape& t, uint32_t root) {
  uint32_t list = t.find(root, "tools");
  if (present(t, list) && t.kind(list) == Kind::Array && t.node(list).count > 0) {
    w.key("tools").beginArray();
    for (uint32_t tool = t.firstChild(list); tool != 0; tool = t.nextSibling(list, tool)) {
      w.beginObject().field("type", "function").key("function").beginObject().field("name", str(t, tool, "name"));
      std::string description = str(t, tool, "description");
      if (!description.empty()) w.field("description", description);
      uint32_t schema = t.find(tool, "input_schema");
      if (present(t, schema)) w.key("parameters").raw(t.raw(schema));
      w.endObject().endObject();
    }
    w.endArray();
  }
  uint32_t choice = t.find(root, "tool_choice");
  if (!present(t, choice) || t.kind(choice) != Kind::Object) return;
  std::string type = str(t, choice, "type");
  w.key("tool_choice");
  if (type == "any") w.string("required");
  else if (type == "none") w.string("none");
  else if (type == "tool") {
    w.beginObject().field("type", "function").key("function").beginObject().field("name", str(t, choice, "name"));
    w.endObject().endObject();
  } else w.string("auto");
  uint32_t serial = t.find(choice, "disable_parallel_tool_use");
  if (serial != 0 && t.kind(serial) == Kind::True) w.field("parallel_tool_calls", false);
}

// Anthropic's error body, which also carries OpenAI's fields so either SDK
// reads it.
std::string renderAnthropicError(const ApiError& e) {
  // Anthropic's error types, by status (its SDK maps them to its error classes).
  std::string type = e.type;
  if (e.status == 401) type = "authentication_error";
  else if (e.status == 403) type = "permission_error";
  else if (e.status == 413) type = "request_too_large";
  else if (e.status == 429) type = "rate_limit_error";
  else if (e.status == 404) type = "not_found_error";
  else if (e.status == 503) type = "overloaded_error";
  else if (e.status >= 500) type = "api_error";
  std::string out;
  json::Writer w(out);
  w.beginObject().field("type", "error").key("error").beginObject();
  writeErrorFields(w, e, type);
  w.endObject().endObject();
  return out;
}

std::string anthropicErrorEvent(const ApiError& e) { return "event: error\ndata: " + renderAnthropicError(e) + "\n\n"; }

void writeUsage(json::Writer& w, const Usage& u) {
  w.key("usage").beginObject();
  w.field("input_tokens", u.promptTokens - u.cachedPromptTokens - u.cacheCreationTokens);
  w.field("cache_creation_input_tokens", u.cacheCreationTokens).field("cache_read_input_tokens", u.cachedPromptTokens);
  w.field("output_tokens", u.completionTokens).endObject();
}

std::string messageId(const chat::CallSummary& s) { return "msg_" + s.requestId.substr(5); }

class EventWriter : public chat::StreamWriter {
 public:
  explicit EventWriter(const chat::CallSummary& start) {
    event("message_start", [&](json::Writer& w) {
      w.key("message").beginObject().field("id", messageId(start)).field("type", "message").field("role", "assistant");
      w.field("model", start.model).key("content").beginArray().endArray();
      w.key("stop_reason").null().key("stop_sequence").null();
      writeUsage(w, Usage{});
      w.endObject();
    });
  }
  void text(int choice, std::string_view delta) override {
    if (choice != 0) return;
    if (open_ != Open::Text) startBlock(Open::Text, [](json::Writer& w) { w.field("type", "text").field("text", ""); });
    event("content_block_delta", [&](json::Writer& w) {
      w.field("index", index_).key("delta").beginObject().field("type", "text_delta").field("text", delta).endObject();
    });
    outputBytes_ += delta.size();
  }
  void reasoning(int choice, std::string_view delta) override {
    if (choice != 0) return;
    if (open_ != Open::Thinking)
      startBlock(Open::Thinking, [](json::Writer& w) { w.field("type", "thinking").field("thinking", "").field("signature", ""); });
    event("content_block_delta", [&](json::Writer& w) {
      w.field("index", index_).key("delta").beginObject().field("type", "thinking_delta").field("thinking", delta).endObject();
    });
    outputBytes_ += delta.size();
  }
  void reasoningSignature(int choice, std::string_view signature) override {
    if (choice != 0 || open_ != Open::Thinking) return;
    event("content_block_delta", [&](json::Writer& w) {
      w.field("index", index_).key("delta").beginObject().field("type", "signature_delta").field("signature", signature);
      w.endObject();
    });
  }
  void toolCall(int choice, int, std::string_view id, std::string_view name) override {
    if (choice != 0) return;
    startBlock(Open::Tool, [&](json::Writer& w) {
      w.field("type", "tool_use").field("id", id).field("name", name).key("input").beginObject().endObject();
    });
    outputBytes_ += name.size();
  }
  void toolArguments(int choice, int, std::string_view delta) override {
    if (choice != 0 || open_ != Open::Tool) return;
    event("content_block_delta", [&](json::Writer& w) {
      w.field("index", index_).key("delta").beginObject().field("type", "input_json_delta");
      w.field("partial_json", delta).endObject();
    });
    outputBytes_ += delta.size();
  }
  void finish(int choice, std::string_view reason) override {
    if (choice == 0) stop_ = std::string(anthropic_messages::stopReason(reason));
  }
  void end(const chat::CallSummary& summary) override {
    closeBlock();
    event("message_delta", [&](json::Writer& w) {
      w.key("delta").beginObject().field("stop_reason", stop_.empty() ? "end_turn" : stop_);
      w.key("stop_sequence").null().endObject();
      writeUsage(w, summary.usage);
    });
    event("message_stop", [](json::Writer&) {});
    out_ += chat::costComment(summary.usage, summary.cost);
  }
  void failure(const ApiError& e) override {
    out_ += anthropicErrorEvent(e);
  }

 private:
  enum class Open { None, Thinking, Text, Tool };

  template <typename Body>
  void event(std::string_view name, Body&& body) {
    out_ += "event: ";
    out_ += name;
    out_ += "\ndata: ";
    json::Writer w(out_);
    w.beginObject().field("type", name);
    body(w);
    w.endObject();
    out_ += "\n\n";
  }
  template <typename Block>
  void startBlock(Open kind, Block&& block) {
    closeBlock();
    ++index_;
    open_ = kind;
    event("content_block_start", [&](json::Writer& w) {
      w.field("index", index_).key("content_block").beginObject();
      block(w);
      w.endObject();
    });
  }
  void closeBlock() {
    if (open_ == Open::None) return;
    event("content_block_stop", [&](json::Writer& w) { w.field("index", index_); });
    open_ = Open::None;
  }

  Open open_ = Open::None;
  int index_ = -1;
  std::string stop_;
};

class AnthropicDialect : public chat::Dialect {
 public:
  std::string streamErrorEvent(const ApiError& e) const override { return anthropicErrorEvent(e); }
  std::unique_ptr<chat::StreamWriter> streamWriter(const chat::CallSummary& start, bool) const override {
    return std::make_unique<EventWriter>(start);
  }
  std::string renderCompletion(const Completion& c, const chat::CallSummary& summary) const override {
    std::string out;
    json::Writer w(out);
    w.beginObject().field("id", messageId(summary)).field("type", "message").field("role", "assistant");
    w.field("model", summary.model).key("content").beginArray();
    std::string stop = "end_turn";
    if (!c.choices.empty()) {
      const Choice& choice = c.choices[0];
      if (!choice.reasoning.empty()) {
        w.beginObject().field("type", "thinking").field("thinking", choice.reasoning);
        w.field("signature", choice.reasoningSignature).endObject();
      }
      if (!choice.content.empty()) w.beginObject().field("type", "text").field("text", choice.content).endObject();
      for (const auto& call : choice.toolCalls) {
        w.beginObject().field("type", "tool_use").field("id", call.id).field("name", call.name).key("input");
        Tape args;
        if (args.parse(call.arguments) && args.kind(args.root()) == Kind::Object) w.raw(args.raw(args.root()));
        else w.beginObject().endObject();
        w.endObject();
      }
      stop = std::string(anthropic_messages::stopReason(choice.finishReason));
    }
    w.endArray().field("stop_reason", stop).key("stop_sequence").null();
    writeUsage(w, c.usage);
    w.endObject();
    return out;
  }
  std::string renderError(const ApiError& e) const override { return renderAnthropicError(e); }
  std::string_view requestIdHeader() const override { return "request-id"; }
  std::string nativeStreamCut(const chat::CallSummary& summary) const override {
    std::string out = "event: message_delta\ndata: ";
    json::Writer w(out);
    w.beginObject().field("type", "message_delta").key("delta").beginObject().field("stop_reason", "max_tokens");
    w.key("stop_sequence").null().endObject();
    writeUsage(w, summary.usage);
    w.endObject();
    out += "\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    out += chat::costComment(summary.usage, summary.cost);
    return out;
  }
};

}  // namespace

std::string_view effortOfBudget(int64_t budget) {
  if (budget < 4096) return "low";
  if (budget < 16384) return "medium";
  return "high";
}

namespace {

// thinking, output_config and output_format in chat terms.
ApiError reasoningAndFormat(json::Writer& w, const Tape& t, uint32_t root) {
  std::string effort;
  uint32_t thinking = t.find(root, "thinking");
  if (present(t, thinking)) {
    if (t.kind(thinking) != Kind::Object) return invalidType("thinking", "an object", "another value");
    std::string type = str(t, thinking, "type");
    if (type == "enabled") {
      int64_t budget = 0;
      if (!t.isInteger(t.find(thinking, "budget_tokens"), &budget) || budget < 1024)
        return invalidValue("thinking.budget_tokens", "expected an integer of at least 1024.");
      effort = std::string(effortOfBudget(budget));
    } else if (type == "adaptive") {
      effort = "medium";
    } else if (type != "disabled" && type != "between_tools") {
      return invalidValue("thinking.type", "expected 'enabled', 'adaptive' or 'disabled'.");
    }
  }
  uint32_t config = t.find(root, "output_config");
  if (present(t, config) && t.kind(config) != Kind::Object) return invalidType("output_config", "an object", "another value");
  std::string level = str(t, config, "effort");
  if (!level.empty()) {
    if (level != "low" && level != "medium" && level != "high" && level != "xhigh" && level != "max")
      return invalidValue("output_config.effort", "expected 'low', 'medium', 'high', 'xhigh' or 'max'.");
    effort = level == "max" ? "xhigh" : level;
  }
  if (!effort.empty()) w.field("reasoning_effort", effort);
  const bool inConfig = present(t, t.find(config, "format"));
  uint32_t format = inConfig ? t.find(config, "format") : t.find(root, "output_format");
  const std::string param = inConfig ? "output_config.format" : "output_format";
  if (!present(t, format)) return {};
  if (t.kind(format) != Kind::Object) return invalidType(param, "an object", "another value");
  if (!t.stringEquals(t.find(format, "type"), "json_schema")) return invalidValue(param + ".type", "expected 'json_schema'.");
  uint32_t schema = t.find(format, "schema");
  if (!present(t, schema) || t.kind(schema) != Kind::Object) return missingParameter(param + ".schema");
  w.key("response_format").beginObject().field("type", "json_schema").key("json_schema").beginObject();
  w.field("name", "output").key("schema").raw(t.raw(schema)).field("strict", true).endObject().endObject();
  return {};
}

}  // namespace

ApiError translateRequest(std::string_view body, std::string& out, std::string& nativeOnly) {
  nativeOnly.clear();
  Tape t;
  uint32_t model = 0;
  if (ApiError e = parts::readModelRequest(body, t, model)) return e;
  const uint32_t root = t.root();
  uint32_t maxTokens = t.find(root, "max_tokens");
  int64_t limit = 0;
  if (!present(t, maxTokens)) return missingParameter("max_tokens");
  if (!t.isInteger(maxTokens, &limit) || limit < 1) return invalidValue("max_tokens", "expected a positive integer.");
  uint32_t messages = t.find(root, "messages");
  if (!present(t, messages)) return missingParameter("messages");
  if (t.kind(messages) != Kind::Array || t.node(messages).count == 0)
    return invalidValue("messages", "expected a non-empty array of messages.");

  out.clear();
  json::Writer w(out);
  w.beginObject().key("model").raw(t.raw(model)).field("max_tokens", limit).key("messages").beginArray();
  uint32_t system = t.find(root, "system");
  if (present(t, system)) {
    std::string text;
    if (!blockText(t, system, text)) return invalidType("system", "a string or an array of text blocks", "another value");
    w.beginObject().field("role", "system").field("content", text).endObject();
  }
  uint32_t index = 0;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m), ++index) {
    const std::string path = "messages." + std::to_string(index);
    if (t.kind(m) != Kind::Object) return invalidType(path, "an object", "another value");
    uint32_t role = t.find(m, "role");
    uint32_t content = t.find(m, "content");
    if (!present(t, content)) return missingParameter(path + ".content");
    if (t.kind(content) != Kind::String && t.kind(content) != Kind::Array)
      return invalidType(path + ".content", "a string or an array of content blocks", "another value");
    if (t.stringEquals(role, "user")) {
      if (ApiError e = userMessage(w, t, content, path + ".content", nativeOnly)) return e;
    } else if (t.stringEquals(role, "assistant")) {
      if (ApiError e = assistantMessage(w, t, content, path + ".content")) return e;
    } else {
      return invalidValue(path + ".role", "expected 'user' or 'assistant'.");
    }
  }
  w.endArray();
  for (const char* key : {"temperature", "top_p"}) {
    uint32_t v = t.find(root, key);
    if (present(t, v)) {
      if (t.kind(v) != Kind::Number) return invalidType(key, "a number", "another value");
      w.key(key).raw(t.raw(v));
    }
  }
  uint32_t stop = t.find(root, "stop_sequences");
  if (present(t, stop)) {
    if (t.kind(stop) != Kind::Array) return invalidType("stop_sequences", "an array of strings", "another value");
    w.key("stop").raw(t.raw(stop));
  }
  uint32_t stream = t.find(root, "stream");
  if (stream != 0 && t.kind(stream) == Kind::True) {
    w.field("stream", true).key("stream_options").beginObject().field("include_usage", true).endObject();
  }
  tools(w, t, root);
  if (ApiError e = reasoningAndFormat(w, t, root)) return e;
  std::string user = str(t, t.find(root, "metadata"), "user_id");
  if (!user.empty()) w.field("user", user);
  w.endObject();
  return {};
}

const chat::Dialect& dialect() {
  static const AnthropicDialect DIALECT;
  return DIALECT;
}

}  // namespace gw::anthropic_dialect
