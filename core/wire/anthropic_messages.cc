#include "anthropic_messages.h"

#include <algorithm>

#include "gw/json_writer.h"
#include "message_parts.h"

namespace gw::anthropic_messages {

namespace {

using json::Kind;
using json::Tape;
using parts::present;
using parts::str;

constexpr std::string_view PROVIDER_NOUN = "anthropic";

ApiError writeUserContent(json::Writer& w, const Tape& t, uint32_t content, const std::string& path) {
  return parts::forEachUserPart(
      t, content, path, PROVIDER_NOUN,
      [&](const std::string& text) { w.beginObject().field("type", "text").field("text", text).endObject(); },
      [&](const parts::Image& image) {
        w.beginObject().field("type", "image").key("source").beginObject();
        if (image.isInline)
          w.field("type", "base64").field("media_type", image.data.mime).field("data", image.data.data);
        else
          w.field("type", "url").field("url", image.url);
        w.endObject().endObject();
      });
}

// The thinking an assistant turn began with (the gateway's chat answers
// carry it as thinking_blocks), first in the turn as Anthropic requires.
void writeThinking(json::Writer& w, const Tape& t, uint32_t message) {
  uint32_t blocks = t.find(message, "thinking_blocks");
  if (!present(t, blocks) || t.kind(blocks) != Kind::Array) return;
  for (uint32_t b = t.firstChild(blocks); b != 0; b = t.nextSibling(blocks, b)) {
    if (t.stringEquals(t.find(b, "type"), "redacted_thinking"))
      w.beginObject().field("type", "redacted_thinking").field("data", str(t, b, "data")).endObject();
    else
      w.beginObject().field("type", "thinking").field("thinking", str(t, b, "thinking")).field("signature", str(t, b, "signature")).endObject();
  }
}

ApiError writeMessages(json::Writer& w, const Tape& t, uint32_t messages, bool thinking) {
  parts::RoleRuns runs(w, "content");
  uint32_t index = 0;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m), ++index) {
    const std::string path = "messages[" + std::to_string(index) + "]";
    uint32_t role = t.find(m, "role");
    uint32_t content = t.find(m, "content");
    if (t.stringEquals(role, "system") || t.stringEquals(role, "developer")) continue;
    if (t.stringEquals(role, "function"))
      return parts::unsupported(path + ".role", "The legacy 'function' role", PROVIDER_NOUN);
    if (t.stringEquals(role, "user")) {
      runs.open("user");
      if (ApiError e = writeUserContent(w, t, content, path + ".content")) return e;
    } else if (t.stringEquals(role, "tool")) {
      runs.open("user");
      w.beginObject().field("type", "tool_result").field("tool_use_id", str(t, m, "tool_call_id"));
      w.field("content", parts::text(t, content)).endObject();
    } else {  // assistant
      runs.open("assistant");
      if (thinking) writeThinking(w, t, m);
      std::string text = parts::text(t, content);
      if (!text.empty()) w.beginObject().field("type", "text").field("text", text).endObject();
      ApiError e = parts::forEachToolCall(t, m, path, [&](const std::string& id, const std::string& name,
                                                          const std::string& args) {
        w.beginObject().field("type", "tool_use").field("id", id).field("name", name).key("input").raw(args).endObject();
      });
      if (e) return e;
    }
  }
  runs.close();
  if (!runs.any()) return invalidRequest("At least one non-system message is required.", "messages", "invalid_value");
  return {};
}

void writeTools(json::Writer& w, const Tape& t, uint32_t root) {
  uint32_t tools = t.find(root, "tools");
  if (!present(t, tools) || t.node(tools).count == 0) return;
  w.key("tools").beginArray();
  parts::forEachTool(t, tools, [&](const std::string& name, const std::string& description, uint32_t params) {
    w.beginObject().field("name", name);
    if (!description.empty()) w.field("description", description);
    w.key("input_schema").raw(params != 0 ? t.raw(params) : R"({"type":"object","properties":{}})");
    w.endObject();
  });
  w.endArray();
  uint32_t choice = t.find(root, "tool_choice");
  uint32_t parallel = t.find(root, "parallel_tool_calls");
  const bool serial = parallel != 0 && t.kind(parallel) == Kind::False;
  if (!present(t, choice) && !serial) return;
  w.key("tool_choice").beginObject();
  if (!present(t, choice) || t.stringEquals(choice, "auto")) w.field("type", "auto");
  else if (t.stringEquals(choice, "required")) w.field("type", "any");
  else if (t.stringEquals(choice, "none")) w.field("type", "none");
  else w.field("type", "tool").field("name", str(t, t.find(choice, "function"), "name"));
  if (serial && !t.stringEquals(choice, "none")) w.field("disable_parallel_tool_use", true);
  w.endObject();
}

}  // namespace

