#include "exchange/coinbase/advanced_auth.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <memory>

namespace tickflow::exchange::coinbase {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  out.push_back('"');
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct SigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::string random_nonce() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // RAND_bytes failing leaves the nonce merely predictable; the JWT is still signed.
    for (auto& x : b) x = 0;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char x : b) {
    out.push_back(kHex[x >> 4]);
    out.push_back(kHex[x & 15]);
  }
  return out;
}

Result<std::string> advanced_jwt(std::string_view key_name, std::string_view pem_private_key, int64_t now_sec,
                                 std::string_view nonce) {
  std::string pem;
  for (size_t i = 0; i < pem_private_key.size(); ++i) {
    if (pem_private_key[i] == '\\' && i + 1 < pem_private_key.size() && pem_private_key[i + 1] == 'n') {
      pem.push_back('\n');
      ++i;
    } else {
      pem.push_back(pem_private_key[i]);
    }
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::invalid_argument("coinbase advanced: cannot read the API secret");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return Status::invalid_argument("coinbase advanced: the API secret is not a PEM private key");
  if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_EC || EVP_PKEY_bits(key.get()) != 256) {
    return Status::invalid_argument("coinbase advanced: the API secret is not a P-256 EC key (ES256)");
  }
  std::string header = R"({"alg":"ES256","kid":)";
  append_json_string(header, key_name);
  header += R"(,"nonce":)";
  append_json_string(header, nonce);
  header += R"(,"typ":"JWT"})";
  std::string payload = R"({"iss":"cdp","nbf":)" + std::to_string(now_sec) +
                        R"(,"exp":)" + std::to_string(now_sec + kAdvancedJwtLifetimeSec) + R"(,"sub":)";
  append_json_string(payload, key_name);
  payload += '}';
  std::string signing_input = base64url_encode(header) + "." + base64url_encode(payload);

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Status::internal("coinbase advanced: ES256 signing failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return Status::internal("coinbase advanced: ES256 signing failed");
  }
  // JWS ES256 wants the raw r || s (32 bytes each), not OpenSSL's DER.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Status::internal("coinbase advanced: bad ECDSA signature encoding");
  unsigned char raw[64];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + 32, 32) != 32) {
    return Status::internal("coinbase advanced: bad ECDSA signature size");
  }
  signing_input += '.';
  signing_input += base64url_encode(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
  return signing_input;
}

}  // namespace tickflow::exchange::coinbase
