#pragma once
// The core instance: configuration, the router, and the table of live
// sessions. The ABI layer owns exactly one per wasm instance; tests make as
// many as they like.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <map>

#include "gw/gateway_state.h"
#include "gw/status_codes.h"
#include "gw/session.h"

namespace gw {

// The host ABI this core implements (bindings/ABI.md): exported as
// gw_abi_version_N, and reported by GET /api/v1/ai/health.
constexpr uint32_t ABI_VERSION = 10;

// The ABI's status codes (bindings/status_codes.json).
enum class GwStatus : int32_t {
#define GW_STATUS_CPP(code, c_name, cpp_name) cpp_name = (code),
  GW_STATUS_CODES(GW_STATUS_CPP)
#undef GW_STATUS_CPP
};

class Gateway {
 public:
  static constexpr size_t MAX_SESSIONS = 16384;

  Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Names of the environment variables and secrets the bundled config reads.
  Result<EnvNames> envNames(std::string_view bundledConfig) const { return configEnvNames(bundledConfig); }
  GwStatus configure(std::string_view bundledConfig, std::string_view environmentJson);
  const Status& configStatus() const { return state_.configStatus; }

  // Returns a session id (> 0) or a negative GwStatus.
  int32_t open(std::string_view envelopeJson, std::string_view body);
  GwStatus feed(uint32_t session, std::string_view meta, std::string_view data);
  GwStatus poll(uint32_t session, std::string& out);
  GwStatus cancel(uint32_t session, int64_t nowMs);
  GwStatus close(uint32_t session);

  size_t liveSessions() const { return sessions_.size(); }
  GatewayState& state() { return state_; }

 private:
  GatewayState state_;
  std::map<uint32_t, std::unique_ptr<Session>> sessions_;
  uint32_t nextSession_ = 1;
};

// Picks the endpoint handler for a request (see core/src/handlers/).
std::unique_ptr<Handler> route(const RequestEnvelope& request);

}  // namespace gw
