// Native core cost per ~1 KB chat request: open, validate, splice, emit the
// fetch, take a 1 KB response, respond. Printed as median µs over batches.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "fake_host.h"

int main(int argc, char** argv) {
  int batches = argc > 1 ? std::atoi(argv[1]) : 30;
  const int perBatch = 2000;
  std::string request = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/bench/chat_1k.json"));
  std::string response = gw::testing::readFile(gw::testing::sourcePath("tests/fixtures/openai/chat_completion.json"));
  // Limits high enough that a benchmark at one simulated instant never meets them.
  gw::testing::FakeHost host(gw::testing::Vars{{"AI_RATE_LIMIT_RPM", "10000000"},
                                               {"AI_RATE_LIMIT_TPM", "1000000000000"},
                                               {"AI_QUOTA_DAILY_LIMIT", "10000000000"},
                                               {"AI_QUOTA_MONTHLY_LIMIT", "10000000000"},
                                               {"AI_QUOTA_MONTHLY_SPEND_LIMIT", "1000000"}});
  // The core's work only: the fake host's SQLite would otherwise run the usage row's insert.
  host.d1Down = true;
  std::vector<double> samples;
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < perBatch; ++i) {
      gw::testing::ScriptedReply r;
      r.chunks = {response};
      host.replies.push_back(r);
    }
    host.fetches.clear();
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < perBatch; ++i) {
      auto res = host.chat(request);
      if (res.status != 200) {
        std::fprintf(stderr, "unexpected status %d\n", res.status);
        return 1;
      }
    }
    auto end = std::chrono::steady_clock::now();
    samples.push_back(std::chrono::duration<double, std::micro>(end - start).count() / perBatch);
  }
  std::sort(samples.begin(), samples.end());
  std::printf("{\"native_us_per_request\":%.2f,\"request_bytes\":%zu}\n", samples[samples.size() / 2], request.size());
  return 0;
}
