// A Responses API request read into the chat request the pipeline runs on.
// Items become messages in order: an assistant message and the function
// calls after it become one assistant message with tool calls (as chat
// wants them), each function_call_output a tool message.
#include <set>

#include "dialects/openai_responses.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "wire/message_parts.h"

namespace gw::openai_responses {

namespace {

using json::Kind;
using json::Tape;
using parts::present;
using parts::str;

std::string at(const std::string& path, uint32_t index) { return path + "[" + std::to_string(index) + "]"; }

bool isBuiltinTool(std::string_view type) {
  for (std::string_view t : {"web_search", "web_search_preview", "web_search_2025_08_26", "web_search_preview_2025_03_11",
                             "file_search", "computer_use_preview", "computer_use", "code_interpreter",
                             "image_generation", "local_shell", "shell", "mcp", "apply_patch", "custom"})
    if (type == t) return true;
  return false;
}

// What `include` may ask for (OpenAI's list). Translated answers always
// carry reasoning's encrypted content (the provider's signature); the
// others concern built-in tools and logprobs, which only OpenAI gives.
bool isIncludable(const Tape& t, uint32_t v) {
  for (std::string_view name : {"reasoning.encrypted_content", "message.output_text.logprobs", "file_search_call.results",
                                "web_search_call.results", "web_search_call.action.sources",
                                "message.input_image.image_url", "computer_call_output.output.image_url",
                                "code_interpreter_call.outputs"})
    if (t.stringEquals(v, name)) return true;
  return false;
}

// Items the built-in tools leave in a conversation.
bool isBuiltinItem(std::string_view type) {
  for (std::string_view t : {"web_search_call", "file_search_call", "computer_call", "computer_call_output",
                             "code_interpreter_call", "image_generation_call", "local_shell_call",
                             "local_shell_call_output", "shell_call", "shell_call_output", "mcp_call", "mcp_list_tools",
                             "mcp_approval_request", "mcp_approval_response", "custom_tool_call",
                             "custom_tool_call_output", "apply_patch_call", "apply_patch_call_output"})
    if (type == t) return true;
  return false;
}

// What only OpenAI's own Responses API runs: kept as the error a request
// sent to any other provider gets (the first such field), and left out of
// the chat translation.
void noteNativeOnly(ApiError& nativeOnly, std::string_view what, const std::string& param) {
  if (nativeOnly) return;
  nativeOnly = invalidRequest("The built-in " + std::string(what) +
                                  " runs only on OpenAI's own Responses API; this model's provider cannot run it.",
                              param, "unsupported_tool");
}

// The text of an item's content (a string, or its text parts), for roles
// whose chat message takes text only.
ApiError textOf(const Tape& t, uint32_t content, const std::string& path, std::string& out) {
  if (t.kind(content) == Kind::String) {
    out = t.string(content);
    return {};
  }
  if (t.kind(content) != Kind::Array) return invalidType(path, "a string or an array of content parts", "another value");
  uint32_t i = 0;
  for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part), ++i) {
    if (t.kind(part) != Kind::Object) return invalidType(at(path, i), "an object", "another value");
    uint32_t type = t.find(part, "type");
    if (t.stringEquals(type, "input_text") || t.stringEquals(type, "output_text") || t.stringEquals(type, "text")) {
      uint32_t text = t.find(part, "text");
      if (!present(t, text) || t.kind(text) != Kind::String) return missingParameter(at(path, i) + ".text");
      if (!out.empty()) out += "\n";
      out += t.string(text);
    } else if (t.stringEquals(type, "refusal")) {
      if (!out.empty()) out += "\n";
      out += str(t, part, "refusal");
    } else {
      return invalidValue(at(path, i) + ".type", "expected 'input_text' here, not '" + str(t, part, "type") + "'.");
    }
  }
  return {};
}

