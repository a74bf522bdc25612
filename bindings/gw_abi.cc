// extern "C" side of the ABI: marshals pointers and lengths into the Gateway.
// This file owns the module's one Gateway; the core itself has no globals.
#include "gw_abi.h"

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "gw/gateway.h"
#include "gw/json_writer.h"
#include "gw/ledger.h"

namespace {

gw::Gateway& gateway() {
  static gw::Gateway instance;
  return instance;
}

// Open ledgers by id (one per tenant Durable Object using this module).
struct Ledgers {
  std::map<uint32_t, gw::ledger::Ledger> open;
  uint32_t nextId = 1;
};

Ledgers& ledgers() {
  static Ledgers instance;
  return instance;
}

constexpr size_t MAX_OPEN_LEDGERS = 4096;

// The output buffer of the last call that produced one.
std::string& output() {
  static std::string buffer;
  return buffer;
}

std::string_view view(const uint8_t* p, uint32_t n) {
  return n == 0 || p == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(p), n);
}

int32_t publish(uint8_t** outPtr, uint32_t* outLen) {
  if (outPtr == nullptr || outLen == nullptr) return GW_ERR_BAD_ARGUMENT;
  *outPtr = reinterpret_cast<uint8_t*>(output().data());
  *outLen = static_cast<uint32_t>(output().size());
  return GW_OK;
}

}  // namespace

extern "C" {

// A pure virtual call is a broken invariant: trap (the host replaces the
// instance). libc++abi's version prints first, which links all of printf.
void __cxa_pure_virtual() { __builtin_trap(); }

uint32_t gw_abi_version_10(void) { return gw::ABI_VERSION; }

void* gw_alloc(uint32_t size) { return std::malloc(size == 0 ? 1 : size); }

void gw_free(void* ptr) { std::free(ptr); }

int32_t gw_env_names(const uint8_t* config, uint32_t config_len, uint8_t** out_ptr, uint32_t* out_len) {
  gw::Result<gw::EnvNames> names = gateway().envNames(view(config, config_len));
  std::string& out = output();
  out.clear();
  gw::json::Writer w(out);
  w.beginObject().key("vars").beginArray();
  if (names.ok())
    for (const auto& n : names.value().vars) w.string(n);
  w.endArray().key("secrets").beginArray();
  if (names.ok())
    for (const auto& n : names.value().secrets) w.string(n);
  w.endArray().key("digests").beginArray();
  if (names.ok())
    for (const auto& n : names.value().digests) w.string(n);
  w.endArray().key("bindings").beginArray();
  if (names.ok())
    for (const auto& n : names.value().bindings) w.string(n);
  w.endArray().endObject();
  int32_t st = publish(out_ptr, out_len);
  if (st != GW_OK) return st;
  return names.ok() ? GW_OK : GW_ERR_INVALID_CONFIG;
}

int32_t gw_configure(const uint8_t* config, uint32_t config_len, const uint8_t* env, uint32_t env_len,
                     uint8_t** out_ptr, uint32_t* out_len) {
  gw::GwStatus status = gateway().configure(view(config, config_len), view(env, env_len));
  std::string& out = output();
  out.clear();
  gw::json::Writer w(out);
  const gw::GatewayState& state = gateway().state();
  w.beginObject().field("ok", status == gw::GwStatus::Ok).key("error");
  if (status == gw::GwStatus::Ok) w.null(); else w.string(state.configStatus.message);
  w.field("max_body_bytes", state.config ? state.config->maxBodyBytes : gw::Config::DEFAULT_MAX_BODY_BYTES);
  w.endObject();
  int32_t st = publish(out_ptr, out_len);
  if (st != GW_OK) return st;
  return static_cast<int32_t>(status);
}

int32_t gw_session_open(const uint8_t* envelope, uint32_t envelope_len, const uint8_t* body, uint32_t body_len) {
  return gateway().open(view(envelope, envelope_len), view(body, body_len));
}

int32_t gw_session_feed(uint32_t session, const uint8_t* meta, uint32_t meta_len, const uint8_t* data,
                        uint32_t data_len) {
  return static_cast<int32_t>(gateway().feed(session, view(meta, meta_len), view(data, data_len)));
}

int32_t gw_session_poll(uint32_t session, uint8_t** out_ptr, uint32_t* out_len) {
  if (out_ptr == nullptr || out_len == nullptr) return GW_ERR_BAD_ARGUMENT;
  gw::GwStatus st = gateway().poll(session, output());
  if (st != gw::GwStatus::Ok) return static_cast<int32_t>(st);
  return publish(out_ptr, out_len);
}

int32_t gw_session_cancel(uint32_t session, double now_ms) {
  return static_cast<int32_t>(gateway().cancel(session, static_cast<int64_t>(now_ms)));
}

int32_t gw_session_close(uint32_t session) { return static_cast<int32_t>(gateway().close(session)); }

int32_t gw_ledger_open(const uint8_t* state, uint32_t state_len) {
  Ledgers& l = ledgers();
  if (l.open.size() >= MAX_OPEN_LEDGERS) return GW_ERR_EXHAUSTED;
  const uint32_t id = l.nextId;
  l.nextId = l.nextId >= 0x7FFFFFFF ? 1 : l.nextId + 1;
  l.open.insert_or_assign(id, gw::ledger::Ledger(view(state, state_len)));
  return static_cast<int32_t>(id);
}

int32_t gw_ledger_apply(uint32_t ledger, const uint8_t* op, uint32_t op_len, double now_ms, uint8_t** out_ptr,
                        uint32_t* out_len) {
  auto it = ledgers().open.find(ledger);
  if (it == ledgers().open.end()) return GW_ERR_NOT_FOUND;
  gw::ledger::Outcome r = it->second.apply(view(op, op_len), static_cast<int64_t>(now_ms));
  std::string& out = output();
  auto appendU32 = [&out](size_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  out.assign(4, '\0');
  for (const auto& [key, value] : r.writes) {
    appendU32(key.size());
    out += key;
    appendU32(value.size());
    out += value;
  }
  const size_t n = out.size() - 4;
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += r.result;
  return publish(out_ptr, out_len);
}

int32_t gw_ledger_close(uint32_t ledger) { return ledgers().open.erase(ledger) ? GW_OK : GW_ERR_NOT_FOUND; }

uint32_t gw_live_sessions(void) { return static_cast<uint32_t>(gateway().liveSessions()); }

}  // extern "C"
