#pragma once
// Pieces the admin and budget endpoints share: which tenant a call acts on,
// whether it exists, body parsing, and waiting for several effects.
#include "gw/move_function.h"
#include <memory>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gw/json_tape.h"
#include "gw/session.h"

namespace gw::handlers {

// The tenant a call acts on. ADMIN_API_KEY must name one (`requested`); a
// virtual key acts on its own, and naming another is a 403.
ApiError tenantFor(const Session& s, const std::string& requested, std::string& out);
// The same, with the request body's "tenantId" (when present) overriding `requested`.
ApiError tenantFor(const Session& s, const json::Tape& body, std::string requested, std::string& out);
// Runs `then` if tenant:<id> exists, else answers 404 naming tenantId.
void requireTenant(Session& s, const std::string& tenant, MoveFunction<void(Session&)> then);
// 400 unless the body is a JSON object.
ApiError parseObject(std::string_view body, json::Tape& t);
ApiError notFoundError(std::string message, std::string param, std::string code);
// 403 unless the caller holds ADMIN_API_KEY: for what every tenant shares (`why` says so).
ApiError rootOnly(const Session& s, std::string why);
// A ledger call whose failure becomes a 503; `then` gets the result document.
void ledgerCall(Session& s, const std::string& tenant, const std::string& op,
                MoveFunction<void(Session&, std::string_view)> then);
// A ledger answer as a response body: its leading "ok" member replaced by
// the string members `leading`, in order.
std::string ledgerView(std::string_view result, std::initializer_list<std::pair<std::string_view, std::string_view>> leading);
// The names in a kv_list answer; false when the listing failed.
bool listedNames(const EffectResult& r, std::vector<std::string>& names);
// Calls `done` once `count` effects have reported; `failed` tells whether any did.
struct Join {
  int pending = 0;
  bool failed = false;
  MoveFunction<void(Session&, bool failed)> done;
};
std::shared_ptr<Join> join(int count, MoveFunction<void(Session&, bool failed)> done);
EffectCallback arrive(const std::shared_ptr<Join>& j);

}  // namespace gw::handlers
