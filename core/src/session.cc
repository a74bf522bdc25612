#include "gw/session.h"

#include <algorithm>

#include "gw/cors.h"
#include "gw/json_writer.h"
#include "access/authenticate.h"
#include "handlers/config_override.h"
#include "gw/metadata.h"
#include "gw/vault.h"

namespace gw {

namespace {

constexpr std::string_view KV_BINDING = "GATEWAY_KV";
constexpr std::string_view D1_BINDING = "DB";

void writeHeaders(json::Writer& w, const Headers& headers) {
  w.key("headers").beginObject();
  for (const auto& [name, value] : headers) w.field(name, value);
  w.endObject();
}

}  // namespace

std::string_view RequestEnvelope::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

Session::Session(uint32_t id, GatewayState& state, RequestEnvelope envelope, std::string body,
                 std::unique_ptr<Handler> handler)
    : id_(id),
      state_(state),
      config_(state.config),
      envelope_(std::move(envelope)),
      body_(std::move(body)),
      handler_(std::move(handler)),
      nowMs_(envelope_.nowMs) {
  static const char* HEX = "0123456789abcdef";
  requestId_ = "aigw_";
  for (int i = 0; i < 12; ++i) {
    requestId_.push_back(HEX[envelope_.entropy[i] >> 4]);
    requestId_.push_back(HEX[envelope_.entropy[i] & 0xF]);
  }
  uint64_t seed = 0;
  for (int i = 0; i < 16; ++i) seed = seed * 131 + envelope_.entropy[i];
  random_ = Random(seed);
}

void Session::begin() {
  if (handler_->needsConfig() && state_.refreshDue(nowMs_)) {
    // Read the KV override before serving, at most once per refresh interval
    // per instance; concurrent sessions keep serving the current config.
    state_.refreshInFlight = true;
    readingConfig_ = true;
    configRead_ = std::make_unique<ConfigRead>();
    configRead_->pending = 2;
    // A key that is not there reads as empty; a KV failure keeps what serves.
    kvGet(handlers::CONFIG_OVERRIDE_KEY, [](Session& s, const EffectResult& r) {
      s.configRead_->overrideRead = r.ok || r.message.empty();
      if (r.ok) s.configRead_->override = std::string(r.data);
      if (--s.configRead_->pending == 0) s.onConfigRead();
    });
    kvGet(vault::GATEWAY_DOC, [](Session& s, const EffectResult& r) {
      s.configRead_->vaultRead = r.ok || r.message.empty();
      if (r.ok) s.configRead_->vault = std::string(r.data);
      if (--s.configRead_->pending == 0) s.onConfigRead();
    });
    return;
  }
  startHandler();
}

void Session::startHandler() {
  config_ = state_.config;
  if (handler_->needsConfig() && !config_) {
    respondError(serverError(500, "The gateway configuration is invalid: " + state_.configStatus.message,
                             "server_error", "invalid_config"));
    return;
  }
  if (handler_->access() == Access::Public) return handler_->start(*this);
  authenticate(*this, handler_->access());
}

void Session::admit() {
  admittedMs_ = nowMs_;
  if (ended_) return;
  // A metered request's labels: refused before anything is spent.
  if (handler_->apiType() != nullptr) {
    if (ApiError e = metadata::parse(envelope_.header(metadata::HEADER), record_.metadata)) {
      respondError(e);
      return finish(e.status, e.code, e);
    }
  }
  handler_->start(*this);
}

void Session::storeBodyIf(bool tenantStores) {
  record_.storeBody = tenantStores && handler_->apiType() != nullptr && config_ && config_->bodyStore &&
                      envelope_.header(BODY_OPT_OUT_HEADER) != "false";
}

uint32_t Session::expect(EffectCallback cb) {
  uint32_t id = newEffectId();
  inFlight_.insert(id);
  callbacks_.emplace(id, std::move(cb));
  return id;
}

void Session::kvGet(std::string_view key, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("kv_get");
  w.field("id", id).field("binding", KV_BINDING).field("key", key);
  outbox_.endEffect();
}

void Session::kvPut(std::string_view key, std::string_view value, EffectCallback cb, int64_t ttlSeconds) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("kv_put");
  w.field("id", id).field("binding", KV_BINDING).field("key", key);
  if (ttlSeconds > 0) w.field("expiration_ttl", ttlSeconds);
  outbox_.body(w, value);
  outbox_.endEffect();
}

