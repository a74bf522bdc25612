#include "gw/gateway.h"

#include "gw/http.h"

namespace gw {

namespace {

bool parseEnvelope(std::string_view text, RequestEnvelope& env) {
  json::Tape t;
  if (!t.parse(text) || t.kind(t.root()) != json::Kind::Object) return false;
  const uint32_t root = t.root();
  uint32_t method = t.find(root, "method");
  uint32_t path = t.find(root, "path");
  if (method == 0 || t.kind(method) != json::Kind::String || path == 0 || t.kind(path) != json::Kind::String)
    return false;
  env.method = t.string(method);
  env.path = t.string(path);
  uint32_t query = t.find(root, "query");
  if (query != 0 && t.kind(query) == json::Kind::String) env.query = t.string(query);
  uint32_t now = t.find(root, "now_ms");
  if (now == 0 || !t.isInteger(now, &env.nowMs)) return false;
  uint32_t headers = t.find(root, "headers");
  if (headers != 0 && t.kind(headers) == json::Kind::Object) {
    env.headers.reserve(t.node(headers).count);
    for (uint32_t k = t.firstChild(headers); k != 0;) {
      uint32_t v = k + 1;
      if (t.kind(v) == json::Kind::String) env.headers.emplace_back(t.string(k), t.string(v));
      k = t.nextSibling(headers, v);
    }
  }
  uint32_t entropy = t.find(root, "entropy");
  if (entropy != 0 && t.kind(entropy) == json::Kind::String) {
    std::string_view hex = t.rawString(entropy);
    for (size_t i = 0; i + 1 < hex.size() && i / 2 < sizeof(env.entropy); i += 2) {
      int hi = hexDigit(hex[i]);
      int lo = hexDigit(hex[i + 1]);
      if (hi < 0 || lo < 0) return false;
      env.entropy[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
      env.entropyBytes = static_cast<uint32_t>(i / 2 + 1);
    }
  }
  // Set only by the host for its own jobs (the cron trigger); never from HTTP.
  uint32_t internal = t.find(root, "internal");
  env.internal = internal != 0 && t.kind(internal) == json::Kind::True;
  uint32_t truncated = t.find(root, "body_truncated");
  env.bodyTruncated = truncated != 0 && t.kind(truncated) == json::Kind::True;
  uint32_t size = t.find(root, "body_size");
  int64_t bodySize = 0;
  if (size != 0 && t.isInteger(size, &bodySize) && bodySize > 0) env.bodySize = static_cast<uint64_t>(bodySize);
  return true;
}

}  // namespace

Gateway::Gateway() {
  // Single flight: a session that ends hands its answer to the sessions
  // waiting on it here, and the next poll tells the host to poll them.
  state_.landFlight = [this](uint32_t id, const std::string* entry) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    it->second->flightLanded(entry);
    state_.woken.push_back(id);
  };
}

GwStatus Gateway::configure(std::string_view bundledConfig, std::string_view environmentJson) {
  state_.bundledConfig = std::string(bundledConfig);
  Result<Environment> env = parseEnvironment(environmentJson);
  if (!env.ok()) {
    state_.configStatus = env.status();
    state_.config.reset();
    return GwStatus::InvalidConfig;
  }
  state_.env = std::move(env.value());
  state_.overrideConfig.clear();
  state_.lastRefreshMs = -1;
  return state_.rebuild("") ? GwStatus::Ok : GwStatus::InvalidConfig;
}

int32_t Gateway::open(std::string_view envelopeJson, std::string_view body) {
  if (sessions_.size() >= MAX_SESSIONS) return static_cast<int32_t>(GwStatus::Exhausted);
  RequestEnvelope env;
  if (!parseEnvelope(envelopeJson, env)) return static_cast<int32_t>(GwStatus::BadArgument);
  if (state_.startedMs < 0) state_.startedMs = env.nowMs;
  uint32_t id = nextSession_;
  do {
    id = id >= 0x7FFFFFFEu ? 1 : id + 1;
  } while (sessions_.count(id) != 0);
  nextSession_ = id;
  std::unique_ptr<Handler> handler = route(env);
  auto session = std::make_unique<Session>(id, state_, std::move(env), std::string(body), std::move(handler));
  Session& s = *session;
  sessions_.emplace(id, std::move(session));
  s.begin();
  return static_cast<int32_t>(id);
}

GwStatus Gateway::feed(uint32_t session, std::string_view meta, std::string_view data) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return GwStatus::NotFound;
  return it->second->feed(meta, data) ? GwStatus::Ok : GwStatus::InvalidState;
}

GwStatus Gateway::poll(uint32_t session, std::string& out) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return GwStatus::NotFound;
  it->second->drain(out, state_.woken);
  state_.woken.clear();
  return GwStatus::Ok;
}

GwStatus Gateway::cancel(uint32_t session, int64_t nowMs) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return GwStatus::NotFound;
  it->second->cancel(nowMs);
  return GwStatus::Ok;
}

GwStatus Gateway::close(uint32_t session) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return GwStatus::NotFound;
  if (!it->second->done() && !it->second->cancelled()) {
    // Closing a live session is a host-side abort: release what it holds.
    it->second->cancel(it->second->nowMs());
  }
  sessions_.erase(it);
  return GwStatus::Ok;
}

}  // namespace gw
