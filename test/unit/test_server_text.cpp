// printable(): server text made safe for logs, errors and JSON, byte by byte.
#include <catch2/catch.hpp>

#include "dhcp/server_text.hpp"

using netdhcp::printable;

// Plain text, and valid UTF-8 beyond ASCII, pass unchanged.
TEST_CASE("printable keeps ordinary text", "[server_text]") {
  CHECK(printable("address not on this network") == "address not on this network");
  CHECK(printable("Adresse ung\xc3\xbcltig \xe2\x82\xac \xf0\x9f\x98\x80") == "Adresse ung\xc3\xbcltig \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(printable("") == "");
}

// A newline would forge a second log line, ESC would drive a terminal, NUL would cut C
// strings; backslash is escaped so that the escapes stay unambiguous.
TEST_CASE("printable escapes control characters", "[server_text]") {
  CHECK(printable("bad\nnet-dhcp: lease granted") == "bad\\x0anet-dhcp: lease granted");
  CHECK(printable("\x1b[2J\r\t") == "\\x1b[2J\\x0d\\x09");
  CHECK(printable(std::string_view("a\0b", 3)) == "a\\x00b");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("c:\\x0a") == "c:\\\\x0a");
  CHECK(printable("c1 \xc2\x85 ok") == "c1 \\xc2\\x85 ok");                 // U+0085 NEL
  CHECK(printable("ls \xe2\x80\xa8 x") == "ls \\xe2\\x80\\xa8 x");          // U+2028
  CHECK(printable("rtl \xe2\x80\xae txt") == "rtl \\xe2\\x80\\xae txt");   // U+202E override
}

// Bytes that are not valid UTF-8 (a stray continuation, an overlong form, a surrogate, a cut
// sequence, 0xff) are escaped one by one; what follows them is read afresh.
TEST_CASE("printable escapes invalid UTF-8", "[server_text]") {
  CHECK(printable("\x80") == "\\x80");
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf");
  CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");
  CHECK(printable("cut \xe2\x82") == "cut \\xe2\\x82");
  CHECK(printable("\xff" "ok") == "\\xffok");
  CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
}

// Long text is cut to the limit, never inside a character or an escape.
TEST_CASE("printable cuts long text", "[server_text]") {
  CHECK(printable(std::string(300, 'a')) == std::string(256, 'a') + "...");
  CHECK(printable("abcdef", 4) == "abcd...");
  CHECK(printable("ab\ncd", 4) == "ab...");             // "\x0a" would not fit
  CHECK(printable("a\xc3\xbc", 2) == "a...");           // nor half of the u-umlaut
  CHECK(printable("abcd", 4) == "abcd");
}