void Session::kvDelete(std::string_view key, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("kv_delete");
  w.field("id", id).field("binding", KV_BINDING).field("key", key);
  outbox_.endEffect();
}

void Session::kvList(std::string_view prefix, int64_t limit, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("kv_list");
  w.field("id", id).field("binding", KV_BINDING).field("prefix", prefix).field("limit", limit);
  outbox_.endEffect();
}

namespace {

// The op with the tenant it is for in front, into `out` (reused): the
// ledger learns whose it is (the KV key of its snapshot, the tenant in its
// alerts) from its ops.
std::string_view forTenant(std::string_view tenant, std::string_view op, std::string& out) {
  if (op.size() < 2 || op.front() != '{') return op;
  out.clear();
  json::Writer(out).beginObject().field("tenant", tenant).endObject();
  out.pop_back();
  if (op[1] != '}') out.push_back(',');
  out.append(op.substr(1));
  return out;
}

}  // namespace

void Session::ledger(std::string_view tenant, std::string_view op, EffectCallback cb) {
  uint32_t id = expect([tenant = std::string(tenant), cb = std::move(cb)](Session& s, const EffectResult& r) {
    if (r.ok) s.state().noteLedgerResult(tenant, r.data, s.nowMs());
    cb(s, r);
  });
  json::Writer w = outbox_.beginEffect("ledger");
  w.field("id", id).field("tenant", tenant);
  outbox_.body(w, forTenant(tenant, op, scratch_));
  outbox_.endEffect();
}

void Session::ledgerDetached(std::string_view tenant, std::string_view op) {
  json::Writer w = outbox_.beginEffect("ledger");
  w.field("tenant", tenant);
  outbox_.body(w, forTenant(tenant, op, scratch_));
  outbox_.endEffect();
}

void Session::d1(std::string_view sql, std::string_view params, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("d1_exec");
  w.field("id", id).field("binding", D1_BINDING).field("sql", sql).key("params").raw(params);
  outbox_.endEffect();
}

void Session::d1Detached(std::string_view sql, std::string_view params) {
  json::Writer w = outbox_.beginEffect("d1_exec");
  w.field("binding", D1_BINDING).field("sql", sql).key("params").raw(params);
  outbox_.endEffect();
}

void Session::blobPutDetached(std::string_view key, std::string_view value) {
  json::Writer w = outbox_.beginEffect("blob_put");
  w.field("binding", BODIES_BINDING).field("key", key);
  outbox_.body(w, value);
  outbox_.endEffect();
}

void Session::blobGet(std::string_view key, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("blob_get");
  w.field("id", id).field("binding", BODIES_BINDING).field("key", key);
  outbox_.endEffect();
}

void Session::blobList(std::string_view prefix, int64_t limit, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("blob_list");
  w.field("id", id).field("binding", BODIES_BINDING).field("prefix", prefix).field("limit", limit);
  outbox_.endEffect();
}

void Session::blobDelete(std::string_view keysJson, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect("blob_delete");
  w.field("id", id).field("binding", BODIES_BINDING).key("keys").raw(keysJson);
  outbox_.endEffect();
}

void Session::queueSendDetached(std::string_view binding, std::string_view message, std::string_view fallbackJob,
                                int64_t packMs) {
  // The message travels as bytes, sent as it is. Its fallback is the queue's
  // own consumer, run by the host in its place: nothing per request to build.
  json::Writer w = outbox_.beginEffect("queue_send");
  w.field("binding", binding).field("fallback_job", fallbackJob).field("pack_ms", packMs);
  outbox_.body(w, message);
  outbox_.endEffect();
}

void Session::vaultSeal(std::string_view key, std::string_view context, EffectCallback cb) {
  vaultEffect("vault_seal", key, context, std::move(cb));
}

void Session::vaultReseal(std::string_view sealed, std::string_view context, EffectCallback cb) {
  vaultEffect("vault_reseal", sealed, context, std::move(cb));
}

