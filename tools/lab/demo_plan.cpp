#include "lab/demo_plan.hpp"

namespace udpchat::lab {

std::vector<CompareOptions> demoPlan(std::uint64_t seed) {
  CompareOptions base;
  base.delayMs = 20;
  base.repeat = 1;
  base.seed = seed;
  base.transports = {"tcp", "enet-reliable"};

  // 100 messages at 5 a second: docs/LAB.md's headline conversation, 20 s of it.
  CompareOptions chat = base;
  chat.scenario = Scenario::kChat;
  chat.lossPct = {0, 5, 10};
  chat.messages = 100;
  chat.rate = 5;
  chat.warmup = 10;

  // A 500 kB transfer from the 16th of 60 chat messages: long enough that a dozen chat
  // messages are sent while it is under way.
  CompareOptions hol = base;
  hol.scenario = Scenario::kHol;
  hol.lossPct = {2};
  hol.messages = 60;
  hol.rate = 5;
  hol.warmup = 10;
  hol.bulkBytes = 500'000;
  hol.bulkAfter = 15;

  // 20 pings (the server's interval, one a second) on TCP and on ENet's unreliable channel.
  CompareOptions presence = base;
  presence.scenario = Scenario::kPresence;
  presence.transports = {"tcp", "enet-unreliable"};
  presence.lossPct = {5};
  presence.durationS = 20;

  return {chat, hol, presence};
}

bool demoKeepsCapture(const CompareOptions& part, std::string_view transport, double lossPct) {
  return part.scenario == Scenario::kChat && lossPct == 10 &&
         (transport == "tcp" || transport == "enet-reliable");
}

}  // namespace udpchat::lab
