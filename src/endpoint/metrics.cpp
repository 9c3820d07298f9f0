#include "src/endpoint/metrics.hpp"

#include <cstdio>
#include <sstream>

namespace netdhcp {

namespace {

// The same rule for both families: Bound is obtained, Renewed and AddressChanged renewed, an
// event with a loss reason lost for that reason; the rest (Released) is not counted.
template <class Event>
Metrics::Outcome outcome_of(const Event& e) {
  using Kind = typename Event::Kind;
  if (e.kind == Kind::Bound) return Metrics::Outcome::Obtained;
  if (e.kind == Kind::Renewed || e.kind == Kind::AddressChanged) return Metrics::Outcome::Renewed;
  return e.loss != LossReason::None ? Metrics::Outcome::Lost : Metrics::Outcome::Uncounted;
}

}  // namespace

void Metrics::lease_event(const dhcp4::Event& e, std::optional<Duration> round_trip) {
  count(v4_, outcome_of(e), e.loss, round_trip);
}

void Metrics::lease_event(const dhcp6::Event& e, std::optional<Duration> round_trip) {
  count(v6_, outcome_of(e), e.loss, round_trip);
}

void Metrics::count(PerFamily& p, Outcome outcome, LossReason loss, std::optional<Duration> round_trip) {
  switch (outcome) {
    case Outcome::Obtained: ++p.obtained; break;
    case Outcome::Renewed: ++p.renewed; break;
    case Outcome::Lost: ++p.lost[loss]; break;
    case Outcome::Uncounted: return;
  }
  if (!round_trip) return;
  double seconds = std::chrono::duration<double>(*round_trip).count();
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++p.bucket[i];
  ++p.rtt_count;
  p.rtt_sum += seconds;
}

std::string Metrics::render(const Gauges& g) const {
  std::ostringstream out;
  auto header = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return std::string(text);
  };
  const std::pair<const char*, const PerFamily*> families[] = {{"4", &v4_}, {"6", &v6_}};

  header("netdhcp_networks", "gauge", "net-dhcp networks known to the daemon");
  out << "netdhcp_networks " << g.networks << '\n';
  header("netdhcp_endpoints", "gauge", "Container endpoints the daemon manages");
  out << "netdhcp_endpoints " << g.endpoints << '\n';
  header("netdhcp_endpoints_by_mode", "gauge", "Container endpoints by how they are attached (bridge: veth pairs; macvlan, ipvlan: children of the parent)");
  for (const auto& [mode, n] : g.endpoints_by_mode) out << "netdhcp_endpoints_by_mode{mode=\"" << mode << "\"} " << n << '\n';
  header("netdhcp_leases", "gauge", "Leases held now, by address family");
  out << "netdhcp_leases{family=\"4\"} " << g.leases4 << "\nnetdhcp_leases{family=\"6\"} " << g.leases6 << '\n';
  header("netdhcp_leases_obtained_total", "counter", "Leases bound where none was held");
  for (auto [f, p] : families) out << "netdhcp_leases_obtained_total{family=\"" << f << "\"} " << p->obtained << '\n';
  header("netdhcp_renewals_total", "counter", "Leases renewed or rebound");
  for (auto [f, p] : families) out << "netdhcp_renewals_total{family=\"" << f << "\"} " << p->renewed << '\n';
  header("netdhcp_lease_losses_total", "counter", "Leases lost, by reason (expired, nak, declined, withdrawn, failed)");
  for (auto [f, p] : families)
    for (const auto& [reason, n] : p->lost)
      out << "netdhcp_lease_losses_total{family=\"" << f << "\",reason=\"" << to_string(reason) << "\"} " << n << '\n';
  header("netdhcp_send_errors_total", "counter",
         "DHCP packets the kernel refused to send (the interface went away, no route, ...), by address family");
  for (auto [f, p] : families) out << "netdhcp_send_errors_total{family=\"" << f << "\"} " << p->send_errors << '\n';
  header("netdhcp_endpoint_create_failures_total", "counter", "CreateEndpoint calls that failed (no lease in time, ...)");
  out << "netdhcp_endpoint_create_failures_total " << create_failures_ << '\n';
  header("netdhcp_endpoints_readopted_total", "counter", "Endpoints carried on from a previous run of the daemon");
  out << "netdhcp_endpoints_readopted_total " << readopted_ << '\n';
  header("netdhcp_endpoint_failures_total", "counter",
         "Endpoints whose DHCP session, container follow or RA reader stopped on an internal error");
  out << "netdhcp_endpoint_failures_total " << internal_failures_ << '\n';
  header("netdhcp_follow_failures_total", "counter",
         "Joined endpoints whose interface could not be followed into the container (leases not renewed there)");
  out << "netdhcp_follow_failures_total " << follow_failures_ << '\n';
  header("netdhcp_dhcp_round_trip_seconds", "histogram", "Time from a request to the server's answer");
  for (auto [f, p] : families) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out << "netdhcp_dhcp_round_trip_seconds_bucket{family=\"" << f << "\",le=\"" << number(kBuckets[i]) << "\"} "
          << p->bucket[i] << '\n';
    out << "netdhcp_dhcp_round_trip_seconds_bucket{family=\"" << f << "\",le=\"+Inf\"} " << p->rtt_count << '\n';
    out << "netdhcp_dhcp_round_trip_seconds_sum{family=\"" << f << "\"} " << number(p->rtt_sum) << '\n';
    out << "netdhcp_dhcp_round_trip_seconds_count{family=\"" << f << "\"} " << p->rtt_count << '\n';
  }
  return out.str();
}

}  // namespace netdhcp