void Session::vaultEffect(std::string_view type, std::string_view bytes, std::string_view context, EffectCallback cb) {
  uint32_t id = expect(std::move(cb));
  json::Writer w = outbox_.beginEffect(type);
  w.field("id", id).field("context", context);
  outbox_.body(w, bytes);
  outbox_.endEffect();
}

void Session::scheduleJob(std::string_view path, int64_t delayMs) {
  json::Writer w = outbox_.beginEffect("schedule");
  w.field("path", path).field("delay_ms", std::max<int64_t>(0, delayMs));
  outbox_.endEffect();
}

void Session::onConfigRead() {
  readingConfig_ = false;
  state_.refreshInFlight = false;
  state_.lastRefreshMs = nowMs_;
  std::unique_ptr<ConfigRead> read = std::move(configRead_);
  const bool vaultChanged = read->vaultRead && read->vault != state_.gatewayVaultDoc;
  if (vaultChanged) state_.setGatewayKeys(read->vault);
  const std::string_view next = read->overrideRead ? std::string_view(read->override) : std::string_view(state_.overrideConfig);
  if (next != state_.overrideConfig || vaultChanged) {
    Status st = state_.rebuild(next);
    if (!st) {
      std::string record;
      json::Writer w(record);
      w.beginObject().field("event", "config_override_rejected").field("error", st.message).endObject();
      log("error", record);
    }
  }
  startHandler();
}

bool Session::feed(std::string_view meta, std::string_view data) {
  if (!meta_.parse(meta) || meta_.kind(meta_.root()) != json::Kind::Object) return false;
  const uint32_t root = meta_.root();
  int64_t id = meta_.integerAt(root, "id", -1);
  if (id <= 0 || inFlight_.count(static_cast<uint32_t>(id)) == 0) return false;
  auto effectId = static_cast<uint32_t>(id);
  int64_t now = meta_.integerAt(root, "now_ms", nowMs_);
  if (now > nowMs_) nowMs_ = now;  // time never runs backwards inside a session
  uint32_t type = meta_.find(root, "type");
  if (type == 0 || meta_.kind(type) != json::Kind::String) return false;

  auto callback = callbacks_.find(effectId);
  if (callback != callbacks_.end()) {
    EffectResult r;
    if (meta_.stringEquals(type, "kv_result") || meta_.stringEquals(type, "blob_result")) {
      uint32_t found = meta_.find(root, "found");
      r.ok = found != 0 && meta_.kind(found) == json::Kind::True;
      if (!r.ok) r.message = meta_.stringAt(root, "error");
    } else if (meta_.stringEquals(type, "kv_done") || meta_.stringEquals(type, "kv_list_result") ||
               meta_.stringEquals(type, "ledger_result") || meta_.stringEquals(type, "d1_result") ||
               meta_.stringEquals(type, "vault_result") || meta_.stringEquals(type, "blob_done") ||
               meta_.stringEquals(type, "blob_list_result")) {
      uint32_t ok = meta_.find(root, "ok");
      r.ok = ok != 0 && meta_.kind(ok) == json::Kind::True;
      r.message = meta_.stringAt(root, "message");
      r.keyId = meta_.stringAt(root, "key_id");
    } else {
      return false;
    }
    r.data = data;
    EffectCallback cb = std::move(callback->second);
    callbacks_.erase(callback);
    inFlight_.erase(effectId);
    if (!cancelled_) cb(*this, r);
    return true;
  }
  auto route = fetches_.find(effectId);
  if (route == fetches_.end()) return false;
  // The route stays registered while its observer runs (it may abort the
  // fetch); the input that ends the fetch drops it afterwards.
  FetchObserver& to = *route->second.to;
  const bool head = meta_.stringEquals(type, "fetch_head");
  const bool whole = meta_.stringEquals(type, "fetch_response");  // head, body and end in one input
  bool ended = false;
  if (head || whole) {
    int64_t status = meta_.integerAt(root, "status", 0);
    if (status < 100 || status > 599) return false;
    uint32_t headers = meta_.find(root, "headers");
    if (headers != 0 && meta_.kind(headers) != json::Kind::Object) headers = 0;
    ended = whole;
    if (whole) inFlight_.erase(effectId);
    if (!cancelled_) to.onHead(*this, static_cast<int>(status), meta_, headers);
    if (whole && !data.empty() && !cancelled_ && !route->second.aborted) to.onChunk(*this, data);
    if (whole && !cancelled_ && !route->second.aborted) to.onEnd(*this);
  } else if (meta_.stringEquals(type, "fetch_chunk")) {
    if (!cancelled_) to.onChunk(*this, data);
  } else if (meta_.stringEquals(type, "fetch_end")) {
    ended = true;
    inFlight_.erase(effectId);
    if (!cancelled_) to.onEnd(*this);
  } else if (meta_.stringEquals(type, "fetch_error")) {
    ended = true;
    inFlight_.erase(effectId);
    if (!cancelled_) to.onError(*this, meta_.stringAt(root, "reason"), meta_.stringAt(root, "message"));
  } else {
    return false;
  }
  if (ended) fetches_.erase(effectId);
  return true;
}