// A user message's parts as chat content parts.
ApiError userParts(json::Writer& w, const Tape& t, uint32_t content, const std::string& path) {
  if (t.kind(content) == Kind::String) {
    w.string(t.string(content));
    return {};
  }
  if (t.kind(content) != Kind::Array) return invalidType(path, "a string or an array of content parts", "another value");
  w.beginArray();
  uint32_t i = 0;
  for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part), ++i) {
    const std::string p = at(path, i);
    if (t.kind(part) != Kind::Object) return invalidType(p, "an object", "another value");
    uint32_t type = t.find(part, "type");
    if (!present(t, type)) return missingParameter(p + ".type");
    if (t.stringEquals(type, "input_text")) {
      uint32_t text = t.find(part, "text");
      if (!present(t, text) || t.kind(text) != Kind::String) return missingParameter(p + ".text");
      w.beginObject().field("type", "text").key("text").raw(t.raw(text)).endObject();
    } else if (t.stringEquals(type, "input_image")) {
      uint32_t url = t.find(part, "image_url");
      if (!present(t, url)) {
        if (present(t, t.find(part, "file_id")))
          return invalidValue(p + ".file_id", "file ids name files in OpenAI's storage, which the gateway cannot read; "
                                              "send the image as image_url (an https or base64 data: URL).");
        return missingParameter(p + ".image_url");
      }
      if (t.kind(url) != Kind::String) return invalidType(p + ".image_url", "a string", "another value");
      w.beginObject().field("type", "image_url").key("image_url").beginObject().key("url").raw(t.raw(url));
      std::string detail = str(t, part, "detail");
      if (!detail.empty()) w.field("detail", detail);
      w.endObject().endObject();
    } else if (t.stringEquals(type, "input_file")) {
      uint32_t data = t.find(part, "file_data"), id = t.find(part, "file_id");
      if (present(t, t.find(part, "file_url")))
        return invalidValue(p + ".file_url", "file URLs are not supported by the gateway; send file_data instead.");
      if (!present(t, data) && !present(t, id)) return missingParameter(p + ".file_data");
      w.beginObject().field("type", "file").key("file").beginObject();
      if (present(t, data)) {
        if (t.kind(data) != Kind::String) return invalidType(p + ".file_data", "a string", "another value");
        w.key("file_data").raw(t.raw(data));
      }
      if (present(t, id)) w.field("file_id", str(t, part, "file_id"));
      std::string filename = str(t, part, "filename");
      if (!filename.empty()) w.field("filename", filename);
      w.endObject().endObject();
    } else {
      return invalidValue(p + ".type", "content parts of type '" + str(t, part, "type") +
                                           "' are not supported; expected 'input_text', 'input_image' or 'input_file'.");
    }
  }
  w.endArray();
  return {};
}

// Writes the items as chat messages. An assistant turn (its text and the
// function calls that follow it) is held until something else comes.
class Messages {
 public:
  Messages(json::Writer& w, const Tape& t, const StoredItems* stored, ApiError& nativeOnly)
      : w_(w), t_(&t), stored_(stored), nativeOnly_(nativeOnly) {}
  // The calls of the conversation a previous response left, which outputs here may answer.
  void knowCalls(const Tape& conversation) {
    for (uint32_t m = conversation.firstChild(conversation.root()); m != 0; m = conversation.nextSibling(conversation.root(), m)) {
      uint32_t calls = conversation.find(m, "tool_calls");
      if (calls == 0 || conversation.kind(calls) != Kind::Array) continue;
      for (uint32_t c = conversation.firstChild(calls); c != 0; c = conversation.nextSibling(calls, c))
        callIds_.insert(conversation.stringAt(c, "id"));
    }
  }

  ApiError item(uint32_t item, const std::string& path) {
    if (t_->kind(item) != Kind::Object) return invalidType(path, "an object", "another value");
    uint32_t typeNode = t_->find(item, "type");
    std::string type = present(*t_, typeNode) ? str(*t_, item, "type") : "message";
    if (present(*t_, typeNode) && t_->kind(typeNode) != Kind::String) return invalidType(path + ".type", "a string", "another value");
    if (type == "message") return message(item, path);
    if (type == "function_call") return functionCall(item, path);
    if (type == "function_call_output") return functionOutput(item, path);
    if (type == "reasoning") return reasoning(item, path);
    if (type == "item_reference") return reference(item, path);
    if (isBuiltinItem(type)) {
      noteNativeOnly(nativeOnly_, "tool item '" + type + "'", path + ".type");
      return {};
    }
    return invalidValue(path + ".type", "input items of type '" + type +
                                            "' are not supported; expected 'message', 'function_call', "
                                            "'function_call_output' or 'reasoning'.");
  }

