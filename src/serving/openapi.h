// The OpenAPI 3.0 description of the HTTP API, served at GET /openapi.json.
#pragma once

#include <string_view>

namespace tickflow::serving {

std::string_view openapi_document();

}  // namespace tickflow::serving