void Session::cancel(int64_t nowMs) {
  if (nowMs > nowMs_) nowMs_ = nowMs;
  // A request already answered is not the client's to cancel: what it
  // still does (an upstream connection closing, a store) runs to its end,
  // and its record stands.
  if (cancelled_ || ended_) return;
  cancelled_ = true;
  handler_->onCancel(*this);
  finish(499, "client_cancelled", invalidRequest("The client closed the connection.", "", "client_cancelled"));
  if (readingConfig_) state_.refreshInFlight = false;
  for (uint32_t id : std::set<uint32_t>(inFlight_))
    if (callbacks_.count(id) == 0) abortFetch(id);
  inFlight_.clear();
  callbacks_.clear();
  ended_ = true;
}

void Session::respond(int status, std::string_view contentType, std::string_view body, const Headers& extra) {
  Headers headers;
  headers.reserve(extra.size() + 1);
  headers.emplace_back("content-type", std::string(contentType));
  for (const auto& h : extra) headers.push_back(h);
  respondHead(status, headers, false);
  respondChunk(body);
  respondEnd();
}

void Session::respondError(const ApiError& e, const Headers& extra) {
  respondJson(e.status, handler_->renderError(e), extra);
}

void Session::respondHead(int status, const Headers& headers, bool stream) {
  if (headSent_ || ended_) return;
  headSent_ = true;
  json::Writer w = outbox_.beginEffect("respond_head");
  w.field("status", status).field("stream", stream);
  w.key("headers").beginObject();
  for (const auto& [name, value] : headers) w.field(name, value);
  w.field("x-request-id", requestId_);
  if (const std::string_view alias = handler_->requestIdHeader(); !alias.empty()) w.field(alias, requestId_);
  w.field("access-control-allow-origin", "*");
  w.field("access-control-expose-headers", cors::EXPOSED_HEADERS);
  w.field("timing-allow-origin", "*");
  w.endObject();
  // What the host ends the stream with should the core fault before it does.
  if (stream) w.field("fault_event", handler_->streamErrorEvent(gatewayFault()));
  outbox_.endEffect();
}

void Session::respondChunk(std::string_view bytes) {
  if (!headSent_ || ended_ || bytes.empty()) return;
  if (record_.storeBody && !record_.responseTruncated) {
    const size_t cap = config_ ? static_cast<size_t>(config_->maxBodyBytes) : 0;
    const size_t room = cap > record_.responseBody.size() ? cap - record_.responseBody.size() : 0;
    record_.responseBody.append(bytes.substr(0, room));
    record_.responseTruncated = bytes.size() > room;
  }
  json::Writer w = outbox_.beginEffect("respond_chunk");
  outbox_.body(w, bytes);
  outbox_.endEffect();
}

void Session::respondEnd() {
  if (!headSent_ || ended_) return;
  ended_ = true;
  ++state_.requestsServed;
  outbox_.beginEffect("respond_end");
  outbox_.endEffect();
}

