// The ledger on simulated time: limits, budgets, reservations and alerts.
#include <catch2/catch.hpp>

#include <set>

#include "gw/ledger.h"
#include "gw/nlohmann.h"
#include "gw/periods.h"
#include "gw/sha256.h"

using nlohmann::json;

namespace {

// 2026-11-22T10:00:00Z, a Sunday.
constexpr int64_t NOW = 1795341600000;

// Every op runs twice: on a ledger kept in memory (as the Durable Object
// does) and on one loaded from the last stored document (as after the object
// is evicted). Equal answers mean the stored document loses nothing.
struct Ledger {
  std::map<std::string, std::string> stored;  // what the Durable Object keeps
  gw::ledger::Ledger kept;
  std::string lastRaw;
  int64_t now = NOW;

  json op(const json& o) {
    gw::ledger::Outcome out = gw::ledger::apply(gw::ledger::storedDocument(stored), o.dump(), now);
    gw::ledger::Outcome fromKept = kept.apply(o.dump(), now);
    CHECK(fromKept.result == out.result);
    for (const auto& [key, value] : fromKept.writes) stored[key] = value;
    lastRaw = out.result;
    json r = json::parse(out.result, nullptr, false);
    REQUIRE_FALSE(r.is_discarded());
    return r;
  }
  json reserve(const std::string& id, int64_t tokens, int64_t usd, const json& keyLimits = json::object(),
               const std::string& user = "u1", const std::string& key = "k1") {
    return op({{"op", "reserve"}, {"request_id", id}, {"key", key}, {"user", user}, {"key_limits", keyLimits},
               {"user_defaults", json::object()}, {"tokens", tokens}, {"usd", usd}, {"brl", usd * 5},
               {"ttl_ms", 60000}});
  }
  json settle(const std::string& id, int64_t tokens, int64_t usd) {
    return op({{"op", "settle"}, {"request_id", id}, {"tokens", tokens}, {"usd", usd}, {"brl", usd * 5}});
  }
};

}  // namespace

