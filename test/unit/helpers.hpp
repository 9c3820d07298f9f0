// Shared helpers for the unit tests: golden packets, a virtual clock, deterministic randomness.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>

#include "dhcp/clock.hpp"
#include "netdhcp/bytes.hpp"

namespace netdhcp::test {

using namespace std::chrono_literals;

// Reads test/golden/NAME: '#' lines are the dissection, the rest is hex.
inline Bytes golden(const std::string& name) {
  std::ifstream in(std::string(NETDHCP_GOLDEN_DIR) + "/" + name);
  if (!in) throw std::runtime_error("missing golden file " + name);
  std::string line, hex_text;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') hex_text += line;
  Bytes out;
  if (!parse_hex(hex_text, out)) throw std::runtime_error("bad hex in " + name);
  return out;
}

// Virtual time: the clients only ever see what the test passes in.
inline const TimePoint t0 = TimePoint{} + 1000h;

// Always the midpoint of every random range: retransmission jitter is 0.
inline RandomSource midpoint_random() {
  return [] { return 0x7fffffffu; };
}
// Near the midpoint, but a different value on every call (so each xid differs).
inline RandomSource counting_random() {
  auto n = std::make_shared<std::uint32_t>(0x7fffff00u);
  return [n] { return (*n)++; };
}
// A fixed sequence, repeating.
inline RandomSource sequence_random(std::vector<std::uint32_t> values) {
  auto state = std::make_shared<std::pair<std::vector<std::uint32_t>, std::size_t>>(std::move(values), 0);
  return [state] { return state->first[state->second++ % state->first.size()]; };
}

inline double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

// A directory under /tmp for one test, removed with everything in it afterwards.
struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/netdhcp-test-XXXXXX";
    if (!::mkdtemp(name)) throw std::runtime_error("mkdtemp failed");
    path = name;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace netdhcp::test
