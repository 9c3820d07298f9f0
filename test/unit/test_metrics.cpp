// Metrics count lease events by their typed kind and loss reason, never by names.
#include <catch2/catch.hpp>

#include "src/endpoint/metrics.hpp"

using namespace netdhcp;
using namespace std::chrono_literals;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

// DHCPv4: Bound is obtained, Renewed and AddressChanged are renewals, Expired/Nak/Declined are
// losses by reason; Released (the owner's own doing) is not counted.
TEST_CASE("metrics classify DHCPv4 events", "[metrics]") {
  using Kind = dhcp4::Event::Kind;
  Metrics metrics;
  auto event = [](Kind kind, LossReason loss) {
    dhcp4::Event e{kind, {}, {}, {}, dhcp4::State::Bound};
    e.loss = loss;
    return e;
  };
  metrics.lease_event(event(Kind::Bound, LossReason::None), 2ms);
  metrics.lease_event(event(Kind::Renewed, LossReason::None), 3ms);
  metrics.lease_event(event(Kind::AddressChanged, LossReason::None), std::nullopt);
  metrics.lease_event(event(Kind::Expired, LossReason::Expired), std::nullopt);
  metrics.lease_event(event(Kind::Nak, LossReason::Nak), std::nullopt);
  metrics.lease_event(event(Kind::Nak, LossReason::Nak), std::nullopt);
  metrics.lease_event(event(Kind::Declined, LossReason::Declined), std::nullopt);
  metrics.lease_event(event(Kind::Released, LossReason::None), std::nullopt);
  std::string text = metrics.render({});
  CHECK(has_line(text, "netdhcp_leases_obtained_total{family=\"4\"} 1"));
  CHECK(has_line(text, "netdhcp_renewals_total{family=\"4\"} 2"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"4\",reason=\"expired\"} 1"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"4\",reason=\"nak\"} 2"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"4\",reason=\"declined\"} 1"));
  CHECK(text.find("released") == std::string::npos);
  CHECK(has_line(text, "netdhcp_dhcp_round_trip_seconds_count{family=\"4\"} 2"));
  CHECK(has_line(text, "netdhcp_leases_obtained_total{family=\"6\"} 0"));
}

// DHCPv6: two Expired events with different reasons count apart (the server withdrawing the
// address is not the lease running out); Failed counts as "failed".
TEST_CASE("metrics classify DHCPv6 events by loss reason", "[metrics]") {
  using Kind = dhcp6::Event::Kind;
  Metrics metrics;
  auto event = [](Kind kind, LossReason loss) {
    dhcp6::Event e{kind, {}, {}, {}, dhcp6::State::Renewing};
    e.loss = loss;
    return e;
  };
  metrics.lease_event(event(Kind::Bound, LossReason::None), 1ms);
  metrics.lease_event(event(Kind::Expired, LossReason::Withdrawn), std::nullopt);
  metrics.lease_event(event(Kind::Expired, LossReason::Expired), std::nullopt);
  metrics.lease_event(event(Kind::Failed, LossReason::Failed), std::nullopt);
  std::string text = metrics.render({});
  CHECK(has_line(text, "netdhcp_leases_obtained_total{family=\"6\"} 1"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"6\",reason=\"withdrawn\"} 1"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"6\",reason=\"expired\"} 1"));
  CHECK(has_line(text, "netdhcp_lease_losses_total{family=\"6\",reason=\"failed\"} 1"));
}

// An endpoint whose coroutine threw (Endpoint::mark_failed) is counted, so an alert can see it.
TEST_CASE("metrics count endpoints that stopped on an internal error", "[metrics]") {
  Metrics metrics;
  CHECK(has_line(metrics.render({}), "netdhcp_endpoint_failures_total 0"));
  metrics.internal_failure();
  metrics.internal_failure();
  CHECK(has_line(metrics.render({}), "netdhcp_endpoint_failures_total 2"));
}

// Packets the kernel refused to send count per family, from 0 (so an alert can see a rise).
TEST_CASE("metrics count send errors by family", "[metrics]") {
  Metrics metrics;
  CHECK(has_line(metrics.render({}), "netdhcp_send_errors_total{family=\"4\"} 0"));
  CHECK(has_line(metrics.render({}), "netdhcp_send_errors_total{family=\"6\"} 0"));
  metrics.send_failed(Metrics::Family::V4);
  metrics.send_failed(Metrics::Family::V4);
  metrics.send_failed(Metrics::Family::V6);
  std::string text = metrics.render({});
  CHECK(has_line(text, "netdhcp_send_errors_total{family=\"4\"} 2"));
  CHECK(has_line(text, "netdhcp_send_errors_total{family=\"6\"} 1"));
  CHECK(text.find("# TYPE netdhcp_send_errors_total counter\n") != std::string::npos);
}
