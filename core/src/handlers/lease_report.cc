// POST /internal/leases/report: a host job the core schedules for when a
// credit lease stops admitting (anyone else gets a 404). It reports the
// leases of this instance that can admit no more and have nothing running,
// so their unused credit returns to the ledger even when no request of
// their scope comes again.
#include "../access/leases.h"
#include "admin_common.h"
#include "gw/json_writer.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

class LeaseReport : public Handler {
 public:
  Access access() const override { return Access::Public; }
  // Reporting needs no settings: the job never starts a config refresh.
  bool needsConfig() const override { return false; }

  void start(Session& s) override {
    if (!s.request().internal) {
      ApiError e = notFoundError("Unknown endpoint: " + s.request().method + " " + s.request().path, "", "not_found");
      s.respondError(e);
      return s.finish(e.status, e.code, e);
    }
    leases::reportDue(s);
    s.respondJson(200, R"({"ok":true})");
    s.finish(200, "ok");
  }
};

}  // namespace

std::unique_ptr<Handler> leaseReport() { return std::make_unique<LeaseReport>(); }

}  // namespace gw::handlers
