#pragma once
// Credit leases on the isolate's side (README: Credit leases): admission
// against a lease this instance holds, with no ledger call; after each
// request, the reports of done leases and the ask for the next one, ahead of
// need; and the host job that reports leases whose time is up. The ledger
// side (what is granted, what an unreported lease is charged) is in
// ledger.cc.
#include <string_view>

#include "gw/gateway_state.h"
#include "gw/json_writer.h"
#include "gw/meter.h"

namespace gw {
class Session;
}

namespace gw::leases {

// The host job that reports leases whose time is up.
constexpr std::string_view REPORT_JOB = "/internal/leases/report";

// `scope` is the session's Principal::ledgerScope(), which its Meter keeps.
// Admits one request like `worst` against a lease of the scope; nullptr
// when none has room.
HeldLease* admit(Session& s, std::string_view scope, const Worst& worst);
// The lease `id` of the scope, while this instance holds it.
HeldLease* find(Session& s, std::string_view scope, std::string_view id);
// Whether the session's scope holds a lease that can still admit a request:
// the ledger's snapshot then knows less than the lease (it counts the
// lease's own requests as used).
bool canAdmit(const GatewayState& state, std::string_view scope, int64_t nowMs);
// After a request of the scope ended (settled or released).
void tend(Session& s, const std::string& scope, const Worst& worst);
// The report job: every scope's leases that can no longer admit and have
// nothing running are reported.
void reportDue(Session& s);
// Adds `progress` (what this instance's leases of `tenant` served so far)
// to a read op, so the read counts it; nothing when they served nothing.
void writeProgress(json::Writer& w, const GatewayState& state, std::string_view tenant);
// A read op ({"op":"get"}) with that progress.
std::string readOp(std::string_view name, const GatewayState& state, std::string_view tenant);

}  // namespace gw::leases
