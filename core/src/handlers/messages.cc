// POST /v1/messages: Anthropic clients, any provider. An Anthropic target
// gets the body as the client sent it (model renamed, anthropic-version and
// anthropic-beta passed) and its answer goes back as it came; any other
// runs the chat pipeline on the translated request, answered in
// Anthropic's shapes.
#include "dialects/anthropic_messages.h"
#include "../chat/pipeline.h"
#include "handlers.h"
#include "wire/anthropic_messages.h"

namespace gw::handlers {

namespace {

class Messages : public chat::ChatPipeline {
 public:
  Messages() : ChatPipeline(anthropic_dialect::dialect()) {}

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    return anthropic_dialect::translateRequest(s.body(), translated, nativeOnly_);
  }
  ApiError encodeRequest(Session& s, const Target& target, UpstreamRequest& out, bool& native) override {
    if (target.provider->format == WireFormat::AnthropicMessages) {
      native = true;
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
};

}  // namespace

std::unique_ptr<Handler> messages() { return std::make_unique<Messages>(); }

}  // namespace gw::handlers
