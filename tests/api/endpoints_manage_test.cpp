// Black-box tests of the endpoints resource's management routes
// (webhook_endpoints in ../shared/spec/webhook-endpoints.md) against the real
// binary, through HttpManageTest in http_fixture.h: retrieve, project
// isolation on every route, list (filter, order, limit/cursor paging) and
// delete. Create is in endpoints_test.cpp. Tests are grouped by spec section,
// one test suite per section.

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/api/http_fixture.h"
#include "tests/test_util.h"

namespace webhooks::testing {
namespace {

// ===========================================================================
// Retrieve
// ===========================================================================

class HttpRetrieveTest : public HttpManageTest {};

TEST_F(HttpRetrieveTest, AnswersTheEndpointAsCreateDidUnderBothPrefixes) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    Endpoint read;
    ASSERT_NO_FATAL_FAILURE(
        ExpectEndpoint(RetrieveAs(key_, created.id, collection), 200, &read));
    EXPECT_EQ(read.raw_body, created.raw_body);
    EXPECT_TRUE(read.verified_at_is_null);
    EXPECT_TRUE(read.data_is_null);
  }
  // The user-key header reaches the same project when it is the same key.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(ExpectEndpoint(
      NewClient().Get(ItemPath(created.id), {{"x-user-api-key", key_}}), 200,
      &read));
  EXPECT_EQ(read.raw_body, created.raw_body);
}

TEST_F(HttpRetrieveTest, NeedsAKey) {
  Endpoint created;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &created));
  ExpectErrorEnvelope(NewClient().Get(ItemPath(created.id)), 401,
                      "HTTP_Unauthorized");
}

// Ids that cannot exist (wrong shape, odd bytes) and a well-formed one that
// does not: 404 WebhookEndpoint_NotFound with a valid JSON body on every
// route, never a 500.
TEST_F(HttpRetrieveTest, UnknownAndMalformedIdsAre404OnEveryRoute) {
  Endpoint mine;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &mine));
  const std::string ids[] = {
      RandomEndpointId(),
      "nope",
      "we_short",
      "we_" + std::string(297, 'a'),
      "we_%00%ff%fe%01abcdefgh",
      "we_%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
      "we_%22%5c%0d%0aabcdef",
      mine.id + "x",
      mine.id.substr(0, 14),
      "WE_" + mine.id.substr(3),
      "we_aaaaaaaaaaa!",
      "we_aaaaaaaa%20aaa",
      "schema2",
  };
  const std::string body = DataBody(
      {{kSigning, "abcdefghijklmnop"}, {kAppToken, "xapp-0123456789"}});
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    ExpectErrorEnvelope(Retrieve(id), 404, kNotFound);
    ExpectErrorEnvelope(Patch(id, body), 404, kNotFound);
    ExpectErrorEnvelope(Replace(id, body), 404, kNotFound);
    ExpectErrorEnvelope(Delete(id), 404, kNotFound);
  }
  // Mine was not touched by any of them.
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(mine.id, &read));
  EXPECT_EQ(read.raw_body, mine.raw_body);
}

// ===========================================================================
// Project isolation
// ===========================================================================

class HttpIsolationTest : public HttpManageTest {};

