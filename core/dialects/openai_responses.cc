// The Responses API's shapes: a completion as a `response` object with
// output items, a stream as the Responses event sequence (every event with
// its sequence_number), errors in OpenAI's shape.
#include "dialects/openai_responses.h"

#include <vector>

#include "gw/json_writer.h"

namespace gw::openai_responses {

namespace {

// An output item as it is built: a message's text, or a function call.
struct Item {
  enum class Kind { Reasoning, Message, FunctionCall } kind = Kind::Message;
  std::string id;
  std::string text;  // the reasoning summary; the message's text; the call's arguments
  std::string callId, name;  // the call's; for reasoning, callId holds the provider's signature
};

std::string hexOf(const chat::CallSummary& s) { return s.requestId.size() > 5 ? s.requestId.substr(5) : s.requestId; }
std::string responseId(const chat::CallSummary& s) { return "resp_" + hexOf(s); }
std::string itemId(const chat::CallSummary& s, std::string_view prefix, size_t index) {
  return std::string(prefix) + hexOf(s) + (index > 0 ? "_" + std::to_string(index) : "");
}

// completed, or incomplete with its reason, from the chat finish reason.
std::string_view incompleteReason(std::string_view finish) {
  if (finish == "length") return "max_output_tokens";
  if (finish == "content_filter") return "content_filter";
  return {};
}

void writeItem(json::Writer& w, const Item& item, std::string_view status) {
  w.beginObject().field("id", item.id);
  if (item.kind == Item::Kind::Reasoning) {
    // The summary is the provider's reasoning text; its signature, when it
    // gave one, is the item's encrypted content.
    w.field("type", "reasoning").key("summary").beginArray();
    if (status != "in_progress" && !item.text.empty())
      w.beginObject().field("type", "summary_text").field("text", item.text).endObject();
    w.endArray();
    if (!item.callId.empty()) w.field("encrypted_content", item.callId);
  } else if (item.kind == Item::Kind::Message) {
    w.field("type", "message").field("status", status).field("role", "assistant").key("content").beginArray();
    if (status != "in_progress") {
      w.beginObject().field("type", "output_text").key("annotations").beginArray().endArray();
      w.key("logprobs").beginArray().endArray().field("text", item.text).endObject();
    }
    w.endArray();
  } else {
    w.field("type", "function_call").field("status", status).field("arguments", status == "in_progress" ? "" : item.text);
    w.field("call_id", item.callId).field("name", item.name);
  }
  w.endObject();
}

void writeUsage(json::Writer& w, const Usage& u) {
  w.key("usage").beginObject().field("input_tokens", u.promptTokens);
  w.key("input_tokens_details").beginObject().field("cached_tokens", u.cachedPromptTokens).endObject();
  w.field("output_tokens", u.completionTokens);
  w.key("output_tokens_details").beginObject().field("reasoning_tokens", u.reasoningTokens).endObject();
  w.field("total_tokens", u.totalTokens > 0 ? u.totalTokens : u.promptTokens + u.completionTokens).endObject();
}

// A `response` object. `status`: in_progress, completed, incomplete or failed.
void writeResponse(json::Writer& w, const chat::CallSummary& s, std::string_view status, std::string_view reason,
                   const std::vector<Item>& items, const ApiError* error) {
  w.beginObject().field("id", responseId(s)).field("object", "response").field("created_at", s.created);
  w.field("status", status).field("background", false);
  if (status == "completed" || status == "incomplete") w.field("completed_at", s.nowMs / 1000);
  else w.key("completed_at").null();
  w.key("error");
  if (error != nullptr) {
    w.beginObject().field("code", error->code.empty() ? "server_error" : error->code).field("message", error->message);
    w.endObject();
  } else {
    w.null();
  }
  w.key("incomplete_details");
  if (!reason.empty()) w.beginObject().field("reason", reason).endObject();
  else w.null();
  w.field("model", s.model).key("output").beginArray();
  const bool done = status != "in_progress";
  const std::string_view itemStatus = status == "completed" || status == "in_progress" ? status : "incomplete";
  for (const Item& item : items) writeItem(w, item, itemStatus);
  w.endArray();
  if (!s.echo.empty()) w.raw(s.echo);
  if (done && error == nullptr) writeUsage(w, s.usage);
  else w.key("usage").null();
  w.endObject();
}

std::vector<Item> itemsOf(const Completion& c, const chat::CallSummary& s) {
  std::vector<Item> items;
  if (c.choices.empty()) return items;
  const Choice& choice = c.choices[0];
  if (!choice.reasoning.empty()) {
    Item& r = items.emplace_back();
    r.kind = Item::Kind::Reasoning;
    r.id = itemId(s, "rs_", 0);
    r.text = choice.reasoning;
    r.callId = choice.reasoningSignature;
  }
  if (!choice.content.empty() || choice.toolCalls.empty()) {
    Item& m = items.emplace_back();
    m.id = itemId(s, "msg_", items.size() - 1);
    m.text = choice.content;
  }
  for (const ToolCall& call : choice.toolCalls) {
    Item& f = items.emplace_back();
    f.kind = Item::Kind::FunctionCall;
    f.id = itemId(s, "fc_", items.size() - 1);
    f.text = call.arguments;
    f.callId = call.id;
    f.name = call.name;
  }
  return items;
}

// The stream: output items open and close as the deltas come; the response
// is repeated whole at its start and at its end.
class EventWriter : public chat::StreamWriter {
 public:
  explicit EventWriter(const chat::CallSummary& start) : start_(start) {
    event("response.created", [&](json::Writer& w) {
      w.key("response");
      writeResponse(w, start_, "in_progress", {}, items_, nullptr);
    });
    event("response.in_progress", [&](json::Writer& w) {
      w.key("response");
      writeResponse(w, start_, "in_progress", {}, items_, nullptr);
    });
  }

