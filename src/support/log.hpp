// Logging for src/ only (the libraries never log). Lines go to stderr, which systemd's
// journal and `docker plugin` logs both collect.
#pragma once

#include <string>
#include <string_view>

namespace netdhcp::log {

enum class Level { Debug, Info, Warning, Error };

void set_level(Level level);
bool parse_level(std::string_view text, Level& level);
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void debug(std::string_view m) { if (enabled(Level::Debug)) write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warning(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

}  // namespace netdhcp::log