namespace {

// fetchWhole's observer: buffers the body and hands the whole of it over.
class WholeFetch : public FetchObserver {
 public:
  WholeFetch(size_t maxBody, FetchCallback then) : maxBody_(maxBody), then_(std::move(then)) {}
  void setId(uint32_t id) { id_ = id; }
  void onHead(Session&, int status, const json::Tape&, uint32_t) override { status_ = status; }
  void onChunk(Session& s, std::string_view data) override {
    if (body_.size() + data.size() <= maxBody_) {
      body_.append(data);
      return;
    }
    s.abortFetch(id_);
    land(s, "too_large", "the response exceeded " + std::to_string(maxBody_) + " bytes");
  }
  void onEnd(Session& s) override { land(s, {}, {}); }
  void onError(Session& s, std::string_view reason, std::string_view message) override {
    land(s, reason, std::string(message.empty() ? reason : message));
  }

 private:
  void land(Session& s, std::string_view reason, std::string error) {
    FetchCallback then = std::move(then_);
    if (!then) return;
    FetchOutcome o;
    o.status = status_;
    o.body = body_;
    o.reason = reason;
    o.error = error;
    then(s, o);
  }
  size_t maxBody_;
  FetchCallback then_;
  uint32_t id_ = 0;
  int status_ = 0;
  std::string body_;
};

}  // namespace

uint32_t Session::fetchWhole(const FetchSpec& spec, size_t maxBody, FetchCallback then) {
  auto buffer = std::make_unique<WholeFetch>(maxBody, std::move(then));
  WholeFetch& to = *buffer;
  const uint32_t id = fetch(spec, to);
  to.setId(id);
  fetches_[id].owned = std::move(buffer);
  return id;
}

uint32_t Session::fetch(const FetchSpec& spec, FetchObserver& to) {
  uint32_t id = newEffectId();
  fetches_[id].to = &to;
  json::Writer w = outbox_.beginEffect("fetch");
  w.field("id", id);
  if (spec.urlSecret.empty()) w.field("url", spec.url);
  else w.field("url_secret", spec.urlSecret);
  w.field("method", spec.method);
  writeHeaders(w, spec.headers);
  if (!spec.authSecret.empty() || !spec.authSealed.empty()) {
    w.key("auth").beginObject();
    if (spec.authSealed.empty()) w.field("secret", spec.authSecret);
    else w.field("sealed", spec.authSealed).field("context", spec.authContext);
    w.field("style", spec.authStyle);
    if (!spec.authHeader.empty()) w.field("header", spec.authHeader);
    w.endObject();
  }
  if (!spec.keySource.empty()) record_.keySource = spec.keySource;
  if (!spec.body.empty()) outbox_.body(w, spec.body);
  w.field("stream", spec.stream).field("timeout_ms", spec.timeoutMs).field("delay_ms", spec.delayMs);
  if (spec.firstByteTimeoutMs > 0) w.field("first_byte_timeout_ms", spec.firstByteTimeoutMs);
  if (spec.idleTimeoutMs > 0) w.field("idle_timeout_ms", spec.idleTimeoutMs);
  outbox_.endEffect();
  inFlight_.insert(id);
  return id;
}

void Session::abortFetch(uint32_t id) {
  if (inFlight_.erase(id) == 0) return;
  // The route stays (its observer may be the one aborting, mid-call) but hears nothing more.
  if (auto route = fetches_.find(id); route != fetches_.end()) route->second.aborted = true;
  json::Writer w = outbox_.beginEffect("abort");
  w.field("id", id);
  outbox_.endEffect();
}

void Session::log(std::string_view level, std::string_view record) {
  if (config_ && logLevelOf(level) < config_->logLevel) return;  // below LOG_LEVEL
  // The whole line, level and request id first, then the record's members:
  // the host writes it as it is, parsing nothing.
  scratch_.clear();
  json::Writer(scratch_).beginObject().field("level", level).field("request_id", requestId_).endObject();
  scratch_.pop_back();
  if (record.size() > 2 && record.front() == '{') scratch_.append(",").append(record.substr(1));
  else scratch_.push_back('}');
  json::Writer w = outbox_.beginEffect("log");
  w.field("level", level);
  outbox_.body(w, scratch_);
  outbox_.endEffect();
}

}  // namespace gw