std::string_view finishReason(std::string_view stop) {
  if (stop == "max_tokens" || stop == "model_context_window_exceeded") return "length";
  if (stop == "tool_use") return "tool_calls";
  if (stop == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

std::string_view stopReason(std::string_view finish) {
  if (finish == "length") return "max_tokens";
  if (finish == "tool_calls" || finish == "function_call") return "tool_use";
  if (finish == "content_filter") return "refusal";
  return "end_turn";
}

void readUsage(const Tape& t, uint32_t usage, Usage& u) {
  if (usage == 0 || t.kind(usage) != Kind::Object) return;
  u.known = true;
  // Events repeat or omit fields; only the ones present update the count.
  auto update = [&](std::string_view key, int64_t& field) {
    uint32_t v = t.find(usage, key);
    int64_t n = 0;
    if (v != 0 && t.kind(v) == Kind::Number && t.isInteger(v, &n)) field = n;
  };
  int64_t input = u.promptTokens - u.cachedPromptTokens - u.cacheCreationTokens;
  update("input_tokens", input);
  update("cache_read_input_tokens", u.cachedPromptTokens);
  update("cache_creation_input_tokens", u.cacheCreationTokens);
  update("output_tokens", u.completionTokens);
  // Thinking is part of output_tokens; newer answers say how much of it.
  uint32_t details = t.find(usage, "output_tokens_details");
  if (details != 0 && t.kind(details) == Kind::Object) {
    uint32_t v = t.find(details, "thinking_tokens");
    int64_t n = 0;
    if (v != 0 && t.isInteger(v, &n) && n >= 0) u.reasoningTokens = n;
  }
  u.promptTokens = input + u.cachedPromptTokens + u.cacheCreationTokens;
  u.totalTokens = u.promptTokens + u.completionTokens;
}

namespace {

// The thinking budget reasoning_effort stands for on a model that thinks (the
// README's table), within max_tokens; 0: no thinking. Anthropic refuses
// thinking with a forced tool, and a tool loop's last assistant turn must
// start with the thinking block it was answered with: without one (a client
// that did not echo thinking_blocks), both are sent without thinking.
int64_t thinkingBudget(const ChatRequest& req, const Target& target, int64_t maxTokens) {
  if (target.model == nullptr || !target.model->has(CAP_REASONING)) return 0;
  const std::string& e = req.reasoningEffort;
  int64_t budget = e == "minimal" ? 1024 : e == "low" ? 2048 : e == "medium" ? 8192 : e == "high" ? 16384 : e == "xhigh" ? 32768 : 0;
  budget = std::min(budget, maxTokens - 1);
  if (budget < 1024) return 0;
  const Tape& t = req.tape;
  uint32_t choice = t.find(t.root(), "tool_choice");
  if (present(t, choice) && !t.stringEquals(choice, "auto") && !t.stringEquals(choice, "none")) return 0;
  uint32_t messages = t.find(t.root(), "messages"), lastAssistant = 0;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m))
    if (t.stringEquals(t.find(m, "role"), "assistant")) lastAssistant = m;
  if (lastAssistant != 0 && present(t, t.find(lastAssistant, "tool_calls")) &&
      !present(t, t.find(lastAssistant, "thinking_blocks")))
    return 0;
  return budget;
}

}  // namespace

