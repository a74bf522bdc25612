// The scheduled job (wrangler.toml [triggers] crons), reached only through
// the host's internal envelope: every tenant's ledger rolls its periods over,
// drops holds of requests that died, and hands back budget alerts still
// waiting to be posted (the ledger's host posts them).
#include "gw/key_record.h"
#include "admin_common.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

using json::Kind;

class Cron : public Handler {
 public:
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    if (!s.request().internal) {
      return s.respondError(
          notFoundError("Unknown endpoint: " + s.request().method + " " + s.request().path, "", "not_found"));
    }
    s.kvList("tenant:", 1000, [this](Session& s, const EffectResult& r) {
      std::vector<std::string> tenants;
      if (!listedNames(r, tenants))
        return s.respondError(serverError(503, "Could not list tenants.", "service_unavailable", "kv_unavailable"));
      for (auto& name : tenants) name.erase(0, std::string_view("tenant:").size());
      if (tenants.empty()) return finish(s, 0, false);
      auto j = join(static_cast<int>(tenants.size()), [n = tenants.size(), this](Session& s, bool failed) {
        finish(s, static_cast<int64_t>(n), failed);
      });
      for (const auto& tenant : tenants) s.ledger(tenant, R"({"op":"tick"})", arrive(j));
    });
  }

 private:
  void finish(Session& s, int64_t tenants, bool failed) {
    std::string body;
    json::Writer(body).beginObject().field("tenants", tenants).field("complete", !failed).endObject();
    s.respondJson(failed ? 503 : 200, body);
    std::string record;
    json::Writer(record).beginObject().field("event", "cron").field("tenants", tenants).field("complete", !failed).endObject();
    s.log(failed ? "error" : "info", record);
  }
};

}  // namespace

std::unique_ptr<Handler> cron() { return std::make_unique<Cron>(); }

}  // namespace gw::handlers
