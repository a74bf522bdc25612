// POST /v1/responses: the OpenAI Responses API, any provider. The chat
// pipeline with the request translated from, and the answer rendered as,
// the Responses API's shapes. A request naming previous_response_id reads
// that stored response first; an answer is stored unless `store` is false.
#include "dialects/openai_responses.h"
#include "../chat/pipeline.h"
#include "gw/json_tape.h"
#include "handlers.h"
#include "stored_responses.h"

namespace gw::handlers {

namespace {

class Responses : public chat::ChatPipeline {
 public:
  Responses() : ChatPipeline(openai_responses::dialect()) {}

  void start(Session& s) override {
    previous_.id = openai_responses::previousResponseId(s.body());
    if (previous_.id.empty() || previous_.id.size() > 128) return ChatPipeline::start(s);
    s.kvGet(storedResponseKey(s.principal().tenantId, previous_.id), [this](Session& s, const EffectResult& r) {
      if (r.ok) {
        stored_ = std::string(r.data);
        json::Tape t;
        if (t.parse(stored_) && t.kind(t.root()) == json::Kind::Object) {
          uint32_t conversation = t.find(t.root(), "conversation");
          if (conversation != 0 && t.kind(conversation) == json::Kind::Array) previous_.conversation = t.raw(conversation);
        }
      } else if (!r.message.empty()) {
        // KV is down: the conversation cannot be read, which is not the client's fault.
        return fail(s, serverError(503, "Stored responses cannot be read right now; retry shortly.", "server_error",
                                   "storage_unavailable"));
      }
      found_ = r.ok && !previous_.conversation.empty();
      ChatPipeline::start(s);
    });
  }

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    ApiError e = openai_responses::translateRequest(s.body(), found_ ? &previous_ : nullptr, t_);
    translated = std::move(t_.chat);
    echo_ = t_.echo;
    return e;
  }
  const char* apiType() const override { return "responses"; }
  bool keepsAnswers() const override { return t_.store; }
  void onAnswer(Session& s, const Completion& c, const chat::CallSummary& sum) override {
    if (!t_.store || c.choices.empty()) return;
    std::string doc = openai_responses::storedResponse(openai_responses::dialect().renderCompletion(c, sum),
                                                       t_.conversation, c, t_.input);
    if (doc.size() > openai_responses::MAX_STORED_BYTES) return;
    const std::string id = "resp_" + s.requestId().substr(5);
    s.kvPut(storedResponseKey(s.principal().tenantId, id), doc, [](Session&, const EffectResult&) {},
            s.config().responsesRetentionDays * 86400);
  }

 private:
  void fail(Session& s, const ApiError& e) {
    s.respondError(e);
    s.finish(e.status, e.code, e);
  }

  openai_responses::Previous previous_;
  std::string stored_;  // the stored response previous_ points into
  bool found_ = false;
  openai_responses::Translation t_;
};

}  // namespace

std::unique_ptr<Handler> responses() { return std::make_unique<Responses>(); }

}  // namespace gw::handlers
