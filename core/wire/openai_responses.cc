#include "openai_responses.h"

#include <vector>

#include "gw/json_writer.h"
#include "message_parts.h"
#include "openai_chat.h"

namespace gw::responses_wire {

namespace {

using json::Kind;
using json::Tape;
using parts::present;
using parts::str;

// Most output items a stream may index (untrusted: larger indexes are dropped).
constexpr int64_t MAX_OUTPUT_ITEMS = 4096;

void readUsage(const Tape& t, uint32_t usage, Usage& u) {
  if (usage == 0 || t.kind(usage) != Kind::Object) return;
  u.known = true;
  auto count = [&](uint32_t obj, std::string_view key, int64_t& field) {
    int64_t n = 0;
    uint32_t v = t.find(obj, key);
    if (v != 0 && t.isInteger(v, &n) && n >= 0) field = n;
  };
  // input_tokens counts the cached ones and output_tokens the reasoning, as chat's usage does.
  count(usage, "input_tokens", u.promptTokens);
  count(usage, "output_tokens", u.completionTokens);
  count(t.find(usage, "input_tokens_details"), "cached_tokens", u.cachedPromptTokens);
  count(t.find(usage, "output_tokens_details"), "reasoning_tokens", u.reasoningTokens);
  u.totalTokens = u.promptTokens + u.completionTokens;
}

// The chat finish reason of a finished response.
std::string finishOf(const Tape& t, uint32_t response, bool calls) {
  if (t.stringEquals(t.find(response, "status"), "incomplete")) {
    const std::string reason = str(t, t.find(response, "incomplete_details"), "reason");
    return reason == "content_filter" ? "content_filter" : "length";
  }
  return calls ? "tool_calls" : "stop";
}

// A reasoning item's text: its summaries (or, from open models, its
// reasoning text), paragraphs apart.
std::string reasoningText(const Tape& t, uint32_t item) {
  std::string out;
  for (const char* list : {"summary", "content"}) {
    uint32_t parts = t.find(item, list);
    if (parts == 0 || t.kind(parts) != Kind::Array) continue;
    for (uint32_t p = t.firstChild(parts); p != 0; p = t.nextSibling(parts, p)) {
      std::string text = str(t, p, "text");
      if (text.empty()) continue;
      if (!out.empty()) out += "\n\n";
      out += text;
    }
    if (!out.empty()) break;
  }
  return out;
}

ApiError failure(const Tape& t, uint32_t error, std::string_view providerId) {
  std::string message = str(t, error, "message");
  if (message.empty()) message = "The response failed.";
  std::string code = str(t, error, "code");
  return upstreamError(500, std::move(message), "server_error", std::move(code), str(t, error, "param"), providerId);
}

}  // namespace

bool EventDecoder::feed(std::string_view bytes, ChunkSink& sink) {
  events_.clear();
  const bool ok = decoder_.feed(bytes, events_);
  for (const SseEvent& ev : events_) {
    if (!tape_.parse(ev.data) || tape_.kind(tape_.root()) != Kind::Object) continue;
    const Tape& t = tape_;
    const uint32_t root = t.root();
    const uint32_t type = t.find(root, "type");
    if (type == 0 || t.kind(type) != Kind::String) continue;
    const int64_t outputIndex = t.integerAt(root, "output_index");
    if (t.stringEquals(type, "response.output_text.delta") || t.stringEquals(type, "response.refusal.delta")) {
      sink.text(0, str(t, root, "delta"));
    } else if (t.stringEquals(type, "response.function_call_arguments.delta")) {
      const int tool = toolAt(outputIndex);
      if (tool >= 0) {
        argumentsSeen_[outputIndex] = true;
        sink.toolArguments(0, tool, str(t, root, "delta"));
      }
    } else if (t.stringEquals(type, "response.reasoning_summary_text.delta") ||
               t.stringEquals(type, "response.reasoning_text.delta")) {
      // Parts of one summary are paragraphs of the reasoning text.
      const int64_t part = t.integerAt(root, "summary_index");
      if (reasoningSeen_ && part != summaryIndex_) sink.reasoning(0, "\n\n");
      summaryIndex_ = part;
      reasoningSeen_ = true;
      sink.reasoning(0, str(t, root, "delta"));
    } else if (t.stringEquals(type, "response.output_item.added")) {
      const uint32_t item = t.find(root, "item");
      if (!t.stringEquals(t.find(item, "type"), "function_call") || outputIndex < 0 || outputIndex >= MAX_OUTPUT_ITEMS)
        continue;
      if (static_cast<size_t>(outputIndex) >= toolOfItem_.size()) {
        toolOfItem_.resize(outputIndex + 1, -1);
        argumentsSeen_.resize(outputIndex + 1, false);
      }
      if (toolOfItem_[outputIndex] >= 0) continue;  // announced twice
      toolOfItem_[outputIndex] = tools_++;
      sink.toolCall(0, toolOfItem_[outputIndex], str(t, item, "call_id"), str(t, item, "name"));
    } else if (t.stringEquals(type, "response.output_item.done")) {
      const uint32_t item = t.find(root, "item");
      const int tool = toolAt(outputIndex);
      if (tool >= 0 && !argumentsSeen_[outputIndex]) {
        // A call whose arguments came whole, with no deltas.
        argumentsSeen_[outputIndex] = true;
        sink.toolArguments(0, tool, str(t, item, "arguments"));
      }
      if (t.stringEquals(t.find(item, "type"), "reasoning")) {
        const std::string signature = str(t, item, "encrypted_content");
        if (!signature.empty()) sink.reasoningSignature(0, signature);
        summaryIndex_ = -1;
      }
    } else if (t.stringEquals(type, "response.completed") || t.stringEquals(type, "response.incomplete")) {
      const uint32_t response = t.find(root, "response");
      readUsage(t, t.find(response, "usage"), usage_);
      sink.finish(0, finishOf(t, response, tools_ > 0));
      document_ = std::string(t.raw(response));
      complete_ = true;
    } else if (t.stringEquals(type, "response.failed")) {
      error_ = failure(t, t.find(t.find(root, "response"), "error"), provider_);
    } else if (t.stringEquals(type, "error")) {
      error_ = failure(t, root, provider_);
    }
    // The other events (created, in_progress, the parts' added and done,
    // the built-in tools' progress) repeat what the deltas say.
  }
  return ok;
}

void encodeNative(const Tape& t, const Target& target, int64_t maxOutput, UpstreamRequest& out) {
  const std::string_view clientBody = t.text();
  const uint32_t model = t.find(t.root(), "model");
  out.url = endpointUrl(*target.provider, target.upstream, "responses");
  const json::Node& span = t.node(model);
  out.body.assign(clientBody.substr(0, span.begin));
  json::appendEscaped(out.body, target.upstream);
  out.body.append(clientBody.substr(span.end));
  const uint32_t given = t.find(t.root(), "max_output_tokens");
  if (!present(t, given)) {
    const std::string limit = std::to_string(maxOutput);
    if (given != 0) {  // null: replaced where it stands (after the model, shifted by its rename)
      const json::Node& v = t.node(given);
      const size_t at = v.begin > span.begin ? v.begin + out.body.size() - clientBody.size() : v.begin;
      out.body.replace(at, v.end - v.begin, limit);
    } else {
      out.body.insert(out.body.find('{') + 1, "\"max_output_tokens\":" + limit + ",");
    }
  }
}

bool readResponse(const Tape& t, uint32_t response, Completion& out) {
  if (t.kind(response) != Kind::Object) return false;
  const uint32_t output = t.find(response, "output");
  if (output == 0 || t.kind(output) != Kind::Array) return false;
  out.model = str(t, response, "model");
  Choice choice;
  for (uint32_t item = t.firstChild(output); item != 0; item = t.nextSibling(output, item)) {
    const uint32_t type = t.find(item, "type");
    if (t.stringEquals(type, "message")) {
      const uint32_t content = t.find(item, "content");
      if (content == 0 || t.kind(content) != Kind::Array) continue;
      for (uint32_t part = t.firstChild(content); part != 0; part = t.nextSibling(content, part)) {
        const uint32_t partType = t.find(part, "type");
        if (t.stringEquals(partType, "output_text")) choice.content += str(t, part, "text");
        else if (t.stringEquals(partType, "refusal")) choice.content += str(t, part, "refusal");
        choice.hasContent = true;
      }
    } else if (t.stringEquals(type, "function_call")) {
      ToolCall& call = choice.toolCalls.emplace_back();
      call.id = str(t, item, "call_id");
      call.name = str(t, item, "name");
      call.arguments = str(t, item, "arguments");
    } else if (t.stringEquals(type, "reasoning")) {
      std::string text = reasoningText(t, item);
      if (!text.empty() && !choice.reasoning.empty()) choice.reasoning += "\n\n";
      choice.reasoning += text;
      const std::string signature = str(t, item, "encrypted_content");
      if (!signature.empty()) choice.reasoningSignature = signature;
    }
    // Built-in tools' items (web search, file search, …) went to the client as they came.
  }
  choice.finishReason = finishOf(t, response, !choice.toolCalls.empty());
  out.choices.push_back(std::move(choice));
  readUsage(t, t.find(response, "usage"), out.usage);
  return true;
}

bool Codec::decode(std::string_view body, const ProviderConfig&, Completion& out) const {
  Tape t;
  return t.parse(body) && readResponse(t, t.root(), out);
}

std::unique_ptr<StreamDecoder> Codec::streamDecoder(const ProviderConfig& p) const {
  return std::make_unique<EventDecoder>(p.id);
}

ApiError Codec::mapError(int status, std::string_view body, const ProviderConfig& p) const {
  return openai_chat::mapError(status, body, p.id, p.quirks);
}

const Codec& codec() {
  static const Codec CODEC;
  return CODEC;
}

}  // namespace gw::responses_wire