  // An output item of a stored response, read as if it had been sent.
  ApiError reference(uint32_t item, const std::string& path) {
    const std::string id = str(*t_, item, "id");
    if (id.empty()) return missingParameter(path + ".id");
    auto found = stored_ != nullptr ? stored_->find(id) : StoredItems::const_iterator{};
    if (stored_ == nullptr || found == stored_->end())
      return invalidValue(path + ".id", "no stored response of this tenant has an item '" + id.substr(0, 64) + "'.");
    Tape referenced;
    if (!referenced.parse(found->second) || referenced.kind(referenced.root()) != Kind::Object ||
        referenced.stringEquals(referenced.find(referenced.root(), "type"), "item_reference"))
      return invalidValue(path + ".id", "the stored item '" + id.substr(0, 64) + "' cannot be read.");
    const Tape* outer = t_;
    t_ = &referenced;
    ApiError e = this->item(referenced.root(), path);
    t_ = outer;
    return e;
  }

  // Reasoning sent back. What the gateway answered in translation (its own
  // item ids) carries the provider's signature as encrypted_content
  // (Anthropic's): it goes back as the thinking its turn began with, which
  // a tool loop on Claude needs. Other reasoning (OpenAI's own, encrypted
  // for OpenAI) means nothing to another provider and is left out.
  ApiError reasoning(uint32_t item, const std::string& path) {
    uint32_t summary = t_->find(item, "summary");
    if (present(*t_, summary) && t_->kind(summary) != Kind::Array) return invalidType(path + ".summary", "an array", "another value");
    std::string text;
    uint32_t i = 0;
    for (uint32_t part = summary != 0 ? t_->firstChild(summary) : 0; part != 0; part = t_->nextSibling(summary, part), ++i) {
      uint32_t partText = t_->find(part, "text");
      if (!present(*t_, partText) || t_->kind(partText) != Kind::String) return missingParameter(at(path + ".summary", i) + ".text");
      if (!text.empty()) text += "\n\n";
      text += t_->string(partText);
    }
    const std::string signature = str(*t_, item, "encrypted_content");
    if (signature.empty() || responseIdOfItem(str(*t_, item, "id")).empty()) return {};
    if (assistantOpen_) flush();  // it begins the next turn
    thinking_ = std::move(text);
    signature_ = signature;
    return {};
  }

  ApiError message(uint32_t item, const std::string& path) {
    uint32_t role = t_->find(item, "role");
    uint32_t content = t_->find(item, "content");
    if (!present(*t_, role)) return missingParameter(path + ".role");
    if (!present(*t_, content)) return missingParameter(path + ".content");
    if (t_->stringEquals(role, "assistant")) {
      std::string text;
      if (ApiError e = textOf(*t_, content, path + ".content", text)) return e;
      if (!calls_.empty()) flush();
      assistantText_ += text;
      openTurn(path);
      return {};
    }
    flush();
    if (t_->stringEquals(role, "user")) {
      origins_.push_back(path);
      w_.beginObject().field("role", "user").key("content");
      if (ApiError e = userParts(w_, *t_, content, path + ".content")) return e;
      w_.endObject();
      any_ = true;
      return {};
    }
    if (t_->stringEquals(role, "system") || t_->stringEquals(role, "developer")) {
      std::string text;
      if (ApiError e = textOf(*t_, content, path + ".content", text)) return e;
      origins_.push_back(path);
      w_.beginObject().field("role", str(*t_, item, "role")).field("content", text).endObject();
      return {};
    }
    return invalidValue(path + ".role", "expected 'user', 'assistant', 'system' or 'developer'.");
  }

  ApiError functionCall(uint32_t item, const std::string& path) {
    Call call;
    for (auto [key, field] : {std::pair{"call_id", &call.id}, std::pair{"name", &call.name}}) {
      uint32_t v = t_->find(item, key);
      if (!present(*t_, v)) return missingParameter(path + "." + key);
      if (t_->kind(v) != Kind::String || t_->rawString(v).empty()) return invalidType(path + "." + key, "a non-empty string", "another value");
      *field = t_->string(v);
    }
    uint32_t args = t_->find(item, "arguments");
    if (!present(*t_, args)) return missingParameter(path + ".arguments");
    if (t_->kind(args) != Kind::String) return invalidType(path + ".arguments", "a string", "another value");
    call.arguments = t_->string(args);
    callIds_.insert(call.id);
    calls_.push_back(std::move(call));
    openTurn(path);
    return {};
  }