  void text(int choice, std::string_view delta) override {
    if (choice != 0) return;
    if (open_ < 0 || items_[open_].kind != Item::Kind::Message) {
      openItem(Item::Kind::Message, {}, {});
      event("response.content_part.added", [&](json::Writer& w) {
        location(w).field("content_index", 0).key("part").beginObject().field("type", "output_text");
        w.key("annotations").beginArray().endArray().key("logprobs").beginArray().endArray().field("text", "").endObject();
      });
    }
    items_[open_].text += delta;
    event("response.output_text.delta", [&](json::Writer& w) {
      location(w).field("content_index", 0).field("delta", delta).key("logprobs").beginArray().endArray();
    });
    outputBytes_ += delta.size();
  }
  void reasoning(int choice, std::string_view delta) override {
    if (choice != 0) return;
    if (open_ < 0 || items_[open_].kind != Item::Kind::Reasoning) {
      openItem(Item::Kind::Reasoning, {}, {});
      event("response.reasoning_summary_part.added", [&](json::Writer& w) {
        location(w).field("summary_index", 0).key("part").beginObject().field("type", "summary_text").field("text", "");
        w.endObject();
      });
    }
    items_[open_].text += delta;
    event("response.reasoning_summary_text.delta", [&](json::Writer& w) {
      location(w).field("summary_index", 0).field("delta", delta);
    });
    outputBytes_ += delta.size();
  }
  void reasoningSignature(int choice, std::string_view signature) override {
    if (choice == 0 && open_ >= 0 && items_[open_].kind == Item::Kind::Reasoning) items_[open_].callId += signature;
  }
  void toolCall(int choice, int, std::string_view id, std::string_view name) override {
    if (choice != 0) return;
    openItem(Item::Kind::FunctionCall, id, name);
    outputBytes_ += name.size();
  }
  void toolArguments(int choice, int, std::string_view delta) override {
    if (choice != 0 || open_ < 0 || items_[open_].kind != Item::Kind::FunctionCall) return;
    items_[open_].text += delta;
    event("response.function_call_arguments.delta", [&](json::Writer& w) { location(w).field("delta", delta); });
    outputBytes_ += delta.size();
  }
  void finish(int choice, std::string_view reason) override {
    if (choice == 0) finish_ = std::string(reason);
  }
  void end(const chat::CallSummary& summary) override {
    const std::string_view reason = incompleteReason(finish_);
    closeItem(reason.empty() ? "completed" : "incomplete");
    const bool incomplete = !reason.empty();
    event(incomplete ? "response.incomplete" : "response.completed", [&](json::Writer& w) {
      w.key("response");
      writeResponse(w, summary, incomplete ? "incomplete" : "completed", reason, items_, nullptr);
    });
    out_ += chat::costComment(summary.usage, summary.cost);
  }
  void failure(const ApiError& e) override {
    closeItem("incomplete");
    event("response.failed", [&](json::Writer& w) {
      w.key("response");
      writeResponse(w, start_, "failed", {}, items_, &e);
    });
  }

