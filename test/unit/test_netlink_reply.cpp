// ReplyReader: the kernel's answers to one request, fed as datagrams built here byte by byte.
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "netlink/socket.hpp"

using namespace netdhcp::netlink;

namespace {

constexpr unsigned kSeq = 7, kPort = 4242;

// Appends one message: header, then `payload_length` zero bytes (4-byte aligned).
void add(std::vector<char>& datagram, std::uint16_t type, std::uint16_t flags, unsigned seq = kSeq,
         std::size_t payload_length = sizeof(ifinfomsg), int error = 0) {
  nlmsghdr h{};
  h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(payload_length));
  h.nlmsg_type = type;
  h.nlmsg_flags = flags;
  h.nlmsg_seq = seq;
  h.nlmsg_pid = kPort;
  std::size_t at = datagram.size();
  datagram.resize(at + NLMSG_ALIGN(h.nlmsg_len), 0);
  std::memcpy(datagram.data() + at, &h, sizeof h);
  if (type == NLMSG_ERROR) std::memcpy(datagram.data() + at + NLMSG_HDRLEN, &error, sizeof error);
}

bool feed(ReplyReader& reader, const std::vector<char>& datagram) { return reader.feed(datagram.data(), datagram.size()); }

}  // namespace

// A dump over two datagrams: complete at NLMSG_DONE, with its messages in order; a message
// for another sequence number is not part of it.
TEST_CASE("netlink dump reply over two datagrams", "[netlink]") {
  ReplyReader reader("RTM_GETLINK dump", kSeq, kPort, true, false);
  std::vector<char> first, second;
  add(first, RTM_NEWLINK, NLM_F_MULTI);
  add(first, RTM_NEWLINK, NLM_F_MULTI, kSeq + 1);  // someone else's
  add(first, RTM_NEWLINK, NLM_F_MULTI);
  CHECK_FALSE(feed(reader, first));
  add(second, RTM_NEWLINK, NLM_F_MULTI);
  add(second, NLMSG_DONE, NLM_F_MULTI, kSeq, sizeof(int));
  CHECK(feed(reader, second));
  CHECK(reader.result().ok());
  CHECK_FALSE(reader.interrupted());
  CHECK(reader.messages().size() == 3);
}

// NLM_F_DUMP_INTR on any message (here only on DONE) marks the whole dump as interrupted.
TEST_CASE("netlink dump interrupted by a change", "[netlink]") {
  ReplyReader reader("RTM_GETADDR dump", kSeq, kPort, true, false);
  std::vector<char> datagram;
  add(datagram, RTM_NEWADDR, NLM_F_MULTI);
  add(datagram, NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, kSeq, sizeof(int));
  CHECK(feed(reader, datagram));
  CHECK(reader.interrupted());
}

// A header that claims more bytes than the datagram holds is an error, not a silent end
// (which left exchange() waiting for a reply that had already come).
TEST_CASE("netlink truncated message is an error", "[netlink]") {
  ReplyReader reader("RTM_GETLINK dump", kSeq, kPort, true, false);
  std::vector<char> datagram;
  add(datagram, RTM_NEWLINK, NLM_F_MULTI);
  add(datagram, RTM_NEWLINK, NLM_F_MULTI, kSeq, 200);
  datagram.resize(datagram.size() - 100);
  CHECK(feed(reader, datagram));
  REQUIRE_FALSE(reader.result().ok());
  CHECK(reader.result().error().errno_value == EBADMSG);
  CHECK(reader.result().error().message == "RTM_GETLINK dump: truncated netlink message");
}

// The kernel's errno names the request; an ACK (error 0) completes a request; a GET without
// NLM_F_ACK is complete with its one message.
TEST_CASE("netlink errors, ACKs and single replies", "[netlink]") {
  {
    ReplyReader reader("RTM_NEWLINK veth dh-1", kSeq, kPort, false, true);
    std::vector<char> datagram;
    add(datagram, NLMSG_ERROR, 0, kSeq, sizeof(nlmsgerr), -EEXIST);
    CHECK(feed(reader, datagram));
    REQUIRE_FALSE(reader.result().ok());
    CHECK(reader.result().error().message == "RTM_NEWLINK veth dh-1: File exists");
    CHECK(reader.result().error().errno_value == EEXIST);
  }
  {
    ReplyReader reader("RTM_DELLINK dh-1", kSeq, kPort, false, true);
    std::vector<char> datagram;
    add(datagram, NLMSG_ERROR, 0, kSeq, sizeof(nlmsgerr), 0);
    CHECK(feed(reader, datagram));
    CHECK(reader.result().ok());
    CHECK(reader.messages().empty());
  }
  {
    ReplyReader reader("RTM_GETLINK eth0", kSeq, kPort, false, false);
    std::vector<char> datagram;
    add(datagram, RTM_NEWLINK, 0);
    CHECK(feed(reader, datagram));
    CHECK(reader.messages().size() == 1);
  }
}
