// Unit tests of request_head.{h,cpp}: which heads RFC 9112 refuses, and the
// header values as sent. The black-box side (what the server answers, and
// that the connection closes) is in tests/hostile/protocol_test.cpp.

#include "http/request_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace webhooks {
namespace {

constexpr char kLine[] = "GET /healthz HTTP/1.1\r\n";

std::string Head(const std::string& headers) {
  return std::string(kLine) + headers + "\r\n";
}

TEST(RequestHeadTest, AcceptsAPlainHead) {
  EXPECT_EQ(CheckRequestHead(Head("Host: localhost:9900\r\nX-A: b\r\n")).status,
            0);
  EXPECT_EQ(CheckRequestHead(Head("Host: [::1]:9900\r\nX-A:\tb c \r\n")).status,
            0);
  // HTTP/1.0 may omit Host; an empty Host is allowed (RFC 9112 3.2).
  EXPECT_EQ(CheckRequestHead("GET / HTTP/1.0\r\n\r\n").status, 0);
  EXPECT_EQ(CheckRequestHead(Head("Host:\r\n")).status, 0);
  // obs-text (bytes above 0x7f) may appear in a value.
  EXPECT_EQ(CheckRequestHead(Head("Host: a\r\nX-Name: caf\xc3\xa9\r\n")).status,
            0);
}

struct Refused {
  const char* name;
  std::string head;
  int status;
  const char* says;  // a part of the message
};

TEST(RequestHeadTest, RefusesWhatRfc9112Refuses) {
  const std::vector<Refused> cases = {
      {"folded line", Head("Host: a\r\nX-A: b\r\n c\r\n"), 400, "folding"},
      {"space before colon", Head("Host: a\r\nX-A : b\r\n"), 400,
       "before its colon"},
      {"tab before colon", Head("Host: a\r\nX-A\t: b\r\n"), 400,
       "before its colon"},
      {"no Host", Head("X-A: b\r\n"), 400, "needs a Host"},
      {"two Hosts", Head("Host: a\r\nhost: b\r\n"), 400, "more than one Host"},
      {"two Hosts on 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400,
       "more than one Host"},
      {"bare CR in a value", Head("Host: a\r\nX-A: b\rc\r\n"), 400, "bare CR"},
      {"bare LF ending", Head("Host: a\nX-A: b\r\n"), 400, "bare LF"},
      {"NUL in a value", Head(std::string("Host: a\r\nX-A: b\0c\r\n", 19)), 400,
       "NUL"},
      {"control in a value", Head("Host: a\r\nX-A: b\x01\r\n"), 400,
       "control character"},
      {"DEL in a value", Head("Host: a\r\nX-A: b\x7f\r\n"), 400,
       "control character"},
      {"no colon", Head("Host: a\r\nX-A b\r\n"), 400, "no colon"},
      {"empty name", Head("Host: a\r\n: b\r\n"), 400, "not a valid token"},
      {"Host with a space", Head("Host: a b\r\n"), 400, "Host"},
      {"Host with a slash", Head("Host: a/b\r\n"), 400, "Host"},
      {"bare CR in the request line", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n",
       400, "bare CR"},
      {"two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "single spaces"},
      {"space in the target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "single spaces"},
      {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400, "HTTP/1.1"},
      {"lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501,
       "not implemented"},
      {"unknown method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501, "BREW"},
      {"method with a slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "token"},
  };
  for (const Refused& refused : cases) {
    const HeadProblem problem = CheckRequestHead(refused.head);
    EXPECT_EQ(problem.status, refused.status) << refused.name;
    EXPECT_NE(problem.message.find(refused.says), std::string::npos)
        << refused.name << ": " << problem.message;
  }
}

TEST(RequestHeadTest, JudgesAHeadCutShortAsFarAsItGoes) {
  // What the library read before it gave up: the request line only.
  EXPECT_EQ(CheckRequestHead("BREW / HTTP/1.1\r\n").status, 501);
  EXPECT_EQ(CheckRequestHead("get / HT").status, 501);
  EXPECT_EQ(CheckRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc").status,
            400);
  // Nothing wrong yet: no problem to report.
  EXPECT_EQ(CheckRequestHead("GET / HTTP/1.1\r\nHost: a\r\nX-A: b").status, 0);
  EXPECT_EQ(CheckRequestHead("GET / HTTP/1.1\r").status, 0);
  EXPECT_EQ(CheckRequestHead("").status, 0);
}

TEST(RequestHeadTest, KnowsTheMethodsByTheirExactNames) {
  for (const char* method : {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT",
                             "OPTIONS", "TRACE", "PATCH"}) {
    EXPECT_TRUE(IsKnownMethod(method)) << method;
  }
  for (const char* method : {"get", "Get", "PRI", "BREW", "PROPFIND", ""}) {
    EXPECT_FALSE(IsKnownMethod(method)) << method;
  }
}

TEST(RequestHeadTest, GivesHeaderValuesAsSent) {
  const std::string head = Head(
      "Host: a\r\nx-api-key:  %61lice \r\nX-Empty:\r\nx-request-id:%41\r\n");
  ASSERT_EQ(CheckRequestHead(head).status, 0);
  const std::vector<HeaderField> fields = HeaderFieldsOf(head);
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[0].name, "Host");
  EXPECT_EQ(fields[0].value, "a");
  EXPECT_EQ(fields[1].name, "x-api-key");
  EXPECT_EQ(fields[1].value, "%61lice");
  EXPECT_EQ(fields[2].name, "X-Empty");
  EXPECT_EQ(fields[2].value, "");
  EXPECT_EQ(fields[3].value, "%41");
}

}  // namespace
}  // namespace webhooks
