#include "gw/gateway.h"
#include "handlers.h"

namespace gw {

std::unique_ptr<Handler> route(const RequestEnvelope& request) {
  std::string_view path = request.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::string& method = request.method;
  if (method == "OPTIONS") return handlers::corsPreflight();

  struct Route {
    std::string_view path;
    std::string_view method;
    std::unique_ptr<Handler> (*make)();
  };
  static const Route ROUTES[] = {
      {"/v1/chat/completions", "POST", handlers::chatCompletions},
      {"/v1/messages", "POST", handlers::messages},
      {"/v1/embeddings", "POST", handlers::embeddings},
      {"/api/v1/ai/generate", "POST", handlers::generate},
      {"/v1/models", "GET", handlers::listModels},
      {"/api/v1/ai/models", "GET", handlers::modelCatalog},
      {"/api/v1/ai/health", "GET", handlers::health},
  };
  for (const auto& r : ROUTES) {
    if (path != r.path) continue;
    if (method == r.method || (r.method == "GET" && method == "HEAD")) return r.make();
    return handlers::methodNotAllowed(std::string(r.method));
  }
  constexpr std::string_view MODELS_PREFIX = "/v1/models/";
  if (path.substr(0, MODELS_PREFIX.size()) == MODELS_PREFIX && path.size() > MODELS_PREFIX.size()) {
    if (method != "GET" && method != "HEAD") return handlers::methodNotAllowed("GET");
    return handlers::retrieveModel(std::string(path.substr(MODELS_PREFIX.size())));
  }
  return handlers::notFound();
}

}  // namespace gw
