#include "demo.h"

#include "gw/json_writer.h"

namespace gw::demo {

namespace {

int64_t estimateTokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

void writeUsage(json::Writer& w, const Usage& u) {
  w.key("usage").beginObject();
  w.field("prompt_tokens", u.promptTokens).field("completion_tokens", u.completionTokens);
  w.field("total_tokens", u.totalTokens).endObject();
}

void chunkHeader(json::Writer& w, std::string_view model, std::string_view id, int64_t created) {
  w.beginObject().field("id", id).field("object", "chat.completion.chunk").field("created", created);
  w.field("model", model).field("system_fingerprint", "aigw-demo");
}

}  // namespace

Reply compose(const ChatRequest& req) {
  Reply r;
  std::string said = req.lastUserText.substr(0, 200);
  r.text = "Hello from the edge AI gateway's built-in demo upstream (no provider key is set, so no model was called).";
  if (!said.empty()) r.text += " You said: \"" + said + (req.lastUserText.size() > 200 ? "...\"" : "\"");
  r.usage.known = true;
  r.usage.promptTokens = estimateTokens(req.promptBytes);
  r.usage.completionTokens = estimateTokens(r.text.size());
  r.usage.totalTokens = r.usage.promptTokens + r.usage.completionTokens;
  return r;
}

std::string completionJson(const Reply& reply, std::string_view model, std::string_view id, int64_t created) {
  std::string out;
  json::Writer w(out);
  w.beginObject().field("id", id).field("object", "chat.completion").field("created", created).field("model", model);
  w.key("choices").beginArray().beginObject().field("index", 0);
  w.key("message").beginObject().field("role", "assistant").field("content", reply.text).key("refusal").null();
  w.endObject();
  w.key("logprobs").null().field("finish_reason", "stop").endObject().endArray();
  writeUsage(w, reply.usage);
  w.field("system_fingerprint", "aigw-demo").endObject();
  return out;
}

std::string completionStream(const Reply& reply, std::string_view model, std::string_view id, int64_t created,
                             bool includeUsage) {
  std::string out;
  auto event = [&](auto&& body) {
    out += "data: ";
    json::Writer w(out);
    chunkHeader(w, model, id, created);
    body(w);
    w.endObject();
    out += "\n\n";
  };
  event([](json::Writer& w) {
    w.key("choices").beginArray().beginObject().field("index", 0);
    w.key("delta").beginObject().field("role", "assistant").field("content", "").endObject();
    w.key("logprobs").null().key("finish_reason").null().endObject().endArray();
  });
  // Word-sized pieces, as a real model streams them.
  size_t start = 0;
  while (start < reply.text.size()) {
    size_t end = reply.text.find(' ', start + 1);
    end = end == std::string::npos ? reply.text.size() : end;
    std::string_view piece(reply.text.data() + start, end - start);
    event([&](json::Writer& w) {
      w.key("choices").beginArray().beginObject().field("index", 0);
      w.key("delta").beginObject().field("content", piece).endObject();
      w.key("logprobs").null().key("finish_reason").null().endObject().endArray();
    });
    start = end;
  }
  event([](json::Writer& w) {
    w.key("choices").beginArray().beginObject().field("index", 0);
    w.key("delta").beginObject().endObject();
    w.key("logprobs").null().field("finish_reason", "stop").endObject().endArray();
  });
  if (includeUsage) {
    event([&](json::Writer& w) {
      w.key("choices").beginArray().endArray();
      writeUsage(w, reply.usage);
    });
  }
  out += "data: [DONE]\n\n";
  return out;
}

}  // namespace gw::demo
