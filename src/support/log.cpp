#include "src/support/log.hpp"

#include <cstdio>
#include <ctime>

namespace netdhcp::log {

namespace {
Level g_level = Level::Info;
}

void set_level(Level level) { g_level = level; }

bool parse_level(std::string_view text, Level& level) {
  if (text == "debug") level = Level::Debug;
  else if (text == "info") level = Level::Info;
  else if (text == "warning" || text == "warn") level = Level::Warning;
  else if (text == "error") level = Level::Error;
  else return false;
  return true;
}

bool enabled(Level level) { return level >= g_level; }

void write(Level level, std::string_view message) {
  if (!enabled(level)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::fprintf(stderr, "%s.%03ldZ %s %.*s\n", stamp, ts.tv_nsec / 1000000,
               kNames[static_cast<int>(level)], static_cast<int>(message.size()), message.data());
}

}  // namespace netdhcp::log
