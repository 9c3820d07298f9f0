// Text a DHCP server chose (a DHCPNAK's message, RFC 2131 option 56; a DHCPv6 status message,
// RFC 8415 section 21.13), made fit for a log line, an error message or a JSON status before
// it leaves the client. The server is not trusted: a newline would forge a log line, an escape
// sequence would drive the reader's terminal, invalid UTF-8 would break JSON.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netdhcp {

// Valid UTF-8 is kept; control characters (C0, DEL, C1), the line and paragraph separators
// and the bidirectional overrides (U+2028, U+2029, U+202A-U+202E, U+2066-U+2069), and bytes
// that are not part of a valid UTF-8 sequence become \xNN per byte; a backslash becomes \\.
// The result is at most `max_bytes` long plus "..." when it was cut, never inside a character
// or an escape.
std::string printable(std::string_view raw, std::size_t max_bytes = 256);

}  // namespace netdhcp