  ApiError functionOutput(uint32_t item, const std::string& path) {
    uint32_t id = t_->find(item, "call_id");
    if (!present(*t_, id)) return missingParameter(path + ".call_id");
    if (t_->kind(id) != Kind::String) return invalidType(path + ".call_id", "a string", "another value");
    if (callIds_.count(t_->string(id)) == 0)
      return invalidValue(path + ".call_id", "no function_call item before this output has call_id '" +
                                                 t_->string(id).substr(0, 64) + "'.");
    uint32_t output = t_->find(item, "output");
    if (!present(*t_, output)) return missingParameter(path + ".output");
    std::string text;
    if (ApiError e = textOf(*t_, output, path + ".output", text)) return e;
    flush();
    origins_.push_back(path);
    w_.beginObject().field("role", "tool").field("tool_call_id", t_->string(id)).field("content", text).endObject();
    return {};
  }

  void flush() {
    if (!assistantOpen_) {
      signature_.clear();  // reasoning with no turn after it
      return;
    }
    origins_.push_back(turnPath_);
    w_.beginObject().field("role", "assistant");
    if (!signature_.empty()) {
      w_.key("thinking_blocks").beginArray().beginObject().field("type", "thinking").field("thinking", thinking_);
      w_.field("signature", signature_).endObject().endArray();
      signature_.clear();
    }
    if (calls_.empty() || !assistantText_.empty()) w_.field("content", assistantText_);
    else w_.key("content").null();
    if (!calls_.empty()) {
      w_.key("tool_calls").beginArray();
      for (const Call& c : calls_) {
        w_.beginObject().field("id", c.id).field("type", "function").key("function").beginObject();
        w_.field("name", c.name).field("arguments", c.arguments).endObject().endObject();
      }
      w_.endArray();
    }
    w_.endObject();
    assistantText_.clear();
    calls_.clear();
    assistantOpen_ = false;
    any_ = true;
  }
  bool any() const { return any_; }
  // The input path each message written came from, in order.
  std::vector<std::string>& origins() { return origins_; }

 private:
  void openTurn(const std::string& path) {
    if (!assistantOpen_) turnPath_ = path;
    assistantOpen_ = true;
  }
  struct Call {
    std::string id, name, arguments;
  };
  json::Writer& w_;
  const Tape* t_;  // the tape of the item being read (a stored item's own, for a reference)
  const StoredItems* stored_;
  ApiError& nativeOnly_;
  std::string assistantText_;
  std::string thinking_, signature_;  // the reasoning the next assistant turn began with
  std::string turnPath_;                // the item that opened the assistant turn
  std::vector<std::string> origins_;
  std::vector<Call> calls_;
  bool assistantOpen_ = false;
  bool any_ = false;
  std::set<std::string> callIds_;
};

// tools: function tools (the flat shape) as chat tools; built-in tools are
// left out (noted as native only), for no provider behind a chat request
// can run them.
ApiError tools(json::Writer& w, const Tape& t, uint32_t list, const std::set<std::string>* allowed, ApiError& nativeOnly) {
  if (t.kind(list) != Kind::Array) return invalidType("tools", "an array", "another value");
  if (t.node(list).count == 0) return {};
  w.key("tools").beginArray();
  uint32_t i = 0;
  for (uint32_t tool = t.firstChild(list); tool != 0; tool = t.nextSibling(list, tool), ++i) {
    const std::string p = at("tools", i);
    if (t.kind(tool) != Kind::Object) return invalidType(p, "an object", "another value");
    std::string type = str(t, tool, "type");
    if (isBuiltinTool(type)) {
      noteNativeOnly(nativeOnly, "tool '" + type + "'", p + ".type");
      continue;
    }
    if (type != "function") return invalidValue(p + ".type", "expected 'function', not '" + type + "'.");
    uint32_t name = t.find(tool, "name");
    if (!present(t, name)) return missingParameter(p + ".name");
    if (t.kind(name) != Kind::String || t.rawString(name).empty()) return invalidType(p + ".name", "a non-empty string", "another value");
    if (allowed != nullptr && allowed->count(t.string(name)) == 0) continue;
    w.beginObject().field("type", "function").key("function").beginObject().key("name").raw(t.raw(name));
    uint32_t description = t.find(tool, "description");
    if (present(t, description)) w.key("description").raw(t.raw(description));
    uint32_t params = t.find(tool, "parameters");
    if (present(t, params)) {
      if (t.kind(params) != Kind::Object) return invalidType(p + ".parameters", "an object", "another value");
      w.key("parameters").raw(t.raw(params));
    }
    uint32_t strict = t.find(tool, "strict");
    if (present(t, strict)) w.key("strict").raw(t.raw(strict));
    w.endObject().endObject();
  }
  w.endArray();
  return {};
}

