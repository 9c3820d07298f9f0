#include "dhcp/dhcp4_packet.hpp"

#include <algorithm>
#include <cstdio>

#include "dhcp/dns_name.hpp"

namespace netdhcp::dhcp4 {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::Discover: return "DHCPDISCOVER";
    case MessageType::Offer: return "DHCPOFFER";
    case MessageType::Request: return "DHCPREQUEST";
    case MessageType::Decline: return "DHCPDECLINE";
    case MessageType::Ack: return "DHCPACK";
    case MessageType::Nak: return "DHCPNAK";
    case MessageType::Release: return "DHCPRELEASE";
    case MessageType::Inform: return "DHCPINFORM";
  }
  return "DHCP(unknown)";
}

namespace {

// Parses one option area (RFC 2131 section 4.1 / RFC 2132 section 2). A length that runs past
// the area stops parsing of this area only; what came before is kept.
void parse_area(ByteView area_bytes, OptionArea area, Packet& packet) {
  ByteReader r(area_bytes);
  while (!r.empty()) {
    std::uint8_t code = r.u8();
    if (code == option::Pad) continue;
    if (code == option::End) return;
    if (r.empty()) {
      packet.truncated_options = true;
      return;
    }
    std::uint8_t len = r.u8();
    if (r.remaining() < len) {
      packet.truncated_options = true;
      return;
    }
    auto data = r.bytes(len);
    packet.options.push_back(Option{code, Bytes(data.begin(), data.end()), area});
  }
}

template <std::size_t N>
void read_array(ByteReader& r, std::array<std::uint8_t, N>& out) {
  auto b = r.bytes(N);
  if (b.size() == N) std::transform(b.begin(), b.end(), out.begin(), [](std::byte x) {
    return std::to_integer<std::uint8_t>(x);
  });
}

Ipv4Address read_address(ByteReader& r) { return Ipv4Address::from_u32(r.u32()); }

ByteView view(const auto& array) {
  return {reinterpret_cast<const std::byte*>(array.data()), array.size()};
}

}  // namespace

Result<Packet> parse(ByteView wire) {
  if (wire.size() < kFixedHeaderSize + 4) {
    return Error{"DHCP message too short: " + std::to_string(wire.size()) + " bytes, need at least " +
                 std::to_string(kFixedHeaderSize + 4)};
  }
  Packet p;
  ByteReader r(wire);
  p.op = r.u8();
  p.htype = r.u8();
  p.hlen = r.u8();
  p.hops = r.u8();
  p.xid = r.u32();
  p.secs = r.u16();
  p.flags = r.u16();
  p.ciaddr = read_address(r);
  p.yiaddr = read_address(r);
  p.siaddr = read_address(r);
  p.giaddr = read_address(r);
  read_array(r, p.chaddr);
  read_array(r, p.sname);
  read_array(r, p.file);
  if (std::uint32_t cookie = r.u32(); cookie != kMagicCookie) {
    char text[64];
    std::snprintf(text, sizeof text, "not a DHCP message: magic cookie 0x%08x", cookie);
    return Error{text};
  }
  parse_area(r.rest(), OptionArea::Options, p);
  p.min_size = wire.size();

  // RFC 2131 section 4.1: with option 52 the 'file' field, then 'sname', hold more options.
  std::uint8_t overload = 0;
  for (const auto& o : p.options)
    if (o.code == option::Overload && o.data.size() == 1) overload = std::to_integer<std::uint8_t>(o.data[0]);
  if (overload & 1) parse_area(view(p.file), OptionArea::File, p);
  if (overload & 2) parse_area(view(p.sname), OptionArea::Sname, p);
  return p;
}

