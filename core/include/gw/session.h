#pragma once
// One client request as a deterministic state machine. The host opens it with
// the request envelope and body, then alternates: poll() the effects it wants
// performed, feed() what happened. Time and entropy arrive with each input.
#include <cstdint>
#include "gw/move_function.h"
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gw/api_error.h"
#include "gw/gateway_state.h"
#include "gw/http.h"
#include "gw/json_tape.h"
#include "gw/limits.h"
#include "gw/outbox.h"
#include "gw/random.h"
#include "gw/request_record.h"

namespace gw {

struct RequestEnvelope {
  std::string method;
  std::string path;
  std::string query;
  Headers headers;  // names lower-case
  int64_t nowMs = 0;
  uint8_t entropy[32] = {};   // requestId shows bytes 0-11; 16-31 stay private (key material)
  uint32_t entropyBytes = 0;
  bool internal = false;       // a host job (cron), not an HTTP request
  bool bodyTruncated = false;  // the host stopped reading past the body limit
  uint64_t bodySize = 0;       // bytes the client sent, when known

  std::string_view header(std::string_view name) const;
};

struct FetchSpec {
  std::string url;
  std::string method = "POST";
  Headers headers;
  std::string body;
  std::string urlSecret;   // a secret whose value is the URL (webhooks carry tokens); `url` is then unused
  std::string authSecret;  // secret name; empty for none
  std::string authSealed;  // or a key from the vault, sealed: the host opens it (bound to authContext)
  std::string authContext;
  std::string_view keySource;  // which key it carries (vault::SOURCE_*), for the record
  std::string authStyle;   // bearer | header
  std::string authHeader;
  bool stream = false;
  int64_t timeoutMs = 30000;
  int64_t firstByteTimeoutMs = 0;  // 0: none (the host reports "timeout" if it passes before the head)
  int64_t idleTimeoutMs = 0;       // streams: 0: none (the host reports "stalled")
  int64_t delayMs = 0;
};

class Session;

// What happened to a KV, ledger or D1 effect.
struct EffectResult {
  bool ok = false;     // kv_get: found; kv_put/kv_delete/ledger/kv_list/d1: succeeded
  std::string_view data;  // value, list document, ledger result or d1 rows
  std::string message; // on failure (kv_get: set when KV failed, empty when the key is not there)
  std::string keyId;   // vault_seal / vault_reseal: the master key id it is sealed under
};
using EffectCallback = MoveFunction<void(Session&, const EffectResult&)>;

// Where a fetch's results go as they come: its head, its body's slices,
// then its end or its failure (`reason`: timeout | stalled | network). A
// fetch the session aborted reports nothing more.
class FetchObserver {
 public:
  virtual ~FetchObserver() = default;
  virtual void onHead(Session& s, int status, const json::Tape& meta, uint32_t headers) = 0;
  virtual void onChunk(Session& s, std::string_view data) = 0;
  virtual void onEnd(Session& s) = 0;
  virtual void onError(Session& s, std::string_view reason, std::string_view message) = 0;
};

// A whole fetched response, or why there is none.
struct FetchOutcome {
  int status = 0;  // 0: no response arrived
  std::string_view body;
  std::string_view reason;  // empty when the response arrived whole; else timeout | stalled | network | too_large
  std::string_view error;   // the failure's message (the reason when there is none)
  bool ok() const { return reason.empty() && status >= 200 && status < 300; }
  // Why it failed, in a line: the fetch error, or "HTTP <status>".
  std::string failure() const {
    return reason.empty() ? "HTTP " + std::to_string(status) : std::string(error.substr(0, 200));
  }
};
using FetchCallback = MoveFunction<void(Session&, const FetchOutcome&)>;

// Who may call an endpoint. Public needs nothing; Client and Metered need a
// virtual key (Metered ones spend: the fast quota check runs first); Admin
// needs ADMIN_API_KEY or a key with role admin.
// Scrape (GET /metrics) takes ADMIN_API_KEY or METRICS_TOKEN, nothing else.
enum class Access { Public, Client, Metered, Admin, Scrape };

// The caller, as established from its key. Tenant, user and agent come from
// the key; headers may narrow user and agent, never widen them.
struct Principal {
  bool authenticated = false;
  bool root = false;  // ADMIN_API_KEY: every tenant
  std::string keyId;
  std::string tenantId;
  std::string userId;
  std::string agentId;
  bool admin = false;  // role admin (within tenantId unless root)
  std::vector<std::string> models;  // allowed models; empty: all
  QuotaLimits limits;               // the key's own limits
  // The tenant's own provider keys (the vault), read with the key; null
  // until then, and for ADMIN_API_KEY.
  std::shared_ptr<const vault::Keys> tenantKeys;

