// The model registry, for operators:
//   GET    /api/ai-gateway/models[?provider=&capability=&type=&enabled=]
//          every model, disabled ones too (any admin key: the registry is no tenant's data)
//   GET    /api/ai-gateway/models/:id
//   POST   /api/ai-gateway/models       {id, provider, price, ...} adds a model   (ADMIN_API_KEY)
//   PUT    /api/ai-gateway/models/:id   the fields to change; null restores the bundled value
//   DELETE /api/ai-gateway/models/:id   disables it (rows stay, so what names it keeps resolving)
// Rows are written into the KV config override and apply in this instance
// at once, in the others at their next config refresh.
#include <algorithm>

#include "admin_common.h"
#include "config_override.h"
#include "gw/http.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

constexpr std::string_view FIELDS[] = {"provider", "upstream", "type", "aliases", "fallbacks", "capabilities",
                                       "price", "context_window", "max_output", "dimensions", "quality",
                                       "recommended", "enabled", "max_tokens_param", "created"};

// "a, b, c": for messages that list what is accepted.
template <typename Names>
std::string listed(const Names& names) {
  std::string out;
  for (std::string_view n : names) out.append(out.empty() ? "" : ", ").append(n);
  return out;
}

const ModelConfig* exactModel(const Config& c, std::string_view id) {
  for (const auto& m : c.models)
    if (m.id == id) return &m;
  return nullptr;
}

ApiError modelNotFound(const std::string& id) {
  return notFoundError("No model '" + id.substr(0, 100) + "' in the registry.", "id", "model_not_found");
}

void respondModel(Session& s, const std::string& id, int status) {
  const Config& c = *s.state().config;
  const ModelConfig* m = exactModel(c, id);
  if (m == nullptr) return s.respondError(modelNotFound(id));
  std::string body;
  json::Writer w(body);
  writeModel(w, *m, *c.provider(m->provider), true);
  s.respondJson(status, body, {{"cache-control", "no-store"}});
}

class ListRegistry : public Handler {
 public:
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    const std::string& q = s.request().query;
    const std::string provider = queryParam(q, "provider"), capability = queryParam(q, "capability"),
                      type = queryParam(q, "type"), enabled = queryParam(q, "enabled");
    // Every capability the config knows, from its own table.
    const std::vector<std::string_view> capabilities = capabilityNames(~uint32_t{0});
    if (!capability.empty() && std::find(capabilities.begin(), capabilities.end(), capability) == capabilities.end())
      return s.respondError(invalidValue("capability", "capability must be one of " + listed(capabilities) + "."));
    const Config& c = s.config();
    std::string body;
    json::Writer w(body);
    w.beginObject().field("object", "list").key("data").beginArray();
    for (const auto& m : c.models) {
      const ProviderConfig* p = c.provider(m.provider);
      if (p == nullptr || (!provider.empty() && provider != m.provider) || !hasCapability(m, capability)) continue;
      if (!type.empty() && type != (m.kind == ModelKind::Embedding ? "embedding" : "chat")) continue;
      if (!enabled.empty() && (enabled == "true") != m.enabled) continue;
      writeModel(w, m, *p, true);
    }
    w.endArray().endObject();
    s.respondJson(200, body, {{"cache-control", "no-store"}});
  }
};

class GetRegistryModel : public Handler {
 public:
  explicit GetRegistryModel(std::string id) : id_(std::move(id)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override { respondModel(s, id_, 200); }

 private:
  std::string id_;
};

// POST (create), PUT (change) and DELETE (disable) share one write path.
class WriteRegistryModel : public Handler {
 public:
  enum class Op { Create, Change, Disable };
  WriteRegistryModel(Op op, std::string id) : op_(op), id_(std::move(id)) {}
  Access access() const override { return Access::Admin; }
  void start(Session& s) override {
    if (ApiError e = rootOnly(s, "The model registry is shared by every tenant: only ADMIN_API_KEY may change it."))
      return s.respondError(e);
    text_ = op_ == Op::Disable ? std::string(R"({"enabled":false})") : s.body();
    if (ApiError e = parseObject(text_, patch_)) return s.respondError(e);
    if (ApiError e = checkFields(s)) return s.respondError(e);
    if (op_ == Op::Create && patch_.find(patch_.root(), "created") == 0) {
      // A new model is dated now, as OpenAI's model list dates its models.
      text_.insert(text_.find('{') + 1, "\"created\":" + std::to_string(s.nowMs() / 1000) + ",");
      patch_.parse(text_);
    }
    changeOverride(
        s,
        [this](std::string_view current) { return mergeOverrideRow(current, "models", id_, patch_); },
        [this](Session& s) { respondModel(s, id_, op_ == Op::Create ? 201 : 200); });
  }

 private:
  ApiError checkFields(Session& s) {
    const Config& c = s.config();
    if (op_ == Op::Create) {
      const uint32_t id = patch_.find(patch_.root(), "id");
      if (id == 0) return missingParameter("id");
      id_ = patch_.kind(id) == Kind::String ? patch_.string(id) : std::string();
      if (id_.empty() || id_.size() > 128 || id_ == "default" ||
          id_.find_first_of(" \t\r\n\"\\") != std::string::npos)
        return invalidValue("id", "id must be a string of 1 to 128 characters without spaces, quotes or backslashes.");
      if (c.model(id_) != nullptr) {
        ApiError e = invalidRequest("A model or alias '" + id_ + "' is already registered; change it with PUT.", "id",
                                    "model_exists");
        e.status = 409;
        return e;
      }
      if (patch_.find(patch_.root(), "provider") == 0) return missingParameter("provider");
    } else {
      if (exactModel(c, id_) == nullptr) return modelNotFound(id_);
      const uint32_t id = patch_.find(patch_.root(), "id");
      if (id != 0 && !(patch_.kind(id) == Kind::String && patch_.string(id) == id_))
        return invalidValue("id", "id cannot be changed; add a new model and disable this one.");
    }
    for (uint32_t k = patch_.firstChild(patch_.root()); k != 0; k = patch_.nextSibling(patch_.root(), k + 1)) {
      bool known = patch_.stringEquals(k, "id");
      for (auto f : FIELDS) known = known || patch_.stringEquals(k, f);
      if (!known)
        return invalidRequest("Unknown field '" + patch_.string(k).substr(0, 60) + "'. Known: id, " + listed(FIELDS) + ".",
                              patch_.string(k).substr(0, 60), "unknown_parameter");
    }
    return {};
  }

  Op op_;
  std::string id_;
  std::string text_;
  json::Tape patch_;
};

}  // namespace

std::unique_ptr<Handler> listRegistry() { return std::make_unique<ListRegistry>(); }
std::unique_ptr<Handler> createRegistryModel() {
  return std::make_unique<WriteRegistryModel>(WriteRegistryModel::Op::Create, "");
}
std::unique_ptr<Handler> registryModel(const std::string& method, std::string id) {
  if (method == "GET") return std::make_unique<GetRegistryModel>(std::move(id));
  return std::make_unique<WriteRegistryModel>(
      method == "PUT" ? WriteRegistryModel::Op::Change : WriteRegistryModel::Op::Disable, std::move(id));
}

}  // namespace gw::handlers
