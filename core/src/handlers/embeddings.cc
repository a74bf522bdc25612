// POST /v1/embeddings: OpenAI-compatible providers get the request with the
// model renamed and answer byte for byte; Gemini gets embedContent /
// batchEmbedContents and its answer is rebuilt in OpenAI's shape (base64
// float32 when asked, as the openai SDK asks by default). Priced per input
// token; Gemini reports no usage, so its tokens are estimated.
#include <cstring>

#include "wire/gemini_generate.h"
#include "wire/openai_chat.h"
#include "../chat/pipeline.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/model_resolver.h"
#include "gw/pricing.h"
#include "handlers.h"
#include "body_limit.h"
#include "wire/provider_fetch.h"

namespace gw::handlers {

namespace {

using json::Kind;

void appendBase64Floats(std::string& out, const json::Tape& t, uint32_t values) {
  static const char TABLE[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  bytes.reserve(t.node(values).count * 4);
  for (uint32_t v = t.firstChild(values); v != 0; v = t.nextSibling(values, v)) {
    float f = static_cast<float>(t.number(v));
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));  // little-endian
  }
  out.push_back('"');
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | static_cast<uint8_t>(bytes[i + 1]) << 8 |
                 static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 3; k >= 0; --k) out.push_back(TABLE[(n >> (6 * k)) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 | (i + 1 < bytes.size() ? static_cast<uint8_t>(bytes[i + 1]) << 8 : 0);
    out.push_back(TABLE[(n >> 18) & 63]);
    out.push_back(TABLE[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? TABLE[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  out.push_back('"');
}

// An OpenAI-shaped answer with each `embedding` array of floats replaced by
// its base64 float32 form, for a client that asked for base64 from a
// provider that ignores encoding_format (vLLM, TEI, infinity, sglang):
// the SDKs ask for base64 by default and decode a float array as nothing.
// False when the body is not that shape (it is then passed as it came).
bool floatsToBase64(std::string_view body, std::string& out) {
  json::Tape t;
  if (!t.parse(body) || t.kind(t.root()) != Kind::Object) return false;
  const uint32_t data = t.find(t.root(), "data");
  if (data == 0 || t.kind(data) != Kind::Array) return false;
  size_t cursor = 0;
  for (uint32_t item = t.firstChild(data); item != 0; item = t.nextSibling(data, item)) {
    const uint32_t values = t.kind(item) == Kind::Object ? t.find(item, "embedding") : 0;
    if (values == 0 || t.kind(values) != Kind::Array) continue;
    for (uint32_t v = t.firstChild(values); v != 0; v = t.nextSibling(values, v))
      if (t.kind(v) != Kind::Number) return false;
    out.append(body.substr(cursor, t.node(values).begin - cursor));
    appendBase64Floats(out, t, values);
    cursor = t.node(values).end;
  }
  out.append(body.substr(cursor));
  return true;
}

class Embeddings : public Handler {
 public:
  Access access() const override { return Access::Metered; }
  const char* apiType() const override { return "embeddings"; }
  void start(Session& s) override {
    const Config& c = s.config();
    if (ApiError e = bodyTooLarge(s)) return fail(s, e);
    if (ApiError e = validate(s.body())) return fail(s, e);
    s.record().model = model_;
    if (ApiError e = resolveModel(c, model_, ModelKind::Embedding, target_)) return fail(s, e);
    if (ApiError e = chat::checkModelAllowed(s.principal(), model_, target_)) return fail(s, e);
    const ProviderConfig& p = *target_.provider;
    RequestRecord& record = s.record();
    record.provider = p.id;
    record.upstreamModel = target_.upstream;
    if (!usable(p, tenantKeyFor(s, p.id)) || p.builtinDemo) return fail(s, providerNotConfigured(p));
    record.meter.reserve(s, worstCase(target_.price, inputBytes_, 1, 0, c.usdBrlRateMicro),
                         [this](Session& s, const ApiError& e) {
                           if (e) return fail(s, e);
                           send(s);
                         });
  }

  void send(Session& s) {
    const Config& c = s.config();
    const ProviderConfig& p = *target_.provider;
    FetchSpec f = providerFetch(p, false, tenantKeyFor(s, p.id), s.principal().tenantId);
    if (p.format == WireFormat::OpenAiChat) {
      f.url = endpointUrl(p, target_.upstream, "embeddings");
      f.body = renameModel();
    } else if (p.format == WireFormat::GeminiGenerate) {
      if (!texts_) return fail(s, invalidValue("input", "provider '" + p.id + "' embeds text only, not token arrays."));
      encodeGemini(f);
    } else {
      return fail(s, invalidRequest("Provider '" + p.id + "' does not offer embeddings.", "model", "model_not_supported"));
    }
    f.timeoutMs = p.timeoutMs > 0 ? p.timeoutMs : c.requestTimeoutMs;
    s.fetchWhole(f, static_cast<size_t>(c.maxUpstreamBodyBytes), [this](Session& s, const FetchOutcome& o) { answered(s, o); });
    s.record().attempts = 1;
  }

  void answered(Session& s, const FetchOutcome& o) {
    const ProviderConfig& p = *target_.provider;
    if (o.reason == "too_large")
      return fail(s, serverError(502, "The upstream response exceeded the gateway's size limit.", "upstream_error",
                                 "upstream_response_too_large"));
    if (o.reason == "timeout")
      return fail(s, serverError(504, "The upstream provider '" + p.id + "' did not answer in time.", "timeout_error",
                                 "upstream_timeout"));
    if (!o.reason.empty())
      return fail(s, serverError(502, "Could not reach the upstream provider '" + p.id + "': " + std::string(o.error),
                                 "upstream_error", "upstream_unreachable"));
    buffer_ = o.body;
    if (o.status < 200 || o.status >= 300) return fail(s, chatCodec(p.format).mapError(o.status, buffer_, p));
    std::string body;
    if (p.format == WireFormat::GeminiGenerate) {
      if (!decodeGemini(body)) {
        return fail(s, serverError(502, "Upstream provider '" + p.id + "' sent a response the gateway cannot read.",
                                   "upstream_error", "upstream_bad_response"));
      }
    } else {
      usage_ = openai_chat::decodeResponseUsage(buffer_, p.quirks);
      usage_.completionTokens = 0;
      usage_.totalTokens = usage_.promptTokens;
      if (base64_ && floatsToBase64(buffer_, body)) buffer_.swap(body);
    }
    if (!usage_.known) estimateInputUsage();
    // Embeddings are not cached (yet): every answer says so.
    Headers h = {{"x-aigw-provider", p.id}, {"x-aigw-model", target_.upstream}, {"x-aigw-cache", "BYPASS"}};
    RequestRecord& record = s.record();
    record.usage = usage_;
    record.cost = priceUsage(target_.price, usage_, s.config().usdBrlRateMicro);
    record.meter.addHeaders(h);
    if (record.cost.priced) {
      h.emplace_back("x-aigw-cost-usd", formatPico(record.cost.picoUsd));
      h.emplace_back("x-aigw-cost-brl", formatPico(record.cost.picoBrl));
    }
    if (usage_.estimated) h.emplace_back("x-aigw-usage-estimated", "true");
    s.respondJson(200, p.format == WireFormat::GeminiGenerate ? std::string_view(body) : std::string_view(buffer_), h);
    s.finish(200, "ok");
  }
 private:
  ApiError validate(std::string_view body) {
    json::Tape& t = tape_;
    if (!t.parse(body)) return unreadableBody(t.error());
    const uint32_t root = t.root();
    if (t.kind(root) != Kind::Object) return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
    uint32_t model = t.find(root, "model");
    if (model == 0 || t.kind(model) == Kind::Null) return missingParameter("model");
    if (t.kind(model) != Kind::String || t.rawString(model).empty())
      return invalidValue("model", "expected a non-empty model name.");
    model_ = t.string(model);
    modelNode_ = model;
    input_ = t.find(root, "input");
    if (input_ == 0 || t.kind(input_) == Kind::Null) return missingParameter("input");
    if (t.kind(input_) == Kind::String) {
      inputBytes_ = t.rawString(input_).size();
      texts_ = true;
    } else if (t.kind(input_) == Kind::Array && t.node(input_).count > 0) {
      if (t.node(input_).count > 2048) return invalidValue("input", "expected at most 2048 inputs.");
      uint32_t i = 0;
      Kind first = t.kind(t.firstChild(input_));
      for (uint32_t e = t.firstChild(input_); e != 0; e = t.nextSibling(input_, e), ++i) {
        const std::string path = "input[" + std::to_string(i) + "]";
        if (t.kind(e) != first) return invalidValue("input", "expected strings, token arrays, or one or the other only.");
        if (t.kind(e) == Kind::String) inputBytes_ += t.rawString(e).size();
        else if (t.kind(e) == Kind::Number) inputBytes_ += 4;
        else if (t.kind(e) == Kind::Array) inputBytes_ += 4 * t.node(e).count;
        else return invalidType(path, "a string or an array of token ids", "another value");
      }
      texts_ = first == Kind::String;
    } else {
      return invalidValue("input", "expected a non-empty string or array.");
    }
    uint32_t format = t.find(root, "encoding_format");
    if (format != 0 && t.kind(format) != Kind::Null) {
      if (!t.stringEquals(format, "float") && !t.stringEquals(format, "base64"))
        return invalidValue("encoding_format", "expected 'float' or 'base64'.");
      base64_ = t.stringEquals(format, "base64");
    }
    uint32_t dims = t.find(root, "dimensions");
    if (dims != 0 && t.kind(dims) != Kind::Null) {
      if (!t.isInteger(dims, &dimensions_) || dimensions_ < 1 || dimensions_ > 100000)
        return invalidValue("dimensions", "expected a positive integer.");
    }
    return {};
  }

  // Embeddings have input tokens only.
  void estimateInputUsage() { estimateUsage(usage_, inputBytes_, 0, 0); }

  std::string renameModel() const {
    const json::Tape& t = tape_;
    std::string out(t.text().substr(0, t.node(modelNode_).begin));
    json::appendEscaped(out, target_.upstream);
    out.append(t.text().substr(t.node(modelNode_).end));
    return out;
  }

  void writeGeminiRequest(json::Writer& w, uint32_t text) const {
    w.key("content").beginObject().key("parts").beginArray().beginObject().field("text", tape_.string(text));
    w.endObject().endArray().endObject();
    if (dimensions_ > 0) w.field("outputDimensionality", dimensions_);
  }

  void encodeGemini(FetchSpec& f) const {
    const ProviderConfig& p = *target_.provider;
    json::Writer w(f.body);
    if (tape_.kind(input_) == Kind::String) {
      f.url = endpointUrl(p, target_.upstream, "models/" + target_.upstream + ":embedContent");
      w.beginObject();
      writeGeminiRequest(w, input_);
      w.endObject();
      return;
    }
    f.url = endpointUrl(p, target_.upstream, "models/" + target_.upstream + ":batchEmbedContents");
    w.beginObject().key("requests").beginArray();
    for (uint32_t e = tape_.firstChild(input_); e != 0; e = tape_.nextSibling(input_, e)) {
      w.beginObject().field("model", "models/" + target_.upstream);
      writeGeminiRequest(w, e);
      w.endObject();
    }
    w.endArray().endObject();
  }

  bool decodeGemini(std::string& out) {
    json::Tape t;
    if (!t.parse(buffer_) || t.kind(t.root()) != Kind::Object) return false;
    std::vector<uint32_t> vectors;
    uint32_t single = t.find(t.root(), "embedding");
    uint32_t many = t.find(t.root(), "embeddings");
    if (single != 0 && t.kind(single) == Kind::Object) vectors.push_back(t.find(single, "values"));
    if (many != 0 && t.kind(many) == Kind::Array)
      for (uint32_t e = t.firstChild(many); e != 0; e = t.nextSibling(many, e)) vectors.push_back(t.find(e, "values"));
    if (vectors.empty()) return false;
    json::Writer w(out);
    w.beginObject().field("object", "list").key("data").beginArray();
    int index = 0;
    for (uint32_t values : vectors) {
      if (values == 0 || t.kind(values) != Kind::Array) return false;
      w.beginObject().field("object", "embedding").field("index", index++).key("embedding");
      if (base64_) {
        std::string encoded;
        appendBase64Floats(encoded, t, values);
        w.raw(encoded);
      } else {
        w.raw(t.raw(values));
      }
      w.endObject();
    }
    estimateInputUsage();
    w.endArray().field("model", model_).key("usage").beginObject().field("prompt_tokens", usage_.promptTokens);
    w.field("total_tokens", usage_.totalTokens).endObject().endObject();
    return true;
  }

  void fail(Session& s, const ApiError& e) {
    Headers h;
    if (target_.provider != nullptr) h = {{"x-aigw-provider", target_.provider->id}, {"x-aigw-model", target_.upstream}};
    h.emplace_back("x-aigw-cache", "BYPASS");
    s.record().meter.addHeaders(h);
    s.respondError(e, h);
    s.finish(e.status, e.code.empty() ? e.type : e.code, e);
  }

  json::Tape tape_;
  std::string model_;
  uint32_t modelNode_ = 0;
  uint32_t input_ = 0;
  size_t inputBytes_ = 0;
  bool texts_ = false;
  bool base64_ = false;
  int64_t dimensions_ = 0;
  Target target_;
  std::string buffer_;
  Usage usage_;
};

}  // namespace

std::unique_ptr<Handler> embeddings() { return std::make_unique<Embeddings>(); }

}  // namespace gw::handlers