// tool_choice: the modes pass; {type:function,name} names one;
// {type:allowed_tools} narrows the tools and keeps its mode.
ApiError toolChoice(json::Writer& w, const Tape& t, uint32_t choice, std::set<std::string>& allowed, bool& narrowed,
                    ApiError& nativeOnly) {
  if (t.kind(choice) == Kind::String) {
    if (!t.stringEquals(choice, "auto") && !t.stringEquals(choice, "none") && !t.stringEquals(choice, "required"))
      return invalidValue("tool_choice", "expected 'auto', 'none', 'required' or an object.");
    w.key("tool_choice").raw(t.raw(choice));
    return {};
  }
  if (t.kind(choice) != Kind::Object) return invalidType("tool_choice", "a string or an object", "another value");
  std::string type = str(t, choice, "type");
  if (type == "function") {
    std::string name = str(t, choice, "name");
    if (name.empty()) return missingParameter("tool_choice.name");
    w.key("tool_choice").beginObject().field("type", "function").key("function").beginObject().field("name", name);
    w.endObject().endObject();
    return {};
  }
  if (type == "allowed_tools") {
    std::string mode = str(t, choice, "mode");
    if (mode != "auto" && mode != "required") return invalidValue("tool_choice.mode", "expected 'auto' or 'required'.");
    uint32_t list = t.find(choice, "tools");
    if (!present(t, list) || t.kind(list) != Kind::Array) return missingParameter("tool_choice.tools");
    for (uint32_t tool = t.firstChild(list); tool != 0; tool = t.nextSibling(list, tool)) allowed.insert(str(t, tool, "name"));
    narrowed = true;
    w.field("tool_choice", mode);
    return {};
  }
  if (isBuiltinTool(type)) {
    noteNativeOnly(nativeOnly, "tool '" + type + "'", "tool_choice.type");
    return {};
  }
  return invalidValue("tool_choice.type", "expected 'function' or 'allowed_tools'.");
}

// text.format as chat's response_format.
ApiError textFormat(json::Writer& w, const Tape& t, uint32_t text) {
  if (t.kind(text) != Kind::Object) return invalidType("text", "an object", "another value");
  uint32_t format = t.find(text, "format");
  uint32_t verbosity = t.find(text, "verbosity");
  if (present(t, verbosity)) {
    if (!t.stringEquals(verbosity, "low") && !t.stringEquals(verbosity, "medium") && !t.stringEquals(verbosity, "high"))
      return invalidValue("text.verbosity", "expected 'low', 'medium' or 'high'.");
    w.key("verbosity").raw(t.raw(verbosity));
  }
  if (!present(t, format)) return {};
  if (t.kind(format) != Kind::Object) return invalidType("text.format", "an object", "another value");
  std::string type = str(t, format, "type");
  if (type == "text") return {};
  if (type == "json_object") {
    w.key("response_format").beginObject().field("type", "json_object").endObject();
    return {};
  }
  if (type != "json_schema") return invalidValue("text.format.type", "expected 'text', 'json_object' or 'json_schema'.");
  uint32_t name = t.find(format, "name");
  uint32_t schema = t.find(format, "schema");
  if (!present(t, name)) return missingParameter("text.format.name");
  if (t.kind(name) != Kind::String) return invalidType("text.format.name", "a string", "another value");
  if (!present(t, schema)) return missingParameter("text.format.schema");
  if (t.kind(schema) != Kind::Object) return invalidType("text.format.schema", "an object", "another value");
  w.key("response_format").beginObject().field("type", "json_schema").key("json_schema").beginObject();
  w.key("name").raw(t.raw(name)).key("schema").raw(t.raw(schema));
  for (const char* key : {"strict", "description"}) {
    uint32_t v = t.find(format, key);
    if (present(t, v)) w.key(key).raw(t.raw(v));
  }
  w.endObject().endObject();
  return {};
}

