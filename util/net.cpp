#include "util/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace webhooks {

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

bool IsHostName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return true;
  for (char c : host) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool IsIpLiteral(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// ---------------------------------------------------------------------------
// Networks
// ---------------------------------------------------------------------------

namespace {

// The 4 or 16 bytes of an IP literal in *bytes; an IPv4-mapped IPv6
// address gives its IPv4 bytes. False if `text` is no IP literal.
bool AddressBytes(const std::string& text, bool* v6, unsigned char bytes[16]) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    *v6 = false;
    std::memcpy(bytes, &v4, 4);
    return true;
  }
  in6_addr address{};
  if (::inet_pton(AF_INET6, text.c_str(), &address) != 1) return false;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0,    0,
                                                0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(address.s6_addr, kMapped, 12) == 0) {
    *v6 = false;
    std::memcpy(bytes, address.s6_addr + 12, 4);
    return true;
  }
  *v6 = true;
  std::memcpy(bytes, address.s6_addr, 16);
  return true;
}

// Whether the first `prefix` bits of `a` and `b` agree.
bool SamePrefix(const unsigned char* a, const unsigned char* b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

// `text` without spaces and tabs at either end.
std::string Trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

bool NetworkList::Add(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  Network network;
  if (!AddressBytes(cidr.substr(0, slash), &network.v6, network.bytes)) {
    return false;
  }
  // An IPv4-mapped network written in IPv6 is taken as IPv4 only when it
  // is an address alone; a mapped prefix length would be ambiguous.
  if (!network.v6 && cidr.find(':') != std::string::npos &&
      slash != std::string::npos) {
    return false;
  }
  const int bits = network.v6 ? 128 : 32;
  network.prefix = bits;
  if (slash != std::string::npos) {
    const std::string length = cidr.substr(slash + 1);
    if (length.empty() || length.size() > 3 ||
        length.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
    network.prefix = std::stoi(length);
    if (network.prefix > bits) return false;
  }
  // Host bits set: refused rather than silently masked.
  unsigned char masked[16] = {};
  std::memcpy(masked, network.bytes, static_cast<size_t>(bits / 8));
  for (int bit = network.prefix; bit < bits; ++bit) {
    if (masked[bit / 8] & (0x80 >> (bit % 8))) return false;
  }
  networks_.push_back(network);
  return true;
}

bool NetworkList::Contains(const std::string& address) const {
  bool v6 = false;
  unsigned char bytes[16] = {};
  if (!AddressBytes(address, &v6, bytes)) return false;
  for (const Network& network : networks_) {
    if (network.v6 == v6 && SamePrefix(network.bytes, bytes, network.prefix)) {
      return true;
    }
  }
  return false;
}

std::string ClientAddress(const std::string& peer,
                          const std::vector<std::string>& forwarded_for,
                          const NetworkList& trusted) {
  if (!trusted.Contains(peer)) return peer;
  std::vector<std::string> hops;
  for (const std::string& value : forwarded_for) {
    size_t at = 0;
    for (;;) {
      const size_t comma = value.find(',', at);
      hops.push_back(Trimmed(value.substr(at, comma - at)));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  }
  std::string client = peer;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (!IsIpLiteral(*hop)) break;
    client = *hop;
    if (!trusted.Contains(*hop)) break;
  }
  return client;
}

// ---------------------------------------------------------------------------
// The address policy
// ---------------------------------------------------------------------------

namespace {

// A range of addresses, the policy's verdict on it and its name for the log.
struct V4Range {
  uint32_t base;  // host byte order
  int prefix_bits;
  bool always;  // refused in every mode, not only with deny_private
  const char* name;
};

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr V4Range kV4Ranges[] = {
    {V4(169, 254, 0, 0), 16, true, "link-local"},
    {V4(100, 100, 100, 200), 32, true, "cloud metadata"},
    {V4(168, 63, 129, 16), 32, true, "cloud metadata"},
    {V4(0, 0, 0, 0), 8, false, "this network"},
    {V4(10, 0, 0, 0), 8, false, "private"},
    {V4(100, 64, 0, 0), 10, false, "shared address space (CGNAT)"},
    {V4(127, 0, 0, 0), 8, false, "loopback"},
    {V4(172, 16, 0, 0), 12, false, "private"},
    {V4(192, 0, 0, 0), 24, false, "IETF protocol assignments"},
    {V4(192, 0, 2, 0), 24, false, "documentation"},
    {V4(192, 88, 99, 0), 24, false, "6to4 relay anycast"},
    {V4(192, 168, 0, 0), 16, false, "private"},
    {V4(198, 18, 0, 0), 15, false, "benchmarking"},
    {V4(198, 51, 100, 0), 24, false, "documentation"},
    {V4(203, 0, 113, 0), 24, false, "documentation"},
    {V4(224, 0, 0, 0), 4, false, "multicast"},
    {V4(240, 0, 0, 0), 4, false, "reserved"},
};

const char* RefusedV4Range(uint32_t address, bool deny_private) {
  for (const V4Range& range : kV4Ranges) {
    if (!range.always && !deny_private) continue;
    const uint32_t mask =
        range.prefix_bits == 0 ? 0 : ~uint32_t{0} << (32 - range.prefix_bits);
    if ((address & mask) == range.base) return range.name;
  }
  return nullptr;
}

using V6Bytes = std::array<uint8_t, 16>;

constexpr V6Bytes V6(uint16_t g0, uint16_t g1, uint16_t g2 = 0, uint16_t g3 = 0,
                     uint16_t g4 = 0, uint16_t g5 = 0, uint16_t g6 = 0,
                     uint16_t g7 = 0) {
  const uint16_t groups[8] = {g0, g1, g2, g3, g4, g5, g6, g7};
  V6Bytes bytes{};
  for (size_t i = 0; i < 8; ++i) {
    bytes[2 * i] = static_cast<uint8_t>(groups[i] >> 8);
    bytes[2 * i + 1] = static_cast<uint8_t>(groups[i] & 0xff);
  }
  return bytes;
}

struct V6Range {
  V6Bytes base;
  int prefix_bits;
  bool always;
  const char* name;
};

constexpr V6Range kV6Ranges[] = {
    {V6(0xfe80, 0), 10, true, "link-local"},
    {V6(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254), 128, true, "cloud metadata"},
    {V6(0, 0), 128, false, "unspecified"},
    {V6(0, 0, 0, 0, 0, 0, 0, 1), 128, false, "loopback"},
    {V6(0x0064, 0xff9b, 0x0001), 48, false, "NAT64 local use"},
    {V6(0x0100, 0), 64, false, "discard-only"},
    {V6(0x2001, 0x0002), 48, false, "benchmarking"},
    {V6(0x2001, 0x0db8), 32, false, "documentation"},
    {V6(0xfc00, 0), 7, false, "unique local"},
    {V6(0xfec0, 0), 10, false, "site-local"},
    {V6(0xff00, 0), 8, false, "multicast"},
};

bool InV6Prefix(const V6Bytes& address, const V6Bytes& base, int bits) {
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask =
        static_cast<uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
    if ((address[i] & mask) != (base[i] & mask)) return false;
  }
  return true;
}

uint32_t V4At(const V6Bytes& address, size_t offset) {
  return (uint32_t{address[offset]} << 24) |
         (uint32_t{address[offset + 1]} << 16) |
         (uint32_t{address[offset + 2]} << 8) | uint32_t{address[offset + 3]};
}

// IPv6 forms that carry an IPv4 address, and where it sits. A connection to
// one of them can reach the IPv4 address (mapped sockets, NAT64, 6to4), so
// the IPv4 rules judge it.
struct EmbeddedV4 {
  V6Bytes prefix;
  int prefix_bits;
  size_t offset;
};

constexpr EmbeddedV4 kEmbeddedV4[] = {
    {V6(0, 0, 0, 0, 0, 0xffff), 96, 12},       // IPv4-mapped
    {V6(0, 0, 0, 0, 0xffff, 0), 96, 12},       // IPv4-translated (SIIT)
    {V6(0x0064, 0xff9b, 0, 0, 0, 0), 96, 12},  // NAT64 well-known prefix
    {V6(0x2002, 0), 16, 2},                    // 6to4
};

const char* RefusedV6Range(const V6Bytes& address, bool deny_private) {
  for (const V6Range& range : kV6Ranges) {
    if (!range.always && !deny_private) continue;
    if (InV6Prefix(address, range.base, range.prefix_bits)) return range.name;
  }
  for (const EmbeddedV4& form : kEmbeddedV4) {
    if (InV6Prefix(address, form.prefix, form.prefix_bits)) {
      return RefusedV4Range(V4At(address, form.offset), deny_private);
    }
  }
  // IPv4-compatible ::a.b.c.d (deprecated); :: and ::1 were judged above.
  if (InV6Prefix(address, V6(0, 0), 96)) {
    return RefusedV4Range(V4At(address, 12), deny_private);
  }
  return nullptr;
}

}  // namespace

const char* RefusedTargetRange(const sockaddr* address, bool deny_private) {
  if (address == nullptr) return "no address";
  if (address->sa_family == AF_INET) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof(v4));
    return RefusedV4Range(ntohl(v4.sin_addr.s_addr), deny_private);
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof(v6));
    V6Bytes bytes{};
    std::memcpy(bytes.data(), &v6.sin6_addr, bytes.size());
    return RefusedV6Range(bytes, deny_private);
  }
  return "unsupported address family";
}

bool IsRefusedTarget(const sockaddr* address, bool deny_private) {
  return RefusedTargetRange(address, deny_private) != nullptr;
}

bool IsRefusedIpLiteral(const std::string& host, bool deny_private) {
  if (host.empty()) return false;
  if (host.find(':') != std::string::npos) {
    // An IPv6 zone ("fe80::1%eth0", "%25" in a URL) names an interface,
    // not part of the address.
    const std::string address = host.substr(0, host.find('%'));
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr) != 1) {
      return false;
    }
    return IsRefusedTarget(reinterpret_cast<const sockaddr*>(&v6),
                           deny_private);
  }
  // inet_aton reads the shorthand, decimal, octal and hexadecimal forms
  // that libcurl's URL parser also turns into an address; it stops at
  // whitespace, so allow nothing but the characters of those forms.
  for (char c : host) {
    const bool hex_digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                           (c >= 'A' && c <= 'F');
    if (!hex_digit && c != '.' && c != 'x' && c != 'X') return false;
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  if (::inet_aton(host.c_str(), &v4.sin_addr) == 0) return false;
  return IsRefusedTarget(reinterpret_cast<const sockaddr*>(&v4), deny_private);
}

}  // namespace webhooks
