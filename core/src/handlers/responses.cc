// POST /v1/responses: the OpenAI Responses API, any provider. A provider
// that serves the Responses API itself (OpenAI) gets the body as sent, and
// its answer goes back as it came; any other runs the chat pipeline on the
// translated request, answered in the Responses API's shapes. The stored
// responses a request continues (previous_response_id) or refers to
// (item_reference) are read first, always from the caller's tenant; an
// answer is stored unless `store` is false.
#include <algorithm>
#include <set>

#include "dialects/openai_responses.h"
#include "../chat/pipeline.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "handlers.h"
#include "stored_responses.h"
#include "wire/message_parts.h"
#include "wire/openai_responses.h"

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
    uint32_t model = 0;
    read_ = parts::readModelRequest(s.body(), body_, model);
    const json::Tape& t = body_;
    if (!read_) {
      previous_.id = t.stringAt(t.root(), "previous_response_id");
      if (!previous_.id.empty() && previous_.id.size() <= 128) ids.insert(previous_.id);
      uint32_t input = t.find(t.root(), "input");
      if (input != 0 && t.kind(input) == Kind::Array)
        for (uint32_t item = t.firstChild(input); item != 0; item = t.nextSibling(input, item)) {
          if (!t.stringEquals(t.find(item, "type"), "item_reference")) continue;
          std::string itemId = t.stringAt(item, "id");
          if (itemId.empty() || itemId.size() > 128) continue;
          referenced_.insert(itemId);
          // The gateway's item ids name their response; a provider's own are looked up.
          if (std::string id = openai_responses::responseIdOfItem(itemId); !id.empty()) ids.insert(id);
          else lookups_.push_back(std::move(itemId));
        }
    }
    if (ids.size() + lookups_.size() > MAX_STORED_READS)
      return fail(s, invalidValue("input", "the items refer to more than " + std::to_string(MAX_STORED_READS) +
                                               " stored responses."));
    toRead_.assign(ids.begin(), ids.end());
    readNext(s);
  }

 protected:
  ApiError translateRequest(Session&, std::string& translated, bool& useTranslated) override {
    useTranslated = true;
    if (read_) return read_;
    ApiError e = openai_responses::translateRequest(body_, previous_.conversation.empty() ? nullptr : &previous_,
                                                    &items_, t_);
    translated = std::move(t_.chat);
    echo_ = t_.echo;
    maxOutput_ = t_.maxOutput;
    // Built-in tools are not in the translation: such requests are cached on the body as sent.
    if (!e && t_.nativeOnly) {
      cacheKeyRequest_ = &body_;
      cacheEndpoint_ = "responses";
    }
    return e;
  }
  ApiError encodeRequest(Session& s, const Target& target, UpstreamRequest& out, const AnswerCodec*& native) override {
    if (continuesNatively(target.provider->id) && target.provider->responsesApi) {
      native = &responses_wire::codec();
      responses_wire::encodeNative(body_, target, reservedFor(s, target), out);
      return {};
    }
    if (t_.nativeOnly) return t_.nativeOnly;
    return ChatPipeline::encodeRequest(s, target, out, native);
  }
  const char* apiType() const override { return "responses"; }
  // Errors a provider's encoding raised in chat terms name what the client sent.
  std::string renderError(const ApiError& e) const override {
    return ChatPipeline::renderError(openai_responses::inClientTerms(e, t_));
  }
  bool keepsAnswers() const override { return t_.store; }
  void onAnswer(Session& s, const Completion& c, const chat::CallSummary& sum, std::string_view native) override {
    if (!t_.store || c.choices.empty()) return;
    std::string id = "resp_" + s.requestId().substr(5);
    std::string rendered;
    json::Tape answer;
    if (!native.empty()) {
      // The provider keeps its answer too, under its own ids: the response's
      // and each output item's (so item references to them find it here).
      if (!answer.parse(native) || answer.kind(answer.root()) != Kind::Object) return;
      id = answer.stringAt(answer.root(), "id");
      if (id.empty() || id.size() > 128) return;
    } else {
      rendered = openai_responses::dialect().renderCompletion(c, sum);
    }
    std::string doc = openai_responses::storedResponse(native.empty() ? rendered : native, t_.conversation, c, t_.input,
                                                       native.empty() ? std::string_view() : s.record().provider);
    if (doc.size() > openai_responses::MAX_STORED_BYTES) return;
    const int64_t ttl = s.config().responsesRetentionDays * 86400;
    const std::string& tenant = s.principal().tenantId;
    s.kvPut(storedResponseKey(tenant, id), doc, [](Session&, const EffectResult&) {}, ttl);
    if (native.empty()) return;
    const uint32_t output = answer.find(answer.root(), "output");
    if (output == 0 || answer.kind(output) != Kind::Array) return;
    for (uint32_t item = answer.firstChild(output); item != 0; item = answer.nextSibling(output, item)) {
      std::string itemId = answer.stringAt(item, "id");
      if (!itemId.empty() && itemId.size() <= 128)
        s.kvPut(storedItemKey(tenant, itemId), id, [](Session&, const EffectResult&) {}, ttl);
    }
  }

 private:
  // Finds the responses of the provider's own item ids, then reads the
  // stored responses one by one, then runs the pipeline. One not found is
  // left out: the translation names what is missing.
  void readNext(Session& s) {
    if (!lookups_.empty()) {
      std::string itemId = std::move(lookups_.back());
      lookups_.pop_back();
      return s.kvGet(storedItemKey(s.principal().tenantId, itemId), [this](Session& s, const EffectResult& r) {
        if (!r.ok && !r.message.empty()) return unavailable(s);
        if (r.ok && !r.data.empty() && r.data.size() <= 128 &&
            std::find(toRead_.begin(), toRead_.end(), r.data) == toRead_.end())
          toRead_.emplace_back(r.data);
        readNext(s);
      });
    }
    if (next_ == toRead_.size()) return ChatPipeline::start(s);
    const std::string& id = toRead_[next_++];
    s.kvGet(storedResponseKey(s.principal().tenantId, id), [this, id](Session& s, const EffectResult& r) {
      if (!r.ok && !r.message.empty()) return unavailable(s);
      if (r.ok) keep(id, r.data);
      readNext(s);
    });
  }
  void keep(const std::string& id, std::string_view data) {
    stored_.push_back(std::make_unique<std::string>(data));
    tapes_.push_back(std::make_unique<json::Tape>());
    json::Tape& t = *tapes_.back();
    if (!t.parse(*stored_.back()) || t.kind(t.root()) != Kind::Object) return;
    const std::string native = t.stringAt(t.root(), "native");
    if (id == previous_.id) {
      uint32_t conversation = t.find(t.root(), "conversation");
      if (conversation != 0 && t.kind(conversation) == Kind::Array) previous_.conversation = t.raw(conversation);
      previousNative_ = native;
    }
    uint32_t output = t.find(t.find(t.root(), "response"), "output");
    if (output == 0 || t.kind(output) != Kind::Array) return;
    for (uint32_t item = t.firstChild(output); item != 0; item = t.nextSibling(output, item)) {
      std::string itemId = t.stringAt(item, "id");
      if (itemId.empty()) continue;
      if (referenced_.count(itemId) != 0) referencedNative_.insert(native);
      items_.emplace(std::move(itemId), t.raw(item));
    }
  }
  // The request may go to `provider`'s own Responses API as it came: what
  // it continues or refers to is that provider's own, kept there too.
  bool continuesNatively(const std::string& provider) const {
    if (!previous_.id.empty() && previousNative_ != provider) return false;
    for (const std::string& p : referencedNative_)
      if (p != provider) return false;
    return true;
  }
  // What the ledger holds for the target's output: the client's limit or the gateway's default.
  int64_t reservedFor(const Session& s, const Target& target) const {
    return maxOutput_ > 0 ? maxOutput_ : defaultMaxTokens(s.config(), target);
  }
  void unavailable(Session& s) {
    fail(s, serverError(503, "Stored responses cannot be read right now; retry shortly.", "server_error",
                        "storage_unavailable"));
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
  std::set<std::string> referenced_;          // the item ids the input refers to
  std::vector<std::string> lookups_;          // ...of them, the provider's own, still to look up
  std::string previousNative_;                // the provider that answered the previous response natively
  std::set<std::string> referencedNative_;    // ...and those of the referenced items ("": the gateway's own)
  json::Tape body_;                           // the client's body, read once
  ApiError read_;                             // ...or why it cannot be
  int64_t maxOutput_ = 0;                     // max_output_tokens, when the client set it
};

}  // namespace

std::unique_ptr<Handler> responses() { return std::make_unique<Responses>(); }

}  // namespace gw::handlers
