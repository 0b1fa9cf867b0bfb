#include "delivery/subscription.h"

#include <algorithm>
#include <chrono>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "delivery/alert_json.h"
#include "delivery/signing.h"

namespace tickflow::delivery {
namespace {

bool contains(const std::vector<std::string>& v, std::string_view x) {
  return v.empty() || std::find(v.begin(), v.end(), x) != v.end();
}

Status field_error(std::string* field, std::string name, std::string why) {
  if (field) *field = name;
  return Status::invalid_argument(name + ": " + why);
}

// Reads an array of non-empty strings at obj[key] (absent = empty).
Status read_list(simdjson::dom::object obj, std::string_view key, std::vector<std::string>& out, std::string* field) {
  simdjson::dom::element el;
  if (obj[key].get(el) != simdjson::SUCCESS) return Status::ok();
  const std::string name = "filter." + std::string(key);
  if (el.is_null()) return Status::ok();
  simdjson::dom::array arr;
  if (el.get(arr) != simdjson::SUCCESS) return field_error(field, name, "must be an array of strings");
  for (simdjson::dom::element item : arr) {
    std::string_view s;
    if (item.get(s) != simdjson::SUCCESS || s.empty())
      return field_error(field, name, "must be an array of non-empty strings");
    out.emplace_back(s);
  }
  return Status::ok();
}

void append_list(std::string& out, std::string_view name, const std::vector<std::string>& v) {
  append_json_quoted(out, name);
  out += ":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    append_json_quoted(out, v[i]);
  }
  out += ']';
}

Status parse_filter(simdjson::dom::object root, SubscriptionFilter& f, std::string* field) {
  simdjson::dom::element el;
  if (root["filter"].get(el) != simdjson::SUCCESS || el.is_null()) return Status::ok();
  simdjson::dom::object obj;
  if (el.get(obj) != simdjson::SUCCESS) return field_error(field, "filter", "must be an object");
  for (auto kv : obj) {
    if (kv.key != "rules" && kv.key != "symbols" && kv.key != "severities" && kv.key != "states")
      return field_error(field, "filter." + std::string(kv.key),
                         "unknown filter key (expected rules, symbols, severities, states)");
  }
  Status s = read_list(obj, "rules", f.rules, field);
  if (s.is_ok()) s = read_list(obj, "symbols", f.symbols, field);
  if (s.is_ok()) s = read_list(obj, "severities", f.severities, field);
  if (s.is_ok()) s = read_list(obj, "states", f.states, field);
  if (!s.is_ok()) return s;
  for (const auto& st : f.states) {
    if (st != "firing" && st != "resolved")
      return field_error(field, "filter.states", "'" + st + "' is not firing or resolved");
  }
  return Status::ok();
}

}  // namespace

bool SubscriptionFilter::matches(const Alert& a) const {
  return contains(rules, a.rule) && contains(symbols, a.symbol) && contains(severities, a.severity) &&
         contains(states, a.state);
}

Result<SubscriptionRequest> parse_subscription_request(std::string_view body, std::string* field) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS)
    return field_error(field, "body", "not valid JSON");
  simdjson::dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) return field_error(field, "body", "must be a JSON object");
  for (auto kv : root) {
    if (kv.key != "url" && kv.key != "filter" && kv.key != "secret")
      return field_error(field, std::string(kv.key), "unknown field (expected url, filter, secret)");
  }
  SubscriptionRequest req;
  std::string_view url;
  if (root["url"].get(url) != simdjson::SUCCESS) return field_error(field, "url", "required string");
  req.url = std::string(url);
  simdjson::dom::element secret;
  if (root["secret"].get(secret) == simdjson::SUCCESS && !secret.is_null()) {
    std::string_view s;
    if (secret.get(s) != simdjson::SUCCESS || s.size() < 16)
      return field_error(field, "secret", "must be a string of at least 16 characters");
    req.secret = std::string(s);
  }
  Status s = parse_filter(root, req.filter, field);
  if (!s.is_ok()) return s;
  return req;
}

std::string subscription_json(const Subscription& s, bool with_secret) {
  std::string out = "{\"id\":";
  append_json_quoted(out, s.id);
  out += ",\"url\":";
  append_json_quoted(out, s.url);
  out += ",\"filter\":{";
  append_list(out, "rules", s.filter.rules);
  out += ',';
  append_list(out, "symbols", s.filter.symbols);
  out += ',';
  append_list(out, "severities", s.filter.severities);
  out += ',';
  append_list(out, "states", s.filter.states);
  out += "},\"created_at\":";
  append_json_quoted(out, format_iso8601_ms(s.created_at));
  out += ",\"created_at_ns\":" + std::to_string(s.created_at);
  if (with_secret) {
    out += ",\"secret\":";
    append_json_quoted(out, s.secret);
  }
  out += '}';
  return out;
}

