#include "admin_common.h"

#include "gw/json_writer.h"
#include "gw/key_record.h"

namespace gw::handlers {

ApiError notFoundError(std::string message, std::string param, std::string code) {
  ApiError e = invalidRequest(std::move(message), std::move(param), std::move(code));
  e.status = 404;
  return e;
}

ApiError rootOnly(const Session& s, std::string why) {
  if (s.principal().root) return {};
  return forbidden(std::move(why), "authorization", "root_admin_required");
}

ApiError tenantFor(const Session& s, const std::string& requested, std::string& out) {
  const Principal& p = s.principal();
  if (p.root) {
    if (requested.empty()) return missingParameter("tenantId");
    if (!access::validId(requested))
      return access::invalidId("tenantId");
    out = requested;
    return {};
  }
  if (!requested.empty() && requested != p.tenantId)
    return forbidden("This API key cannot act on tenant '" + requested.substr(0, 64) + "'.", "tenantId",
                     "tenant_forbidden");
  out = p.tenantId;
  return {};
}

ApiError tenantFor(const Session& s, const json::Tape& body, std::string requested, std::string& out) {
  uint32_t tenant = body.find(body.root(), "tenantId");
  if (tenant != 0) {
    if (body.kind(tenant) != json::Kind::String) return invalidType("tenantId", "a string", "another type");
    requested = body.string(tenant);
  }
  return tenantFor(s, requested, out);
}

void requireTenant(Session& s, const std::string& tenant, MoveFunction<void(Session&)> then) {
  if (!s.principal().root) return then(s);
  s.kvGet(access::tenantRecord(tenant), [tenant, then = std::move(then)](Session& s, const EffectResult& r) {
    if (!r.ok)
      return s.respondError(notFoundError("No tenant '" + tenant + "'. Create it with PUT /api/v1/ai/admin/tenants/" +
                                              tenant + ".",
                                          "tenantId", "tenant_not_found"));
    then(s);
  });
}

ApiError parseObject(std::string_view body, json::Tape& t) {
  if (body.empty()) return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
  if (!t.parse(body)) return unreadableBody(t.error());
  if (t.kind(t.root()) != json::Kind::Object)
    return invalidRequest("The request body must be a JSON object.", "", "invalid_json");
  return {};
}

void ledgerCall(Session& s, const std::string& tenant, const std::string& op,
                MoveFunction<void(Session&, std::string_view)> then) {
  s.ledger(tenant, op, [then = std::move(then)](Session& s, const EffectResult& r) {
    json::Tape t;
    if (!r.ok || !t.parse(r.data) || t.kind(t.root()) != json::Kind::Object)
      return s.respondError(serverError(503, "The quota ledger is unavailable; nothing was changed.",
                                        "service_unavailable", "ledger_unavailable"));
    uint32_t ok = t.find(t.root(), "ok");
    if (ok == 0 || t.kind(ok) != json::Kind::True) {
      uint32_t msg = t.find(t.root(), "message");
      return s.respondError(serverError(500, msg != 0 ? t.string(msg) : "ledger error", "server_error", "ledger_error"));
    }
    then(s, r.data);
  });
}

std::string ledgerView(std::string_view result,
                       std::initializer_list<std::pair<std::string_view, std::string_view>> leading) {
  constexpr std::string_view OK_FIRST = "{\"ok\":true,";
  std::string body = "{";
  json::Writer w(body, true);
  for (const auto& [name, value] : leading) w.field(name, value);
  if (result.substr(0, OK_FIRST.size()) == OK_FIRST) result.remove_prefix(OK_FIRST.size());
  else if (!result.empty()) result.remove_prefix(1);
  if (!result.empty() && result.front() != '}') body.push_back(',');
  body += result;
  return body;
}

bool listedNames(const EffectResult& r, std::vector<std::string>& names) {
  json::Tape t;
  uint32_t keys = 0;
  if (!r.ok || !t.parse(r.data) || (keys = t.find(t.root(), "keys")) == 0 || t.kind(keys) != json::Kind::Array)
    return false;
  for (uint32_t k = t.firstChild(keys); k != 0; k = t.nextSibling(keys, k))
    if (t.kind(k) == json::Kind::String) names.push_back(t.string(k));
  return true;
}

std::shared_ptr<Join> join(int count, MoveFunction<void(Session&, bool failed)> done) {
  auto j = std::make_shared<Join>();
  j->pending = count;
  j->done = std::move(done);
  return j;
}

EffectCallback arrive(const std::shared_ptr<Join>& j) {
  return [j](Session& s, const EffectResult& r) {
    if (!r.ok) j->failed = true;
    if (--j->pending == 0) j->done(s, j->failed);
  };
}

}  // namespace gw::handlers
