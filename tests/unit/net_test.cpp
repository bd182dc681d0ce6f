// Unit tests for util/net.h's address policy: which delivery targets are
// refused always (link-local, cloud metadata) and which only with
// deny_private (loopback, private, CGNAT, ULA, the other special ranges),
// for IPv4, IPv6 and the IPv6 forms that carry an IPv4 address, judged both
// as sockaddrs (what the client sees) and as URL host literals (what the
// API sees).

#include "util/net.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace webhooks {
namespace {

enum class Verdict {
  kAllowed,      // allowed in both modes
  kDenyPrivate,  // refused only with deny_private
  kAlways,       // refused in both modes
};

struct Case {
  const char* address;
  Verdict verdict;
};

// Refused(address, deny_private) through the sockaddr entry point.
bool RefusedAsSockaddr(const std::string& address, bool deny_private) {
  if (address.find(':') != std::string::npos) {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    EXPECT_EQ(::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr), 1)
        << address;
    return IsRefusedTarget(reinterpret_cast<const sockaddr*>(&v6),
                           deny_private);
  }
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, address.c_str(), &v4.sin_addr), 1) << address;
  return IsRefusedTarget(reinterpret_cast<const sockaddr*>(&v4), deny_private);
}

void ExpectVerdicts(const std::initializer_list<Case>& cases) {
  for (const Case& c : cases) {
    const bool always = c.verdict == Verdict::kAlways;
    const bool with_deny = c.verdict != Verdict::kAllowed;
    EXPECT_EQ(RefusedAsSockaddr(c.address, false), always) << c.address;
    EXPECT_EQ(RefusedAsSockaddr(c.address, true), with_deny) << c.address;
    EXPECT_EQ(IsRefusedIpLiteral(c.address, false), always) << c.address;
    EXPECT_EQ(IsRefusedIpLiteral(c.address, true), with_deny) << c.address;
  }
}

TEST(AddressPolicyTest, Ipv4) {
  ExpectVerdicts({
      {"169.254.169.254", Verdict::kAlways},
      {"169.254.0.0", Verdict::kAlways},
      {"169.254.255.255", Verdict::kAlways},
      {"100.100.100.200", Verdict::kAlways},
      {"168.63.129.16", Verdict::kAlways},
      {"169.253.255.255", Verdict::kAllowed},
      {"169.255.0.0", Verdict::kAllowed},
      {"127.0.0.1", Verdict::kDenyPrivate},
      {"127.255.255.254", Verdict::kDenyPrivate},
      {"0.0.0.0", Verdict::kDenyPrivate},
      {"0.1.2.3", Verdict::kDenyPrivate},
      {"10.0.0.1", Verdict::kDenyPrivate},
      {"10.255.255.255", Verdict::kDenyPrivate},
      {"172.16.0.1", Verdict::kDenyPrivate},
      {"172.31.255.255", Verdict::kDenyPrivate},
      {"172.15.255.255", Verdict::kAllowed},
      {"172.32.0.0", Verdict::kAllowed},
      {"192.168.1.1", Verdict::kDenyPrivate},
      {"192.169.0.1", Verdict::kAllowed},
      {"100.64.0.1", Verdict::kDenyPrivate},
      {"100.127.255.255", Verdict::kDenyPrivate},
      {"100.63.255.255", Verdict::kAllowed},
      {"100.128.0.0", Verdict::kAllowed},
      {"192.0.0.8", Verdict::kDenyPrivate},
      {"192.0.2.10", Verdict::kDenyPrivate},
      {"198.51.100.7", Verdict::kDenyPrivate},
      {"203.0.113.9", Verdict::kDenyPrivate},
      {"198.18.0.1", Verdict::kDenyPrivate},
      {"198.19.255.255", Verdict::kDenyPrivate},
      {"198.20.0.0", Verdict::kAllowed},
      {"192.88.99.1", Verdict::kDenyPrivate},
      {"224.0.0.1", Verdict::kDenyPrivate},
      {"239.255.255.250", Verdict::kDenyPrivate},
      {"240.0.0.1", Verdict::kDenyPrivate},
      {"255.255.255.255", Verdict::kDenyPrivate},
      {"8.8.8.8", Verdict::kAllowed},
      {"1.1.1.1", Verdict::kAllowed},
      {"93.184.216.34", Verdict::kAllowed},
      {"223.255.255.255", Verdict::kAllowed},
  });
}

