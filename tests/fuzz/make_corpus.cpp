// udpchat-fuzz-corpus OUT_DIR: writes the seed corpus of every fuzz target (tests/fuzz/corpus/)
// from real frames, built with the protocol's own encoder, so the seeds follow the protocol when
// it changes. Run it again and commit the result after a protocol change.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "udpchat/cluster.hpp"
#include "udpchat/enet_bundle.hpp"
#include "udpchat/limits.hpp"
#include "udpchat/protocol.hpp"
#include "udpchat/tcp_framing.hpp"

namespace {

using namespace udpchat;
using protocol::Bytes;
namespace fs = std::filesystem;

std::vector<protocol::Message> clientMessages() {
  using namespace protocol;
  return {Hello{"alice", 0, {"lobby", "#dev"}, "udpchat-client"},
          SendChat{"lobby", "plans", "hello\nsecond line", 0, 1001},
          SendChat{"lobby", "", "waves", kFlagAction, 1002},
          SendPrivate{"bob", "", "psst", 0, 1003},
          JoinRoom{"#dev"},
          PartRoom{"dev", "bye"},
          SetTopic{"lobby", "release on friday"},
          ChangeNick{"alicia"},
          WhoRequest{"lobby"},
          WhoisRequest{"bob"},
          SetAway{true, "lunch"},
          DeleteMessage{"lobby", 3},
          OperRequest{"sesame"},
          KickRequest{"bob", "spam"},
          QuitRequest{"bye"},
          HistoryRequest{"lobby", 40, 20},
          SearchRequest{"lobby", "release friday"},
          BanRequest{"192.0.2.7", "flood"},
          UnbanRequest{"mallory"},
          BansRequest{""},
          RegisterRequest{"correct horse"},
          IdentifyRequest{"alice", "correct horse"},
          UnregisterRequest{"correct horse"},
          PasswordChange{"correct horse", "battery staple"},
          PresencePing{1, 12345, PresenceState::Active, 0, 0},
          TypingNotice{"lobby", false, true}};
}

std::vector<protocol::Message> serverMessages() {
  using namespace protocol;
  Welcome w;
  w.nick = "alice";
  w.resumeToken = 77;
  w.serverName = "lan";
  w.motd = "be nice";
  w.maxMessageBytes = 2000;
  w.nickMin = 3;
  w.nickMax = 16;
  w.historySize = 50;
  w.rateBurst = 10;
  w.ratePerSecond = 5;
  w.pingIntervalMs = 1000;
  return {w,
          ErrorReply{ErrorCode::RateLimited, 400, "", "slow down", 1001},
          ErrorReply{ErrorCode::NickInUse, 0, "alice", "taken", 0},
          ChatEvent{1, 1700000000000, "lobby", "bob", "", "hi alice", 0, 55},
          ChatEvent{2, 1700000000001, "lobby", "alice", "", "hello", 0, 1001},
          ChatEvent{3, 1700000000002, "lobby", "bob", "", "old", kFlagHistory, 54},
          PrivateEvent{4, 1700000000003, "bob", "alice", "re", "psst", 0, 56},
          JoinEvent{"lobby", "alice"},
          JoinEvent{"lobby", "bob"},
          PartEvent{"lobby", "bob", "lunch"},
          QuitEvent{"lobby", "bob", "connection lost"},
          NickEvent{"bob", "bobby"},
          TopicEvent{"lobby", "friday", "bob", 1700000000000},
          DeletedEvent{"lobby", 1, "bob"},
          KickEvent{"lobby", "bob", "oper", "spam"},
          WhoReply{"lobby", {{"alice", PresenceState::Active, 3, 0}, {"bob", PresenceState::Away, 9, kUserOperator}}, false},
          WhoisReply{"bob", PresenceState::Away, 1700000000000, 3000, "lunch", 12, 5, 200, 0, {"lobby"}, "alpha"},
          PresenceEvent{"bob", PresenceState::Lagging, ""},
          AwayReply{"bob", "lunch"},
          NoticeEvent{NoticeKind::OperGranted, "you are now an operator"},
          HistoryEnd{"lobby", false, 20, 21, true},
          BanListReply{{{"mallory", "spam", "oper", 1700000000000}}, false},
          PresencePong{1, 12345, 99999},
          TypingEvent{"bob", "lobby", false, true}};
}

int written = 0;

void write(const fs::path& dir, const std::string& name, const Bytes& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ++written;
}

void write(const fs::path& dir, const std::string& name, const std::string& text) {
  write(dir, name, Bytes(reinterpret_cast<const std::byte*>(text.data()),
                         reinterpret_cast<const std::byte*>(text.data()) + text.size()));
}

std::string numbered(const char* stem, std::size_t i) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s-%02zu", stem, i);
  return buffer;
}

void append(Bytes& out, std::initializer_list<int> values) {
  for (int v : values) out.push_back(static_cast<std::byte>(v));
}
void append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

