// The pcapng writer, read back by the tests' strict reader and by libpcap (what tcpdump uses).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lab/pcapng_writer.hpp"
#include "pcapng_reader.hpp"

namespace udpchat::lab {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> toBytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = static_cast<std::byte>(s[i]);
  return out;
}

// Three packets: sizes 5 (padding), 8 (none) and 21, one without a comment.
std::string sample() {
  std::ostringstream out;
  PcapngWriter writer(out);
  writer.writePacket(Direction::kClientToServer, 1'700'000'000'000'001, bytes({0x45, 1, 2, 3, 4}),
                     "dropped: loss; c2s #0");
  writer.writePacket(Direction::kServerToClient, 1'700'000'000'020'002,
                     bytes({0x45, 0, 0, 8, 9, 9, 9, 9}), "");
  std::vector<std::byte> longer(21, std::byte{0x45});
  writer.writePacket(Direction::kClientToServer, 1'700'000'000'040'003, longer, "duplicate");
  EXPECT_EQ(writer.packetsWritten(), 3u);
  return out.str();
}

TEST(Pcapng, StructureReadsBack) {
  const std::string file = sample();
  EXPECT_EQ(file.size() % 4, 0u);
  const auto parsed = test::parsePcapng(toBytes(file));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->major, 1);
  EXPECT_EQ(parsed->minor, 0);
  EXPECT_EQ(parsed->userApplication, "udpchat link emulator");
  ASSERT_EQ(parsed->interfaces.size(), 1u);
  EXPECT_EQ(parsed->interfaces[0].name, "udpchat-link");
  EXPECT_EQ(parsed->interfaces[0].linktype, kLinktypeRaw);
  EXPECT_EQ(parsed->interfaces[0].tsresol, 6);
  ASSERT_EQ(parsed->packets.size(), 3u);
  const auto& first = parsed->packets[0];
  EXPECT_EQ(first.interface, 0u);
  EXPECT_EQ(first.flags, kEpbOutbound);
  EXPECT_EQ(first.timestamp, 1'700'000'000'000'001u);
  EXPECT_EQ(first.data, bytes({0x45, 1, 2, 3, 4}));
  EXPECT_EQ(first.originalLength, 5u);
  EXPECT_EQ(first.comment, "dropped: loss; c2s #0");
  EXPECT_EQ(parsed->packets[1].flags, kEpbInbound);
  EXPECT_EQ(parsed->packets[1].comment, "");
  EXPECT_EQ(parsed->packets[2].data.size(), 21u);
  EXPECT_EQ(parsed->packets[2].comment, "duplicate");
}

TEST(Pcapng, ReaderRejectsDamage) {
  std::string file = sample();
  auto truncated = toBytes(file.substr(0, file.size() - 2));
  EXPECT_FALSE(test::parsePcapng(truncated));
  std::string badTrailer = file;
  badTrailer[badTrailer.size() - 1] ^= 1;
  EXPECT_FALSE(test::parsePcapng(toBytes(badTrailer)));
}

TEST(Pcapng, LibpcapOpensIt) {
  const std::string path =
      ::testing::TempDir() + "udpchat_pcapng_test_" + std::to_string(::getpid()) + ".pcapng";
  {
    std::ofstream out(path, std::ios::binary);
    out << sample();
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, error);
  ASSERT_NE(pcap, nullptr) << error;
  EXPECT_EQ(pcap_datalink(pcap), DLT_RAW);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  std::vector<unsigned> lengths;
  std::vector<long> micros;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    lengths.push_back(header->caplen);
    micros.push_back(static_cast<long>(header->ts.tv_usec));
  }
  pcap_close(pcap);
  std::remove(path.c_str());
  EXPECT_EQ(lengths, (std::vector<unsigned>{5, 8, 21}));
  EXPECT_EQ(micros, (std::vector<long>{1, 20'002, 40'003}));
}

}  // namespace
}  // namespace udpchat::lab