// Every route answers another project's id exactly as it answers a missing
// id of the same format: the same status, headers and body, once the id in
// the message is swapped (the request id is the same: we send it).
TEST_F(HttpIsolationTest, AnotherProjectsIdAnswersExactlyLikeAMissingOne) {
  const std::string owner = RandomKey();
  Endpoint theirs, before;
  ASSERT_NO_FATAL_FAILURE(MustCreateAs(owner, "slack", "c1", &theirs));
  ASSERT_NO_FATAL_FAILURE(
      ExpectEndpoint(PatchAs(owner, theirs.id,
                             DataBody({{kSigning, "ownersigning-0123"},
                                       {kAppToken, "ownertoken-0123"}})),
                     200, &before));
  std::string missing = RandomEndpointId();
  while (missing == theirs.id) missing = RandomEndpointId();
  // My own endpoint with the same toolkit and client id.
  Endpoint mine;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &mine));
  EXPECT_NE(mine.id, theirs.id);

  const httplib::Headers headers = {{"x-api-key", key_},
                                    {"x-request-id", "isolation-check"}};
  const std::string good = DataBody(
      {{kSigning, "intruder-secret-1"}, {kAppToken, "intruder-token-1"}});
  const std::string bad = R"({"data":{"nope":1},"id":"x"})";
  using Send = std::function<httplib::Result(const std::string& path)>;
  const std::vector<std::pair<std::string, Send>> sends = {
      {"GET",
       [&](const std::string& p) { return NewClient().Get(p, headers); }},
      {"PATCH",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, good, "application/json");
       }},
      {"PATCH bad body",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, bad, "application/json");
       }},
      {"PATCH empty",
       [&](const std::string& p) {
         return NewClient().Patch(p, headers, R"({"data":{}})",
                                  "application/json");
       }},
      {"POST",
       [&](const std::string& p) {
         return NewClient().Post(p, headers, good, "application/json");
       }},
      {"POST bad body",
       [&](const std::string& p) {
         return NewClient().Post(p, headers, bad, "text/plain");
       }},
      {"DELETE",
       [&](const std::string& p) { return NewClient().Delete(p, headers); }},
  };
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    for (const auto& [name, send] : sends) {
      SCOPED_TRACE(std::string(collection) + " " + name);
      auto other = send(ItemPath(theirs.id, collection));
      auto absent = send(ItemPath(missing, collection));
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(other, 404, kNotFound));
      ASSERT_NO_FATAL_FAILURE(ExpectErrorEnvelope(absent, 404, kNotFound));
      EXPECT_EQ(ReplaceAll(other->body, theirs.id, missing), absent->body);
      httplib::Headers other_headers = other->headers;
      httplib::Headers absent_headers = absent->headers;
      other_headers.erase("Date");
      absent_headers.erase("Date");
      EXPECT_EQ(other_headers, absent_headers);
    }
  }

  // The owner's endpoint is unchanged and still there; mine too.
  Endpoint after;
  ASSERT_NO_FATAL_FAILURE(MustReadAs(owner, theirs.id, &after));
  EXPECT_EQ(after.raw_body, before.raw_body);
  ASSERT_NO_FATAL_FAILURE(MustRead(mine.id, &after));
  EXPECT_EQ(after.raw_body, mine.raw_body);
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustListAs(owner, "", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{theirs.id});
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{mine.id});
}