TEST(AddressPolicyTest, Ipv6) {
  ExpectVerdicts({
      {"fe80::1", Verdict::kAlways},
      {"febf:ffff::1", Verdict::kAlways},
      {"fd00:ec2::254", Verdict::kAlways},
      {"fec0::1", Verdict::kDenyPrivate},
      {"::", Verdict::kDenyPrivate},
      {"::1", Verdict::kDenyPrivate},
      {"fc00::1", Verdict::kDenyPrivate},
      {"fd12:3456::1", Verdict::kDenyPrivate},
      {"fd00:ec2::253", Verdict::kDenyPrivate},
      {"ff02::1", Verdict::kDenyPrivate},
      {"ff0e::1", Verdict::kDenyPrivate},
      {"2001:db8::1", Verdict::kDenyPrivate},
      {"100::1", Verdict::kDenyPrivate},
      {"64:ff9b:1::1", Verdict::kDenyPrivate},
      {"2001:2::1", Verdict::kDenyPrivate},
      {"2001:4860:4860::8888", Verdict::kAllowed},
      {"2606:4700:4700::1111", Verdict::kAllowed},
      {"fe7f::1", Verdict::kAllowed},
      {"::2", Verdict::kDenyPrivate},  // IPv4-compatible 0.0.0.2
  });
}

TEST(AddressPolicyTest, Ipv6FormsOfIpv4AreJudgedByTheIpv4Address) {
  ExpectVerdicts({
      // IPv4-mapped.
      {"::ffff:169.254.169.254", Verdict::kAlways},
      {"::ffff:a9fe:a9fe", Verdict::kAlways},
      {"::ffff:127.0.0.1", Verdict::kDenyPrivate},
      {"::ffff:10.1.2.3", Verdict::kDenyPrivate},
      {"::ffff:192.168.0.1", Verdict::kDenyPrivate},
      {"::ffff:0.0.0.0", Verdict::kDenyPrivate},
      {"::ffff:8.8.8.8", Verdict::kAllowed},
      // IPv4-compatible (deprecated) and IPv4-translated.
      {"::169.254.169.254", Verdict::kAlways},
      {"::127.0.0.1", Verdict::kDenyPrivate},
      {"::8.8.8.8", Verdict::kAllowed},
      {"::ffff:0:169.254.169.254", Verdict::kAlways},
      {"::ffff:0:10.0.0.1", Verdict::kDenyPrivate},
      // NAT64 and 6to4.
      {"64:ff9b::169.254.169.254", Verdict::kAlways},
      {"64:ff9b::7f00:1", Verdict::kDenyPrivate},
      {"64:ff9b::8.8.8.8", Verdict::kAllowed},
      {"2002:a9fe:a9fe::1", Verdict::kAlways},
      {"2002:c0a8:0101::1", Verdict::kDenyPrivate},
      {"2002:0808:0808::1", Verdict::kAllowed},
  });
}

TEST(AddressPolicyTest, NamesTheRange) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ASSERT_EQ(::inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr), 1);
  const char* range =
      RefusedTargetRange(reinterpret_cast<const sockaddr*>(&v4), false);
  ASSERT_NE(range, nullptr);
  EXPECT_STREQ(range, "link-local");
  ASSERT_EQ(::inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr), 1);
  EXPECT_EQ(RefusedTargetRange(reinterpret_cast<const sockaddr*>(&v4), false),
            nullptr);
  EXPECT_STREQ(RefusedTargetRange(reinterpret_cast<const sockaddr*>(&v4), true),
               "loopback");
}

TEST(AddressPolicyTest, RefusesOtherAddressFamilies) {
  sockaddr unix_address{};
  unix_address.sa_family = AF_UNIX;
  EXPECT_TRUE(IsRefusedTarget(&unix_address, false));
}

