// The OpenAI chat completions dialect: completions as chat.completion JSON,
// stream events as chat.completion.chunk events, exactly the shapes OpenAI
// sends (first delta carries the role; usage chunk only when asked for).
#include <bitset>

#include "dialects/dialect.h"
#include "gw/json_writer.h"

namespace gw::chat {

namespace {

std::string openAiErrorEvent(const ApiError& e) { return "data: " + renderError(e) + "\n\n"; }

void writeUsage(json::Writer& w, const Usage& u) {
  w.key("usage").beginObject().field("prompt_tokens", u.promptTokens).field("completion_tokens", u.completionTokens);
  w.field("total_tokens", u.totalTokens);
  w.key("prompt_tokens_details").beginObject().field("cached_tokens", u.cachedPromptTokens).endObject();
  if (u.reasoningTokens > 0)
    w.key("completion_tokens_details").beginObject().field("reasoning_tokens", u.reasoningTokens).endObject();
  w.endObject();
}

// Signed reasoning (Anthropic's thinking) as thinking_blocks, the field
// OpenAI-format gateways use for it: a client that sends the message back
// as it got it keeps the block Anthropic wants in a tool loop.
void writeThinkingBlocks(json::Writer& w, std::string_view thinking, std::string_view signature) {
  w.key("thinking_blocks").beginArray().beginObject().field("type", "thinking").field("thinking", thinking);
  w.field("signature", signature).endObject().endArray();
}

class OpenAiChunkWriter : public StreamWriter {
 public:
  OpenAiChunkWriter(const CallSummary& start, bool clientWantsUsage) : clientWantsUsage_(clientWantsUsage) {
    json::Writer w(prefix_);
    w.beginObject().field("id", start.responseId).field("object", "chat.completion.chunk");
    w.field("created", start.created).field("model", start.model);
  }

  void text(int choice, std::string_view delta) override {
    if (!validChoice(choice)) return;
    json::Writer w = open(choice);
    w.field("content", delta);
    close(w);
    outputBytes_ += delta.size();
  }
  void toolCall(int choice, int index, std::string_view id, std::string_view name) override {
    if (!validChoice(choice) || !validToolCall(index)) return;
    json::Writer w = open(choice);
    w.key("tool_calls").beginArray().beginObject().field("index", index).field("id", id).field("type", "function");
    w.key("function").beginObject().field("name", name).field("arguments", "").endObject().endObject().endArray();
    close(w);
    outputBytes_ += name.size();
  }
  void toolArguments(int choice, int index, std::string_view delta) override {
    if (!validChoice(choice) || !validToolCall(index)) return;
    json::Writer w = open(choice);
    w.key("tool_calls").beginArray().beginObject().field("index", index);
    w.key("function").beginObject().field("arguments", delta).endObject().endObject().endArray();
    close(w);
    outputBytes_ += delta.size();
  }
  void finish(int choice, std::string_view reason) override {
    if (!validChoice(choice)) return;
    json::Writer w = open(choice);
    close(w, reason);
  }
  // Reasoning as DeepSeek's reasoning_content, which OpenAI-compatible clients read.
  void reasoning(int choice, std::string_view delta) override {
    if (!validChoice(choice)) return;
    json::Writer w = open(choice);
    w.field("reasoning_content", delta);
    close(w);
    outputBytes_ += delta.size();
    if (choice == 0) thinking_ += delta;
  }
  // The signature closes the thinking: the whole block, for the client to echo (thinking_blocks).
  void reasoningSignature(int choice, std::string_view signature) override {
    if (choice != 0 || signature.empty()) return;
    json::Writer w = open(choice);
    writeThinkingBlocks(w, thinking_, signature);
    close(w);
    thinking_.clear();
  }
  void end(const CallSummary& summary) override {
    if (clientWantsUsage_) {
      out_ += "data: ";
      out_ += prefix_;
      json::Writer w(out_, false);
      w.key("choices").beginArray().endArray();
      writeUsage(w, summary.usage);
      out_ += "}\n\n";
    }
    out_ += costComment(summary.usage, summary.cost);
    out_ += "data: [DONE]\n\n";
  }
  void failure(const ApiError& e) override {
    out_ += openAiErrorEvent(e);
  }

