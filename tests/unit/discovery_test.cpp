// LAN discovery datagrams (docs/PROTOCOL.md section 12), byte for byte, without sockets.
#include "udpchat/discovery.hpp"

#include <gtest/gtest.h>

#include <string>

namespace udpchat::discovery {
namespace {

Bytes bytesOf(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

Answer sample() {
  Answer a;
  a.nonce = 0x01020304;
  a.serverId = 0x1112131415161718ULL;
  a.protocolVersion = 2;
  a.port = 7777;
  a.users = 3;
  a.maxClients = 256;
  a.full = false;
  a.name = "B\u00fcro";
  return a;
}

TEST(Discovery, ProbeLayoutIsMagicVersionNonceThenPadding) {
  const Bytes probe = encodeProbe(0xA1B2C3D4);
  ASSERT_EQ(probe.size(), kProbeBytes);
  const Bytes head(probe.begin(), probe.begin() + 9);
  EXPECT_EQ(head, (bytesOf({'U', 'C', 'D', '?', 0x01, 0xA1, 0xB2, 0xC3, 0xD4})));
  for (std::size_t i = 9; i < probe.size(); ++i) EXPECT_EQ(probe[i], std::byte{0}) << i;
  const auto decoded = decodeProbe(probe);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->nonce, 0xA1B2C3D4u);
  EXPECT_EQ(decoded->length, kProbeBytes);
  EXPECT_TRUE(startsLikeProbe(probe));
}

TEST(Discovery, WhatIsNotAProbeIsRefused) {
  Bytes probe = encodeProbe(1);
  EXPECT_FALSE(decodeProbe(Bytes(probe.begin(), probe.begin() + 8))) << "truncated nonce";
  probe[4] = std::byte{2};
  EXPECT_FALSE(decodeProbe(probe)) << "another version";
  probe = encodeProbe(1);
  probe[3] = std::byte{'!'};
  EXPECT_FALSE(decodeProbe(probe)) << "an answer is not a probe";
  EXPECT_FALSE(startsLikeProbe(probe));
  probe = encodeProbe(1);
  probe.resize(kMaxProbeBytes + 1, std::byte{0});
  EXPECT_FALSE(decodeProbe(probe)) << "over the largest probe";
  // An ENet CONNECT (peer id 0xFFF with the sent-time flag) is not one.
  EXPECT_FALSE(startsLikeProbe(bytesOf({0x8F, 0xFF, 0x00, 0x00, 0x82, 0xFF})));
  EXPECT_TRUE(decodeProbe(bytesOf({'U', 'C', 'D', '?', 0x01, 0, 0, 0, 7})));  // the shortest probe
}

TEST(Discovery, AnswerLayoutAndRoundTrip) {
  const auto bytes = encodeAnswer(sample(), kProbeBytes);
  ASSERT_TRUE(bytes);
  const Bytes expected = bytesOf({'U',  'C',  'D',  '!',  0x01,                    // magic, version
                          0x01, 0x02, 0x03, 0x04,                          // nonce
                          0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,  // server id
                          0x02,                                            // protocol version
                          0x1E, 0x61,                                      // port 7777
                          0x00, 0x03,                                      // users
                          0x01, 0x00,                                      // max clients
                          0x00,                                            // flags
                          0x05, 'B',  0xC3, 0xBC, 'r',  'o'});             // name "Büro"
  EXPECT_EQ(*bytes, expected);
  EXPECT_EQ(decodeAnswer(*bytes), sample());
  Answer full = sample();
  full.full = true;
  EXPECT_TRUE(decodeAnswer(*encodeAnswer(full, kProbeBytes))->full);
}

TEST(Discovery, AnAnswerIsNeverLongerThanItsProbe) {
  Answer a = sample();
  a.name = std::string(60, 'x') + "\u00e9\u00e9";  // 64 bytes, ending in two 2-byte characters
  ASSERT_EQ(a.name.size(), kMaxNameBytes);
  EXPECT_EQ(encodeAnswer(a, kProbeBytes)->size(), kAnswerFixedBytes + kMaxNameBytes);
  // A short probe gets a short answer: the name is cut, never a character in half.
  for (std::size_t probe = kAnswerFixedBytes; probe < kAnswerFixedBytes + 70; ++probe) {
    const auto bytes = encodeAnswer(a, probe);
    ASSERT_TRUE(bytes) << probe;
    EXPECT_LE(bytes->size(), probe);
    const auto back = decodeAnswer(*bytes);
    ASSERT_TRUE(back) << "cut at " << probe << " bytes is still valid UTF-8";
    EXPECT_EQ(a.name.compare(0, back->name.size(), back->name), 0);
  }
  EXPECT_FALSE(encodeAnswer(a, kAnswerFixedBytes - 1)) << "no room for the fixed part";
  EXPECT_FALSE(encodeAnswer(a, kMinProbeBytes));
}

TEST(Discovery, MalformedAnswersAreRefused) {
  Bytes good = *encodeAnswer(sample(), kProbeBytes);
  Bytes b = good;
  b.push_back(std::byte{0});
  EXPECT_FALSE(decodeAnswer(b)) << "trailing byte";
  b = good;
  b.pop_back();
  EXPECT_FALSE(decodeAnswer(b)) << "name cut short";
  b = good;
  b[4] = std::byte{9};
  EXPECT_FALSE(decodeAnswer(b)) << "another version";
  Answer hostile = sample();
  hostile.name = "evil\x1b[2J";
  EXPECT_FALSE(decodeAnswer(*encodeAnswer(hostile, kProbeBytes))) << "a terminal escape";
  hostile.name = "bad \xff";
  EXPECT_FALSE(decodeAnswer(*encodeAnswer(hostile, kProbeBytes))) << "invalid UTF-8";
  EXPECT_FALSE(decodeAnswer(Bytes(good.begin(), good.begin() + 10)));
}

}  // namespace
}  // namespace udpchat::discovery