void encode(const Packet& p, Bytes& out) {
  std::size_t start = out.size();
  ByteWriter w(out);
  w.u8(p.op);
  w.u8(p.htype);
  w.u8(p.hlen);
  w.u8(p.hops);
  w.u32(p.xid);
  w.u16(p.secs);
  w.u16(p.flags);
  w.u32(p.ciaddr.to_u32());
  w.u32(p.yiaddr.to_u32());
  w.u32(p.siaddr.to_u32());
  w.u32(p.giaddr.to_u32());
  w.bytes(view(p.chaddr));
  w.bytes(view(p.sname));
  w.bytes(view(p.file));
  w.u32(kMagicCookie);
  for (const auto& o : p.options) {
    if (o.area != OptionArea::Options) continue;  // already inside sname/file
    // RFC 3396: a value longer than 255 bytes is split into consecutive instances.
    std::size_t offset = 0;
    do {
      std::size_t chunk = std::min<std::size_t>(255, o.data.size() - offset);
      w.u8(o.code);
      w.u8(static_cast<std::uint8_t>(chunk));
      w.bytes(ByteView(o.data).subspan(offset, chunk));
      offset += chunk;
    } while (offset < o.data.size());
  }
  w.u8(option::End);
  if (out.size() - start < p.min_size) w.zeros(p.min_size - (out.size() - start));
}

MacAddress Packet::client_mac() const {
  MacAddress m;
  std::copy_n(chaddr.begin(), 6, m.octets.begin());
  return m;
}

void Packet::set_client_mac(MacAddress mac) {
  chaddr.fill(0);
  std::copy(mac.octets.begin(), mac.octets.end(), chaddr.begin());
  htype = 1;
  hlen = 6;
}

void Packet::add(std::uint8_t code, ByteView data) {
  options.push_back(Option{code, Bytes(data.begin(), data.end()), OptionArea::Options});
}
void Packet::add_u8(std::uint8_t code, std::uint8_t value) {
  std::byte b{value};
  add(code, ByteView(&b, 1));
}
void Packet::add_u16(std::uint8_t code, std::uint16_t value) {
  Bytes b;
  ByteWriter(b).u16(value);
  add(code, b);
}
void Packet::add_u32(std::uint8_t code, std::uint32_t value) {
  Bytes b;
  ByteWriter(b).u32(value);
  add(code, b);
}
void Packet::add_address(std::uint8_t code, Ipv4Address address) { add_u32(code, address.to_u32()); }
void Packet::add_string(std::uint8_t code, std::string_view text) { add(code, as_bytes(text)); }

std::optional<Bytes> Packet::find(std::uint8_t code) const {
  std::optional<Bytes> value;
  for (OptionArea area : {OptionArea::Options, OptionArea::File, OptionArea::Sname}) {
    for (const auto& o : options) {
      if (o.code != code || o.area != area) continue;
      if (!value) value.emplace();
      value->insert(value->end(), o.data.begin(), o.data.end());
    }
  }
  return value;
}

std::optional<MessageType> Packet::message_type() const {
  auto v = u8_option(option::MessageType);
  if (!v || *v < 1 || *v > 8) return std::nullopt;
  return static_cast<MessageType>(*v);
}

std::optional<std::uint8_t> Packet::u8_option(std::uint8_t code) const {
  auto v = find(code);
  if (!v || v->size() != 1) return std::nullopt;
  return std::to_integer<std::uint8_t>((*v)[0]);
}

std::optional<std::uint16_t> Packet::u16_option(std::uint8_t code) const {
  auto v = find(code);
  if (!v || v->size() != 2) return std::nullopt;
  return ByteReader(*v).u16();
}

std::optional<std::uint32_t> Packet::u32_option(std::uint8_t code) const {
  auto v = find(code);
  if (!v || v->size() != 4) return std::nullopt;
  return ByteReader(*v).u32();
}

std::optional<Ipv4Address> Packet::address_option(std::uint8_t code) const {
  auto v = u32_option(code);
  if (!v) return std::nullopt;
  return Ipv4Address::from_u32(*v);
}

std::optional<std::vector<Ipv4Address>> Packet::address_list_option(std::uint8_t code) const {
  auto v = find(code);
  if (!v || v->empty() || v->size() % 4 != 0) return std::nullopt;
  std::vector<Ipv4Address> list;
  ByteReader r(*v);
  while (!r.empty()) list.push_back(Ipv4Address::from_u32(r.u32()));
  return list;
}