TEST_CASE("sha256 matches the NIST FIPS 180-4 examples") {
  CHECK(gw::sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(gw::sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(gw::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(gw::sha256Hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Fed in uneven slices, the digest is the same.
  std::string text(1000, 'x');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  gw::Sha256 h;
  for (size_t i = 0; i < text.size(); i += 37) h.update(std::string_view(text).substr(i, 37));
  auto d = h.finish();
  CHECK(gw::toHex(d.data(), d.size()) == gw::sha256Hex(text));
}

TEST_CASE("calendar periods are UTC days, Monday weeks and calendar months") {
  auto day = gw::periodBounds(gw::Period::Daily, NOW);
  CHECK(gw::isoTimestamp(day.startMs) == "2026-11-22T00:00:00.000Z");
  auto week = gw::periodBounds(gw::Period::Weekly, NOW);
  CHECK(gw::isoTimestamp(week.startMs) == "2026-11-16T00:00:00.000Z");
  CHECK(gw::isoTimestamp(week.endMs) == "2026-11-23T00:00:00.000Z");
  auto month = gw::periodBounds(gw::Period::Monthly, NOW);
  CHECK(gw::isoTimestamp(month.startMs) == "2026-11-01T00:00:00.000Z");
  CHECK(gw::isoTimestamp(month.endMs) == "2026-12-01T00:00:00.000Z");
  auto dec = gw::periodBounds(gw::Period::Monthly, gw::daysFromCivil(2026, 12, 31) * gw::MS_PER_DAY);
  CHECK(gw::isoTimestamp(dec.endMs) == "2027-01-01T00:00:00.000Z");
}

TEST_CASE("requests per minute: the limit holds, the window resets, headers count down") {
  Ledger l;
  json limits = {{"rpm", 3}};
  for (int i = 0; i < 3; ++i) {
    json r = l.reserve("r" + std::to_string(i), 10, 0, limits);
    REQUIRE(r["ok"] == true);
    CHECK(r["rate"]["requests"]["remaining"] == 2 - i);
    CHECK(r["rate"]["requests"]["limit"] == 3);
  }
  json denied = l.reserve("r3", 10, 0, limits);
  CHECK(denied["ok"] == false);
  CHECK(denied["status"] == 429);
  CHECK(denied["code"] == "rate_limit_exceeded");
  CHECK(denied["retry_after_ms"] == 60000);  // NOW is on a minute boundary
  l.now += 60000;
  CHECK(l.reserve("r4", 10, 0, limits)["ok"] == true);
}

TEST_CASE("tokens per minute are reserved at the worst case and settled to the actual") {
  Ledger l;
  json limits = {{"tpm", 1000}};
  REQUIRE(l.reserve("a", 600, 0, limits)["ok"] == true);
  CHECK(l.reserve("b", 600, 0, limits)["code"] == "rate_limit_exceeded");  // 600 held
  l.settle("a", 100, 0);                                                  // actually used 100
  json b = l.reserve("b", 600, 0, limits);
  REQUIRE(b["ok"] == true);
  CHECK(b["rate"]["tokens"]["remaining"] == 300);
  CHECK(l.reserve("c", 2000, 0, limits)["message"].get<std::string>().find("Request too large") != std::string::npos);
}

TEST_CASE("a budget's state: ok, warning past a threshold, exceeded over its limit, paused there when it pauses") {
  Ledger l;
  auto set = [&](bool pause) {
    l.op({{"op", "budget_set"},
          {"budget", {{"id", "tokens-daily"}, {"user", ""}, {"type", "tokens"}, {"limit", 100}, {"period", "daily"},
                      {"thresholds", {80}}, {"pause", pause}}}});
  };
  auto state = [&] { return l.op({{"op", "usage"}})["budgets"][0]["state"].get<std::string>(); };
  auto use = [&](const std::string& id, int64_t tokens) {
    REQUIRE(l.reserve(id, tokens, 0)["ok"] == true);
    l.settle(id, tokens, 0);
  };
  set(false);
  CHECK(state() == "ok");
  use("a", 79);
  CHECK(state() == "ok");
  use("b", 1);
  CHECK(state() == "warning");
  use("c", 30);  // a budget that does not pause lets requests through
  CHECK(state() == "exceeded");
  set(true);  // the same budget, now pausing, keeps what was used
  CHECK(state() == "paused");
  CHECK(l.reserve("d", 1, 0)["code"] == "insufficient_quota");
  l.now += gw::MS_PER_DAY;  // a new period starts afresh
  CHECK(state() == "ok");
}

TEST_CASE("a budget never overshoots under concurrent reservations, and spend is exact") {
  Ledger l;
  l.op({{"op", "budget_set"},
        {"budget", {{"id", "usd-monthly"}, {"user", ""}, {"type", "USD"}, {"limit", 1000}, {"period", "monthly"},
                    {"thresholds", {50, 100}}, {"pause", true}}}});
  // Ten requests of worst case 100 fit; the eleventh does not while they are in flight.
  for (int i = 0; i < 10; ++i) REQUIRE(l.reserve("r" + std::to_string(i), 1, 100)["ok"] == true);
  json over = l.reserve("r10", 1, 100);
  CHECK(over["code"] == "insufficient_quota");
  // Five settle at their worst case; five fail and release.
  json alerts;
  for (int i = 0; i < 5; ++i) {
    json r = l.settle("r" + std::to_string(i), 1, 100);
    if (r.contains("alerts")) alerts = r["alerts"];
  }
  for (int i = 5; i < 10; ++i) l.op({{"op", "release"}, {"request_id", "r" + std::to_string(i)}});
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0]["threshold"] == 50);
  json usage = l.op({{"op", "usage"}});
  // Money is written as exact decimals.
  CHECK(l.lastRaw.find("\"used\":0.0000000005,") != std::string::npos);
  CHECK(l.lastRaw.find("\"percentage\":50.00,") != std::string::npos);
  CHECK(usage["inFlightRequests"] == 0);
  for (int i = 0; i < 5; ++i) REQUIRE(l.reserve("s" + std::to_string(i), 1, 100)["ok"] == true);
  CHECK(l.reserve("s5", 1, 100)["ok"] == false);
  // Alerts are announced once per threshold per period.
  l.op({{"op", "alerts_sent"}, {"seqs", {1}}});
  json snapshot;
  for (int i = 0; i < 5; ++i) {
    json r = l.settle("s" + std::to_string(i), 1, 100);
    if (r.contains("snapshot")) snapshot = r["snapshot"];
  }
  // The exhausted budget is mirrored for the fast check.
  CHECK(snapshot["blocked"].contains("tenant"));
  json tick = l.op({{"op", "tick"}});
  REQUIRE(tick["alerts"].size() == 1);
  CHECK(tick["alerts"][0]["threshold"] == 100);
  // Next month the budget starts again.
  l.now = gw::periodBounds(gw::Period::Monthly, NOW).endMs + 1000;
  CHECK(l.reserve("t", 1, 100)["ok"] == true);
  // Reloaded from storage, the ledger writes back what the kept one writes.
  l.now += gw::MS_PER_DAY * 40;
  const auto reloaded = gw::ledger::apply(gw::ledger::storedDocument(l.stored), R"({"op":"tick"})", l.now);
  const auto kept = l.kept.apply(R"({"op":"tick"})", l.now);
  REQUIRE(kept.writes.size() > 1);
  std::map<std::string, std::string> fromReloaded(reloaded.writes.begin(), reloaded.writes.end());
  for (const auto& [key, value] : kept.writes) CHECK(fromReloaded[key] == value);
}

TEST_CASE("quotas: daily requests per user, reset, revocation, disabled tenant, expiry") {
  Ledger l;
  auto reserveUser = [&](const std::string& id) {
    return l.op({{"op", "reserve"}, {"request_id", id}, {"key", "k1"}, {"user", "u1"},
                 {"user_defaults", {{"daily_requests", 2}}}, {"tokens", 1}, {"usd", 0}, {"ttl_ms", 5000}});
  };
  REQUIRE(reserveUser("a")["ok"] == true);
  REQUIRE(reserveUser("b")["ok"] == true);
  json denied = reserveUser("c");
  CHECK(denied["code"] == "insufficient_quota");
  CHECK(denied["retry_after_ms"] == 14 * 3600000);  // until UTC midnight
  // A failed call gives its request back.
  l.op({{"op", "release"}, {"request_id", "b"}});
  CHECK(reserveUser("c")["ok"] == true);
  l.op({{"op", "reset_quota"}, {"user", "u1"}});
  CHECK(reserveUser("d")["ok"] == true);
  l.op({{"op", "set_quota"}, {"user", "u1"}, {"limits", {{"daily_requests", 100}}}});
  CHECK(reserveUser("e")["ok"] == true);
  l.op({{"op", "set_tenant"}, {"enabled", false}});
  CHECK(reserveUser("f")["status"] == 503);
  l.op({{"op", "set_tenant"}, {"enabled", true}});
  l.op({{"op", "revoke"}, {"key", "k1"}});
  CHECK(reserveUser("g")["status"] == 401);
  // Reservations of a worker that died expire.
  l.now += 6000;
  CHECK(l.op({{"op", "get"}})["inFlightRequests"] == 0);
}

TEST_CASE("the ledger shrugs off malformed state and operations") {
  for (const char* state : {"", "[]", "{\"accounts\":7}", "{\"budgets\":[{\"budget\":{\"type\":\"x\"}}]}", "nonsense"}) {
    gw::ledger::Outcome out = gw::ledger::apply(state, R"({"op":"get"})", NOW);
    CHECK(json::parse(out.result)["ok"] == true);
  }
  for (const char* op : {"", "{}", R"({"op":"reserve"})", R"({"op":"nope"})", R"({"op":"reserve","request_id":1,"key":{}})"}) {
    gw::ledger::Outcome out = gw::ledger::apply("", op, NOW);
    CHECK(json::parse(out.result)["ok"] == false);
  }
}

TEST_CASE("an operation writes only the entries it changed, however many users the tenant has") {
  gw::ledger::Ledger l;
  auto reserve = [&](const std::string& id, const std::string& user) {
    json op = {{"op", "reserve"}, {"request_id", id}, {"key", "k-" + user}, {"user", user},
               {"key_limits", json::object()}, {"user_defaults", {{"daily_requests", 100}}}, {"tokens", 10},
               {"usd", 5}, {"ttl_ms", 60000}};
    return l.apply(op.dump(), NOW);
  };
  for (int i = 0; i < 300; ++i) reserve("warm" + std::to_string(i), "user" + std::to_string(i));
  gw::ledger::Outcome r = reserve("one", "user7");
  std::set<std::string> keys;
  for (const auto& w : r.writes) keys.insert(w.first);
  CHECK(keys == std::set<std::string>{"meta", "a:tenant", "a:user:user7", "a:key:k-user7"});
  gw::ledger::Outcome s = l.apply(R"({"op":"settle","request_id":"one","tokens":3,"usd":2})", NOW);
  CHECK(s.writes.size() == 4);
  // A read changes nothing and writes nothing.
  CHECK(l.apply(R"({"op":"get"})", NOW).writes.empty());
  CHECK(l.apply(R"({"op":"revoke","key":"k-user9"})", NOW).writes.size() == 2);  // meta, revoked
}
