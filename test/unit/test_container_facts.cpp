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
  std::string problem;
  CHECK_FALSE(read_container_hostname(fifo, &problem));
  CHECK(problem.find("is a FIFO, not a regular file") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

// A 64 MB file: refused from its size, never read (a hostname file is a few bytes), and the
// reason names the size. (Before, its first 256 bytes became the "hostname".)
TEST_CASE("container hostname: a huge file is refused from its size", "[facts]") {
  TempDir dir;
  std::string big = dir.path + "/etc/hostname";
  REQUIRE(::mkdir((dir.path + "/etc").c_str(), 0755) == 0);
  {
    std::ofstream out(big);
    std::string line(1 << 20, 'a');
    for (int i = 0; i < 64; ++i) out << line;
  }
  std::string problem;
  CHECK_FALSE(read_container_hostname(big, &problem));
  CHECK(problem == "/etc/hostname has 67108864 bytes, more than a hostname file's 256");
}

// Within the size, but not a hostname: NUL bytes (a sparse file), control characters, spaces.
TEST_CASE("container hostname: what is not a hostname is refused, saying why", "[facts]") {
  TempDir dir;
  std::string file = dir.path + "/hostname";
  for (std::string text : {std::string(200, '\0'), std::string("web\x1b[31m\n"), std::string("two words\n"),
                           std::string(254, 'a')}) {
    CAPTURE(text.size());
    std::ofstream(file, std::ios::trunc) << text;
    std::string problem;
    CHECK_FALSE(read_container_hostname(file, &problem));
    CHECK(problem.find("does not hold a hostname") != std::string::npos);
  }
  std::ofstream(file, std::ios::trunc) << std::string(253, 'a') << "\n";
  CHECK(read_container_hostname(file));
  std::ofstream(file, std::ios::trunc) << "web-1.lan_x\n";
  CHECK(read_container_hostname(file) == std::optional<std::string>("web-1.lan_x"));
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
