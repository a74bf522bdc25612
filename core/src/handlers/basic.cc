// Small endpoints that answer without I/O: CORS preflight, 404 and 405.
#include "gw/cors.h"
#include "handlers.h"

namespace gw::handlers {

namespace {

class CorsPreflight : public Handler {
 public:
  bool needsConfig() const override { return false; }
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    s.respondHead(204,
                  {{"access-control-allow-methods", std::string(cors::ALLOWED_METHODS)},
                   {"access-control-allow-headers",
                    cors::allowedHeaders(s.request().header("access-control-request-headers"))},
                   {"access-control-max-age", "86400"}},
                  false);
    s.respondEnd();
  }
};

class MethodNotAllowed : public Handler {
 public:
  explicit MethodNotAllowed(std::string allow) : allow_(std::move(allow)) {}
  bool needsConfig() const override { return false; }
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    ApiError e = invalidRequest("Method " + s.request().method + " is not allowed on " + s.request().path +
                                    "; use " + allow_ + ".",
                                "", "method_not_allowed");
    e.status = 405;
    s.respondError(e, {{"allow", allow_}});
  }

 private:
  std::string allow_;
};

class NotFound : public Handler {
 public:
  bool needsConfig() const override { return false; }
  Access access() const override { return Access::Public; }
  void start(Session& s) override {
    ApiError e = invalidRequest("Unknown request URL: " + s.request().method + " " + s.request().path +
                                    ". Please check the URL for typos.",
                                "", "unknown_url");
    e.status = 404;
    s.respondError(e);
  }
};

}  // namespace

std::unique_ptr<Handler> corsPreflight() { return std::make_unique<CorsPreflight>(); }
std::unique_ptr<Handler> methodNotAllowed(std::string allow) { return std::make_unique<MethodNotAllowed>(std::move(allow)); }
std::unique_ptr<Handler> notFound() { return std::make_unique<NotFound>(); }

}  // namespace gw::handlers
