// GET /v1/responses/{id}, DELETE /v1/responses/{id} and
// GET /v1/responses/{id}/input_items: the caller's tenant's stored responses.
// Deleting one a provider answered on its own Responses API deletes it
// there too.
#include <algorithm>

#include "admin_common.h"
#include "gw/http.h"
#include "gw/json_tape.h"
#include "gw/json_writer.h"
#include "handlers.h"
#include "stored_responses.h"
#include "wire/provider_fetch.h"
#include "wire/wire_format.h"

namespace gw::handlers {

namespace {

enum class Read { Response, InputItems, Delete };

class StoredResponse : public Handler {
 public:
  StoredResponse(Read what, std::string id) : what_(what), id_(std::move(id)) {}

  void start(Session& s) override {
    if (id_.empty() || id_.size() > 128) return notFound(s);
    ascending_ = queryParam(s.request().query, "order") == "asc";
    key_ = storedResponseKey(s.principal().tenantId, id_);
    s.kvGet(key_, [this](Session& s, const EffectResult& r) {
      if (!r.ok && !r.message.empty())
        return fail(s, serverError(503, "Stored responses cannot be read right now; retry shortly.", "server_error",
                                   "storage_unavailable"));
      json::Tape t;
      if (!r.ok || !t.parse(r.data) || t.kind(t.root()) != json::Kind::Object) return notFound(s);
      if (what_ == Read::Delete) {
        // A response the provider keeps too (answered on its own Responses
        // API) is deleted there first, so a failure there leaves it here to retry.
        const ProviderConfig* native = s.config().provider(t.stringAt(t.root(), "native"));
        if (native != nullptr && native->responsesApi && usable(*native, tenantKeyFor(s, native->id)) && !native->builtinDemo && plainId())
          return deleteAt(s, *native);
        return deleteHere(s);
      }
      const uint32_t member = t.find(t.root(), what_ == Read::Response ? "response" : "input");
      if (member == 0) return notFound(s);
      if (what_ == Read::Response) {
        s.respondJson(200, t.raw(member));
        return s.finish(200, "ok");
      }
      s.respondJson(200, inputList(t, member));
      s.finish(200, "ok");
    });
  }

 private:
  void deleteAt(Session& s, const ProviderConfig& p) {
    FetchSpec f = providerFetch(p, false, tenantKeyFor(s, p.id), s.principal().tenantId);
    f.method = "DELETE";
    f.url = endpointUrl(p, "", "responses/" + id_);
    f.timeoutMs = p.timeoutMs > 0 ? p.timeoutMs : s.config().requestTimeoutMs;
    s.fetchWhole(f, 1 << 16, [this, provider = p.id](Session& s, const FetchOutcome& o) {
      // Gone there already (expired, deleted) is as good as deleted.
      if (o.ok() || o.status == 404) return deleteHere(s);
      fail(s, serverError(502, "The response could not be deleted at provider '" + provider + "' (" +
                                   (o.status != 0 ? "HTTP " + std::to_string(o.status) : std::string(o.reason)) +
                                   "); it is kept, retry shortly.",
                          "upstream_error", "upstream_delete_failed"));
    });
  }
  // Ids are the provider's own ([A-Za-z0-9_-]): anything else is not put in its URL.
  bool plainId() const {
    for (char c : id_)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
    return true;
  }
  void deleteHere(Session& s) {
    s.kvDelete(key_, [this](Session& s, const EffectResult& r) {
      if (!r.ok) return fail(s, serverError(503, "The response could not be deleted; retry shortly.", "server_error",
                                            "storage_unavailable"));
      std::string body;
      json::Writer(body).beginObject().field("id", id_).field("object", "response.deleted").field("deleted", true).endObject();
      s.respondJson(200, body);
      s.finish(200, "ok");
    });
  }
  // The input items as OpenAI lists them: newest first unless ?order=asc.
  std::string inputList(const json::Tape& t, uint32_t items) const {
    std::vector<uint32_t> order;
    for (uint32_t i = t.firstChild(items); i != 0; i = t.nextSibling(items, i)) order.push_back(i);
    if (!ascending_) std::reverse(order.begin(), order.end());
    std::string out;
    json::Writer w(out);
    w.beginObject().field("object", "list").key("data").beginArray();
    for (uint32_t i : order) w.raw(t.raw(i));
    w.endArray().field("has_more", false).endObject();
    return out;
  }
  void notFound(Session& s) {
    fail(s, notFoundError("No response with id '" + id_.substr(0, 128) + "' was found.", "response_id", "not_found"));
  }
  void fail(Session& s, const ApiError& e) {
    s.respondError(e);
    s.finish(e.status, e.code, e);
  }

  Read what_;
  std::string id_;
  std::string key_;
  bool ascending_ = false;
};

}  // namespace

std::unique_ptr<Handler> storedResponse(const std::string& method, const std::string& id, bool inputItems) {
  if (inputItems) return std::make_unique<StoredResponse>(Read::InputItems, id);
  return std::make_unique<StoredResponse>(method == "DELETE" ? Read::Delete : Read::Response, id);
}

}  // namespace gw::handlers
