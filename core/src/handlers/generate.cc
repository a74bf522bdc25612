// POST /api/v1/ai/generate: the gateway's own simple API (dialects/generate.h)
// on the chat pipeline. The body's ids attribute the call like the x-aigw-*
// headers: inside the key's tenant, never wider than the key.
#include "../access/authenticate.h"
#include "../chat/pipeline.h"
#include "admin_common.h"
#include "dialects/generate.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

class Generate : public chat::ChatPipeline {
 public:
  Generate() : ChatPipeline(generate_dialect::dialect()) {}

 protected:
  const char* apiType() const override { return "generate"; }

  ApiError translateRequest(Session& s, std::string& out, bool& useTranslated) override {
    useTranslated = true;
    generate_dialect::Request r;
    if (ApiError e = generate_dialect::read(s.body(), r)) return e;
    Principal& p = s.principal();
    std::string tenant;
    if (ApiError e = tenantFor(s, r.tenantId, tenant)) return e;
    if (ApiError e = narrowAttribution("userId", r.userId, p.userId)) return e;
    if (ApiError e = narrowAttribution("agentId", r.agentId, p.agentId)) return e;
    useCache_ = r.useCache;
    generate_dialect::translate(r, p.userId, out);
    return {};
  }
};

}  // namespace

std::unique_ptr<Handler> generate() { return std::make_unique<Generate>(); }

}  // namespace gw::handlers