// One frame in the stateful targets' format: a length of 13 bits (low byte, high byte & 0x1F).
void appendSized(Bytes& out, const Bytes& frame) {
  append(out, {static_cast<int>(frame.size() & 0xFF), static_cast<int>((frame.size() >> 8) & 0x1F)});
  append(out, frame);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: udpchat-fuzz-corpus OUT_DIR (tests/fuzz/corpus)\n";
    return 64;
  }
  const fs::path root = argv[1];
  std::vector<Bytes> all;
  for (const auto& m : clientMessages()) all.push_back(protocol::encode(m));
  for (const auto& m : serverMessages()) all.push_back(protocol::encode(m));

  // The frame decoder: every type.
  for (std::size_t i = 0; i < all.size(); ++i) write(root / "frame_decoder_fuzz", numbered("frame", i), all[i]);

  // Bundles: the server's frames packed as the server packs them.
  std::vector<Bytes> serverFrames;
  for (const auto& m : serverMessages()) serverFrames.push_back(protocol::encode(m));
  const std::vector<protocol::ByteSpan> spans(serverFrames.begin(), serverFrames.end());
  std::size_t b = 0;
  for (std::size_t from = 0; from + 2 <= spans.size(); from += 3) {
    const std::size_t n = std::min<std::size_t>(4, spans.size() - from);
    bundle::pack(std::span<const protocol::ByteSpan>(spans.data() + from, n), [&](protocol::ByteSpan p) {
      if (bundle::isBundle(p)) write(root / "bundle_fuzz", numbered("bundle", b++), Bytes(p.begin(), p.end()));
    });
  }

  // TCP streams: [channel-count selector, piece seed] then records.
  for (int variant = 0; variant < 3; ++variant) {
    Bytes stream;
    append(stream, {variant == 2 ? 1 : 0, 7 + variant * 40});
    for (std::size_t i = 0; i < all.size(); i += 1 + variant) {
      const std::uint8_t channel = variant == 2 ? static_cast<std::uint8_t>(i % kLabChannelCount)
                                                : protocol::channelOf(protocol::typeOf(*protocol::decode(all[i])));
      tcp::appendRecord(stream, channel, all[i]);
    }
    write(root / "tcp_reader_fuzz", numbered("stream", static_cast<std::size_t>(variant)), stream);
  }

  // Typed lines.
  const char* lines[] = {"hello", "/me waves", "/msg bob hi", "/msg bob [re: lunch] yes", "/join #dev",
                         "/part #dev bye", "/topic release friday", "/nick alicia", "/who", "/whois bob",
                         "/away lunch", "/back", "/delete 3", "/oper sesame", "/kick bob spam",
                         "/quit bye", "/help join", "/subject plans", "//not a command", "/close"};
  for (std::size_t i = 0; i < std::size(lines); ++i) write(root / "command_parser_fuzz", numbered("line", i), std::string(lines[i]));

  // ServerCore sessions: op 0 connect, 1 disconnect, 2 frame (session, channel, size, bytes),
  // 3 time step.
  auto frameOp = [](Bytes& s, int session, const protocol::Message& m) {
    const Bytes f = protocol::encode(m);
    append(s, {2, session, protocol::channelOf(protocol::typeOf(m))});
    appendSized(s, f);
  };
  {
    Bytes s;
    append(s, {0});  // alice connects
    frameOp(s, 0, protocol::Hello{"alice", 0, {}, ""});
    append(s, {4});  // bob connects from another address
    frameOp(s, 1, protocol::Hello{"bob", 0, {"lobby", "dev"}, ""});
    for (const auto& m : clientMessages()) frameOp(s, 0, m);
    append(s, {3, 30});
    frameOp(s, 1, protocol::SendPrivate{"alice", "", "hi", 0, 9});
    append(s, {1, 0});
    append(s, {3, 200});
    write(root / "server_core_fuzz", "session-00", s);
  }
  {
    Bytes s;
    for (int i = 0; i < 10; ++i) append(s, {0});
    for (int i = 0; i < 10; ++i) frameOp(s, i, protocol::Hello{"user" + std::to_string(i), 0, {}, ""});
    for (int i = 0; i < 10; ++i) frameOp(s, i, protocol::SendChat{"lobby", "", "x", 0, static_cast<protocol::ClientId>(i + 1)});
    frameOp(s, 3, protocol::OperRequest{"sesame"});
    frameOp(s, 3, protocol::KickRequest{"user4", "bye"});
    append(s, {3, 120});
    write(root / "server_core_fuzz", "session-01", s);
  }

  // ClientCore: op 0/1 frame on channel 0/1 (size, bytes), 2 typed line (size, bytes), 3 time,
  // 4 connection lost (high bit) or connected.
  {
    Bytes s;
    for (const auto& m : serverMessages()) {
      append(s, {protocol::channelOf(protocol::typeOf(m))});
      appendSized(s, protocol::encode(m));
    }
    for (const char* line : {"hello", "/msg bob hi", "/join #dev", "/quit"}) {
      append(s, {2, static_cast<int>(std::string_view(line).size())});
      for (char c : std::string_view(line)) s.push_back(static_cast<std::byte>(c));
    }
    append(s, {3, 50, 0x84, 3, 30, 4});
    append(s, {0});
    appendSized(s, protocol::encode(serverMessages().front()));
    write(root / "client_core_fuzz", "session-00", s);
  }
  // Between servers: a selector byte (0 log entry, 1 user record, 2 setting, 3 signal), then
  // the payload.
  cluster::LogEntry chat;
  chat.origin = 9;
  chat.tag = 3;
  chat.chat = protocol::ChatEvent{0, 1700000000000, "lobby", "bob", "re: lunch", "on my way", 0, 4};
  cluster::LogEntry topic;
  topic.kind = cluster::EntryKind::Topic;
  topic.origin = 9;
  topic.topic = protocol::TopicEvent{"lobby", "friday", "bob", 1700000000000};
  cluster::LogEntry kick;
  kick.kind = cluster::EntryKind::Kick;
  kick.origin = 9;
  kick.kick = protocol::KickEvent{"", "alice", "bob", "spam"};
  cluster::UserRecord bob;
  bob.server = 9;
  bob.serverName = "beta";
  bob.nick = "bob";
  bob.rooms = {"lobby", "dev"};
  bob.away = true;
  bob.awayMessage = "lunch";
  cluster::UserRecord gone = bob;
  gone.gone = true;
  gone.reason = "bye";
  cluster::Signal beat;
  beat.from = 9;
  beat.serverName = "beta";
  cluster::Signal answer;
  answer.kind = cluster::SignalKind::WhoisAnswer;
  answer.from = 9;
  answer.to = 7;
  answer.tag = 1;
  answer.serverName = "beta";
  answer.whois = protocol::WhoisReply{"bob", protocol::PresenceState::Away, 1, 2, "lunch", 12, 5, 200, 0, {"lobby"}, ""};
  cluster::Setting account;
  account.origin = 9;
  account.nick = "Bob";
  account.hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo";
  account.createdTs = 1700000000000;
  cluster::Setting ban;
  ban.kind = cluster::SettingKind::Ban;
  ban.origin = 9;
  ban.ban = protocol::BanEntry{"mallory", "spam", "bob", 1700000000000};
  const std::vector<std::pair<int, Bytes>> wire = {
      {0, cluster::encode(chat)},    {0, cluster::encode(topic)}, {0, cluster::encode(kick)},
      {1, cluster::encode(bob)},     {2, cluster::encode(account)}, {2, cluster::encode(ban)},
      {3, cluster::encode(beat)},    {3, cluster::encode(answer)}};
  for (std::size_t i = 0; i < wire.size(); ++i) {
    Bytes payload;
    append(payload, {wire[i].first});
    append(payload, wire[i].second);
    write(root / "cluster_wire_fuzz", numbered("payload", i), payload);
  }

  // ServerCore in a cluster: op 0 connect, 1 frame (session, size byte, bytes), 2 bus event
  // (kind, sequence, tag, key size, key, data size low/high, data), 3 time, 4 grant on/off.
  // Event kinds: 0 logged, 4 key lost, 5 directory put, 6 deleted, 7 setting put, 8 setting
  // deleted, 9 signal, 10 link lost, 11 link restored.
  {
    auto event = [](Bytes& s, int kind, int sequence, int tag, const std::string& key,
                    const Bytes& payload) {
      append(s, {2, kind, sequence, tag, static_cast<int>(key.size())});
      for (char c : key) s.push_back(static_cast<std::byte>(c));
      appendSized(s, payload);
    };
    auto frame = [](Bytes& s, int session, const protocol::Message& m) {
      const Bytes f = protocol::encode(m);
      append(s, {1, session, static_cast<int>(f.size())});
      append(s, f);
    };
    Bytes s;
    append(s, {0});
    frame(s, 0, protocol::Hello{"alice", 0, {}, ""});
    event(s, 5, 1, 0, "bob", cluster::encode(bob));
    event(s, 9, 0, 0, "", cluster::encode(beat));
    frame(s, 0, protocol::SendChat{"lobby", "", "hi bob", 0, 1});
    event(s, 0, 5, 0, "", cluster::encode(chat));
    frame(s, 0, protocol::WhoisRequest{"bob"});
    event(s, 9, 0, 0, "", cluster::encode(answer));
    frame(s, 0, protocol::SendPrivate{"bob", "", "psst", 0, 2});
    event(s, 0, 6, 0, "", cluster::encode(topic));
    event(s, 7, 0, 0, "account.bob", cluster::encode(account));
    event(s, 7, 0, 0, "ban.mallory", cluster::encode(ban));
    event(s, 8, 0, 0, "ban.mallory", {});
    append(s, {3, 50});
    event(s, 10, 0, 0, "", {});
    frame(s, 0, protocol::SendChat{"lobby", "", "alone", 0, 3});
    event(s, 11, 0, 0, "", {});
    event(s, 4, 0, 0, "alice", {});
    event(s, 6, 2, 0, "bob", cluster::encode(gone));
    event(s, 0, 7, 0, "", cluster::encode(kick));
    append(s, {134, 0});
    frame(s, 1, protocol::Hello{"carol", 0, {}, ""});
    append(s, {3, 60});
    write(root / "cluster_core_fuzz", "session-00", s);
  }
  std::cout << "wrote " << written << " seed inputs under " << root << "\n";
  return 0;
}
