#include "exchange/coinbase/auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace tickflow::exchange::coinbase {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::invalid_argument("base64: length is not a multiple of 4");
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return Status::invalid_argument("base64: not base64");
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = text.size(); i > 0 && text[i - 1] == '=' && len > 0; --i) --len;
  out.resize(len);
  return out;
}

Result<std::string> subscription_signature(std::string_view secret_base64, std::string_view timestamp) {
  auto key = base64_decode(secret_base64);
  if (!key) return Status::invalid_argument("coinbase api_secret: " + key.status().message());
  std::string message(timestamp);
  message += "GET";
  message += kVerifyPath;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len) == nullptr) {
    return Status::internal("HMAC-SHA256 failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace tickflow::exchange::coinbase
