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

namespace {

// A process in a /proc laid out under `proc`: its ns/net link, its root (a folder), its cgroup.
void fake_process(const std::string& proc, long pid, const std::string& netns, const std::string& root,
                  const std::string& cgroup) {
  std::string base = proc + "/" + std::to_string(pid);
  REQUIRE(::mkdir(base.c_str(), 0755) == 0);
  REQUIRE(::mkdir((base + "/ns").c_str(), 0755) == 0);
  REQUIRE(::symlink(netns.c_str(), (base + "/ns/net").c_str()) == 0);
  REQUIRE(::symlink(root.c_str(), (base + "/root").c_str()) == 0);
  std::ofstream(base + "/cgroup") << cgroup;
}

std::string container_root(const std::string& dir, const std::string& name, const std::string& hostname) {
  std::string root = dir + "/" + name;
  REQUIRE(::mkdir(root.c_str(), 0755) == 0);
  REQUIRE(::mkdir((root + "/etc").c_str(), 0755) == 0);
  std::ofstream(root + "/etc/hostname") << hostname;
  return root;
}

const std::string kId = "6563b04ac94c" + std::string(52, 'a');
const std::string kOtherId = "77c0ffee" + std::string(56, 'b');

}  // namespace

// What `docker exec` showed on Docker 28 (runc 1.3) and 20.10: its runc:[2:INIT] is in the
// container's namespace and root before runc writes it into the container's cgroup, so its
// cgroup is runc's ("0::/"). Newest, it is met first; taken, the container never got its id
// (the packaging test's status check failed once in 60 CI runs).
TEST_CASE("container facts: a process docker exec is starting (no container cgroup yet) is passed over",
          "[facts]") {
  TempDir dir;
  std::string proc = dir.path + "/proc";
  REQUIRE(::mkdir(proc.c_str(), 0755) == 0);
  std::string root = container_root(dir.path, "rootfs", "racer\n");
  fake_process(proc, 150, "net:[77]", root, "0::/docker/" + kId + "\n");                  // sleep 300
  fake_process(proc, 170, "net:[88]", container_root(dir.path, "other", "else\n"), "0::/docker/" + kOtherId);
  fake_process(proc, 180, "net:[77]", "/", "0::/docker/" + kOtherId + "\n");              // not pivoted yet
  fake_process(proc, 200, "net:[77]", root, "4:memory:/process_api/a57c\n0::/\n");      // runc:[2:INIT]
  fake_process(proc, 250, "net:[77]", container_root(dir.path, "plugin", "plugin-host\n"),  // ourselves
               "0::/docker/plugins/" + kOtherId);
  auto facts = container_facts_in(proc, "net:[77]", 250);
  REQUIRE(facts);
  CHECK(facts->id == kId);
  CHECK(facts->hostname == "racer");
  CHECK(facts->hostname_problem.empty());
}

// Another runtime's cgroups name no container: the newest process in the namespace still gives
// the hostname, with no id.
TEST_CASE("container facts: with no container cgroup anywhere, the hostname without an id", "[facts]") {
  TempDir dir;
  std::string proc = dir.path + "/proc";
  REQUIRE(::mkdir(proc.c_str(), 0755) == 0);
  fake_process(proc, 150, "net:[77]", container_root(dir.path, "old", "first\n"), "0::/machine.slice/x\n");
  fake_process(proc, 200, "net:[77]", container_root(dir.path, "new", "second\n"), "0::/\n");
  fake_process(proc, 300, "net:[78]", container_root(dir.path, "other", "third\n"), "0::/docker/" + kId);
  auto facts = container_facts_in(proc, "net:[77]", 1);
  REQUIRE(facts);
  CHECK(facts->id.empty());
  CHECK(facts->hostname == "second");
  CHECK_FALSE(container_facts_in(proc, "net:[79]", 1));
}

// The newest process with a container's cgroup wins, and one whose /etc/hostname is unusable
// still gives its id, with the reason.
TEST_CASE("container facts: the id of a container whose hostname file is unusable", "[facts]") {
  TempDir dir;
  std::string proc = dir.path + "/proc";
  REQUIRE(::mkdir(proc.c_str(), 0755) == 0);
  fake_process(proc, 150, "net:[77]", container_root(dir.path, "old", "older\n"), "0::/docker/" + kOtherId);
  fake_process(proc, 200, "net:[77]", container_root(dir.path, "new", "two words\n"),
               "0::/system.slice/docker-" + kId + ".scope\n");
  auto facts = container_facts_in(proc, "net:[77]", 1);
  REQUIRE(facts);
  CHECK(facts->id == kId);
  CHECK(facts->hostname.empty());
  CHECK(facts->hostname_problem.find("does not hold a hostname") != std::string::npos);
}

// docker run --network container:A B: B's processes are in A's namespace, newer. A re-adopted
// endpoint of A knows A's id; B's process must not pass for A.
TEST_CASE("container facts: the known container's process over a newer one sharing its namespace", "[facts]") {
  TempDir dir;
  std::string proc = dir.path + "/proc";
  REQUIRE(::mkdir(proc.c_str(), 0755) == 0);
  fake_process(proc, 150, "net:[77]", container_root(dir.path, "a", "alpha\n"), "0::/docker/" + kId);
  fake_process(proc, 200, "net:[77]", container_root(dir.path, "b", "beta\n"), "0::/docker/" + kOtherId);
  auto known = container_facts_in(proc, "net:[77]", 1, kId);
  REQUIRE(known);
  CHECK(known->id == kId);
  CHECK(known->hostname == "alpha");
  // Not told (a new endpoint): the newest, as before.
  CHECK(container_facts_in(proc, "net:[77]", 1)->id == kOtherId);
  // The known container's processes are gone: the newest other one's facts (the endpoint's
  // known id was stale, and is replaced).
  CHECK(container_facts_in(proc, "net:[77]", 1, std::string(64, 'f'))->id == kOtherId);
}