  // The ledger account a request counts against: its user, or one shared
  // account for keys bound to no user (service keys).
  std::string accountUser() const { return userId.empty() ? "_service" : userId; }
  // What the isolate keeps per tenant, key and account user (cache hits to
  // count, credit leases): "<tenant>\n<key>\n<user>".
  std::string ledgerScope() const { return tenantId + "\n" + keyId + "\n" + accountUser(); }
};

// An endpoint. Handlers react to the session's inputs and answer through it.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual bool needsConfig() const { return true; }
  virtual Access access() const { return Access::Client; }
  // Metered endpoints: the api_type of their usage rows (also for requests
  // refused before the handler ran).
  virtual const char* apiType() const { return nullptr; }
  virtual void start(Session& s) = 0;
  // The shape of this endpoint's errors, every one of them (a refused key
  // on /v1/messages is Anthropic-shaped), and the header its clients' SDK
  // reads the request id from, when that is not x-request-id.
  virtual std::string renderError(const ApiError& e) const { return gw::renderError(e); }
  virtual std::string_view requestIdHeader() const { return {}; }
  // A failure after a stream started, as the endpoint's clients read one
  // (the host also sends it should the core fault mid-stream).
  virtual std::string streamErrorEvent(const ApiError& e) const { return "data: " + renderError(e) + "\n\n"; }
  // The client went away: fill the record with what was delivered (the
  // session then finishes the request as 499).
  virtual void onCancel(Session&) {}
  // The request's end, once, before its record is written: release what
  // the handler holds beyond the record (its target's breaker, the
  // requests waiting on its answer).
  virtual void onDone(Session&) {}
  // An identical request this session waited on has ended (single flight):
  // `entry` is the cache entry it stored, or null when it stored none.
  virtual void onFlightLanded(Session&, const std::string* /*entry*/) {}
};

class Session {
 public:
  Session(uint32_t id, GatewayState& state, RequestEnvelope envelope, std::string body,
          std::unique_ptr<Handler> handler);

  void begin();
  // Host inputs. Return false when the input does not fit the session's state
  // (unknown effect id, malformed metadata): the host gets a status code.
  bool feed(std::string_view meta, std::string_view data);
  void cancel(int64_t nowMs);
  void drain(std::string& out, const std::vector<uint32_t>& wake = {}) { outbox_.drain(out, done(), wake); }
  // Another session's answer for the identical request this one waits on.
  void flightLanded(const std::string* entry) {
    if (!ended_ && !cancelled_) handler_->onFlightLanded(*this, entry);
  }
  bool done() const { return ended_ && inFlight_.empty(); }

  // For handlers.
  uint32_t id() const { return id_; }
  GatewayState& state() { return state_; }
  const Handler& handler() const { return *handler_; }
  const Config& config() const { return *config_; }
  const RequestEnvelope& request() const { return envelope_; }
  const std::string& body() const { return body_; }
  const std::string& requestId() const { return requestId_; }
  int64_t nowMs() const { return nowMs_; }
  int64_t openedMs() const { return envelope_.nowMs; }  // when the request arrived
  int64_t admittedMs() const { return admittedMs_; }  // when the access stage let the request in
  Random& random() { return random_; }
  bool headSent() const { return headSent_; }
  bool ended() const { return ended_; }
  bool cancelled() const { return cancelled_; }

  void respond(int status, std::string_view contentType, std::string_view body, const Headers& extra = {});
  void respondJson(int status, std::string_view body, const Headers& extra = {}) {
    respond(status, "application/json", body, extra);
  }
  void respondError(const ApiError& e, const Headers& extra = {});
  void respondHead(int status, const Headers& headers, bool stream);
  void respondChunk(std::string_view bytes);
  void respondEnd();
  // A fetch whose results go to `to` as they come (`to` outlives it).
  uint32_t fetch(const FetchSpec& spec, FetchObserver& to);
  // A fetch whose whole response (at most `maxBody` bytes: past that it is
  // aborted, reason too_large) goes to `then`, like any other effect result.
  uint32_t fetchWhole(const FetchSpec& spec, size_t maxBody, FetchCallback then);
  void abortFetch(uint32_t id);
  const Principal& principal() const { return principal_; }
  Principal& principal() { return principal_; }

