#pragma once
// A host for the core made of in-memory maps: it drives sessions exactly the
// way the worker does (poll effects, perform them, feed results) but answers
// fetches from a script and runs on simulated time.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gw/gateway.h"
#include "gw/ledger.h"

struct sqlite3;

namespace gw::testing {

std::string readFile(const std::string& path);
std::string sourcePath(const std::string& relative);
// config/gateway.json + providers.json + models.json as the one document the core takes.
std::string bundledConfig();

using Vars = std::map<std::string, std::string>;

// The test host's ADMIN_API_KEY, and a user key it seeds (tenant "acme",
// user "alice") and sends on every request that brings no key of its own.
constexpr const char* ADMIN_KEY = "test-admin-key-0123456789";
// The headers of a request made with ADMIN_API_KEY.
inline std::map<std::string, std::string> adminHeaders() {
  return {{"authorization", std::string("Bearer ") + ADMIN_KEY}};
}
constexpr const char* TEST_KEY = "aigw_sk_testkey0123456789abcdef";
// The host's METRICS_TOKEN (GET /metrics only).
constexpr const char* METRICS_TOKEN = "test-metrics-token-0123456789";

struct ScriptedReply {
  enum class End { Complete, NetworkError, Timeout };
  int status = 200;
  Headers headers;
  std::vector<std::string> chunks;  // body, in the slices the host delivers
  End end = End::Complete;
};

struct FetchCall {
  std::string url;
  std::string urlSecret;
  std::string method;
  std::map<std::string, std::string> headers;
  std::string authSecret;
  std::string authStyle;
  std::string authHeader;
  std::string authSealed;  // a vault key: what the core sent, and what the host opened it to
  std::string authKey;
  std::string body;
  bool stream = false;
  int64_t timeoutMs = 0;
  int64_t firstByteTimeoutMs = 0;
  int64_t delayMs = 0;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  std::vector<std::string> chunks;
  bool stream = false;
  bool completed = false;
  std::vector<std::string> logs;
};

// The D1 database: SQLite in memory with the repository's migrations applied.
class SqlDatabase {
 public:
  SqlDatabase();
  ~SqlDatabase();
  SqlDatabase(const SqlDatabase&) = delete;
  SqlDatabase& operator=(const SqlDatabase&) = delete;
  // Runs one statement with `params` (a JSON array) bound; on success fills
  // `result` with {"rows":[...],"changes":N} as D1 answers, else `error`.
  bool run(const std::string& sql, const std::string& params, std::string& result, std::string& error);
  // Convenience for tests: the rows of a query as a JSON array.
  std::string query(const std::string& sql, const std::string& params = "[]");

 private:
  ::sqlite3* db_ = nullptr;
};

class FakeHost {
 public:
  explicit FakeHost(std::map<std::string, std::string> vars = {}, std::vector<std::string> secrets = {"OPENAI_API_KEY"},
                    std::string config = "", std::vector<std::string> bindings = {});

  HttpResponse request(const std::string& method, const std::string& path, const std::string& body = "",
                       std::map<std::string, std::string> headers = {});
  HttpResponse chat(const std::string& body) { return request("POST", "/v1/chat/completions", body); }
  // Runs the host jobs the core scheduled whose time (nowMs) has come, as
  // the worker's timers would; every request runs them first.
  void runDueJobs();
  // One host job (an internal POST), as the worker's runJob.
  HttpResponse runJob(const std::string& path, const std::string& body);

  struct ScheduledJob {
    int64_t atMs = 0;
    std::string path;
    std::string body;
  };
  std::vector<ScheduledJob> jobs;  // scheduled, not run yet
  std::vector<ScheduledJob> queueFallbacks;  // fallback jobs of failed queue sends, run as a request ends
  std::vector<int> queueFallbackStatuses;    // what each fallback job answered
  bool runningFallbacks = false;
  int jobsRun = 0;
  bool runningJobs = false;

  Gateway gateway;
  GwStatus configureStatus;
  // GATEWAY_ENCRYPTION_KEY's key ids, the sealing one first: the test var
  // GATEWAY_ENCRYPTION_KEY_IDS (comma-separated; empty: no vault) sets them.
  std::vector<std::string> vaultKeyIds = {"k1"};
  bool kvDown = false;  // every KV read fails (as KV being unreachable does)
  std::map<std::string, std::string> kv;
  std::map<std::string, std::string> blobs;  // the R2 bucket of request bodies (GATEWAY_BODIES)
  bool blobsDown = false;
  std::map<std::string, int64_t> kvTtl;  // expiration_ttl of each put (0: none)
  std::map<std::string, std::map<std::string, std::string>> ledgers;  // tenant -> the Durable Object's stored entries
  std::map<std::string, ledger::Ledger> openLedgers;  // tenant -> the Durable Object's loaded ledger
  std::vector<std::string> ledgerOps;          // every op sent, in order
  FakeHost* ledgerHost = nullptr;              // another host whose ledgers this one's calls go to (many isolates, one ledger)
  int snapshotWrites = 0;                      // KV mirrors of the ledger's snapshot
  bool autoAuth = true;                        // add TEST_KEY when a request brings no key
  bool internal = false;                       // mark envelopes as host jobs (the cron trigger)
  bool ledgerDown = false;
  std::unique_ptr<SqlDatabase> d1 = std::make_unique<SqlDatabase>();
  bool d1Down = false;
  std::vector<std::string> d1Statements;       // every statement run, in order
  size_t d1LargestParams = 0;                  // the longest parameter list a d1_exec bound (bytes)
  std::map<std::string, std::vector<std::string>> queues;  // binding -> the messages sent to it, in order
  bool queueDown = false;                      // sends fail: the host runs the message's fallback job
  std::vector<int64_t> queuePackMs;            // the packing window of every queue_send, in order
  std::deque<ScriptedReply> replies;
  std::map<std::string, ScriptedReply> urlReplies;  // by URL (or url_secret): answers every fetch of it, before `replies`
  std::vector<FetchCall> fetches;
  std::vector<FetchCall> ledgerFetches;  // what the ledgers asked to post (budget alerts)
  int64_t nowMs = 1700000000000;
  int64_t requestCount = 0;
  std::string entropy = "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef";
  int64_t upstreamLatencyMs = 5;
  // Stop delivering the stream after this many chunks and cancel (client abort).
  int cancelAfterChunks = -1;
  // Cancel after the whole body arrived but before the upstream's end (the
  // client leaves as its answer completes, the provider's connection still open).
  bool cancelBeforeFetchEnd = false;
  // The runtime dies when the request calls upstream: nothing more of the
  // session runs (it is left open, never closed or cancelled).
  bool dieAtFetch = false;
};

// A stream reply of a fixture file (tests/fixtures/<file>), in 40-byte slices.
ScriptedReply fixtureStream(const std::string& file);

// An OpenAI-compatible non-stream reply with the given content and usage.
ScriptedReply openaiReply(const std::string& content, int promptTokens = 9, int completionTokens = 3);

}  // namespace gw::testing
