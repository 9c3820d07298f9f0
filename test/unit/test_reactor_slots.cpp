// src/support/reactor_slots.hpp: the reactor's per-descriptor states are made in batches, before
// the descriptors that use them, and counted back; no fd is left open by a batch.
#include <catch2/catch.hpp>

#include <malloc.h>
#include <sys/eventfd.h>

#include <array>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "src/support/reactor_slots.hpp"

using namespace netdhcp;

namespace {

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

constexpr std::size_t kWatched = 63;
using Watched = std::array<std::optional<asio::posix::stream_descriptor>, kWatched>;

// Bytes malloc handed out while kWatched eventfds were put under watch on `context`.
std::size_t heap_taken_by_watching(asio::io_context& context, Watched& watched) {
  const auto before = ::mallinfo2().uordblks;
  for (auto& slot : watched) slot.emplace(context.get_executor(), ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  const auto after = ::mallinfo2().uordblks;
  return after > before ? after - before : 0;
}

}  // namespace

TEST_CASE("reactor slots: batches of states made ahead, doubling, counted back, no fd kept") {
  asio::io_context context;
  auto& slots = asio::use_service<ReactorSlots>(context);
  asio::posix::stream_descriptor unwatched(context);  // the reactor made, with its own 3 fds
  const std::size_t fds = open_fds();
  std::vector<std::unique_ptr<ReactorSlot>> held;

  held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(slots.held() == 1);
  CHECK(slots.made() == ReactorSlots::kBatch);
  CHECK(open_fds() == fds);

  while (held.size() < ReactorSlots::kBatch) held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(slots.made() == ReactorSlots::kBatch);  // the first batch covers them
  held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(slots.made() == 2 * ReactorSlots::kBatch);
  while (held.size() <= 2 * ReactorSlots::kBatch) held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(slots.made() == 4 * ReactorSlots::kBatch);  // as many again as made so far
  CHECK(open_fds() == fds);

  held.clear();
  CHECK(slots.held() == 0);
  CHECK(slots.made() == 4 * ReactorSlots::kBatch);  // the reactor keeps them, so do we
  held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(slots.made() == 4 * ReactorSlots::kBatch);
}

// What the batches are for: a descriptor watched after its slot was taken uses a state made
// with the batch, and allocates nothing of its own; without slots each one does.
TEST_CASE("reactor slots: descriptors watched under slots allocate no state of their own") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("skipped under AddressSanitizer: its allocator does not fill mallinfo2()");
#else
  auto watched = std::make_unique<Watched>();
  {
    asio::io_context without_slots;
    CHECK(heap_taken_by_watching(without_slots, *watched) >= kWatched * 100);
    for (auto& w : *watched) w.reset();
  }
  asio::io_context context;
  std::vector<std::unique_ptr<ReactorSlot>> held;
  held.reserve(kWatched);
  for (std::size_t i = 0; i < kWatched; ++i) held.push_back(std::make_unique<ReactorSlot>(context.get_executor()));
  CHECK(heap_taken_by_watching(context, *watched) == 0);
  for (auto& w : *watched) w.reset();
#endif
}
