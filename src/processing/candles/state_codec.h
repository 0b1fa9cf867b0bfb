// CandleEngine state blobs use the shared byte encoding of core/byte_codec.h.
#pragma once

#include "core/byte_codec.h"

namespace tickflow::processing::state {

using Writer = bytes::Writer;
using Reader = bytes::Reader;

}  // namespace tickflow::processing::state
