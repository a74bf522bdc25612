#include "gemini_generate.h"

#include "gw/json_writer.h"
#include "message_parts.h"

namespace gw::gemini_generate {

namespace {

using json::Kind;
using json::Tape;
using parts::present;
using parts::str;

constexpr std::string_view PROVIDER_NOUN = "gemini";

ApiError writeUserParts(json::Writer& w, const Tape& t, uint32_t content, const std::string& path) {
  return parts::forEachUserPart(
      t, content, path, PROVIDER_NOUN,
      [&](const std::string& text) { w.beginObject().field("text", text).endObject(); },
      [&](const parts::Image& image) {
        if (image.isInline) {
          w.beginObject().key("inlineData").beginObject().field("mimeType", image.data.mime);
          w.field("data", image.data.data).endObject().endObject();
        } else {
          w.beginObject().key("fileData").beginObject().field("mimeType", parts::guessImageMime(image.url));
          w.field("fileUri", image.url).endObject().endObject();
        }
      });
}

ApiError writeContents(json::Writer& w, const Tape& t, uint32_t messages) {
  parts::RoleRuns runs(w, "parts");
  uint32_t index = 0;
  for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m), ++index) {
    const std::string path = "messages[" + std::to_string(index) + "]";
    uint32_t role = t.find(m, "role");
    uint32_t content = t.find(m, "content");
    if (t.stringEquals(role, "system") || t.stringEquals(role, "developer")) continue;
    if (t.stringEquals(role, "user")) {
      runs.open("user");
      if (ApiError e = writeUserParts(w, t, content, path + ".content")) return e;
    } else if (t.stringEquals(role, "tool") || t.stringEquals(role, "function")) {
      runs.open("user");
      std::string name = t.stringEquals(role, "function") ? str(t, m, "name")
                                                           : parts::toolNameFor(t, messages, str(t, m, "tool_call_id"));
      if (name.empty())
        return invalidValue(path + ".tool_call_id", "does not match a tool call of an earlier assistant message.");
      std::string text = parts::text(t, content);
      std::string object;
      w.beginObject().key("functionResponse").beginObject().field("name", name).key("response");
      // A JSON object result is passed as is; anything else is wrapped.
      if (parts::argumentsObject(text, object) && !text.empty()) w.raw(object);
      else w.beginObject().field("content", text).endObject();
      w.endObject().endObject();
    } else {  // assistant
      runs.open("model");
      std::string text = parts::text(t, content);
      if (!text.empty()) w.beginObject().field("text", text).endObject();
      ApiError e = parts::forEachToolCall(t, m, path, [&](const std::string& id, const std::string& name,
                                                          const std::string& args) {
        w.beginObject().key("functionCall").beginObject().field("name", name).key("args").raw(args);
        w.endObject();
        if (std::string signature = signatureOfCallId(id); !signature.empty()) w.field("thoughtSignature", signature);
        w.endObject();
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
  w.key("tools").beginArray().beginObject().key("functionDeclarations").beginArray();
  parts::forEachTool(t, tools, [&](const std::string& name, const std::string& description, uint32_t params) {
    w.beginObject().field("name", name);
    if (!description.empty()) w.field("description", description);
    if (params != 0) w.key("parameters").raw(t.raw(params));
    w.endObject();
  });
  w.endArray().endObject().endArray();
  uint32_t choice = t.find(root, "tool_choice");
  if (!present(t, choice)) return;
  w.key("toolConfig").beginObject().key("functionCallingConfig").beginObject();
  if (t.stringEquals(choice, "required")) w.field("mode", "ANY");
  else if (t.stringEquals(choice, "none")) w.field("mode", "NONE");
  else if (t.kind(choice) == Kind::Object) {
    w.field("mode", "ANY").key("allowedFunctionNames").beginArray();
    w.string(str(t, t.find(choice, "function"), "name")).endArray();
  } else w.field("mode", "AUTO");
  w.endObject().endObject();
}

void writeGenerationConfig(json::Writer& w, const ChatRequest& req, const Target& target, const Config& c) {
  const Tape& t = req.tape;
  const uint32_t root = t.root();
  w.key("generationConfig").beginObject();
  w.field("maxOutputTokens", req.maxTokens > 0 ? req.maxTokens : defaultMaxTokens(c, target));
  struct Mapping {
    const char* from;
    const char* to;
  };
  for (const Mapping& m : {Mapping{"temperature", "temperature"}, Mapping{"top_p", "topP"},
                           Mapping{"presence_penalty", "presencePenalty"},
                           Mapping{"frequency_penalty", "frequencyPenalty"}, Mapping{"seed", "seed"}}) {
    uint32_t v = t.find(root, m.from);
    if (present(t, v)) w.key(m.to).raw(t.raw(v));
  }
  if (req.n > 1) w.field("candidateCount", req.n);
  uint32_t stop = t.find(root, "stop");
  if (present(t, stop)) parts::writeStringList(w.key("stopSequences"), t, stop);
  if (target.model != nullptr && target.model->has(CAP_REASONING) && !req.reasoningEffort.empty()) {
    // Gemini 3 takes a level, 2.5 a budget (the README's table); either way
    // the thought summaries come back as reasoning.
    const std::string& e = req.reasoningEffort;
    w.key("thinkingConfig").beginObject();
    if (target.upstream.rfind("gemini-3", 0) == 0) {
      w.field("thinkingLevel", e == "none" || e == "minimal" || e == "low" ? "low" : "high");
    } else {
      const bool pro = target.upstream.find("-pro") != std::string::npos;  // pro cannot switch thinking off
      int64_t budget = e == "none" ? (pro ? 128 : 0) : e == "minimal" ? 512 : e == "low" ? 1024 : e == "medium" ? 8192 : 24576;
      if (e == "xhigh") budget = pro ? 32768 : 24576;
      w.field("thinkingBudget", budget);
    }
    w.field("includeThoughts", e != "none").endObject();
  }
  if (req.wantsJson) {
    w.field("responseMimeType", "application/json");
    uint32_t schema = t.find(t.find(t.find(root, "response_format"), "json_schema"), "schema");
    if (present(t, schema)) w.key("responseJsonSchema").raw(t.raw(schema));
  }
  w.endObject();
}

// One candidate's parts, as events; returns whether it made a tool call.
bool emitParts(const Tape& t, uint32_t candidate, int choice, int& toolCalls, ChunkSink& sink) {
  uint32_t partsNode = t.find(t.find(candidate, "content"), "parts");
  bool called = false;
  if (partsNode == 0 || t.kind(partsNode) != Kind::Array) return false;
  for (uint32_t part = t.firstChild(partsNode); part != 0; part = t.nextSibling(partsNode, part)) {
    uint32_t thought = t.find(part, "thought");
    uint32_t text = t.find(part, "text");
    const std::string signature = str(t, part, "thoughtSignature");
    if (thought != 0 && t.kind(thought) == Kind::True) {  // a thought summary: reasoning, not the answer
      if (text != 0 && t.kind(text) == Kind::String && t.rawString(text).size() > 0) sink.reasoning(choice, t.string(text));
      continue;
    }
    if (text != 0 && t.kind(text) == Kind::String) {
      if (t.rawString(text).size() > 0) sink.text(choice, t.string(text));
      continue;
    }
    uint32_t call = t.find(part, "functionCall");
    if (call != 0 && t.kind(call) == Kind::Object) {
      std::string id = str(t, call, "id");
      if (id.empty()) id = "call_" + std::to_string(choice) + "_" + std::to_string(toolCalls);
      // Gemini wants a call's thought signature back on it in the next turn
      // (Gemini 3 refuses the turn without): it travels in the call's id,
      // which every client sends back as it was.
      if (!signature.empty()) id = callIdWithSignature(id, signature);
      sink.toolCall(choice, toolCalls, id, str(t, call, "name"));
      uint32_t args = t.find(call, "args");
      sink.toolArguments(choice, toolCalls, args != 0 ? t.raw(args) : std::string_view("{}"));
      ++toolCalls;
      called = true;
    }
  }
  return called;
}

constexpr std::string_view SIGNATURE_MARK = "__ts_";

}  // namespace

std::string callIdWithSignature(std::string_view id, std::string_view signature) {
  std::string out(id);
  out += SIGNATURE_MARK;
  for (char c : signature) {
    if (c == '=') continue;
    out.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  return out;
}

std::string signatureOfCallId(std::string_view id) {
  const size_t at = id.find(SIGNATURE_MARK);
  if (at == std::string_view::npos) return {};
  std::string out;
  for (char c : id.substr(at + SIGNATURE_MARK.size())) out.push_back(c == '-' ? '+' : c == '_' ? '/' : c);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

namespace {

int candidateIndex(const Tape& t, uint32_t candidate, int position) {
  int64_t index = position;
  uint32_t v = t.find(candidate, "index");
  if (v != 0) t.isInteger(v, &index);
  return validChoice(index) ? static_cast<int>(index) : position;
}

}  // namespace

std::string_view finishReason(std::string_view reason) {
  if (reason == "MAX_TOKENS") return "length";
  if (reason == "SAFETY" || reason == "RECITATION" || reason == "BLOCKLIST" || reason == "PROHIBITED_CONTENT" ||
      reason == "SPII" || reason == "IMAGE_SAFETY")
    return "content_filter";
  return "stop";
}

void readUsage(const Tape& t, uint32_t meta, Usage& u) {
  if (meta == 0 || t.kind(meta) != Kind::Object) return;
  auto read = [&](std::string_view key) {
    int64_t n = 0;
    uint32_t v = t.find(meta, key);
    if (v != 0 && t.kind(v) == Kind::Number) t.isInteger(v, &n);
    return n;
  };
  u.known = true;
  u.promptTokens = read("promptTokenCount");
  // Thinking tokens are billed as output.
  u.reasoningTokens = read("thoughtsTokenCount");
  u.completionTokens = read("candidatesTokenCount") + u.reasoningTokens;
  u.cachedPromptTokens = read("cachedContentTokenCount");
  u.totalTokens = u.promptTokens + u.completionTokens;
}

ApiError Codec::encode(const ChatRequest& req, const Target& target, const Config& c, UpstreamRequest& out) const {
  const Tape& t = req.tape;
  const uint32_t root = t.root();
  std::string operation = "models/" + target.upstream + (req.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  out.url = endpointUrl(*target.provider, target.upstream, operation);
  out.body.clear();
  json::Writer w(out.body);
  w.beginObject();
  uint32_t messages = t.find(root, "messages");
  std::string system = parts::systemText(t, messages);
  if (!system.empty()) {
    w.key("systemInstruction").beginObject().key("parts").beginArray();
    w.beginObject().field("text", system).endObject().endArray().endObject();
  }
  w.key("contents").beginArray();
  if (ApiError e = writeContents(w, t, messages)) return e;
  w.endArray();
  writeTools(w, t, root);
  writeGenerationConfig(w, req, target, c);
  w.endObject();
  return {};
}

bool Codec::decode(std::string_view body, const ProviderConfig&, Completion& out) const {
  Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return false;
  const uint32_t root = t.root();
  out.model = str(t, root, "modelVersion");
  readUsage(t, t.find(root, "usageMetadata"), out.usage);
  uint32_t candidates = t.find(root, "candidates");
  if (candidates == 0 || t.kind(candidates) != Kind::Array || t.node(candidates).count == 0) {
    std::string reason = str(t, t.find(root, "promptFeedback"), "blockReason");
    if (reason.empty()) return false;
    out.promptBlocked = reason;
    return true;
  }
  CompletionRecorder recorder;
  int position = 0;
  for (uint32_t cand = t.firstChild(candidates); cand != 0; cand = t.nextSibling(candidates, cand), ++position) {
    int choice = candidateIndex(t, cand, position);
    int calls = 0;
    bool called = emitParts(t, cand, choice, calls, recorder);
    std::string reason = str(t, cand, "finishReason");
    recorder.finish(choice, called && (reason.empty() || reason == "STOP") ? "tool_calls" : finishReason(reason));
  }
  Usage usage = out.usage;
  std::string model = out.model;
  out = std::move(recorder.completion());
  out.usage = usage;
  out.model = model;
  return true;
}

ApiError mapProviderError(int status, std::string_view body, std::string_view providerId) {
  Tape t;
  std::string message, grpcStatus;
  // Errors come as {"error":{...}} or, from the stream endpoint, [{"error":{...}}].
  if (t.parse(body)) {
    uint32_t obj = t.kind(t.root()) == Kind::Array ? t.firstChild(t.root()) : t.root();
    if (obj != 0 || t.kind(t.root()) == Kind::Object) {
      uint32_t err = t.kind(obj) == Kind::Object ? t.find(obj, "error") : 0;
      message = str(t, err, "message");
      grpcStatus = str(t, err, "status");
    }
  }
  if (message.empty()) message = std::string(body.substr(0, 200));
  // Gemini answers a bad key with 400 INVALID_ARGUMENT; it is an auth failure.
  if (status == 400 && (message.find("API key not valid") != std::string::npos ||
                        body.find("API_KEY_INVALID") != std::string_view::npos))
    status = 401;
  std::string code;
  if (grpcStatus == "NOT_FOUND") code = "not_found";
  return upstreamError(status, std::move(message), "invalid_request_error", std::move(code), "", providerId);
}

std::unique_ptr<StreamDecoder> Codec::streamDecoder(const ProviderConfig&) const { return std::make_unique<EventDecoder>(); }

bool EventDecoder::feed(std::string_view bytes, ChunkSink& sink) {
  events_.clear();
  bool ok = decoder_.feed(bytes, events_);
  for (const auto& ev : events_) {
    if (!tape_.parse(ev.data) || tape_.kind(tape_.root()) != Kind::Object) continue;
    const Tape& t = tape_;
    const uint32_t root = t.root();
    uint32_t err = t.find(root, "error");
    if (err != 0 && t.kind(err) == Kind::Object) {
      int64_t code = 500;
      uint32_t c = t.find(err, "code");
      if (c != 0) t.isInteger(c, &code);
      error_ = mapProviderError(static_cast<int>(code), ev.data, PROVIDER_NOUN);
      continue;
    }
    readUsage(t, t.find(root, "usageMetadata"), usage_);
    uint32_t candidates = t.find(root, "candidates");
    if (candidates == 0 || t.kind(candidates) != Kind::Array) {
      std::string reason = str(t, t.find(root, "promptFeedback"), "blockReason");
      if (!reason.empty()) error_ = blockedPrompt(reason, PROVIDER_NOUN);
      continue;
    }
    int position = 0;
    for (uint32_t cand = t.firstChild(candidates); cand != 0; cand = t.nextSibling(candidates, cand), ++position) {
      int choice = candidateIndex(t, cand, position);
      if (!validChoice(choice)) break;  // more candidates than any request may ask for
      if (static_cast<size_t>(choice) >= toolCalls_.size()) toolCalls_.resize(choice + 1, 0);
      int before = toolCalls_[choice];
      emitParts(t, cand, choice, toolCalls_[choice], sink);
      std::string reason = str(t, cand, "finishReason");
      if (!reason.empty()) {
        bool called = toolCalls_[choice] > 0 || before > 0;
        sink.finish(choice, called && reason == "STOP" ? "tool_calls" : finishReason(reason));
        finished_ = true;
      }
    }
  }
  return ok;
}

}  // namespace gw::gemini_generate
