#include "lab/demo_plan.hpp"

namespace udpchat::lab {

std::vector<CompareOptions> demoPlan(std::uint64_t seed) {
  CompareOptions base;
  base.delayMs = 20;
  base.repeat = 1;
  base.seed = seed;
  base.transports = {"tcp", "enet-reliable"};

  // 150 messages at 5 a second: docs/LAB.md's headline conversation, 30 s of it.
  CompareOptions chat = base;
  chat.scenario = Scenario::kChat;
  chat.lossPct = {0, 5, 10};
  chat.messages = 150;
  chat.rate = 5;
  chat.warmup = 10;

  // A 1.5 MB transfer from the 21st of 100 chat messages at 10 a second, at 5 % loss: it takes
  // about 5 s, so some fifty chat messages are sent while it is under way, enough for the
  // median to show the stall.
  CompareOptions hol = base;
  hol.scenario = Scenario::kHol;
  hol.lossPct = {5};
  hol.messages = 100;
  hol.rate = 10;
  hol.warmup = 10;
  hol.bulkBytes = 1'500'000;
  hol.bulkAfter = 20;

  // 30 pings (the server's interval, one a second) on TCP and on ENet's unreliable channel.
  CompareOptions presence = base;
  presence.scenario = Scenario::kPresence;
  presence.transports = {"tcp", "enet-unreliable"};
  presence.lossPct = {5};
  presence.durationS = 30;

  return {chat, hol, presence};
}

bool demoKeepsCapture(const CompareOptions& part, std::string_view transport, double lossPct) {
  return part.scenario == Scenario::kChat && lossPct == 10 &&
         (transport == "tcp" || transport == "enet-reliable");
}

}  // namespace udpchat::lab