TEST_F(HttpIsolationTest, ListsNeverShowAnotherProjectsRows) {
  const std::string other = RandomKey();
  std::vector<Endpoint> mine(3), theirs(3);
  for (int i = 0; i < 3; ++i) {
    const std::string client = "c" + std::to_string(i);
    ASSERT_NO_FATAL_FAILURE(MustCreate(i == 1 ? "notion" : "slack", client,
                                       &mine[static_cast<size_t>(i)]));
    ASSERT_NO_FATAL_FAILURE(MustCreateAs(other, i == 1 ? "notion" : "slack",
                                         client,
                                         &theirs[static_cast<size_t>(i)]));
  }
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    std::vector<ListItem> items;
    ASSERT_NO_FATAL_FAILURE(MustListAs(key_, "", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder(mine));
    ASSERT_NO_FATAL_FAILURE(MustListAs(other, "", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder(theirs));
    ASSERT_NO_FATAL_FAILURE(
        MustListAs(key_, "toolkit_slug=slack", &items, collection));
    EXPECT_EQ(Ids(items), InListOrder({mine[0], mine[2]}));
  }
  // Paging one at a time reaches only my rows, and a cursor from the other
  // project's list does not open it to me.
  std::vector<std::string> paged;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    ListPage got;
    ASSERT_NO_FATAL_FAILURE(ExpectListPage(
        List("limit=1" +
             (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
        &got));
    for (const ListItem& item : got.items) paged.push_back(item.id);
    if (got.next_is_null) break;
    cursor = got.next_cursor;
  }
  EXPECT_EQ(paged, InListOrder(mine));
  ListPage theirs_first;
  ASSERT_NO_FATAL_FAILURE(
      ExpectListPage(ListAs(other, "limit=1"), &theirs_first));
  ASSERT_FALSE(theirs_first.next_is_null);
  ListPage crossed;
  ASSERT_NO_FATAL_FAILURE(ExpectListPage(
      List("cursor=" + QueryValue(theirs_first.next_cursor)), &crossed));
  for (const ListItem& item : crossed.items) {
    EXPECT_TRUE(std::any_of(mine.begin(), mine.end(), [&](const Endpoint& e) {
      return e.id == item.id;
    })) << item.id;
  }
}

// ===========================================================================
// List
// ===========================================================================

class HttpListTest : public HttpManageTest {};

TEST_F(HttpListTest, NewProjectHasAnEmptyList) {
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    ListPage page;
    ASSERT_NO_FATAL_FAILURE(
        ExpectListPage(ListAs(key_, "", collection), &page));
    EXPECT_TRUE(page.items.empty());
    EXPECT_TRUE(page.next_is_null);
  }
}

// Items carry only id, toolkit_slug and client_id (no data, even with
// secrets stored), ordered by created_at then id.
TEST_F(HttpListTest, ItemsCarryOnlyThreeFieldsInCreationOrder) {
  const std::vector<std::pair<std::string, std::string>> made = {
      {"slack", "c-one"},  {"notion", "c-two"},  {"slackbot", "c-three"},
      {"slack", "c-four"}, {"notion", "c-five"}, {"slack", "\u00e9\"x"},
  };
  std::vector<Endpoint> created;
  for (const auto& [toolkit, client] : made) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(MustCreate(toolkit, client, &endpoint));
    created.push_back(endpoint);
  }
  // Creation order is created_at order (the clock does not go back here).
  for (size_t i = 1; i < created.size(); ++i) {
    EXPECT_LE(created[i - 1].created_at, created[i].created_at);
  }
  Endpoint patched;
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      created[0].id, DataBody({{kSigning, "abcdefghijklmnop"}}), &patched));
  const std::vector<std::string> expected = InListOrder(created);
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    std::vector<ListItem> items;
    ASSERT_NO_FATAL_FAILURE(MustListAs(key_, "", &items, collection));
    ASSERT_EQ(Ids(items), expected);
    for (const ListItem& item : items) {
      auto it =
          std::find_if(created.begin(), created.end(),
                       [&](const Endpoint& e) { return e.id == item.id; });
      ASSERT_NE(it, created.end());
      EXPECT_EQ(item.toolkit_slug, it->toolkit_slug);
      EXPECT_EQ(item.client_id, it->client_id);
    }
  }
}

TEST_F(HttpListTest, FiltersByToolkit) {
  std::vector<Endpoint> slack, notion;
  for (int i = 0; i < 3; ++i) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("slack", "s" + std::to_string(i), &endpoint));
    slack.push_back(endpoint);
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("notion", "n" + std::to_string(i), &endpoint));
    notion.push_back(endpoint);
  }
  std::vector<ListItem> items;
  for (const char* query : {"toolkit_slug=slack", "toolkit_slug=SLACK",
                            "toolkit_slug=Slack&limit=1000"}) {
    SCOPED_TRACE(query);
    ASSERT_NO_FATAL_FAILURE(MustList(query, &items));
    EXPECT_EQ(Ids(items), InListOrder(slack));
  }
  ASSERT_NO_FATAL_FAILURE(MustList("toolkit_slug=notion", &items));
  EXPECT_EQ(Ids(items), InListOrder(notion));
  for (const char* query : {"toolkit_slug=slackbot", "toolkit_slug=nosuch"}) {
    SCOPED_TRACE(query);
    ASSERT_NO_FATAL_FAILURE(MustList(query, &items));
    EXPECT_TRUE(items.empty());
  }
}

