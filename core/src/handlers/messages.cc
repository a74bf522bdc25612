// POST /v1/messages: Anthropic clients, any provider. An Anthropic target
// gets the body as the client sent it (model renamed, anthropic-version and
// anthropic-beta passed) and its answer goes back as it came; any other
// runs the chat pipeline on the translated request, answered in
// Anthropic's shapes.
#include "dialects/anthropic_messages.h"
#include "../chat/pipeline.h"
#include "gw/json_tape.h"
#include "handlers.h"
#include "wire/anthropic_messages.h"

namespace gw::handlers {

namespace {

// Top-level fields the chat request carries as they are (cache_control
// inside them changes no answer).
bool untranslatedFields(const json::Tape& t) {
  static constexpr std::string_view TRANSLATED[] = {"model",  "max_tokens",     "messages", "system",
                                                    "temperature", "top_p", "stop_sequences", "stream",
                                                    "tools",  "tool_choice", "metadata"};
  for (uint32_t k = t.firstChild(t.root()); k != 0; k = t.nextSibling(t.root(), k + 1)) {
    bool known = false;
    for (std::string_view name : TRANSLATED) known = known || t.stringEquals(k, name);
    if (!known) return true;
  }
  return false;
}

class Messages : public chat::ChatPipeline {
 public:
  Messages() : ChatPipeline(anthropic_dialect::dialect()) {}

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    ApiError e = anthropic_dialect::translateRequest(s.body(), translated, nativeOnly_);
    // An Anthropic target gets what the translation leaves out (documents,
    // thinking budgets, top_k, fields not yet known): a request carrying any
    // of it is cached on the body as sent. The rest share their entries
    // with chat clients' equal requests.
    if (!e && clientBody_.parse(s.body()) && (!nativeOnly_.empty() || untranslatedFields(clientBody_))) {
      cacheKeyRequest_ = &clientBody_;
      cacheEndpoint_ = "messages";
    }
    return e;
  }
  ApiError encodeRequest(Session& s, const Target& target, UpstreamRequest& out, const AnswerCodec*& native) override {
    if (target.provider->format == WireFormat::AnthropicMessages) {
      native = &chatCodec(WireFormat::AnthropicMessages);
      return anthropic_messages::encodeNative(s.body(), s.request().header("anthropic-version"),
                                              s.request().header("anthropic-beta"), target, out);
    }
    if (!nativeOnly_.empty())
      return invalidValue(nativeOnly_, "this content block is Anthropic's own; provider '" + target.provider->id +
                                           "' cannot take it.");
    return ChatPipeline::encodeRequest(s, target, out, native);
  }
  const char* apiType() const override { return "messages"; }

 private:
  std::string nativeOnly_;  // the first content only an Anthropic target takes
  json::Tape clientBody_;
};

}  // namespace

std::unique_ptr<Handler> messages() { return std::make_unique<Messages>(); }

}  // namespace gw::handlers