ApiError number(const Tape& t, uint32_t root, const char* key, json::Writer& chat, json::Writer& echo, double max) {
  uint32_t v = t.find(root, key);
  echo.key(key);
  if (!present(t, v)) {
    echo.integer(1);
    return {};
  }
  if (t.kind(v) != Kind::Number) return invalidType(key, "a number", "another value");
  if (t.number(v) < 0 || t.number(v) > max) return invalidValue(key, "expected a number from 0 to " + std::to_string(static_cast<int>(max)) + ".");
  chat.key(key).raw(t.raw(v));
  echo.raw(t.raw(v));
  return {};
}

}  // namespace

ApiError inClientTerms(ApiError e, const Translation& t) {
  constexpr std::string_view PREFIX = "messages[";
  if (e.param.compare(0, PREFIX.size(), PREFIX) != 0) return e;
  const size_t close = e.param.find(']');
  size_t index = 0;
  for (size_t i = PREFIX.size(); i < close; ++i) {
    if (e.param[i] < '0' || e.param[i] > '9' || index > 1000000) return e;
    index = index * 10 + static_cast<size_t>(e.param[i] - '0');
  }
  if (close == std::string::npos || index >= t.origins.size()) return e;
  const std::string chatParam = e.param;
  // A message's own parts keep their path under the item (input[i].content[j]); others name the field alone.
  const bool item = t.origins[index].rfind("input[", 0) == 0;
  e.param = t.origins[index] + (item ? chatParam.substr(close + 1) : "");
  for (size_t at = e.message.find(chatParam); at != std::string::npos; at = e.message.find(chatParam, at + e.param.size()))
    e.message.replace(at, chatParam.size(), e.param);
  return e;
}

std::string responseIdOfItem(std::string_view itemId) {
  // <prefix>_<24 hex>, then nothing or _<index>: OpenAI's own ids are longer.
  const size_t underscore = itemId.find('_');
  if (underscore == std::string_view::npos || underscore > 4 || itemId.size() < underscore + 1 + 24) return {};
  std::string_view hex = itemId.substr(underscore + 1, 24);
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  std::string_view rest = itemId.substr(underscore + 1 + 24);
  if (!rest.empty() && (rest.size() < 2 || rest[0] != '_' || rest.size() > 6)) return {};
  for (char c : rest.substr(rest.empty() ? 0 : 1))
    if (c < '0' || c > '9') return {};
  return "resp_" + std::string(hex);
}