TEST_F(HttpListTest, SmallPagesFollowTheCursor) {
  std::vector<Endpoint> created;
  for (int i = 0; i < 3; ++i) {
    Endpoint endpoint;
    ASSERT_NO_FATAL_FAILURE(
        MustCreate("slack", "c" + std::to_string(i), &endpoint));
    created.push_back(endpoint);
  }
  const std::vector<std::string> expected = InListOrder(created);
  struct Case {
    int limit;
    std::vector<size_t> sizes;
  };
  for (const Case& c :
       {Case{1, {1, 1, 1}}, Case{2, {2, 1}}, Case{3, {3}}, Case{1000, {3}}}) {
    SCOPED_TRACE(c.limit);
    std::vector<std::string> ids;
    std::vector<size_t> sizes;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      ListPage got;
      ASSERT_NO_FATAL_FAILURE(ExpectListPage(
          List("limit=" + std::to_string(c.limit) +
               (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
          &got));
      sizes.push_back(got.items.size());
      for (const ListItem& item : got.items) ids.push_back(item.id);
      if (got.next_is_null) break;
      cursor = got.next_cursor;
    }
    EXPECT_EQ(sizes, c.sizes);
    EXPECT_EQ(ids, expected);
  }
}

// 2,500 endpoints, created over four keep-alive connections at once: the
// whole list, and pages of 1,000 (all of them and slack's only), give every
// id exactly once, in order.
TEST_F(HttpListTest, PagesThroughThousandsOfEndpoints) {
  constexpr size_t kEndpoints = 2500;
  constexpr size_t kThreads = 4;
  std::vector<std::vector<Endpoint>> made(kThreads);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client = NewClient();
      client.set_keep_alive(true);
      // The client writes headers and body separately: without this, Nagle
      // and delayed ACKs cost ~40 ms a request.
      client.set_tcp_nodelay(true);
      for (size_t i = t; i < kEndpoints; i += kThreads) {
        auto result = client.Post(kCreatePath, {{"x-api-key", key_}},
                                  CreateBody(i % 2 == 0 ? "slack" : "notion",
                                             "bulk-" + std::to_string(i)),
                                  "application/json");
        if (!result) {
          ADD_FAILURE() << "no response: "
                        << httplib::to_string(result.error());
          return;
        }
        Endpoint endpoint;
        ExpectEndpoint(result, 201, &endpoint);
        if (endpoint.id.empty()) return;
        made[t].push_back(endpoint);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::vector<Endpoint> all, slack;
  for (const std::vector<Endpoint>& part : made) {
    all.insert(all.end(), part.begin(), part.end());
    for (const Endpoint& endpoint : part) {
      if (endpoint.toolkit_slug == "slack") slack.push_back(endpoint);
    }
  }
  ASSERT_EQ(all.size(), kEndpoints);
  const std::vector<std::string> expected = InListOrder(all);

  // Unpaged, both are sent as read, in pages of 256 (issue 12).
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), expected);
  ASSERT_NO_FATAL_FAILURE(MustList("toolkit_slug=slack", &items));
  EXPECT_EQ(Ids(items), InListOrder(slack));

  auto page_through = [&](const std::string& filter,
                          std::vector<std::string>* ids,
                          std::vector<size_t>* sizes) {
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      ListPage got;
      ASSERT_NO_FATAL_FAILURE(ExpectListPage(
          List(filter + "limit=1000" +
               (cursor.empty() ? "" : "&cursor=" + QueryValue(cursor))),
          &got));
      sizes->push_back(got.items.size());
      for (const ListItem& item : got.items) ids->push_back(item.id);
      if (got.next_is_null) return;
      cursor = got.next_cursor;
    }
    ADD_FAILURE() << "more than 10 pages";
  };
  std::vector<std::string> ids;
  std::vector<size_t> sizes;
  ASSERT_NO_FATAL_FAILURE(page_through("", &ids, &sizes));
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_EQ(ids, expected);

  ids.clear();
  sizes.clear();
  ASSERT_NO_FATAL_FAILURE(page_through("toolkit_slug=slack&", &ids, &sizes));
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 250}));
  EXPECT_EQ(ids, InListOrder(slack));
}