TEST(AddressPolicyTest, LiteralsReadTheWayLibcurlReadsThem) {
  // Shorthand, decimal, octal and hexadecimal IPv4 forms.
  EXPECT_TRUE(IsRefusedIpLiteral("127.1", true));
  EXPECT_TRUE(IsRefusedIpLiteral("2130706433", true));
  EXPECT_TRUE(IsRefusedIpLiteral("0x7f.0.0.1", true));
  EXPECT_TRUE(IsRefusedIpLiteral("0177.0.0.1", true));
  EXPECT_TRUE(IsRefusedIpLiteral("0xa9fea9fe", false));
  EXPECT_TRUE(IsRefusedIpLiteral("169.254.43518", false));
  // A zone names an interface; the address is still link-local.
  EXPECT_TRUE(IsRefusedIpLiteral("fe80::1%eth0", false));
  EXPECT_TRUE(IsRefusedIpLiteral("fe80::1%25eth0", false));
}

TEST(AddressPolicyTest, NamesAreNotLiterals) {
  for (const char* host :
       {"", "localhost", "example.com", "metadata.google.internal",
        "127.0.0.1.nip.io", "cafe.be", "1.2.3.4 ", "[::1]"}) {
    EXPECT_FALSE(IsRefusedIpLiteral(host, true)) << host;
  }
}

// --trusted-proxy (issue 17): networks, and the client behind them.
TEST(NetworkListTest, MatchesIpv4AndIpv6NetworksAndRefusesBadOnes) {
  NetworkList list;
  EXPECT_TRUE(list.Add("10.0.0.0/8"));
  EXPECT_TRUE(list.Add("192.0.2.7"));
  EXPECT_TRUE(list.Add("fd00::/8"));
  EXPECT_TRUE(list.Add("2001:db8::1/128"));
  EXPECT_TRUE(list.Contains("10.255.1.2"));
  EXPECT_TRUE(list.Contains("::ffff:10.1.2.3"));  // a dual-stack peer
  EXPECT_TRUE(list.Contains("192.0.2.7"));
  EXPECT_FALSE(list.Contains("192.0.2.8"));
  EXPECT_FALSE(list.Contains("11.0.0.1"));
  EXPECT_TRUE(list.Contains("fdab::1"));
  EXPECT_TRUE(list.Contains("2001:db8::1"));
  EXPECT_FALSE(list.Contains("2001:db8::2"));
  EXPECT_FALSE(list.Contains("fe80::1"));
  EXPECT_FALSE(list.Contains("not-an-address"));
  for (const char* bad : {"", "10.0.0.0/33", "fd00::/129", "10.0.0.1/8",
                          "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                          "example.com", "10.0.0/8", "::ffff:10.0.0.0/104"}) {
    EXPECT_FALSE(NetworkList().Add(bad)) << bad;
  }
  EXPECT_TRUE(NetworkList().Add("0.0.0.0/0"));
  EXPECT_TRUE(NetworkList().Add("::/0"));
}

TEST(NetworkListTest, ClientAddressIsTheRightMostUntrustedHop) {
  NetworkList trusted;
  ASSERT_TRUE(trusted.Add("10.0.0.0/8"));
  ASSERT_TRUE(trusted.Add("2001:db8::/32"));
  // An untrusted peer: its X-Forwarded-For is ignored.
  EXPECT_EQ(ClientAddress("203.0.113.1", {"198.51.100.1"}, trusted),
            "203.0.113.1");
  // A trusted peer with no header is the client itself.
  EXPECT_EQ(ClientAddress("10.0.0.1", {}, trusted), "10.0.0.1");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"198.51.100.1"}, trusted),
            "198.51.100.1");
  // The client's own claim (left) is not believed; trusted hops are
  // skipped, over several header lines too.
  EXPECT_EQ(
      ClientAddress("10.0.0.1", {"6.6.6.6, 198.51.100.1", "10.2.2.2"}, trusted),
      "198.51.100.1");
  EXPECT_EQ(ClientAddress("2001:db8::5", {"2001:db8::9,2001:db9::1"}, trusted),
            "2001:db9::1");
  // Every hop trusted: the left-most. Garbage: the hop to its right.
  EXPECT_EQ(ClientAddress("10.0.0.1", {"10.0.0.3, 10.0.0.2"}, trusted),
            "10.0.0.3");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"6.6.6.6, junk, 10.0.0.2"}, trusted),
            "10.0.0.2");
  EXPECT_EQ(ClientAddress("10.0.0.1", {"junk"}, trusted), "10.0.0.1");
}

}  // namespace
}  // namespace webhooks
