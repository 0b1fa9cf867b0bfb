// Logging set-up (spdlog). Components log through spdlog's default logger.
#pragma once

#include <string_view>

namespace tickflow::obs {

// level: trace, debug, info, warn, error, off. Logs go to stderr.
void init_logging(std::string_view level);

}  // namespace tickflow::obs
