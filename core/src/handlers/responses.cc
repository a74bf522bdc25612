// POST /v1/responses: the OpenAI Responses API, any provider. The chat
// pipeline with the request translated from, and the answer rendered as,
// the Responses API's shapes. The stored responses a request continues
// (previous_response_id) or refers to (item_reference) are read first; an
// answer is stored unless `store` is false.
#include <set>

#include "dialects/openai_responses.h"
#include "../chat/pipeline.h"
#include "gw/json_tape.h"
#include "handlers.h"
#include "stored_responses.h"

namespace gw::handlers {

namespace {

using json::Kind;

// Most stored responses one request may read (its previous one and those its item references name).
constexpr size_t MAX_STORED_READS = 16;

class Responses : public chat::ChatPipeline {
 public:
  Responses() : ChatPipeline(openai_responses::dialect()) {}

  void start(Session& s) override {
    std::set<std::string> ids;
    json::Tape t;
    if (t.parse(s.body()) && t.kind(t.root()) == Kind::Object) {
      previous_.id = t.stringAt(t.root(), "previous_response_id");
      if (!previous_.id.empty() && previous_.id.size() <= 128) ids.insert(previous_.id);
      uint32_t input = t.find(t.root(), "input");
      if (input != 0 && t.kind(input) == Kind::Array)
        for (uint32_t item = t.firstChild(input); item != 0; item = t.nextSibling(input, item))
          if (t.stringEquals(t.find(item, "type"), "item_reference"))
            if (std::string id = openai_responses::responseIdOfItem(t.stringAt(item, "id")); !id.empty()) ids.insert(id);
    }
    if (ids.size() > MAX_STORED_READS)
      return fail(s, invalidValue("input", "the items refer to more than " + std::to_string(MAX_STORED_READS) +
                                               " stored responses."));
    toRead_.assign(ids.begin(), ids.end());
    readNext(s);
  }

 protected:
  ApiError translateRequest(Session& s, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    ApiError e = openai_responses::translateRequest(s.body(), previous_.conversation.empty() ? nullptr : &previous_,
                                                    &items_, t_);
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
  // Reads the stored responses one by one, then runs the pipeline. One not
  // found is left out: the translation names what is missing.
  void readNext(Session& s) {
    if (next_ == toRead_.size()) return ChatPipeline::start(s);
    const std::string& id = toRead_[next_++];
    s.kvGet(storedResponseKey(s.principal().tenantId, id), [this, id](Session& s, const EffectResult& r) {
      if (!r.ok && !r.message.empty())
        return fail(s, serverError(503, "Stored responses cannot be read right now; retry shortly.", "server_error",
                                   "storage_unavailable"));
      if (r.ok) keep(id, r.data);
      readNext(s);
    });
  }
  void keep(const std::string& id, std::string_view data) {
    stored_.push_back(std::make_unique<std::string>(data));
    tapes_.push_back(std::make_unique<json::Tape>());
    json::Tape& t = *tapes_.back();
    if (!t.parse(*stored_.back()) || t.kind(t.root()) != Kind::Object) return;
    if (id == previous_.id) {
      uint32_t conversation = t.find(t.root(), "conversation");
      if (conversation != 0 && t.kind(conversation) == Kind::Array) previous_.conversation = t.raw(conversation);
    }
    uint32_t output = t.find(t.find(t.root(), "response"), "output");
    if (output == 0 || t.kind(output) != Kind::Array) return;
    for (uint32_t item = t.firstChild(output); item != 0; item = t.nextSibling(output, item)) {
      std::string itemId = t.stringAt(item, "id");
      if (!itemId.empty()) items_.emplace(std::move(itemId), t.raw(item));
    }
  }
  void fail(Session& s, const ApiError& e) {
    s.respondError(e);
    s.finish(e.status, e.code, e);
  }

  openai_responses::Previous previous_;
  std::vector<std::string> toRead_;
  size_t next_ = 0;
  // What was read, kept whole: previous_ and items_ point into it.
  std::vector<std::unique_ptr<std::string>> stored_;
  std::vector<std::unique_ptr<json::Tape>> tapes_;
  openai_responses::StoredItems items_;
  openai_responses::Translation t_;
};

}  // namespace

std::unique_ptr<Handler> responses() { return std::make_unique<Responses>(); }

}  // namespace gw::handlers
