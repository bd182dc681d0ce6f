// Database URIs: see util/db_uri.h.

#include "util/db_uri.h"

#include <cctype>
#include <charconv>
#include <cstring>
#include <string>

namespace webhooks {
namespace {

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};
constexpr char kRedacted[] = "***";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Decodes %XX escapes, as libpq does for URI parameter names.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned value = 0;
    if (s[i] == '%' && i + 2 < s.size() &&
        std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16).ptr ==
            s.data() + i + 3) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The URI form: the user-info password, then every password= parameter of
// the query.
std::string RedactUriForm(std::string_view uri, size_t scheme_length) {
  std::string out(uri.substr(0, scheme_length));
  std::string_view rest = uri.substr(scheme_length);
  // libpq ends the user-info at the first '@' before any '/'; the last one
  // is taken here, which hides at least as much.
  size_t authority_end = rest.find('/');
  if (authority_end == std::string_view::npos) {
    authority_end = rest.find('?');
  }
  std::string_view authority = rest.substr(0, authority_end);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view user_info = authority.substr(0, at);
    size_t colon = user_info.find(':');
    if (colon != std::string_view::npos) {
      out.append(user_info.substr(0, colon + 1)).append(kRedacted);
      rest.remove_prefix(at);
    }
  }
  size_t query = rest.find('?');
  out.append(rest.substr(0, query));
  if (query == std::string_view::npos) return out;
  out.push_back('?');
  std::string_view params = rest.substr(query + 1);
  while (true) {
    size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    size_t equals = param.find('=');
    if (equals != std::string_view::npos &&
        PercentDecode(param.substr(0, equals)) == "password") {
      out.append(param.substr(0, equals + 1)).append(kRedacted);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    out.push_back('&');
    params.remove_prefix(amp + 1);
  }
  return out;
}

// The keyword=value form: the value of every password keyword, quoted
// ('...', with backslash escapes) or up to the next space.
std::string RedactKeywordForm(std::string_view conninfo) {
  std::string out;
  size_t i = 0;
  while (i < conninfo.size()) {
    size_t found = conninfo.find("password", i);
    if (found == std::string_view::npos) break;
    bool word_start =
        found == 0 ||
        std::isspace(static_cast<unsigned char>(conninfo[found - 1]));
    size_t j = found + std::strlen("password");
    while (j < conninfo.size() &&
           std::isspace(static_cast<unsigned char>(conninfo[j]))) {
      ++j;
    }
    if (!word_start || j >= conninfo.size() || conninfo[j] != '=') {
      out.append(conninfo.substr(i, j - i));
      i = j;
      continue;
    }
    ++j;
    while (j < conninfo.size() &&
           std::isspace(static_cast<unsigned char>(conninfo[j]))) {
      ++j;
    }
    out.append(conninfo.substr(i, j - i)).append(kRedacted);
    if (j < conninfo.size() && conninfo[j] == '\'') {
      for (++j; j < conninfo.size() && conninfo[j] != '\''; ++j) {
        if (conninfo[j] == '\\') ++j;
      }
      ++j;  // the closing quote
    } else {
      while (j < conninfo.size() &&
             !std::isspace(static_cast<unsigned char>(conninfo[j]))) {
        ++j;
      }
    }
    i = j < conninfo.size() ? j : conninfo.size();
  }
  if (i < conninfo.size()) out.append(conninfo.substr(i));
  return out;
}

}  // namespace

bool IsDatabaseUri(std::string_view db) {
  for (std::string_view scheme : kSchemes) {
    if (StartsWith(db, scheme)) return true;
  }
  return false;
}

std::string RedactDatabaseUri(std::string_view uri) {
  for (std::string_view scheme : kSchemes) {
    if (StartsWith(uri, scheme)) return RedactUriForm(uri, scheme.size());
  }
  return RedactKeywordForm(uri);
}

}  // namespace webhooks
