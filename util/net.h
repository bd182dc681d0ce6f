// Host names and addresses, as the configuration, the Host check and the
// outbound address policy need them. inet_pton decides what an IP literal
// is, except where the policy must see a host the way libcurl reads it.

#ifndef WEBHOOKS_UTIL_NET_H_
#define WEBHOOKS_UTIL_NET_H_

#include <sys/socket.h>

#include <string>
#include <vector>

namespace webhooks {

// "localhost", or an IPv4 address in 127/8, or ::1.
bool IsLoopbackHost(const std::string& host);

// A DNS name (letters, digits, dots, hyphens) or an IP literal, without a
// port or brackets.
bool IsHostName(const std::string& host);

// An IPv4 or IPv6 address literal.
bool IsIpLiteral(const std::string& host);

// ---------------------------------------------------------------------------
// Networks (CIDR), for --trusted-proxy
// ---------------------------------------------------------------------------

// A set of IPv4 and IPv6 networks. An IPv4-mapped IPv6 address
// (::ffff:10.0.0.1, what a dual-stack socket reports for an IPv4 peer) is
// matched as the IPv4 address it carries.
class NetworkList {
 public:
  // Adds "10.0.0.0/8", "fd00::/8", or an address alone (a /32 or /128).
  // False, adding nothing, if `cidr` is not that (host bits set are
  // refused too: "10.0.0.1/8" is likely a typo for a host or a network).
  bool Add(const std::string& cidr);

  // Whether the IP literal `address` is in one of the networks; false for
  // anything that is not an IP literal.
  bool Contains(const std::string& address) const;

  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    bool v6 = false;
    unsigned char bytes[16] = {};  // the first 4 for IPv4
    int prefix = 0;
  };
  std::vector<Network> networks_;
};

// The client's address behind trusted reverse proxies: `peer` (the TCP
// peer) unless it is in `trusted`; then, of the addresses in
// `forwarded_for` (the X-Forwarded-For values in the order received, each a
// comma-separated list the proxies appended to), the right-most one that is
// not itself trusted. Every entry to the left of that one is the client's
// own claim and is never used. If every entry is trusted, the left-most;
// if an entry is not an IP address, the trusted hop to its right.
std::string ClientAddress(const std::string& peer,
                          const std::vector<std::string>& forwarded_for,
                          const NetworkList& trusted);

// ---------------------------------------------------------------------------
// Where deliveries may go (../shared/spec/subscriptions-and-delivery.md,
// "Where deliveries may go"). The policy is about the address a connection
// is actually made to, so http/client.cpp applies it to every address it is
// about to connect to, and the API to IP-literal URLs at create and PATCH.
//
// Always refused: link-local 169.254.0.0/16 and fe80::/10 (the cloud
// metadata address 169.254.169.254 is in it), and the other cloud metadata
// addresses fd00:ec2::254 (AWS IPv6), 100.100.100.200 (Alibaba) and
// 168.63.129.16 (Azure's platform endpoint).
//
// Refused too when `deny_private` is set: 0.0.0.0/8, loopback 127/8, RFC
// 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10, IETF protocol
// assignments 192.0.0.0/24, documentation (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24, 2001:db8::/32), benchmarking (198.18.0.0/15,
// 2001:2::/48), the 6to4 relay anycast 192.88.99.0/24, multicast
// (224.0.0.0/4, ff00::/8), reserved 240.0.0.0/4 with broadcast; IPv6
// unspecified ::, loopback ::1, ULA fc00::/7, site-local fec0::/10,
// discard-only 100::/64 and NAT64 local-use 64:ff9b:1::/48.
//
// An IPv6 address that carries an IPv4 address is judged by the IPv4 one,
// in both modes: IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96,
// IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 6to4 2002::/16.
// ---------------------------------------------------------------------------

// The name of the range that refuses `address` (an AF_INET or AF_INET6
// sockaddr) as a delivery target, such as "link-local" or "loopback"; null
// if it is allowed. Any other address family is refused ("unsupported
// address family").
const char* RefusedTargetRange(const sockaddr* address, bool deny_private);

// RefusedTargetRange(address, deny_private) != nullptr.
bool IsRefusedTarget(const sockaddr* address, bool deny_private);

// Whether the IP literal `host` (brackets stripped; an IPv6 zone "%eth0"
// is ignored) is refused as above. IPv4 is read the way libcurl and
// inet_aton read it, so "127.1", "2130706433" and "0x7f.0.0.1" are all
// 127.0.0.1. False for anything that is not an IP literal: a name is judged
// by the addresses it resolves to, when a delivery connects.
bool IsRefusedIpLiteral(const std::string& host, bool deny_private);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_NET_H_
