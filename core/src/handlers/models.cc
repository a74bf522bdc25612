// GET /v1/models and GET /v1/models/{id}: the enabled models of the config,
// in OpenAI's list shape, owned_by = provider.
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

void writeModel(json::Writer& w, const ModelConfig& m) {
  w.beginObject().field("id", m.id).field("object", "model").field("created", m.created).field("owned_by", m.provider);
  w.endObject();
}

class ListModels : public Handler {
 public:
  void start(Session& s) override {
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").key("data").beginArray();
    for (const auto& m : s.config().models)
      if (m.enabled) writeModel(w, m);
    w.endArray().endObject();
    s.respondJson(200, body);
  }
};

class RetrieveModel : public Handler {
 public:
  explicit RetrieveModel(std::string id) : id_(std::move(id)) {}
  void start(Session& s) override {
    const ModelConfig* m = s.config().model(id_);
    if (m == nullptr || !m->enabled) {
      ApiError e = invalidRequest("The model '" + id_ + "' does not exist.", "model", "model_not_found");
      e.status = 404;
      return s.respondError(e);
    }
    std::string body;
    json::Writer w(body);
    writeModel(w, *m);
    s.respondJson(200, body);
  }

 private:
  std::string id_;
};

}  // namespace

std::unique_ptr<Handler> listModels() { return std::make_unique<ListModels>(); }
std::unique_ptr<Handler> retrieveModel(std::string modelId) { return std::make_unique<RetrieveModel>(std::move(modelId)); }

}  // namespace gw::handlers
