#include "exchange/collector/instruments.h"

#include <algorithm>
#include <cctype>

namespace tickflow::exchange::collector {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

InstrumentMap::InstrumentMap(std::vector<Instrument> list) : list_(std::move(list)) {
  for (size_t i = 0; i < list_.size(); ++i) {
    by_name_.emplace(upper(list_[i].symbol), i);
    by_name_.emplace(list_[i].exchange_symbol, i);
    by_name_.emplace(upper(list_[i].exchange_symbol), i);
  }
}

const Instrument* InstrumentMap::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) it = by_name_.find(upper(name));
  return it == by_name_.end() ? nullptr : &list_[it->second];
}

Result<std::vector<Instrument>> InstrumentMap::resolve(std::string_view exchange,
                                                       const std::vector<std::string>& names) const {
  std::vector<Instrument> out;
  std::string unknown, halted;
  for (const auto& name : names) {
    const Instrument* in = find(name);
    if (in == nullptr) {
      unknown += unknown.empty() ? name : ", " + name;
    } else if (!in->trading) {
      halted += halted.empty() ? name : ", " + name;
    } else {
      out.push_back(*in);
    }
  }
  if (unknown.empty() && halted.empty()) return out;
  std::string msg;
  if (!unknown.empty()) {
    msg = "unknown " + std::string(exchange) + " symbol(s): " + unknown;
    std::string known;
    for (size_t i = 0; i < list_.size() && i < 3; ++i) known += (i ? ", " : "") + list_[i].symbol;
    msg += list_.empty() ? " (the instrument list is empty)" : "; known e.g. " + known;
  }
  if (!halted.empty()) {
    if (!msg.empty()) msg += "; ";
    msg += std::string(exchange) + " symbol(s) listed but not trading: " + halted;
  }
  return Status::invalid_argument(std::move(msg));
}

}  // namespace tickflow::exchange::collector