 private:
  template <typename Body>
  void event(std::string_view type, Body&& body) {
    out_ += "event: ";
    out_ += type;
    out_ += "\ndata: ";
    json::Writer w(out_);
    w.beginObject().field("type", type).field("sequence_number", sequence_++);
    body(w);
    w.endObject();
    out_ += "\n\n";
  }
  json::Writer& location(json::Writer& w) {
    return w.field("item_id", items_[open_].id).field("output_index", open_);
  }
  void openItem(Item::Kind kind, std::string_view callId, std::string_view name) {
    closeItem("completed");
    Item& item = items_.emplace_back();
    item.kind = kind;
    item.id = itemId(start_, kind == Item::Kind::Message ? "msg_" : kind == Item::Kind::Reasoning ? "rs_" : "fc_",
                     items_.size() - 1);
    item.callId = std::string(callId);
    item.name = std::string(name);
    open_ = static_cast<int>(items_.size()) - 1;
    event("response.output_item.added", [&](json::Writer& w) {
      w.field("output_index", open_).key("item");
      writeItem(w, item, "in_progress");
    });
  }
  void closeItem(std::string_view status) {
    if (open_ < 0) return;
    const Item& item = items_[open_];
    if (item.kind == Item::Kind::Reasoning) {
      event("response.reasoning_summary_text.done", [&](json::Writer& w) {
        location(w).field("summary_index", 0).field("text", item.text);
      });
      event("response.reasoning_summary_part.done", [&](json::Writer& w) {
        location(w).field("summary_index", 0).key("part").beginObject().field("type", "summary_text");
        w.field("text", item.text).endObject();
      });
    } else if (item.kind == Item::Kind::Message) {
      event("response.output_text.done", [&](json::Writer& w) {
        location(w).field("content_index", 0).field("text", item.text).key("logprobs").beginArray().endArray();
      });
      event("response.content_part.done", [&](json::Writer& w) {
        location(w).field("content_index", 0).key("part").beginObject().field("type", "output_text");
        w.key("annotations").beginArray().endArray().key("logprobs").beginArray().endArray();
        w.field("text", item.text).endObject();
      });
    } else {
      event("response.function_call_arguments.done", [&](json::Writer& w) {
        location(w).field("arguments", item.text).field("name", item.name);
      });
    }
    event("response.output_item.done", [&](json::Writer& w) {
      w.field("output_index", open_).key("item");
      writeItem(w, item, status);
    });
    open_ = -1;
  }

  chat::CallSummary start_;
  std::vector<Item> items_;
  int open_ = -1;
  int64_t sequence_ = 0;
  std::string finish_;
};

class ResponsesDialect : public chat::Dialect {
 public:
  std::unique_ptr<chat::StreamWriter> streamWriter(const chat::CallSummary& start, bool) const override {
    return std::make_unique<EventWriter>(start);
  }
  std::string renderCompletion(const Completion& c, const chat::CallSummary& summary) const override {
    const std::string_view reason = incompleteReason(c.choices.empty() ? "" : c.choices[0].finishReason);
    std::string out;
    json::Writer w(out);
    writeResponse(w, summary, reason.empty() ? "completed" : "incomplete", reason, itemsOf(c, summary), nullptr);
    return out;
  }
  // The Responses stream's own error event, for a fault the core cannot render.
  std::string streamErrorEvent(const ApiError& e) const override {
    std::string out = "event: error\ndata: ";
    json::Writer w(out);
    w.beginObject().field("type", "error").field("code", e.code).field("message", e.message);
    w.key("param");
    if (e.param.empty()) w.null();
    else w.string(e.param);
    w.field("sequence_number", 0).endObject();
    out += "\n\n";
    return out;
  }
};

}  // namespace

std::string storedResponse(std::string_view response, std::string_view conversation, const Completion& answer,
                           std::string_view input, std::string_view native) {
  std::string out = "{\"response\":";
  out += response;
  out += ",\"conversation\":";
  // The answer joins the conversation as the chat assistant message it was.
  std::string_view before = conversation.size() >= 2 ? conversation.substr(0, conversation.size() - 1) : "[";
  out += before;
  if (before.size() > 1) out += ',';
  json::Writer w(out);
  w.beginObject().field("role", "assistant");
  const Choice* choice = answer.choices.empty() ? nullptr : &answer.choices[0];
  // Signed thinking stays with its turn (a tool loop on Claude needs it
  // back); a native answer's is the provider's own, for its own store.
  if (choice != nullptr && !choice->reasoningSignature.empty() && native.empty()) {
    w.key("thinking_blocks").beginArray().beginObject().field("type", "thinking").field("thinking", choice->reasoning);
    w.field("signature", choice->reasoningSignature).endObject().endArray();
  }
  if (choice == nullptr || choice->toolCalls.empty() || !choice->content.empty()) w.field("content", choice ? choice->content : "");
  else w.key("content").null();
  if (choice != nullptr && !choice->toolCalls.empty()) {
    w.key("tool_calls").beginArray();
    for (const ToolCall& call : choice->toolCalls) {
      w.beginObject().field("id", call.id).field("type", "function").key("function").beginObject();
      w.field("name", call.name).field("arguments", call.arguments).endObject().endObject();
    }
    w.endArray();
  }
  w.endObject();
  out += "],\"input\":";
  out += input.empty() ? "[]" : input;
  if (!native.empty()) {
    out += ",\"native\":";
    json::appendEscaped(out, native);
  }
  out += '}';
  return out;
}

const chat::Dialect& dialect() {
  static const ResponsesDialect DIALECT;
  return DIALECT;
}

}  // namespace gw::openai_responses
