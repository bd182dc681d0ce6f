// Black-box tests of HTTP framing and hardening against the real binary,
// over raw sockets where the framing itself is under test: body, header and
// request-line limits, Content-Length rules, Content-Encoding and Range
// refused, client-sent address headers, keep-alive and pipelining. The
// hostile suite (tests/hostile/) attacks the same limits harder.

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/raw_http.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Framing and hardening
// ===========================================================================

class HttpFramingTest : public HttpTest {};

TEST_F(HttpFramingTest, BodyOverTheLimitIs413AndTheConnectionCloses) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  // The server may answer and close before reading the body, so the send
  // may fail part-way; the answer is what counts.
  connection.Send(RawCreate(key_, std::string(65537, ' ')));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 413, "HTTP_PayloadTooLarge");
  // The body was never read: the connection cannot carry another request.
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_EQ(next, RawConnection::Outcome::kClosed) << OutcomeName(next);
}

TEST_F(HttpFramingTest, BodyAtTheLimitIsRead) {
  std::string body = CreateBody("slack", "c1");
  body.append(65536 - body.size(), ' ');  // JSON allows trailing spaces
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, MaxBodyFlagSetsTheLimit) {
  ASSERT_TRUE(StartServer({"--max-body", "2048"}));
  std::string body = CreateBody("slack", "c1");
  body.append(3000 - body.size(), ' ');
  ExpectErrorEnvelope(Create(body), 413, "HTTP_PayloadTooLarge");
  body.resize(2048);
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, ChunkedBodyIs411) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "c1");
  char size[16];
  std::snprintf(size, sizeof(size), "%zx", body.size());
  ASSERT_TRUE(connection.Send(
      std::string("POST ") + kCreatePath +
      " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
      "\r\nContent-Type: application/json\r\nTransfer-Encoding: "
      "chunked\r\n\r\n" +
      size + "\r\n" + body + "\r\n0\r\n\r\n"));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 411, "HTTP_LengthRequired");
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_TRUE(next == RawConnection::Outcome::kClosed ||
              next == RawConnection::Outcome::kReset)
      << OutcomeName(next);
  // The chunked body was not acted on.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, PostWithoutContentLengthIs411) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "c1");
  ASSERT_TRUE(
      connection.Send(std::string("POST ") + kCreatePath +
                      " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
                      "\r\nContent-Type: application/json\r\n\r\n" + body));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 411, "HTTP_LengthRequired");
  EXPECT_EQ(Lower(reply.Header("Connection")), "close");
  const RawConnection::Outcome next = connection.WaitForClose();
  EXPECT_TRUE(next == RawConnection::Outcome::kClosed ||
              next == RawConnection::Outcome::kReset)
      << OutcomeName(next);
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, InvalidOrRepeatedContentLengthIs400) {
  const std::string body = CreateBody("slack", "c");
  const std::string length = std::to_string(body.size());
  for (const std::string& lengths :
       {std::string("Content-Length: abc\r\n"),
        std::string("Content-Length: -1\r\n"),
        "Content-Length: " + length + ", " + length + "\r\n",
        "Content-Length: " + length + "\r\nContent-Length: " + length +
            "\r\n"}) {
    SCOPED_TRACE(lengths);
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    ASSERT_TRUE(connection.Send(
        std::string("POST ") + kCreatePath +
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
        "\r\nContent-Type: application/json\r\n" + lengths + "\r\n" + body));
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    ExpectErrorEnvelope(reply, 400, "HTTP_BadRequest");
  }
  // None was acted on.
  Endpoint endpoint;
  ExpectEndpoint(Create(body), 201, &endpoint);
}