  // KV, ledger and D1 effects; the callback runs when the host reports back.
  void kvGet(std::string_view key, EffectCallback cb);
  void kvPut(std::string_view key, std::string_view value, EffectCallback cb, int64_t ttlSeconds = 0);
  void kvDelete(std::string_view key, EffectCallback cb);
  void kvList(std::string_view prefix, int64_t limit, EffectCallback cb);
  void ledger(std::string_view tenant, std::string_view op, EffectCallback cb);
  // A ledger call nobody waits for (settle, release): the host finishes it
  // after the response, and the session does not stay open for it.
  void ledgerDetached(std::string_view tenant, std::string_view op);
  // One SQL statement on the D1 database; `params` is a JSON array of the
  // values bound to its `?`s, in order. On success the callback's data is
  // {"rows":[{column: value}],"changes":N}.
  void d1(std::string_view sql, std::string_view params, EffectCallback cb);
  // A statement nobody waits for (usage counters): the host runs it after
  // the response.
  void d1Detached(std::string_view sql, std::string_view params);
  // The R2 bucket of request bodies (BODIES_BINDING): a write nobody waits
  // for (the host scrubs the secrets it holds out of it first), a read
  // (`ok` false: not there, or `message` when R2 failed), a page of keys in
  // key order ({"objects":[{"key"}],"truncated":bool}) and a delete of up to
  // 1000 keys (a JSON array).
  void blobPutDetached(std::string_view key, std::string_view value);
  void blobGet(std::string_view key, EffectCallback cb);
  void blobList(std::string_view prefix, int64_t limit, EffectCallback cb);
  void blobDelete(std::string_view keysJson, EffectCallback cb);
  // Sends `message` (JSON) to the queue bound as `binding`, past the
  // response, packed with the binding's others of the next `packMs`; should
  // the send fail, the host runs the host job at `fallbackJob` with the
  // messages (an array, as the queue delivers them).
  void queueSendDetached(std::string_view binding, std::string_view message, std::string_view fallbackJob,
                         int64_t packMs);
  // Seals a provider key for the vault (bound to `context`, vault::context);
  // on success the data is the sealed text and keyId the master key's id.
  // The key passes through the host's seal only: the core keeps none.
  void vaultSeal(std::string_view key, std::string_view context, EffectCallback cb);
  // Seals an already sealed key again under the current master key (rotation).
  void vaultReseal(std::string_view sealed, std::string_view context, EffectCallback cb);
  // Asks the host to run the host job at `path` (POST, no body) in `delayMs`;
  // nothing is fed back and the session does not stay open for it.
  void scheduleJob(std::string_view path, int64_t delayMs);
  // Starts the handler after the access stage admitted the request.
  void admit();
  // Whether this request's bodies go to the request log (R2): its tenant
  // stores them (the snapshot says so), the bucket is bound, the endpoint is
  // metered, and the request did not send x-aigw-log-body: false.
  void storeBodyIf(bool tenantStores);
  // What the request did so far; the handler fills it.
  RequestRecord& record() { return record_; }
  const RequestRecord& record() const { return record_; }
  // The one end of a request, whatever ended it (an answer, a refusal, a
  // failure, the client leaving); runs once, later calls do nothing. The
  // handler's onDone, then: the hold charged (known usage) or given back,
  // and for metered endpoints the log line and the usage row. `error` is
  // what the request failed with (its code is the row's error class).
  void finish(int status, std::string_view outcome, const ApiError& error = ApiError{});
  bool finished() const { return finished_; }
  // A structured log line; `record` must be a JSON object.
  void log(std::string_view level, std::string_view record);

 private:
  uint32_t newEffectId() { return nextEffectId_++; }
  uint32_t expect(EffectCallback cb);
  void startHandler();
  void vaultEffect(std::string_view type, std::string_view bytes, std::string_view context, EffectCallback cb);
  // Both refresh reads are back (the KV override, the gateway's vault keys):
  // serves what changed, then the handler.
  void onConfigRead();

  uint32_t id_;
  GatewayState& state_;
  std::shared_ptr<const Config> config_;
  RequestEnvelope envelope_;
  std::string body_;
  std::unique_ptr<Handler> handler_;
  Outbox outbox_;
  std::string requestId_;
  Random random_;
  std::set<uint32_t> inFlight_;
  json::Tape meta_;
  std::map<uint32_t, EffectCallback> callbacks_;
  struct FetchRoute {
    FetchObserver* to = nullptr;
    std::unique_ptr<FetchObserver> owned;  // fetchWhole's buffer
    bool aborted = false;
  };
  std::map<uint32_t, FetchRoute> fetches_;
  Principal principal_;
  RequestRecord record_;
  std::string scratch_;  // an effect's text being composed (a ledger op with its tenant, a log line), reused
  uint32_t nextEffectId_ = 1;
  bool readingConfig_ = false;  // this session holds the instance's config refresh
  struct ConfigRead {
    int pending = 0;
    bool overrideRead = false, vaultRead = false;  // false: KV failed, keep what serves
    std::string override, vault;
  };
  std::unique_ptr<ConfigRead> configRead_;
  int64_t nowMs_ = 0;
  int64_t admittedMs_ = 0;
  bool headSent_ = false;
  bool ended_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace gw
