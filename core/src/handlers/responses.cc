// POST /v1/responses: the OpenAI Responses API, any provider. The chat
// pipeline with the request translated from, and the answer rendered as,
// the Responses API's shapes.
#include "dialects/openai_responses.h"
#include "../chat/pipeline.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

class Responses : public chat::ChatPipeline {
 public:
  Responses() : ChatPipeline(openai_responses::dialect()) {}

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    return openai_responses::translateRequest(s.body(), translated, echo_);
  }
  const char* apiType() const override { return "responses"; }
};

}  // namespace

std::unique_ptr<Handler> responses() { return std::make_unique<Responses>(); }

}  // namespace gw::handlers
