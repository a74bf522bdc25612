// POST /v1/messages/count_tokens: how many input tokens a Messages request
// is. Anthropic's own count for Anthropic models (the body passed as sent,
// the model renamed); for any other, the gateway's estimate, marked so.
#include "../chat/pipeline.h"
#include "dialects/anthropic_messages.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "gw/model_resolver.h"
#include "handlers.h"
#include "wire/anthropic_messages.h"
#include "wire/provider_fetch.h"

namespace gw::handlers {

namespace {

using json::Kind;

// Text bytes of a string or of the text-bearing blocks in an array.
size_t textBytes(const json::Tape& t, uint32_t v) {
  if (t.kind(v) == Kind::String) return t.rawString(v).size();
  size_t n = 0;
  if (t.kind(v) == Kind::Array)
    for (uint32_t b = t.firstChild(v); b != 0; b = t.nextSibling(v, b)) {
      for (const char* key : {"text", "thinking", "content"}) {
        uint32_t part = t.find(b, key);
        if (part != 0) n += t.kind(part) == Kind::String ? t.rawString(part).size() : textBytes(t, part);
      }
      uint32_t input = t.find(b, "input");
      if (input != 0) n += t.raw(input).size();
    }
  return n;
}

class CountTokens : public Handler {
 public:
  std::string renderError(const ApiError& e) const override { return anthropic_dialect::dialect().renderError(e); }
  std::string_view requestIdHeader() const override { return "request-id"; }

  void start(Session& s) override {
    // The same checks, the same errors (max_tokens, which counting does not take, aside).
    std::string chat, nativeOnly, probe(s.body());
    json::Tape t;
    if (t.parse(s.body()) && t.kind(t.root()) == Kind::Object && t.find(t.root(), "max_tokens") == 0)
      probe.insert(t.node(t.root()).begin + 1, "\"max_tokens\":1,");
    if (ApiError e = anthropic_dialect::translateRequest(probe, chat, nativeOnly)) return fail(s, e);
    const std::string model = t.stringAt(t.root(), "model");
    if (ApiError e = resolveModel(s.config(), model, ModelKind::Chat, target_)) return fail(s, e);
    if (ApiError e = chat::checkModelAllowed(s.principal(), model, target_)) return fail(s, e);
    const ProviderConfig& p = *target_.provider;
    s.record().model = model;
    s.record().provider = p.id;
    s.record().upstreamModel = target_.upstream;
    if (p.format == WireFormat::AnthropicMessages && usable(p, tenantKeyFor(s, p.id)) && !p.builtinDemo)
      return askAnthropic(s);
    // The estimate: ~4 bytes a token over the system prompt, the messages and the tools, and 4 a message.
    size_t bytes = textBytes(t, t.find(t.root(), "system"));
    uint32_t messages = t.find(t.root(), "messages");
    size_t count = 0;
    for (uint32_t m = t.firstChild(messages); m != 0; m = t.nextSibling(messages, m), ++count)
      bytes += textBytes(t, t.find(m, "content"));
    uint32_t tools = t.find(t.root(), "tools");
    if (tools != 0) bytes += t.raw(tools).size();
    std::string body;
    json::Writer(body).beginObject().field("input_tokens", static_cast<int64_t>((bytes + 3) / 4 + 4 * count)).field("estimated", true).endObject();
    s.respondJson(200, body, {{"x-aigw-usage-estimated", "true"}, {"x-aigw-provider", p.id}});
    s.finish(200, "ok");
  }

 private:
  void askAnthropic(Session& s) {
    const ProviderConfig& p = *target_.provider;
    UpstreamRequest up;
    if (ApiError e = anthropic_messages::encodeNative(s.body(), s.request().header("anthropic-version"),
                                                      s.request().header("anthropic-beta"), target_, up))
      return fail(s, e);
    FetchSpec f = providerFetch(p, false, tenantKeyFor(s, p.id), s.principal().tenantId);
    f.url = endpointUrl(p, target_.upstream, "messages/count_tokens");
    f.body = std::move(up.body);
    setHeaders(f, up.headers);
    f.timeoutMs = p.timeoutMs > 0 ? p.timeoutMs : s.config().requestTimeoutMs;
    s.record().attempts = 1;
    s.fetchWhole(f, 1 << 16, [this](Session& s, const FetchOutcome& o) {
      const ProviderConfig& p = *target_.provider;
      if (!o.reason.empty())
        return fail(s, serverError(502, "Could not reach the upstream provider '" + p.id + "': " + o.failure(),
                                   "upstream_error", "upstream_unreachable"));
      if (!o.ok()) return fail(s, anthropic_messages::mapProviderError(o.status, o.body, p.id));
      s.respondJson(200, o.body, {{"x-aigw-provider", p.id}});
      s.finish(200, "ok");
    });
  }
  void fail(Session& s, const ApiError& e) {
    s.respondError(e);
    s.finish(e.status, e.code.empty() ? e.type : e.code, e);
  }

  Target target_;
};

}  // namespace

std::unique_ptr<Handler> countTokens() { return std::make_unique<CountTokens>(); }

}  // namespace gw::handlers
