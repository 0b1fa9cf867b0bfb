// The webhook subscription API (SubscriptionRoutes) through the ApiHandler: creation with a
// returned secret, validation (400 naming the field), GET/DELETE and 404s, 405s.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "bus/testing/in_memory_bus.h"
#include "serving/api.h"
#include "serving/subscriptions_routes.h"
#include "serving/tests/fakes.h"

namespace tickflow::serving {
namespace {

class SubscriptionRoutesTest : public ::testing::Test {
 protected:
  SubscriptionRoutesTest()
      : bus_(bus::testing::InMemoryBus::InitialTopics::kDefault),
        store_(bus_, std::string(topics::kProcessedAlerts)),
        api_(candles_, {}, options()) {}

  ApiOptions options() {
    ApiOptions o;
    // Real getaddrinfo: "localhost" and literal IPs resolve, the reserved .invalid TLD never does.
    o.modules.push_back(std::make_shared<SubscriptionRoutes>(store_));
    return o;
  }
  HttpResponse call(std::string method, std::string target, std::string body = {}) {
    return api_.handle(HttpRequest{std::move(method), std::move(target), std::move(body), {}});
  }
  std::string parameter_of(const HttpResponse& r) {
    simdjson::dom::parser p;
    std::string_view v;
    if (p.parse(r.body)["parameter"].get(v) != simdjson::SUCCESS) return "";
    return std::string(v);
  }

  bus::testing::InMemoryBus bus_;
  delivery::SubscriptionStore store_;
  testing::FakeCandleStore candles_;
  ApiHandler api_;
};

TEST_F(SubscriptionRoutesTest, CreateGetListDelete) {
  auto created = call("POST", "/subscriptions",
                      R"({"url":"http://localhost:9/hook","filter":{"rules":["btc_above"],"severities":["critical"]}})");
  ASSERT_EQ(created.status, 201) << created.body;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(created.body);
  const std::string id{std::string_view(doc["id"])};
  const std::string secret{std::string_view(doc["secret"])};
  EXPECT_EQ(secret.size(), 48u);
  EXPECT_EQ(std::string_view(doc["url"]), "http://localhost:9/hook");
  ASSERT_EQ(created.headers.size(), 1u);
  EXPECT_EQ(created.headers[0].second, "/subscriptions/" + id);
  EXPECT_EQ(api_.route_of("/subscriptions/" + id), SubscriptionRoutes::kItem);

  auto one = call("GET", "/subscriptions/" + id);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body.find(secret), std::string::npos);  // the secret is shown once only
  EXPECT_NE(one.body.find("\"rules\":[\"btc_above\"]"), std::string::npos) << one.body;
  auto list = call("GET", "/subscriptions");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(id), std::string::npos);
  EXPECT_EQ(list.body.find(secret), std::string::npos);

  auto with_secret = call("POST", "/subscriptions", R"({"url":"https://127.0.0.1/x","secret":"my-own-secret-123456"})");
  ASSERT_EQ(with_secret.status, 201) << with_secret.body;
  EXPECT_NE(with_secret.body.find("\"secret\":\"my-own-secret-123456\""), std::string::npos);
  EXPECT_EQ(store_.list().size(), 2u);

  EXPECT_EQ(call("DELETE", "/subscriptions/" + id).status, 204);
  EXPECT_EQ(call("GET", "/subscriptions/" + id).status, 404);
  EXPECT_EQ(call("DELETE", "/subscriptions/" + id).status, 404);
  EXPECT_EQ(store_.list().size(), 1u);
}

TEST_F(SubscriptionRoutesTest, RejectsBadInputNamingTheField) {
  struct Case {
    const char* body;
    const char* parameter;
  } cases[] = {
      {"not json", "body"},
      {R"(["http://localhost/"])", "body"},
      {R"({"filter":{}})", "url"},
      {R"({"url":"ftp://localhost/x"})", "url"},
      {R"({"url":"ws://localhost/x"})", "url"},
      {R"({"url":"not a url"})", "url"},
      {R"({"url":"http://"})", "url"},
      {R"({"url":"http://no-such-host.invalid/hook"})", "url"},
      {R"({"url":"http://localhost/x","filter":{"states":["on"]}})", "filter.states"},
      {R"({"url":"http://localhost/x","secret":"tiny"})", "secret"},
  };
  for (const auto& c : cases) {
    auto r = call("POST", "/subscriptions", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " → " << r.body;
    EXPECT_EQ(parameter_of(r), c.parameter) << c.body << " → " << r.body;
  }
  EXPECT_TRUE(store_.list().empty());
}

TEST_F(SubscriptionRoutesTest, WrongMethodsAre405) {
  auto r = call("PUT", "/subscriptions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(call("POST", "/subscriptions/abc").status, 405);
  EXPECT_EQ(call("GET", "/subscriptions/unknown").status, 404);
}

}  // namespace
}  // namespace tickflow::serving