ApiError Codec::encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const {
  const Tape& t = req.tape;
  const uint32_t root = t.root();
  if (req.n > 1) return parts::unsupported("n", "More than one choice (n > 1)", PROVIDER_NOUN);
  out.url = endpointUrl(*target.provider, target.upstream, "messages");
  out.body.clear();
  json::Writer w(out.body);
  w.beginObject().field("model", target.upstream);
  const int64_t maxTokens = req.maxTokens > 0 ? req.maxTokens : defaultMaxTokens(c, target);
  w.field("max_tokens", maxTokens);
  const int64_t budget = thinkingBudget(req, target, maxTokens);

  uint32_t messages = t.find(root, "messages");
  std::string system = parts::systemText(t, messages);
  // JSON answers: the model's own structured output where it has one; else
  // a forced tool taking the schema (its input is the answer), or, beside
  // the client's own tools, the instruction in the system prompt.
  uint32_t format = t.find(root, "response_format");
  uint32_t schema = t.find(t.find(format, "json_schema"), "schema");
  const std::string_view schemaText = present(t, schema) ? t.raw(schema) : std::string_view(R"({"type":"object"})");
  enum class Json { No, Native, Tool, Instruction } jsonMode = Json::No;
  if (req.wantsJson) {
    if (target.model != nullptr && target.model->has(CAP_STRUCTURED_OUTPUTS)) jsonMode = Json::Native;
    else if (!req.hasTools && budget == 0) jsonMode = Json::Tool;  // thinking refuses a forced tool
    else jsonMode = Json::Instruction;
  }
  if (jsonMode == Json::Instruction) {
    if (!system.empty()) system += "\n\n";
    system += "Respond with a single valid JSON object and nothing else.";
    if (present(t, schema)) system += " It must conform to this JSON schema: " + std::string(t.raw(schema));
  }
  if (!system.empty()) w.field("system", system);

  w.key("messages").beginArray();
  if (ApiError e = writeMessages(w, t, messages, budget > 0)) return e;
  w.endArray();

  uint32_t temperature = t.find(root, "temperature");
  // Anthropic's range is 0-1: higher values are clamped.
  // Thinking takes the default sampling only.
  if (present(t, temperature) && budget == 0)
    w.key("temperature").raw(t.number(temperature) > 1 ? "1" : t.raw(temperature));
  uint32_t topP = t.find(root, "top_p");
  if (present(t, topP) && budget == 0) w.key("top_p").raw(t.raw(topP));
  if (budget > 0) w.key("thinking").beginObject().field("type", "enabled").field("budget_tokens", budget).endObject();
  uint32_t stop = t.find(root, "stop");
  if (present(t, stop)) parts::writeStringList(w.key("stop_sequences"), t, stop);
  if (jsonMode == Json::Tool) {
    w.key("tools").beginArray().beginObject().field("name", JSON_TOOL);
    w.field("description", "Give the answer as this tool's input.").key("input_schema").raw(schemaText).endObject().endArray();
    w.key("tool_choice").beginObject().field("type", "tool").field("name", JSON_TOOL).endObject();
  } else {
    writeTools(w, t, root);
  }
  if (jsonMode == Json::Native)
    w.key("output_config").beginObject().key("format").beginObject().field("type", "json_schema").key("schema").raw(schemaText).endObject().endObject();
  std::string user = str(t, root, "user");
  if (!user.empty()) w.key("metadata").beginObject().field("user_id", user).endObject();
  if (req.stream) w.field("stream", true);
  w.endObject();
  return {};
}

ApiError encodeNative(std::string_view clientBody, std::string_view anthropicVersion, std::string_view anthropicBeta,
                      const Target& target, UpstreamRequest& out) {
  Tape t;
  if (!t.parse(clientBody) || t.kind(t.root()) != Kind::Object) return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
  const uint32_t model = t.find(t.root(), "model");
  if (model == 0) return missingParameter("model");
  out.url = endpointUrl(*target.provider, target.upstream, "messages");
  const json::Node& span = t.node(model);
  out.body.assign(clientBody.substr(0, span.begin));
  json::appendEscaped(out.body, target.upstream);
  out.body.append(clientBody.substr(span.end));
  if (!anthropicVersion.empty()) out.headers.emplace_back("anthropic-version", std::string(anthropicVersion));
  if (!anthropicBeta.empty()) out.headers.emplace_back("anthropic-beta", std::string(anthropicBeta));
  return {};
}

bool Codec::decode(std::string_view body, const ProviderConfig&, Completion& out) const {
  Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return false;
  const uint32_t root = t.root();
  uint32_t content = t.find(root, "content");
  if (content == 0 || t.kind(content) != Kind::Array) return false;
  out.model = str(t, root, "model");
  Choice choice;
  for (uint32_t block = t.firstChild(content); block != 0; block = t.nextSibling(content, block)) {
    uint32_t type = t.find(block, "type");
    if (t.stringEquals(type, "text")) {
      choice.content += str(t, block, "text");
      choice.hasContent = true;
    } else if (t.stringEquals(type, "thinking")) {
      choice.reasoning += str(t, block, "thinking");
      choice.reasoningSignature = str(t, block, "signature");
    } else if (t.stringEquals(type, "tool_use") && t.stringEquals(t.find(block, "name"), JSON_TOOL)) {
      uint32_t input = t.find(block, "input");
      choice.content += input != 0 ? t.raw(input) : std::string_view("{}");
      choice.hasContent = true;
    } else if (t.stringEquals(type, "tool_use")) {
      ToolCall call;
      call.id = str(t, block, "id");
      call.name = str(t, block, "name");
      uint32_t input = t.find(block, "input");
      call.arguments = input != 0 ? std::string(t.raw(input)) : "{}";
      choice.toolCalls.push_back(std::move(call));
    }
  }
  choice.finishReason = std::string(finishReason(str(t, root, "stop_reason")));
  // The JSON tool's call is the answer, not a call for the client to make.
  if (choice.finishReason == "tool_calls" && choice.toolCalls.empty()) choice.finishReason = "stop";
  out.choices.push_back(std::move(choice));
  readUsage(t, t.find(root, "usage"), out.usage);
  return true;
}

