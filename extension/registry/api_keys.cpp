// API keys: random secrets that identify a tenant.
//
// A key is shown once, when issued; only its SHA-256 digest is stored, so a
// leaked table reveals no usable key.  Resolving a key hashes it and looks the
// digest up through a unique index: the lookup never compares secret bytes
// one by one, so its timing says nothing about how close a guess was.
// Touches tenancy.api_key (and reads tenancy.tenant).
#include "shared/errcodes.hpp"
#include "registry/registry.hpp"
#include "shared/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "port.h"
#include "utils/builtins.h"
}

#include <array>
#include <new>
#include <string>

namespace tenancy::api_keys {

namespace {

// 32 random bytes (256 bits), hex-encoded behind a prefix that makes a leaked
// key easy to recognise in logs and secret scanners.
constexpr size_t kKeyBytes = 32;
constexpr const char *kKeyPrefix = "tnk_";

using Digest = std::array<unsigned char, PG_SHA256_DIGEST_LENGTH>;

std::string new_secret_key()
{
    std::array<unsigned char, kKeyBytes> random{};
    if (!pg_strong_random(random.data(), random.size()))
        throw Error(ERRCODE_SYSTEM_ERROR, "could not generate a random API key",
                    "The operating system's random number generator failed.");
    static const char hex[] = "0123456789abcdef";
    std::string key(kKeyPrefix);
    for (unsigned char b : random) {
        key.push_back(hex[b >> 4]);
        key.push_back(hex[b & 0x0f]);
    }
    return key;
}

Digest sha256(const std::string &text)
{
    Digest digest{};
    pg_cryptohash_ctx *ctx = pg_call([] { return pg_cryptohash_create(PG_SHA256); });
    if (ctx == nullptr)
        throw std::bad_alloc();
    bool ok = pg_cryptohash_init(ctx) == 0 &&
              pg_cryptohash_update(ctx, reinterpret_cast<const uint8 *>(text.data()), text.size()) == 0 &&
              pg_cryptohash_final(ctx, digest.data(), digest.size()) == 0;
    pg_cryptohash_free(ctx);
    if (!ok)
        throw Error(ERRCODE_SYSTEM_ERROR, "could not compute the SHA-256 digest of an API key");
    return digest;
}

spi::Param digest_param(const Digest &digest) { return spi::bytea_param(digest.data(), digest.size()); }

} // namespace
} // namespace tenancy::api_keys

namespace tenancy::registry {

std::optional<KeyTenant> live_key_tenant(const std::string &key)
{
    static spi::Statement lookup(
        "SELECT k.tenant_id, t.status"
        "  FROM tenancy.api_key k JOIN tenancy.tenant t ON t.id = k.tenant_id"
        " WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND t.status <> 'deleted'",
        {BYTEAOID});

    if (lookup.execute({api_keys::digest_param(api_keys::sha256(key))}, true) != 1)
        return std::nullopt;
    return KeyTenant{spi::get_int64(0, 1).value_or(0), spi::get_text(0, 2).value_or("")};
}

} // namespace tenancy::registry

using namespace tenancy;

// tenancy.issue_api_key(tenant bigint) RETURNS text
TENANCY_FUNCTION(tenancy_issue_api_key)
{
    static spi::Statement insert("INSERT INTO tenancy.api_key (tenant_id, key_hash) VALUES ($1, $2)",
                                 {INT8OID, BYTEAOID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    std::string key = api_keys::new_secret_key();
    {
        spi::Connection spi;
        // FOR SHARE: a concurrent suspend or delete waits until the key exists,
        // and then it no longer matters that the tenant was active here.
        registry::require_active_tenant(tenant, registry::RowLock::Share);
        insert.execute({spi::int8_param(tenant), api_keys::digest_param(api_keys::sha256(key))}, false);
    }
    text *result = pg_call([&] { return cstring_to_text_with_len(key.data(), static_cast<int>(key.size())); });
    PG_RETURN_TEXT_P(result);
}

// tenancy.tenant_for_api_key(key text) RETURNS bigint; STRICT
TENANCY_FUNCTION(tenancy_tenant_for_api_key)
{
    std::string key = args::required_text(fcinfo, 0, "key");
    std::optional<registry::KeyTenant> found;
    {
        spi::Connection spi;
        found = registry::live_key_tenant(key);
    }
    if (!found)
        PG_RETURN_NULL();
    PG_RETURN_INT64(found->tenant);
}

// tenancy.revoke_api_keys(tenant bigint) RETURNS bigint: how many were revoked.
TENANCY_FUNCTION(tenancy_revoke_api_keys)
{
    static spi::Statement revoke(
        "UPDATE tenancy.api_key SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL",
        {INT8OID});

    int64_t tenant = args::required_int64(fcinfo, 0, "tenant");
    uint64 revoked = 0;
    {
        spi::Connection spi;
        registry::tenant_status(tenant, registry::RowLock::None); // TN001 if unknown
        revoked = revoke.execute({spi::int8_param(tenant)}, false);
    }
    PG_RETURN_INT64(static_cast<int64_t>(revoked));
}