TEST_F(HttpFramingTest, ContentEncodingIs415) {
  ExpectErrorEnvelope(
      Post(kCreatePath, {{"x-api-key", key_}, {"Content-Encoding", "gzip"}},
           CreateBody("slack", "c1")),
      415, "HTTP_UnsupportedMediaType");
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

// The refusal must come whole: the Range it refuses must not be applied to
// the error body itself.
TEST_F(HttpFramingTest, RangeHeaderIs416) {
  for (const char* range : {"bytes=0-1", "bytes=5-", "bytes=0-1,3-4"}) {
    SCOPED_TRACE(range);
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-api-key", key_}, {"Range", range}},
             CreateBody("slack", "c1")),
        416, "HTTP_RangeNotSatisfiable");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, ClientSentAddressHeadersAre400) {
  for (const char* name : {"REMOTE_ADDR", "remote_addr", "REMOTE_PORT",
                           "LOCAL_ADDR", "LOCAL_PORT"}) {
    SCOPED_TRACE(name);
    ExpectErrorEnvelope(
        Post(kCreatePath, {{"x-api-key", key_}, {name, "6.6.6.6"}},
             CreateBody("slack", "c1")),
        400, "HTTP_BadRequest");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, TooManyHeadersIs431) {
  httplib::Headers headers = {{"x-api-key", key_}};
  for (int i = 0; i < 150; ++i) {
    headers.emplace("X-Filler-" + std::to_string(i), "x");
  }
  ExpectErrorEnvelope(Post(kCreatePath, headers, CreateBody("slack", "c1")),
                      431, "HTTP_RequestHeaderFieldsTooLarge");
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, HugeHeaderLineIsRefusedAndTheServerKeepsServing) {
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send(
        RawCreate(key_, CreateBody("slack", "c1"),
                  "X-Big: " + std::string(100 * 1024, 'a') + "\r\n"));
    Reply reply;
    if (connection.ReadResponse(&reply)) {
      // 400 (the library's answer to a header line it cannot read) or 431.
      EXPECT_TRUE(reply.status == 400 || reply.status == 431) << reply.status;
      ExpectErrorEnvelope(reply, reply.status,
                          reply.status == 400
                              ? "HTTP_BadRequest"
                              : "HTTP_RequestHeaderFieldsTooLarge");
      EXPECT_NE(connection.WaitForClose(), RawConnection::Outcome::kTimeout);
    }
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, LongRequestLineIs414AndTheServerKeepsServing) {
  {
    RawConnection connection(port());
    ASSERT_TRUE(connection.connected());
    connection.Send("GET /api/v3.1/" + std::string(9000, 'a') +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " + key_ +
                    "\r\n\r\n");
    Reply reply;
    ASSERT_TRUE(connection.ReadResponse(&reply));
    EXPECT_TRUE(reply.status == 414 || reply.status == 400) << reply.status;
    ExpectErrorEnvelope(
        reply, reply.status,
        reply.status == 414 ? "HTTP_URITooLong" : "HTTP_BadRequest");
  }
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "c1")), 201, &endpoint);
}

TEST_F(HttpFramingTest, KeepAliveConnectionServesSequentialRequests) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  Endpoint first, second;
  Reply reply;
  ASSERT_TRUE(connection.Send(RawCreate(key_, CreateBody("slack", "c1"))));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &first));
  ASSERT_TRUE(connection.Send(RawCreate(key_, CreateBody("slack", "c1"))));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 200, &second));
  EXPECT_EQ(second.raw_body, first.raw_body);
}

// A request refused before its body is read (here: no key) leaves the body
// on the connection. The next request on it must get its own answer, or the
// connection must close: never an answer to bytes of the old body. The old
// body carries a whole create request, to catch the server parsing it.
TEST_F(HttpFramingTest, EarlyRejectionNeverMisanswersTheNextRequest) {
  const std::string smuggled = RawCreate(key_, CreateBody("slack", "smuggled"),
                                         "x-request-id: smuggled\r\n");
  const std::string refused_body = std::string(20000, ' ') + smuggled;
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  connection.Send(RawRequest(
      "POST", kCreatePath, "Content-Type: application/json\r\n", refused_body));
  Reply reply;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  ExpectErrorEnvelope(reply, 401, "HTTP_Unauthorized");

  const bool sent = connection.Send(RawCreate(key_, CreateBody("slack", "next"),
                                              "x-request-id: next-req\r\n"));
  if (sent && connection.ReadResponse(&reply)) {
    Endpoint endpoint;
    EXPECT_EQ(reply.Header("x-request-id"), "next-req");
    ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &endpoint));
    EXPECT_EQ(endpoint.client_id, "next");
  }
  // The smuggled create never ran.
  Endpoint endpoint;
  ExpectEndpoint(Create(CreateBody("slack", "smuggled")), 201, &endpoint);
}

TEST_F(HttpFramingTest, PipelinedRequestsAreAnsweredInOrder) {
  RawConnection connection(port());
  ASSERT_TRUE(connection.connected());
  const std::string body = CreateBody("slack", "piped");
  ASSERT_TRUE(
      connection.Send(RawCreate(key_, body, "x-request-id: pipe-1\r\n") +
                      RawCreate(key_, body, "x-request-id: pipe-2\r\n")));
  Reply reply;
  Endpoint first, second;
  ASSERT_TRUE(connection.ReadResponse(&reply));
  EXPECT_EQ(reply.Header("x-request-id"), "pipe-1");
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 201, &first));
  ASSERT_TRUE(connection.ReadResponse(&reply));
  EXPECT_EQ(reply.Header("x-request-id"), "pipe-2");
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(reply, 200, &second));
  EXPECT_EQ(second.raw_body, first.raw_body);
}

}  // namespace
}  // namespace webhooks::testing
