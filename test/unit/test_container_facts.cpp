// Reading a container's /etc/hostname (src/container_facts.cpp): the container controls that
// file, so a FIFO, a huge file or a directory there must neither block nor cost memory.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "test/unit/helpers.hpp"
#include "src/endpoint/container_facts.hpp"

using namespace netdhcp;
using netdhcp::test::TempDir;

// The usual file Docker writes: one line, a newline at the end.
TEST_CASE("container hostname: the first line, trailing white space dropped", "[facts]") {
  TempDir dir;
  std::ofstream(dir.path + "/hostname") << "web-7 \n# a comment\n";
  auto hostname = read_container_hostname(dir.path + "/hostname");
  REQUIRE(hostname);
  CHECK(*hostname == "web-7");
}

// A FIFO with no writer: open and read return at once (a blocking open would hang the loop).
TEST_CASE("container hostname: a FIFO does not block", "[facts]") {
  TempDir dir;
  std::string fifo = dir.path + "/hostname";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  auto started = std::chrono::steady_clock::now();
  CHECK_FALSE(read_container_hostname(fifo));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

// A 64 MB file: only the first kMaxHostnameFile bytes are read, and a hostname that long is
// not one (no newline within the cap) — it is cut at the cap, never read whole.
TEST_CASE("container hostname: a huge file is read only up to the cap", "[facts]") {
  TempDir dir;
  std::string big = dir.path + "/hostname";
  {
    std::ofstream out(big);
    std::string line(1 << 20, 'a');
    for (int i = 0; i < 64; ++i) out << line;
  }
  auto hostname = read_container_hostname(big);
  REQUIRE(hostname);
  CHECK(hostname->size() == kMaxHostnameFile);
}

// Not a regular file, missing, or empty: no hostname.
TEST_CASE("container hostname: directories, missing and empty files give none", "[facts]") {
  TempDir dir;
  REQUIRE(::mkdir((dir.path + "/hostname").c_str(), 0755) == 0);
  CHECK_FALSE(read_container_hostname(dir.path + "/hostname"));
  CHECK_FALSE(read_container_hostname(dir.path + "/missing"));
  std::ofstream(dir.path + "/empty") << "\n";
  CHECK_FALSE(read_container_hostname(dir.path + "/empty"));
  CHECK_FALSE(read_container_hostname("/dev/zero"));
}
