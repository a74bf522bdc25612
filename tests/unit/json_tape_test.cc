#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <string>

#include "gw/json_tape.h"
#include "gw/json_writer.h"

using gw::json::Kind;
using gw::json::Tape;

TEST_CASE("tape parses nested documents and finds members") {
  Tape t;
  REQUIRE(t.parse(R"( {"a": [1, 2.5, {"b": null}], "c": "x\"y", "d": true} )"));
  uint32_t a = t.find(t.root(), "a");
  REQUIRE(t.kind(a) == Kind::Array);
  CHECK(t.node(a).count == 3);
  uint32_t first = t.firstChild(a);
  CHECK(t.raw(first) == "1");
  uint32_t second = t.nextSibling(a, first);
  CHECK(t.number(second) == 2.5);
  uint32_t third = t.nextSibling(a, second);
  CHECK(t.kind(t.find(third, "b")) == Kind::Null);
  CHECK(t.nextSibling(a, third) == 0);
  CHECK(t.string(t.find(t.root(), "c")) == "x\"y");
  CHECK(t.kind(t.find(t.root(), "d")) == Kind::True);
  CHECK(t.find(t.root(), "missing") == 0);
}

TEST_CASE("tape rejects what RFC 8259 rejects") {
  Tape t;
  for (const char* bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"abc", "{\"a\" 1}", "[1 2]",
                          "\"\\x\"", "\"\\u12\"", "NaN", "{a:1}", "\"tab\there\"", "1 2"}) {
    INFO(bad);
    CHECK_FALSE(t.parse(bad));
  }
  std::string invalidUtf8 = "\"\xff\"";
  CHECK_FALSE(t.parse(invalidUtf8));
  std::string overlong = "\"\xc0\xaf\"";
  CHECK_FALSE(t.parse(overlong));
}

TEST_CASE("tape decodes escapes and surrogate pairs") {
  Tape t;
  REQUIRE(t.parse(R"("a\u00e9\ud83d\ude00\n")"));
  CHECK(t.string(t.root()) == "a\xc3\xa9\xf0\x9f\x98\x80\n");
}

TEST_CASE("tape integers") {
  Tape t;
  REQUIRE(t.parse("[0, -7, 2.0, 1e3, 2.5, 99999999999999999999]"));
  int64_t v = 0;
  uint32_t n = t.firstChild(t.root());
  CHECK(t.isInteger(n, &v));
  CHECK(v == 0);
  n = t.nextSibling(t.root(), n);
  CHECK(t.isInteger(n, &v));
  CHECK(v == -7);
  n = t.nextSibling(t.root(), n);
  CHECK(t.isInteger(n, &v));
  CHECK(v == 2);
  n = t.nextSibling(t.root(), n);
  CHECK(t.isInteger(n, &v));
  CHECK(v == 1000);
  n = t.nextSibling(t.root(), n);
  CHECK_FALSE(t.isInteger(n, &v));
  n = t.nextSibling(t.root(), n);
  CHECK_FALSE(t.isInteger(n, &v));
}

TEST_CASE("depth limit stops deep nesting") {
  Tape t;
  std::string deep(200, '[');
  deep += std::string(200, ']');
  CHECK_FALSE(t.parse(deep));
  CHECK(std::string(t.error().what) == "nesting too deep");
}

TEST_CASE("writer escapes and always produces valid JSON") {
  std::string out;
  gw::json::Writer w(out);
  w.beginObject().field("s", std::string_view("q\"\\\n\x01\xff", 6)).field("n", int64_t{-42}).key("a").beginArray();
  w.integer(1).boolean(false).null().endArray().endObject();
  CHECK(out == "{\"s\":\"q\\\"\\\\\\n\\u0001\xef\xbf\xbd\",\"n\":-42,\"a\":[1,false,null]}");
  Tape t;
  CHECK(t.parse(out));
}

TEST_CASE("isInteger rejects numbers outside int64 without converting them") {
  gw::json::Tape t;
  REQUIRE(t.parse("[1e300,-1e300,2.0,1e3,9.5e18]"));
  int64_t v = 0;
  uint32_t e = t.firstChild(t.root());
  CHECK_FALSE(t.isInteger(e, &v));
  e = t.nextSibling(t.root(), e);
  CHECK_FALSE(t.isInteger(e, &v));
  e = t.nextSibling(t.root(), e);
  CHECK(t.isInteger(e, &v));
  CHECK(v == 2);
  e = t.nextSibling(t.root(), e);
  CHECK(t.isInteger(e, &v));
  CHECK(v == 1000);
  e = t.nextSibling(t.root(), e);
  CHECK_FALSE(t.isInteger(e, &v));
}

