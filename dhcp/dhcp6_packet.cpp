#include "dhcp/dhcp6_packet.hpp"

#include <cstdio>

#include "dhcp/dns_name.hpp"

namespace netdhcp::dhcp6 {

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::Solicit: return "SOLICIT";
    case MessageType::Advertise: return "ADVERTISE";
    case MessageType::Request: return "REQUEST";
    case MessageType::Confirm: return "CONFIRM";
    case MessageType::Renew: return "RENEW";
    case MessageType::Rebind: return "REBIND";
    case MessageType::Reply: return "REPLY";
    case MessageType::Release: return "RELEASE";
    case MessageType::Decline: return "DECLINE";
    case MessageType::Reconfigure: return "RECONFIGURE";
    case MessageType::InformationRequest: return "INFORMATION-REQUEST";
  }
  return "DHCPv6(unknown)";
}

std::string_view to_string(StatusCode code) {
  switch (code) {
    case StatusCode::Success: return "Success";
    case StatusCode::UnspecFail: return "UnspecFail";
    case StatusCode::NoAddrsAvail: return "NoAddrsAvail";
    case StatusCode::NoBinding: return "NoBinding";
    case StatusCode::NotOnLink: return "NotOnLink";
    case StatusCode::UseMulticast: return "UseMulticast";
  }
  return "status(unknown)";
}

namespace {

// RFC 8415 section 21.1: code (2), length (2), data. Returns false if an option ran past the
// end (the options before it are kept).
bool parse_options(ByteReader& r, std::vector<Option>& out) {
  while (!r.empty()) {
    std::uint16_t code = r.u16();
    std::uint16_t len = r.u16();
    if (!r.ok() || r.remaining() < len) return false;
    auto data = r.bytes(len);
    out.push_back(Option{code, Bytes(data.begin(), data.end())});
  }
  return true;
}

void write_option(ByteWriter& w, std::uint16_t code, ByteView data) {
  w.u16(code);
  w.u16(static_cast<std::uint16_t>(data.size()));
  w.bytes(data);
}

Ipv6Address read_address(ByteReader& r) {
  Ipv6Address a;
  auto b = r.bytes(16);
  if (b.size() == 16)
    for (std::size_t i = 0; i < 16; ++i) a.octets[i] = std::to_integer<std::uint8_t>(b[i]);
  return a;
}

}  // namespace

Result<Message> parse(ByteView wire) {
  if (wire.size() < 4) return Error{"DHCPv6 message too short: " + std::to_string(wire.size()) + " bytes"};
  ByteReader r(wire);
  Message m;
  m.type = static_cast<MessageType>(r.u8());
  m.transaction_id = r.u24();
  m.truncated_options = !parse_options(r, m.options);
  return m;
}

void encode(const Message& m, Bytes& out) {
  ByteWriter w(out);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.u24(m.transaction_id);
  for (const auto& o : m.options) write_option(w, o.code, o.data);
}

void Message::add(std::uint16_t code, ByteView data) {
  options.push_back(Option{code, Bytes(data.begin(), data.end())});
}

const Option* Message::find(std::uint16_t code) const {
  for (const auto& o : options)
    if (o.code == code) return &o;
  return nullptr;
}

std::optional<Status> decode_status(ByteView data) {
  ByteReader r(data);
  Status s;
  s.code = static_cast<StatusCode>(r.u16());
  if (!r.ok()) return std::nullopt;
  s.message = netdhcp::to_string(r.rest());
  return s;
}

Bytes encode_status(const Status& status) {
  Bytes out;
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(status.code));
  w.bytes(as_bytes(status.message));
  return out;
}

