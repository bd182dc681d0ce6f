// Host names and addresses, as the configuration and the Host check need
// them. inet_pton decides what an IP literal is.

#ifndef WEBHOOKS_UTIL_NET_H_
#define WEBHOOKS_UTIL_NET_H_

#include <string>

namespace webhooks {

// "localhost", or an IPv4 address in 127/8, or ::1.
bool IsLoopbackHost(const std::string& host);

// A DNS name (letters, digits, dots, hyphens) or an IP literal, without a
// port or brackets.
bool IsHostName(const std::string& host);

// An IPv4 or IPv6 address literal.
bool IsIpLiteral(const std::string& host);

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_NET_H_