ApiError translateRequest(const Tape& t, const Previous* previous, const StoredItems* stored, Translation& out) {
  const uint32_t root = t.root();
  const uint32_t model = t.find(root, "model");
  uint32_t input = t.find(root, "input");
  if (!present(t, input)) return missingParameter("input");
  if (t.kind(input) != Kind::String && t.kind(input) != Kind::Array)
    return invalidType("input", "a string or an array of input items", "another value");
  if (t.kind(input) == Kind::Array && t.node(input).count > MAX_INPUT_ITEMS)
    return invalidValue("input", "expected at most " + std::to_string(MAX_INPUT_ITEMS) + " input items.");
  for (const char* key : {"background", "conversation", "prompt"}) {
    uint32_t v = t.find(root, key);
    if (present(t, v) && t.kind(v) != Kind::False)
      return invalidRequest(std::string("The gateway does not support '") + key + "' on the Responses API.", key,
                            "unsupported_parameter");
  }
  uint32_t previousNode = t.find(root, "previous_response_id");
  if (present(t, previousNode) && (t.kind(previousNode) != Kind::String || t.rawString(previousNode).empty()))
    return invalidType("previous_response_id", "a response id", "another value");
  if (present(t, previousNode) && (previous == nullptr || previous->id != t.string(previousNode)))
    return invalidRequest("No stored response has the id '" + t.string(previousNode).substr(0, 64) + "'.",
                          "previous_response_id", "previous_response_not_found");
  out = Translation{};
  if (previous != nullptr) out.previousId = previous->id;

  // The conversation first (the previous one, then this input), then the
  // chat request around it with the instructions, which do not carry over.
  json::Writer cw(out.conversation);
  cw.beginArray();
  if (previous != nullptr && previous->conversation.size() > 2) {
    cw.raw(previous->conversation.substr(1, previous->conversation.size() - 2));
  }
  Messages messages(cw, t, stored, out.nativeOnly);
  Tape earlier;
  uint32_t earlierMessages = 0;
  if (previous != nullptr && earlier.parse(previous->conversation) && earlier.kind(earlier.root()) == Kind::Array) {
    messages.knowCalls(earlier);
    earlierMessages = earlier.node(earlier.root()).count;
  }
  // Where each chat message came from, for errors raised in chat terms.
  if (present(t, t.find(root, "instructions"))) out.origins.emplace_back("instructions");
  out.origins.insert(out.origins.end(), earlierMessages, "previous_response_id");
  if (t.kind(input) == Kind::String) {
    out.origins.emplace_back("input");
    cw.beginObject().field("role", "user").key("content").raw(t.raw(input)).endObject();
    json::Writer iw(out.input);
    iw.beginArray().beginObject().field("type", "message").field("role", "user").key("content").beginArray();
    iw.beginObject().field("type", "input_text").key("text").raw(t.raw(input)).endObject();
    iw.endArray().endObject().endArray();
  } else {
    uint32_t i = 0;
    for (uint32_t item = t.firstChild(input); item != 0; item = t.nextSibling(input, item), ++i)
      if (ApiError err = messages.item(item, at("input", i))) return err;
    messages.flush();
    out.origins.insert(out.origins.end(), messages.origins().begin(), messages.origins().end());
    if (!messages.any() && previous == nullptr) {
      if (out.nativeOnly) return out.nativeOnly;
      return invalidValue("input", "expected at least one user or assistant message.");
    }
    out.input = std::string(t.raw(input));
  }
  cw.endArray();

  json::Writer w(out.chat);
  json::Writer e(out.echo, true);
  w.beginObject().key("model").raw(t.raw(model)).key("messages").beginArray();
  uint32_t instructions = t.find(root, "instructions");
  e.key("instructions");
  if (present(t, instructions)) {
    if (t.kind(instructions) != Kind::String) return invalidType("instructions", "a string", "another value");
    w.beginObject().field("role", "system").key("content").raw(t.raw(instructions)).endObject();
    e.raw(t.raw(instructions));
  } else {
    e.null();
  }
  if (out.conversation.size() > 2) w.raw(std::string_view(out.conversation).substr(1, out.conversation.size() - 2));
  w.endArray();

  uint32_t maxOutput = t.find(root, "max_output_tokens");
  e.key("max_output_tokens");
  if (present(t, maxOutput)) {
    int64_t limit = 0;
    if (!t.isInteger(maxOutput, &limit) || limit < 16)
      return invalidValue("max_output_tokens", "expected an integer of at least 16.");
    w.field("max_completion_tokens", limit);
    out.maxOutput = limit;
    e.integer(limit);
  } else {
    e.null();
  }
  uint32_t metadata = t.find(root, "metadata");
  e.key("metadata");
  if (present(t, metadata)) {
    if (t.kind(metadata) != Kind::Object || t.node(metadata).count > 16)
      return invalidType("metadata", "an object of at most 16 string values", "another value");
    // Members are key, value pairs on the tape.
    for (uint32_t k = t.firstChild(metadata); k != 0; k = t.nextSibling(metadata, k + 1))
      if (t.kind(k + 1) != Kind::String) return invalidType("metadata", "an object of string values", "another value");
    e.raw(t.raw(metadata));
  } else {
    e.beginObject().endObject();
  }

  uint32_t parallel = t.find(root, "parallel_tool_calls");
  e.key("parallel_tool_calls");
  if (present(t, parallel)) {
    if (t.kind(parallel) != Kind::True && t.kind(parallel) != Kind::False)
      return invalidType("parallel_tool_calls", "a boolean", "another value");
    w.key("parallel_tool_calls").raw(t.raw(parallel));
    e.raw(t.raw(parallel));
  } else {
    e.boolean(true);
  }
  e.key("previous_response_id");
  if (out.previousId.empty()) e.null();
  else e.string(out.previousId);

  uint32_t reasoning = t.find(root, "reasoning");
  e.key("reasoning").beginObject();
  std::string effort, summary;
  if (present(t, reasoning)) {
    if (t.kind(reasoning) != Kind::Object) return invalidType("reasoning", "an object", "another value");
    uint32_t ef = t.find(reasoning, "effort");
    if (present(t, ef)) {
      effort = str(t, reasoning, "effort");
      if (effort != "none" && effort != "minimal" && effort != "low" && effort != "medium" && effort != "high" && effort != "xhigh")
        return invalidValue("reasoning.effort", "expected 'none', 'minimal', 'low', 'medium', 'high' or 'xhigh'.");
      w.field("reasoning_effort", effort);
    }
    uint32_t sum = t.find(reasoning, "summary");
    if (present(t, sum)) {
      summary = str(t, reasoning, "summary");
      if (summary != "auto" && summary != "concise" && summary != "detailed")
        return invalidValue("reasoning.summary", "expected 'auto', 'concise' or 'detailed'.");
    }
  }
  if (effort.empty()) e.key("effort").null();
  else e.field("effort", effort);
  if (summary.empty()) e.key("summary").null();
  else e.field("summary", summary);
  e.endObject();

  uint32_t store = t.find(root, "store");
  if (present(t, store) && t.kind(store) != Kind::True && t.kind(store) != Kind::False)
    return invalidType("store", "a boolean", "another value");
  out.store = !(store != 0 && t.kind(store) == Kind::False);
  e.field("store", out.store);

  if (ApiError err = number(t, root, "temperature", w, e, 2)) return err;

  uint32_t text = t.find(root, "text");
  e.key("text");
  if (present(t, text)) {
    if (ApiError err = textFormat(w, t, text)) return err;
    if (present(t, t.find(text, "format"))) e.raw(t.raw(text));
    else e.beginObject().key("format").beginObject().field("type", "text").endObject().endObject();
  } else {
    e.beginObject().key("format").beginObject().field("type", "text").endObject().endObject();
  }

  std::set<std::string> allowed;
  bool narrowed = false;
  uint32_t choice = t.find(root, "tool_choice");
  e.key("tool_choice");
  if (present(t, choice)) {
    if (ApiError err = toolChoice(w, t, choice, allowed, narrowed, out.nativeOnly)) return err;
    e.raw(t.raw(choice));
  } else {
    e.string("auto");
  }
  uint32_t list = t.find(root, "tools");
  e.key("tools");
  if (present(t, list)) {
    if (ApiError err = tools(w, t, list, narrowed ? &allowed : nullptr, out.nativeOnly)) return err;
    e.raw(t.raw(list));
  } else {
    e.beginArray().endArray();
  }
  if (ApiError err = number(t, root, "top_p", w, e, 1)) return err;
  e.field("truncation", "disabled");

  // The end user: `safety_identifier` is the newer name of `user`.
  std::string user;
  for (const char* key : {"user", "safety_identifier"}) {
    uint32_t v = t.find(root, key);
    if (!present(t, v)) continue;
    if (t.kind(v) != Kind::String) return invalidType(key, "a string", "another value");
    user = t.string(v);
  }
  e.key("user");
  if (user.empty()) e.null();
  else e.string(user);
  if (!user.empty()) w.field("user", user);

  uint32_t include = t.find(root, "include");
  if (present(t, include) && t.kind(include) != Kind::Array) return invalidType("include", "an array of strings", "another value");
  uint32_t n = 0;
  for (uint32_t v = present(t, include) ? t.firstChild(include) : 0; v != 0; v = t.nextSibling(include, v), ++n)
    if (!isIncludable(t, v))
      return invalidValue(at("include", n), "expected one of OpenAI's include values, e.g. 'reasoning.encrypted_content'.");
  // The gateway's own fallback list passes to the pipeline.
  uint32_t models = t.find(root, "models");
  if (present(t, models)) w.key("models").raw(t.raw(models));
  uint32_t stream = t.find(root, "stream");
  if (present(t, stream) && t.kind(stream) != Kind::True && t.kind(stream) != Kind::False)
    return invalidType("stream", "a boolean", "another value");
  if (stream != 0 && t.kind(stream) == Kind::True)
    w.field("stream", true).key("stream_options").beginObject().field("include_usage", true).endObject();
  w.endObject();
  return {};
}

}  // namespace gw::openai_responses