std::optional<IaNa> decode_ia_na(ByteView data) {
  ByteReader r(data);
  IaNa ia;
  ia.iaid = r.u32();
  ia.t1 = r.u32();
  ia.t2 = r.u32();
  if (!r.ok()) return std::nullopt;
  std::vector<Option> sub;
  if (!parse_options(r, sub)) return std::nullopt;
  for (const auto& o : sub) {
    if (o.code == option::StatusCode) {
      ia.status = decode_status(o.data);
    } else if (o.code == option::IaAddr) {
      ByteReader a(o.data);
      IaAddress address;
      address.address = read_address(a);
      address.preferred_lifetime = a.u32();
      address.valid_lifetime = a.u32();
      std::vector<Option> address_options;
      if (!a.ok() || !parse_options(a, address_options)) continue;  // skip this address only
      for (const auto& ao : address_options)
        if (ao.code == option::StatusCode) address.status = decode_status(ao.data);
      ia.addresses.push_back(address);
    }
  }
  return ia;
}

Bytes encode_ia_na(const IaNa& ia) {
  Bytes out;
  ByteWriter w(out);
  w.u32(ia.iaid);
  w.u32(ia.t1);
  w.u32(ia.t2);
  for (const auto& a : ia.addresses) {
    Bytes body;
    ByteWriter b(body);
    for (auto o : a.address.octets) b.u8(o);
    b.u32(a.preferred_lifetime);
    b.u32(a.valid_lifetime);
    if (a.status) write_option(b, option::StatusCode, encode_status(*a.status));
    write_option(w, option::IaAddr, body);
  }
  if (ia.status) write_option(w, option::StatusCode, encode_status(*ia.status));
  return out;
}

Bytes encode_client_fqdn(std::string_view name, std::uint8_t flags) {
  Bytes out;
  out.push_back(std::byte{flags});
  if (name.find('.') == std::string_view::npos) {
    // RFC 4704 section 4.2: a partial name (one label) omits the terminating root label.
    if (!name.empty() && name.size() <= 63) {
      out.push_back(std::byte{static_cast<std::uint8_t>(name.size())});
      auto b = as_bytes(name);
      out.insert(out.end(), b.begin(), b.end());
    }
  } else {
    (void)dns::encode_name(name, out);
  }
  return out;
}

std::optional<Status> Message::status() const {
  auto* o = find(option::StatusCode);
  if (!o) return std::nullopt;
  return decode_status(o->data);
}

std::optional<std::uint8_t> Message::preference() const {
  auto* o = find(option::Preference);
  if (!o || o->data.size() != 1) return std::nullopt;
  return std::to_integer<std::uint8_t>(o->data[0]);
}

std::vector<IaNa> Message::ia_nas() const {
  std::vector<IaNa> list;
  for (const auto& o : options)
    if (o.code == option::IaNa)
      if (auto ia = decode_ia_na(o.data)) list.push_back(std::move(*ia));
  return list;
}

std::optional<std::vector<Ipv6Address>> Message::dns_servers() const {
  auto* o = find(option::DnsServers);
  if (!o || o->data.empty() || o->data.size() % 16 != 0) return std::nullopt;
  std::vector<Ipv6Address> list;
  ByteReader r(o->data);
  while (!r.empty()) list.push_back(read_address(r));
  return list;
}

std::optional<std::vector<std::string>> Message::domain_list() const {
  auto* o = find(option::DomainList);
  if (!o) return std::nullopt;
  return dns::decode_names(o->data, /*allow_compression=*/false);
}

std::optional<std::uint32_t> Message::sol_max_rt() const {
  auto* o = find(option::SolMaxRt);
  if (!o || o->data.size() != 4) return std::nullopt;
  return ByteReader(o->data).u32();
}

std::string describe(const Message& m) {
  char xid[16];
  std::snprintf(xid, sizeof xid, "0x%06x", m.transaction_id);
  std::string s = std::string(to_string(m.type)) + " xid " + xid;
  for (const auto& ia : m.ia_nas())
    for (const auto& a : ia.addresses) s += " address " + a.address.to_string();
  if (auto st = m.status()) s += " status " + std::string(to_string(st->code)) + " \"" + st->message + "\"";
  return s;
}

}  // namespace netdhcp::dhcp6
