#pragma once
// One client request as a deterministic state machine. The host opens it with
// the request envelope and body, then alternates: poll() the effects it wants
// performed, feed() what happened. Time and entropy arrive with each input.
#include <cstdint>
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
#include "gw/outbox.h"
#include "gw/random.h"

namespace gw {

struct RequestEnvelope {
  std::string method;
  std::string path;
  std::string query;
  Headers headers;  // names lower-case
  int64_t nowMs = 0;
  uint8_t entropy[16] = {};
  bool bodyTruncated = false;  // the host stopped reading past the body limit
  uint64_t bodySize = 0;       // bytes the client sent, when known

  std::string_view header(std::string_view name) const;
};

struct FetchSpec {
  std::string url;
  std::string method = "POST";
  Headers headers;
  std::string body;
  std::string authSecret;  // secret name; empty for none
  std::string authStyle;   // bearer | header
  std::string authHeader;
  bool stream = false;
  int64_t timeoutMs = 30000;
  int64_t delayMs = 0;
};

class Session;

// An endpoint. Handlers react to the session's inputs and answer through it.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual bool needsConfig() const { return true; }
  virtual void start(Session& s) = 0;
  virtual void onFetchHead(Session&, uint32_t /*id*/, int /*status*/, const json::Tape& /*meta*/,
                           uint32_t /*headers*/) {}
  virtual void onFetchChunk(Session&, uint32_t /*id*/, std::string_view /*data*/) {}
  virtual void onFetchEnd(Session&, uint32_t /*id*/) {}
  virtual void onFetchError(Session&, uint32_t /*id*/, std::string_view /*reason*/, std::string_view /*message*/) {}
  virtual void onCancel(Session&) {}
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
  void drain(std::string& out) { outbox_.drain(out, done()); }
  bool done() const { return ended_ && inFlight_.empty(); }

  // For handlers.
  uint32_t id() const { return id_; }
  GatewayState& state() { return state_; }
  const Config& config() const { return *config_; }
  const RequestEnvelope& request() const { return envelope_; }
  const std::string& body() const { return body_; }
  const std::string& requestId() const { return requestId_; }
  int64_t nowMs() const { return nowMs_; }
  int64_t startedMs() const { return envelope_.nowMs; }
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
  uint32_t fetch(const FetchSpec& spec);
  void abortFetch(uint32_t id);
  // A structured log line; `record` must be a JSON object.
  void log(std::string_view level, std::string_view record);

 private:
  uint32_t newEffectId() { return nextEffectId_++; }
  void startHandler();
  void onConfigOverride(bool found, std::string_view value);

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
  uint32_t nextEffectId_ = 1;
  uint32_t configReadId_ = 0;
  int64_t nowMs_ = 0;
  bool headSent_ = false;
  bool ended_ = false;
  bool cancelled_ = false;
};

}  // namespace gw
