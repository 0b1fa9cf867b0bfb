// Indicator state uses the shared byte encoding of core/byte_codec.h (doubles bit exact, so a
// restored indicator continues exactly).
#pragma once

#include "core/byte_codec.h"

namespace tickflow::processing::indicators {

using StateWriter = bytes::Writer;
using StateReader = bytes::Reader;

}  // namespace tickflow::processing::indicators