std::optional<std::string> Packet::string_option(std::uint8_t code) const {
  auto v = find(code);
  if (!v) return std::nullopt;
  std::string s = netdhcp::to_string(*v);
  // RFC 2132 section 2: "Options containing NVT ASCII data SHOULD NOT include a trailing NULL;
  // however, the receiver of such options MUST be prepared to delete trailing nulls".
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

std::optional<std::vector<std::string>> Packet::domain_search() const {
  auto v = find(option::DomainSearch);
  if (!v) return std::nullopt;
  return dns::decode_names(*v, /*allow_compression=*/true);
}

std::optional<std::vector<ClasslessRoute>> Packet::classless_routes() const {
  auto v = find(option::ClasslessRoutes);
  if (!v) return std::nullopt;
  return decode_classless_routes(*v);
}

std::optional<ClientFqdn> Packet::client_fqdn() const {
  auto v = find(option::ClientFqdn);
  if (!v || v->size() < 3) return std::nullopt;
  ClientFqdn fqdn;
  fqdn.flags = std::to_integer<std::uint8_t>((*v)[0]);
  ByteView name = ByteView(*v).subspan(3);
  if (fqdn.flags & 0x04) {  // E: canonical wire format (RFC 4702 section 2.3.1)
    auto names = dns::decode_names(name, false);
    if (!names || names->size() > 1) return std::nullopt;
    if (!names->empty()) fqdn.name = names->front();
  } else {
    fqdn.name = netdhcp::to_string(name);
  }
  return fqdn;
}

// RFC 3442 section 2: each route is a width byte, the significant octets of the destination
// (ceil(width / 8) of them), and a 4-byte router.
std::optional<std::vector<ClasslessRoute>> decode_classless_routes(ByteView data) {
  std::vector<ClasslessRoute> routes;
  ByteReader r(data);
  while (!r.empty()) {
    std::uint8_t width = r.u8();
    if (width > 32) return std::nullopt;
    std::size_t significant = (width + 7u) / 8u;
    auto octets = r.bytes(significant);
    auto router = r.u32();
    if (!r.ok()) return std::nullopt;
    ClasslessRoute route;
    for (std::size_t i = 0; i < significant; ++i)
      route.destination.octets[i] = std::to_integer<std::uint8_t>(octets[i]);
    // Bits beyond the prefix must not leak into the destination.
    route.destination =
        Ipv4Address::from_u32(route.destination.to_u32() & prefix_netmask(width).to_u32());
    route.prefix_length = width;
    route.router = Ipv4Address::from_u32(router);
    routes.push_back(route);
  }
  return routes;
}

Bytes encode_classless_routes(const std::vector<ClasslessRoute>& routes) {
  Bytes out;
  ByteWriter w(out);
  for (const auto& route : routes) {
    w.u8(static_cast<std::uint8_t>(route.prefix_length));
    for (int i = 0; i < (route.prefix_length + 7) / 8; ++i) w.u8(route.destination.octets[i]);
    w.u32(route.router.to_u32());
  }
  return out;
}

std::string describe(const Packet& p) {
  std::string s;
  auto type = p.message_type();
  s += type ? std::string(to_string(*type)) : std::string(p.op == 2 ? "BOOTREPLY" : "BOOTREQUEST");
  char xid[16];
  std::snprintf(xid, sizeof xid, "0x%08x", p.xid);
  s += " xid ";
  s += xid;
  if (!p.ciaddr.is_unspecified()) s += " ciaddr " + p.ciaddr.to_string();
  if (!p.yiaddr.is_unspecified()) s += " yiaddr " + p.yiaddr.to_string();
  if (auto server = p.address_option(option::ServerId)) s += " server " + server->to_string();
  if (auto msg = p.string_option(option::Message)) s += " message \"" + *msg + "\"";
  return s;
}

}  // namespace netdhcp::dhcp4