TEST_F(HttpListTest, BadLimitOrCursorIs400) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  struct Case {
    std::string query;
    std::vector<std::string> mentions;  // one error each
  };
  const Case cases[] = {
      {"limit=0", {"limit"}},
      {"limit=1001", {"limit"}},
      {"limit=abc", {"limit"}},
      {"limit=-1", {"limit"}},
      {"limit=", {"limit"}},
      {"limit=2.5", {"limit"}},
      {"limit=10x", {"limit"}},
      {"limit=99999999999999999999999", {"limit"}},
      {"cursor=garbage", {"cursor"}},
      {"cursor=", {"cursor"}},
      {"cursor=%00%ff.we_", {"cursor"}},
      {"limit=0&cursor=garbage", {"limit", "cursor"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    ErrorBody error;
    ASSERT_NO_FATAL_FAILURE(
        ExpectErrorEnvelope(List(c.query), 400, kValidation, &error));
    EXPECT_EQ(error.errors.size(), c.mentions.size()) << Join(error.errors);
    for (const std::string& mention : c.mentions) {
      EXPECT_TRUE(SomeErrorSays(error.errors, {mention}))
          << mention << " not in: " << Join(error.errors);
    }
  }
}

TEST_F(HttpListTest, NeedsAKey) {
  ExpectErrorEnvelope(NewClient().Get(kCreatePath), 401, "HTTP_Unauthorized");
  ExpectErrorEnvelope(NewClient().Get(kCreatePathV3, {{"x-api-key", ""}}), 401,
                      "HTTP_Unauthorized");
}

// ===========================================================================
// Delete
// ===========================================================================

class HttpDeleteTest : public HttpManageTest {};

TEST_F(HttpDeleteTest, AnswersSuccessAndTheIdIsGoneEverywhere) {
  Endpoint gone, kept, ignored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &gone));
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c2", &kept));
  ASSERT_NO_FATAL_FAILURE(
      MustPatch(gone.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &ignored));
  ASSERT_NO_FATAL_FAILURE(ExpectDeleted(Delete(gone.id)));
  const std::string body =
      DataBody({{kSigning, "sig2-0123456789"}, {kAppToken, "tok2-0123456789"}});
  for (const char* collection : {kCreatePathV3, kCreatePath}) {
    SCOPED_TRACE(collection);
    ExpectErrorEnvelope(RetrieveAs(key_, gone.id, collection), 404, kNotFound);
    ExpectErrorEnvelope(PatchAs(key_, gone.id, body, collection), 404,
                        kNotFound);
    ExpectErrorEnvelope(ReplaceAs(key_, gone.id, body, collection), 404,
                        kNotFound);
    ExpectErrorEnvelope(DeleteAs(key_, gone.id, collection), 404, kNotFound);
  }
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{kept.id});
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(kept.id, &read));
  EXPECT_EQ(read.raw_body, kept.raw_body);
}

TEST_F(HttpDeleteTest, CreatingTheSameTripleAgainGivesANewEndpoint) {
  Endpoint first, ignored;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &first));
  ASSERT_NO_FATAL_FAILURE(MustPatch(
      first.id, DataBody({{kSigning, "abcdefghijklmnop"}}), &ignored));
  ASSERT_NO_FATAL_FAILURE(
      ExpectDeleted(DeleteAs(key_, first.id, kCreatePathV3)));
  Endpoint second;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &second));
  ExpectNewEndpoint(second, "slack", "c1", DefaultPublicBase());
  EXPECT_NE(second.id, first.id);
  EXPECT_NE(second.webhook_url, first.webhook_url);
  ExpectErrorEnvelope(Retrieve(first.id), 404, kNotFound);
  std::vector<ListItem> items;
  ASSERT_NO_FATAL_FAILURE(MustList("", &items));
  EXPECT_EQ(Ids(items), std::vector<std::string>{second.id});
}

TEST_F(HttpDeleteTest, NeedsAKey) {
  Endpoint endpoint;
  ASSERT_NO_FATAL_FAILURE(MustCreate("slack", "c1", &endpoint));
  ExpectErrorEnvelope(NewClient().Delete(ItemPath(endpoint.id)), 401,
                      "HTTP_Unauthorized");
  Endpoint read;
  ASSERT_NO_FATAL_FAILURE(MustRead(endpoint.id, &read));
  EXPECT_EQ(read.raw_body, endpoint.raw_body);
}

}  // namespace
}  // namespace webhooks::testing
