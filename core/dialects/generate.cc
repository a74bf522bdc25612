#include "dialects/generate.h"

#include "gw/json_writer.h"
#include "gw/periods.h"

namespace gw::generate_dialect {

namespace {

using json::Kind;

std::string errorEvent(const ApiError& e) {
  std::string out = "data: ";
  json::Writer w(out);
  w.beginObject().field("type", "error").key("error").beginObject();
  writeErrorFields(w, e);
  w.endObject().endObject();
  out += "\n\n";
  return out;
}

void writeSummary(json::Writer& w, const chat::CallSummary& s, std::string_view content) {
  w.field("requestId", s.requestId).field("content", content);
  w.key("usage").beginObject().field("promptTokens", s.usage.promptTokens);
  w.field("completionTokens", s.usage.completionTokens).field("totalTokens", s.usage.totalTokens);
  if (s.usage.cachedPromptTokens) w.field("cachedTokens", s.usage.cachedPromptTokens);
  if (s.usage.estimated) w.field("estimated", true);
  w.endObject();
  w.field("latencyMs", s.latencyMs);
  w.key("cost").raw(formatPico(s.cost.picoUsd)).key("costBrl").raw(formatPico(s.cost.picoBrl));
  w.field("model", s.model).field("provider", s.provider);
  w.field("finishReason", s.finishReason.empty() ? "stop" : s.finishReason);
  w.field("timestamp", isoTimestamp(s.nowMs));
}

class GenerateWriter : public chat::StreamWriter {
 public:
  void text(int choice, std::string_view delta) override {
    if (choice != 0) return;
    content_.append(delta);
    outputBytes_ += delta.size();
    out_ += "data: ";
    json::Writer(out_).beginObject().field("type", "delta").field("content", delta).endObject();
    out_ += "\n\n";
  }
  void toolCall(int, int, std::string_view, std::string_view) override {}
  void toolArguments(int, int, std::string_view) override {}
  void finish(int choice, std::string_view reason) override {
    if (choice == 0) finish_ = std::string(reason);
  }
  void end(const chat::CallSummary& summary) override {
    chat::CallSummary s = summary;
    s.finishReason = finish_;
    out_ += "data: ";
    json::Writer w(out_);
    w.beginObject().field("type", "done");
    writeSummary(w, s, content_);
    w.endObject();
    out_ += "\n\n";
  }
  void failure(const ApiError& e) override { out_ += errorEvent(e); }

 private:
  std::string content_;
  std::string finish_;
};

class GenerateDialect : public chat::Dialect {
 public:
  std::string streamErrorEvent(const ApiError& e) const override { return errorEvent(e); }
  std::unique_ptr<chat::StreamWriter> streamWriter(const chat::CallSummary&, bool) const override {
    return std::make_unique<GenerateWriter>();
  }
  std::string renderCompletion(const Completion& c, const chat::CallSummary& summary) const override {
    std::string out;
    json::Writer w(out);
    w.beginObject();
    writeSummary(w, summary, c.choices.empty() ? std::string_view() : std::string_view(c.choices[0].content));
    w.endObject();
    return out;
  }
};

const GenerateDialect DIALECT;

bool optionalBoolean(const json::Tape& t, uint32_t v) {
  return v == 0 || t.kind(v) == Kind::True || t.kind(v) == Kind::False || t.kind(v) == Kind::Null;
}

}  // namespace

ApiError read(std::string_view body, Request& r) {
  json::Tape& t = r.tape;
  if (!t.parse(body)) return unreadableBody(t.error());
  if (t.kind(t.root()) != Kind::Object) return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
  const uint32_t root = t.root();
  if (t.find(root, "messages") == 0) return missingParameter("messages");
  uint32_t maxTokens = t.find(root, "maxTokens");
  if (maxTokens != 0 && t.kind(maxTokens) != Kind::Number && t.kind(maxTokens) != Kind::Null)
    return invalidType("maxTokens", "an integer", "another value");
  for (const char* id : {"tenantId", "userId", "agentId"}) {
    uint32_t v = t.find(root, id);
    if (v != 0 && t.kind(v) != Kind::String && t.kind(v) != Kind::Null) return invalidType(id, "a string", "another value");
  }
  r.tenantId = t.stringAt(root, "tenantId");
  r.userId = t.stringAt(root, "userId");
  r.agentId = t.stringAt(root, "agentId");
  const uint32_t useCache = t.find(root, "useCache");
  if (!optionalBoolean(t, useCache)) return invalidType("useCache", "a boolean", "another value");
  r.useCache = useCache == 0 || t.kind(useCache) != Kind::False;
  if (!optionalBoolean(t, t.find(root, "stream"))) return invalidType("stream", "a boolean", "another value");
  return {};
}

void translate(const Request& r, std::string_view user, std::string& out) {
  const json::Tape& t = r.tape;
  const uint32_t root = t.root();
  json::Writer w(out);
  w.beginObject();
  uint32_t model = t.find(root, "model");
  if (model != 0 && t.kind(model) != Kind::Null) w.key("model").raw(t.raw(model));
  else w.field("model", "default");
  w.key("messages").raw(t.raw(t.find(root, "messages")));
  uint32_t temperature = t.find(root, "temperature");
  if (temperature != 0) w.key("temperature").raw(t.raw(temperature));
  uint32_t maxTokens = t.find(root, "maxTokens");
  if (maxTokens != 0) w.key("max_tokens").raw(t.raw(maxTokens));
  if (!user.empty()) w.field("user", user);
  uint32_t stream = t.find(root, "stream");
  if (stream != 0 && t.kind(stream) == Kind::True) w.field("stream", true);
  w.endObject();
}

const chat::Dialect& dialect() { return DIALECT; }

}  // namespace gw::generate_dialect
