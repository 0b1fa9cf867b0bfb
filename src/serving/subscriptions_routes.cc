#include "serving/subscriptions_routes.h"

#include <netdb.h>
#include <sys/socket.h>

#include "exchange/transport/url.h"

namespace tickflow::serving {

bool resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (res) ::freeaddrinfo(res);
  return rc == 0;
}

SubscriptionRoutes::SubscriptionRoutes(delivery::SubscriptionStore& store, HostResolver resolver)
    : store_(store), resolver_(std::move(resolver)) {}

std::string_view SubscriptionRoutes::match(std::string_view path) const {
  if (path == kCollection || path == "/subscriptions/") return kCollection;
  if (path.substr(0, kCollection.size() + 1) == "/subscriptions/" &&
      path.find('/', kCollection.size() + 1) == std::string_view::npos)
    return kItem;
  return {};
}

std::string SubscriptionRoutes::index_html() const {
  return "<li><code>POST /subscriptions</code> (JSON <code>{\"url\":..,\"filter\":{..}}</code>), "
         "<code>GET /subscriptions</code>, <code>GET|DELETE /subscriptions/{id}</code> webhook subscriptions "
         "to alerts, e.g. <a href=\"/subscriptions\">/subscriptions</a></li>\n";
}

HttpResponse SubscriptionRoutes::handle(const HttpRequest& request, std::string_view path, std::string_view) const {
  if (match(path) == kCollection) {
    if (request.method == "POST") return create(request);
    if (request.method != "GET") return method_not_allowed("GET, POST");
    std::string body = "{\"subscriptions\":[";
    bool first = true;
    for (const auto& s : store_.list()) {
      if (!first) body += ',';
      first = false;
      body += delivery::subscription_json(s, false);
    }
    body += "]}";
    return json_response(200, std::move(body));
  }
  auto decoded = percent_decode(path.substr(kCollection.size() + 1));
  if (!decoded || decoded->empty()) return error_response(400, "bad subscription id", "id");
  const std::string& id = *decoded;
  if (request.method == "GET") {
    auto s = store_.get(id);
    if (!s) return error_response(404, "unknown subscription " + id, "id");
    return json_response(200, delivery::subscription_json(*s, false));
  }
  if (request.method == "DELETE") {
    Status st = store_.remove(id);
    if (st.code() == ErrorCode::kNotFound) return error_response(404, "unknown subscription " + id, "id");
    if (!st.is_ok()) return store_error(st);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
  }
  return method_not_allowed("GET, DELETE");
}

HttpResponse SubscriptionRoutes::create(const HttpRequest& request) const {
  std::string field;
  auto req = delivery::parse_subscription_request(request.body, &field);
  if (!req) return error_response(400, req.status().message(), field);
  auto url = exchange::transport::parse_url(req->url);
  if (!url) return error_response(400, "url: " + url.status().message(), "url");
  if (url->scheme != "http" && url->scheme != "https")
    return error_response(400, "url: must be http:// or https://, got " + url->scheme + "://", "url");
  if (!resolver_(url->host)) return error_response(400, "url: host " + url->host + " does not resolve", "url");
  req->url = url->to_string();
  auto sub = store_.create(*req);
  if (!sub) return store_error(sub.status());
  HttpResponse r = json_response(201, delivery::subscription_json(*sub, true));
  r.headers.emplace_back("Location", "/subscriptions/" + sub->id);
  return r;
}

}  // namespace tickflow::serving