 private:
  // Opens `data: {…,"choices":[{"index":n,"delta":{` (with the role the first time).
  json::Writer open(int choice) {
    out_ += "data: ";
    out_ += prefix_;
    json::Writer w(out_, false);
    w.key("choices").beginArray().beginObject().field("index", choice).key("delta").beginObject();
    if (!roleSent_[choice]) {
      w.field("role", "assistant");
      roleSent_[choice] = true;
    }
    return w;
  }
  void close(json::Writer& w, std::string_view finish = {}) {
    w.endObject().key("logprobs").null().key("finish_reason");
    if (finish.empty()) w.null();
    else w.string(finish);
    w.endObject().endArray();
    out_ += "}\n\n";
  }

  std::string prefix_;  // the chunk object's opening fields, without the closing brace
  std::string thinking_;  // choice 0's reasoning since its last signature
  std::bitset<MAX_CHOICES> roleSent_;
  bool clientWantsUsage_;
};

class OpenAiDialect : public Dialect {
 public:
  bool openAiPassthrough() const override { return true; }
  std::unique_ptr<StreamWriter> streamWriter(const CallSummary& start, bool clientWantsUsage) const override {
    return std::make_unique<OpenAiChunkWriter>(start, clientWantsUsage);
  }
  std::string renderCompletion(const Completion& c, const CallSummary& summary) const override {
    return renderOpenAiCompletion(c, summary);
  }
};

}  // namespace

std::string Dialect::renderError(const ApiError& e) const { return gw::renderError(e); }
std::string Dialect::streamErrorEvent(const ApiError& e) const { return openAiErrorEvent(e); }

const Dialect& openAiDialect() {
  static const OpenAiDialect DIALECT;
  return DIALECT;
}

std::string renderOpenAiCompletion(const Completion& c, const CallSummary& summary) {
  std::string out;
  json::Writer w(out);
  w.beginObject().field("id", summary.responseId).field("object", "chat.completion").field("created", summary.created);
  w.field("model", summary.model).key("choices").beginArray();
  for (const auto& choice : c.choices) {
    w.beginObject().field("index", choice.index).key("message").beginObject().field("role", "assistant");
    w.key("content");
    if (choice.hasContent || choice.toolCalls.empty()) w.string(choice.content);
    else w.null();
    w.key("refusal").null();
    if (!choice.reasoning.empty()) w.field("reasoning_content", choice.reasoning);
    if (!choice.reasoningSignature.empty()) writeThinkingBlocks(w, choice.reasoning, choice.reasoningSignature);
    if (!choice.toolCalls.empty()) {
      w.key("tool_calls").beginArray();
      for (const auto& call : choice.toolCalls) {
        w.beginObject().field("id", call.id).field("type", "function").key("function").beginObject();
        w.field("name", call.name).field("arguments", call.arguments).endObject().endObject();
      }
      w.endArray();
    }
    w.endObject().key("logprobs").null().field("finish_reason", choice.finishReason.empty() ? "stop" : choice.finishReason);
    w.endObject();
  }
  w.endArray();
  writeUsage(w, c.usage);
  w.endObject();
  return out;
}

std::string costComment(const Usage& usage, const Cost& cost) {
  if (!cost.priced) return {};
  std::string out = ": x-aigw-cost-usd=" + formatPico(cost.picoUsd) + " x-aigw-cost-brl=" + formatPico(cost.picoBrl);
  if (usage.estimated) out += " x-aigw-usage-estimated=true";
  out += "\n\n";
  return out;
}

}  // namespace gw::chat