ApiError mapProviderError(int status, std::string_view body, std::string_view providerId) {
  Tape t;
  std::string message, type;
  if (t.parse(body) && t.kind(t.root()) == Kind::Object) {
    uint32_t err = t.find(t.root(), "error");
    if (err != 0 && t.kind(err) == Kind::Object) {
      message = str(t, err, "message");
      type = str(t, err, "type");
    }
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  std::string code;
  if (type == "not_found_error") code = "not_found";
  if (type == "request_too_large") code = "request_too_large";
  if (type != "overloaded_error") type = "invalid_request_error";
  return upstreamError(status, std::move(message), std::move(type), std::move(code), "", providerId);
}

std::unique_ptr<StreamDecoder> Codec::streamDecoder(const ProviderConfig&) const { return std::make_unique<EventDecoder>(); }

bool EventDecoder::feed(std::string_view bytes, ChunkSink& sink) {
  events_.clear();
  bool ok = decoder_.feed(bytes, events_);
  for (const auto& ev : events_) {
    if (!tape_.parse(ev.data) || tape_.kind(tape_.root()) != Kind::Object) continue;
    const Tape& t = tape_;
    const uint32_t root = t.root();
    uint32_t typeNode = t.find(root, "type");
    if (typeNode == 0 || t.kind(typeNode) != Kind::String) continue;
    const std::string type = t.string(typeNode);
    if (type == "message_start") {
      readUsage(t, t.find(t.find(root, "message"), "usage"), usage_);
    } else if (type == "content_block_start") {
      int64_t index = t.integerAt(root, "index");
      if (index < 0 || index > 4096) continue;
      if (static_cast<size_t>(index) >= blocks_.size()) blocks_.resize(index + 1);
      uint32_t block = t.find(root, "content_block");
      if (t.stringEquals(t.find(block, "type"), "tool_use") && t.stringEquals(t.find(block, "name"), JSON_TOOL)) {
        blocks_[index] = {false, 0, true};
        jsonAnswer_ = true;
      } else if (t.stringEquals(t.find(block, "type"), "tool_use")) {
        blocks_[index] = {true, tools_++};
        sink.toolCall(0, blocks_[index].toolIndex, str(t, block, "id"), str(t, block, "name"));
      } else if (t.stringEquals(t.find(block, "type"), "thinking")) {
        std::string thinking = str(t, block, "thinking");
        if (!thinking.empty()) sink.reasoning(0, thinking);
      } else {
        std::string text = str(t, block, "text");
        if (!text.empty()) sink.text(0, text);
      }
    } else if (type == "content_block_delta") {
      int64_t index = t.integerAt(root, "index");
      uint32_t delta = t.find(root, "delta");
      uint32_t deltaType = t.find(delta, "type");
      if (t.stringEquals(deltaType, "text_delta")) {
        sink.text(0, str(t, delta, "text"));
      } else if (t.stringEquals(deltaType, "input_json_delta") && index >= 0 &&
                 static_cast<size_t>(index) < blocks_.size() && blocks_[index].json) {
        std::string partial = str(t, delta, "partial_json");
        if (!partial.empty()) sink.text(0, partial);
      } else if (t.stringEquals(deltaType, "input_json_delta") && index >= 0 &&
                 static_cast<size_t>(index) < blocks_.size() && blocks_[index].tool) {
        std::string partial = str(t, delta, "partial_json");
        if (!partial.empty()) sink.toolArguments(0, blocks_[index].toolIndex, partial);
      }
      else if (t.stringEquals(deltaType, "thinking_delta")) sink.reasoning(0, str(t, delta, "thinking"));
      else if (t.stringEquals(deltaType, "signature_delta")) sink.reasoningSignature(0, str(t, delta, "signature"));
    } else if (type == "message_delta") {
      std::string stop = str(t, t.find(root, "delta"), "stop_reason");
      std::string_view reason = finishReason(stop);
      if (reason == "tool_calls" && tools_ == 0 && jsonAnswer_) reason = "stop";  // the JSON tool's input was the answer
      if (!stop.empty()) sink.finish(0, reason);
      readUsage(t, t.find(root, "usage"), usage_);
    } else if (type == "message_stop") {
      stopped_ = true;
    } else if (type == "error") {
      error_ = mapProviderError(t.stringEquals(t.find(t.find(root, "error"), "type"), "overloaded_error") ? 529 : 500,
                               ev.data, PROVIDER_NOUN);
    }
    // ping and content_block_stop need nothing.
  }
  return ok;
}

}  // namespace gw::anthropic_messages
