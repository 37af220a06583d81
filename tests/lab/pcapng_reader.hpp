// A strict pcapng reader for the tests: it checks the structure the emulator writes (block
// lengths at both ends, 32-bit alignment, byte-order magic, well-formed options) and returns
// the interfaces and packets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "udpchat/result.hpp"

namespace udpchat::lab::test {

struct PcapngInterface {
  std::uint16_t linktype = 0;
  std::uint32_t snapLength = 0;
  std::string name;                     // if_name
  std::string description;              // if_description
  std::optional<std::uint8_t> tsresol;  // if_tsresol
};

struct PcapngPacket {
  std::uint32_t interface = 0;
  std::uint64_t timestamp = 0;  // in the interface's resolution
  std::uint32_t originalLength = 0;
  std::vector<std::byte> data;         // captured bytes
  std::string comment;                 // opt_comment, empty if none
  std::optional<std::uint32_t> flags;  // epb_flags
};

struct PcapngFile {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::string userApplication;  // shb_userappl
  std::vector<PcapngInterface> interfaces;
  std::vector<PcapngPacket> packets;
};

// The parsed file, or what is wrong with it (with the byte offset).
Result<PcapngFile, std::string> parsePcapng(std::span<const std::byte> bytes);

std::vector<std::byte> readBinaryFile(const std::string& path);

}  // namespace udpchat::lab::test