TEST_CASE("numbers read as strtod reads them: exactly for up to 15 digits and powers of ten within 22") {
  auto read = [](const std::string& text) {
    Tape t;
    REQUIRE(t.parse(text));
    return t.number(t.root());
  };
  for (const char* text : {"0", "-0", "0.15", "2.50", "0.000125", "1e2", "-1.5E-7", "12.5e+3", "5400000", "0.1",
                           "0.7", "1.25", "0.00000015", "123456789012345", "9007199254740991", "1e22", "1e-22",
                           "0.0000000000000000000001"}) {
    INFO(text);
    CHECK(read(text) == std::strtod(text, nullptr));
  }
  // A fixed-seed sweep of prices and temperatures as clients and catalogs write them.
  uint64_t seed = 12345;
  for (int n = 0; n < 20000; ++n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t digits = (seed >> 20) % 1000000000000000ULL;  // up to 15 digits
    const int scale = static_cast<int>((seed >> 8) % 23);
    std::string text = std::to_string(digits);
    if (scale > 0) text = (scale >= static_cast<int>(text.size()) ? "0." + std::string(scale - text.size(), '0') + text
                                                                 : text.substr(0, text.size() - scale) + "." +
                                                                       text.substr(text.size() - scale));
    INFO(text);
    REQUIRE(read(text) == std::strtod(text.c_str(), nullptr));
  }
  CHECK(read("0.000000000000000000000001") == Approx(1e-24));
  // Far out of range: infinity and zero, as strtod.
  CHECK(read("1e400") == HUGE_VAL);
  CHECK(read("1e-400") == 0.0);
  // Beyond 19 digits the rest only scale the value.
  CHECK(read("123456789012345678901234") == Approx(1.23456789012345678e23));
}

TEST_CASE("tape refuses a key repeated in one object and names its path") {
  Tape t;
  CHECK_FALSE(t.parse(R"({"model":"a","x":1,"model":"b"})"));
  CHECK(t.error().duplicateKey == "model");
  CHECK_FALSE(t.parse(R"({"messages":[{"role":"user"},{"content":"x","role":"user","role":"system"}]})"));
  CHECK(t.error().duplicateKey == "messages[1].role");
  CHECK_FALSE(t.parse(R"([[{}, {"a":{"b":1,"b":2}}]])"));
  CHECK(t.error().duplicateKey == "[0][1].a.b");
  // The same key through an escape, and the empty key.
  CHECK_FALSE(t.parse(R"({"stream":true,"str\u0065am":false})"));
  CHECK(t.error().duplicateKey == "stream");
  CHECK_FALSE(t.parse(R"({"":1,"":2})"));
  CHECK(t.error().duplicateKey == "\"\"");
  // Equal values under different keys, and the same key in sibling objects, are fine.
  CHECK(t.parse(R"({"a":1,"b":1,"c":[{"k":1},{"k":2}],"k":{"k":{"k":3}}})"));
  CHECK(t.error().duplicateKey.empty());
  // Large objects are checked by sorting: the later occurrence is named.
  std::string big = "{";
  for (int i = 0; i < 500; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK(t.parse(big.substr(0, big.size() - 1) + "}"));
  CHECK_FALSE(t.parse(big + "\"k250\":0}"));
  CHECK(t.error().duplicateKey == "k250");
  CHECK(t.error().offset == big.size());
}

TEST_CASE("a lookup on an absent value is absent, never the root's own member") {
  // find(find(root, "metadata"), "user_id") once read the root's user_id
  // when metadata was missing (0 meant both "absent" and "the root").
  Tape t;
  REQUIRE(t.parse(R"({"user_id":"root-level","a":{"b":1}})"));
  CHECK(t.find(t.find(t.root(), "metadata"), "user_id") == 0);
  CHECK(t.stringAt(t.find(t.root(), "metadata"), "user_id").empty());
  CHECK(t.integerAt(t.find(t.root(), "missing"), "b", -1) == -1);
  CHECK(t.firstChild(t.find(t.root(), "missing")) == 0);
  CHECK(t.kind(t.find(t.root(), "missing")) == Kind::Null);
  CHECK(t.find(t.find(t.root(), "a"), "b") != 0);
}
