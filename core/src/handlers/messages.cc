// POST /v1/messages: Anthropic clients, any provider. The chat pipeline with
// the request translated from, and the answer rendered in, Anthropic's shapes.
#include "dialects/anthropic_messages.h"
#include "../chat/pipeline.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

class Messages : public chat::ChatPipeline {
 public:
  Messages() : ChatPipeline(anthropic_dialect::dialect()) {}

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    return anthropic_dialect::translateRequest(s.body(), translated);
  }
  const char* apiType() const override { return "messages"; }
};

}  // namespace

std::unique_ptr<Handler> messages() { return std::make_unique<Messages>(); }

}  // namespace gw::handlers
