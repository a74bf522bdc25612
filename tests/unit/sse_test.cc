#include <catch2/catch.hpp>

#include "fake_host.h"
#include "gw/sse.h"
#include "wire/openai_chat.h"

using gw::SseDecoder;
using gw::SseEvent;

namespace {

std::vector<SseEvent> decodeWhole(const std::string& s) {
  SseDecoder d;
  std::vector<SseEvent> out;
  d.feed(s, out);
  return out;
}

bool sameEvents(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].data != b[i].data || a[i].event != b[i].event || a[i].id != b[i].id) return false;
  return true;
}

}  // namespace

TEST_CASE("SSE framing: fields, comments, multi-line data, line endings") {
  auto events = decodeWhole(": keep-alive\n\nevent: ping\ndata: a\ndata:b\nid: 7\n\ndata: x\r\n\r\ndata: y\r\rdata\n\n");
  REQUIRE(events.size() == 4);
  CHECK(events[0].event == "ping");
  CHECK(events[0].data == "a\nb");
  CHECK(events[0].id == "7");
  CHECK(events[1].data == "x");
  CHECK(events[2].data == "y");
  CHECK(events[3].data == "");
}

TEST_CASE("SSE decoder gives the same events for the fixture split at every byte offset") {
  const std::string stream = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/openai/chat_stream.sse"));
  REQUIRE(!stream.empty());
  const auto whole = decodeWhole(stream);
  REQUIRE(whole.size() == 7);
  CHECK(whole.back().data == "[DONE]");
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseDecoder d;
    std::vector<SseEvent> out;
    d.feed(std::string_view(stream).substr(0, cut), out);
    d.feed(std::string_view(stream).substr(cut), out);
    INFO("split at " << cut);
    REQUIRE(sameEvents(out, whole));
    CHECK_FALSE(d.hasPartialEvent());
  }
  // CRLF line endings split at every offset, including between CR and LF.
  std::string crlf;
  for (char c : stream) {
    if (c == '\n') crlf += "\r\n";
    else crlf.push_back(c);
  }
  for (size_t cut = 0; cut <= crlf.size(); ++cut) {
    SseDecoder d;
    std::vector<SseEvent> out;
    d.feed(std::string_view(crlf).substr(0, cut), out);
    d.feed(std::string_view(crlf).substr(cut), out);
    INFO("CRLF split at " << cut);
    REQUIRE(sameEvents(out, whole));
  }
}

TEST_CASE("SSE decoder fed one byte at a time") {
  const std::string stream = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/openai/chat_stream.sse"));
  SseDecoder d;
  std::vector<SseEvent> out;
  for (char c : stream) d.feed(std::string_view(&c, 1), out);
  CHECK(sameEvents(out, decodeWhole(stream)));
}

TEST_CASE("SSE decoder reports a cut stream and oversized events") {
  SseDecoder d;
  std::vector<SseEvent> out;
  d.feed("data: {\"partial\":", out);
  CHECK(out.empty());
  CHECK(d.hasPartialEvent());
  SseDecoder small(16);
  CHECK_FALSE(small.feed("data: 0123456789012345678901234567890\n\n", out));
  CHECK(small.overflowed());
}

TEST_CASE("stream forwarder output is identical wherever the upstream splits the stream") {
  const std::string stream = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/openai/chat_stream.sse"));
  // [DONE] is held back for the gateway to send after its cost line.
  const std::string done = "data: [DONE]\n\n";
  std::string expected =
      gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/openai/chat_stream.client_without_usage.sse"));
  expected.resize(expected.size() - done.size());
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    gw::openai_chat::StreamForwarder f(false);
    std::string out;
    f.feed(std::string_view(stream).substr(0, cut), out);
    f.feed(std::string_view(stream).substr(cut), out);
    INFO("split at " << cut);
    REQUIRE(out == expected);
    REQUIRE(f.usage().known);
    CHECK(f.usage().promptTokens == 12);
    CHECK(f.usage().completionTokens == 7);
    CHECK(f.sawDone());
  }
  gw::openai_chat::StreamForwarder withUsage(true);
  std::string out;
  withUsage.feed(stream, out);
  CHECK(out + done == stream);
}