Result<Subscription> parse_stored_subscription(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS)
    return Status::corruption("stored subscription is not a JSON object");
  Subscription s;
  std::string_view id, url, secret;
  int64_t created = 0;
  if (root["id"].get(id) != simdjson::SUCCESS || root["url"].get(url) != simdjson::SUCCESS ||
      root["secret"].get(secret) != simdjson::SUCCESS || root["created_at_ns"].get(created) != simdjson::SUCCESS)
    return Status::corruption("stored subscription misses id/url/secret/created_at_ns");
  s.id = std::string(id);
  s.url = std::string(url);
  s.secret = std::string(secret);
  s.created_at = created;
  Status st = parse_filter(root, s.filter, nullptr);
  if (!st.is_ok()) return Status::corruption("stored subscription filter: " + st.message());
  return s;
}

std::string webhook_group(std::string_view subscription_id) { return "webhook:" + std::string(subscription_id); }

SubscriptionStore::SubscriptionStore(bus::EventBus& bus, std::string alerts_topic, const Clock& clock)
    : bus_(bus), topic_(std::move(alerts_topic)), clock_(clock) {
  Status s = bus_.scan_state(kSubscriptionNamespace, [&](std::string_view key, std::string_view value) {
    auto sub = parse_stored_subscription(value);
    if (!sub) {
      spdlog::error("webhook subscription {} is unreadable and ignored: {}", key, sub.status().to_string());
      return;
    }
    subs_.emplace(sub->id, std::move(*sub));
  });
  if (!s.is_ok()) spdlog::error("loading webhook subscriptions failed: {}", s.to_string());
}

Result<Subscription> SubscriptionStore::create(const SubscriptionRequest& request) {
  Subscription sub;
  sub.id = "wh_" + random_hex(8);
  sub.url = request.url;
  sub.filter = request.filter;
  sub.secret = request.secret ? *request.secret : random_hex(24);
  sub.created_at = clock_.now_ns();
  auto topic = bus_.topic(topic_);
  if (!topic) return topic.status();
  auto tx = bus_.begin();
  tx->put_state(kSubscriptionNamespace, sub.id, subscription_json(sub, true));
  const std::string group = webhook_group(sub.id);
  for (int32_t p = 0; p < topic->partitions; ++p) {
    auto end = bus_.end_offset(topic_, p);
    if (!end) return end.status();
    tx->commit_offset(group, topic_, p, *end);
  }
  Status s = tx->commit();
  if (!s.is_ok()) return s;
  {
    std::lock_guard lock(mu_);
    subs_.emplace(sub.id, sub);
    ++generation_;
  }
  cv_.notify_all();
  return sub;
}

std::vector<Subscription> SubscriptionStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<Subscription> out;
  out.reserve(subs_.size());
  for (const auto& [id, s] : subs_) out.push_back(s);
  return out;
}

std::optional<Subscription> SubscriptionStore::get(std::string_view id) const {
  std::lock_guard lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return std::nullopt;
  return it->second;
}

Status SubscriptionStore::remove(std::string_view id) {
  {
    std::lock_guard lock(mu_);
    if (subs_.find(id) == subs_.end()) return Status::not_found("no subscription " + std::string(id));
  }
  auto tx = bus_.begin();
  tx->delete_state(kSubscriptionNamespace, id);
  Status s = tx->commit();
  if (!s.is_ok()) return s;
  {
    std::lock_guard lock(mu_);
    if (subs_.erase(std::string(id)) == 0) return Status::not_found("no subscription " + std::string(id));
    ++generation_;
  }
  cv_.notify_all();
  return Status::ok();
}

uint64_t SubscriptionStore::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

uint64_t SubscriptionStore::wait_changed(uint64_t seen, DurationNs timeout) const {
  std::unique_lock lock(mu_);
  const uint64_t wakes = wakes_;
  cv_.wait_for(lock, std::chrono::nanoseconds(timeout), [&] { return generation_ != seen || wakes_ != wakes; });
  return generation_;
}

void SubscriptionStore::wake() {
  {
    std::lock_guard lock(mu_);
    ++wakes_;
  }
  cv_.notify_all();
}

}  // namespace tickflow::delivery
