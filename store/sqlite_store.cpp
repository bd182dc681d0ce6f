// SqliteStore: the Store interface on SQLite through SQLiteCpp. The only file
// that includes SQLiteCpp or sqlite3.h, and the only place SQLite::Exception
// is caught: every public method converts it to a Status in FromSqlite().
//
// One connection, one mutex: SQLiteCpp connections must not be shared between
// threads, and ":memory:" is a separate database per connection. Idempotency
// does not rest on the mutex but on UNIQUE constraints, so it also holds
// against other processes writing the same file.

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "store/store.h"

extern const char kSchemaSql[];

namespace webhooks {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kMemoryPath = ":memory:";

// The one SQLite::Exception -> Status conversion. The message keeps SQLite's
// text for the log; the API layer never sends it to a client.
Status FromSqlite(const SQLite::Exception& e, const char* operation) {
  std::string message = std::string(operation) + ": " + e.what() +
                        " (sqlite code " +
                        std::to_string(e.getExtendedErrorCode()) + ")";
  switch (e.getErrorCode()) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
      return Status::Unavailable(std::move(message));
    case SQLITE_CONSTRAINT:
      return Status::Conflict(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

const char* OriginName(KeyOrigin origin) {
  switch (origin) {
    case KeyOrigin::kLocal:
      return "local";
    case KeyOrigin::kConfig:
      return "config";
    case KeyOrigin::kAdmin:
      return "admin";
  }
  return "local";
}

KeyOrigin OriginFromName(std::string_view name) {
  if (name == "config") return KeyOrigin::kConfig;
  if (name == "admin") return KeyOrigin::kAdmin;
  return KeyOrigin::kLocal;
}

// Creates the database file with mode 0600 before SQLite opens it (SQLite
// would use 0644 less the umask; the WAL and SHM files then copy our mode),
// and syncs the folder so the new file's name survives a crash.
void CreateFilePrivately(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return;  // exists already, or SQLite will report the problem
  ::fsync(fd);
  ::close(fd);
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos) {
    dir = slash == 0 ? "/" : path.substr(0, slash);
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

// Opens the connection, sets it up and applies the schema, all before any
// statement is prepared (preparing against a missing table throws).
SQLite::Database OpenDatabase(const std::string& path) {
  const bool in_memory = path == kMemoryPath;
  if (!in_memory) CreateFilePrivately(path);
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                      kBusyTimeoutMs);
  if (!in_memory) {
    // A corrupt or foreign file fails here, before we write anything.
    {
      SQLite::Statement check(db, "PRAGMA quick_check");
      if (!check.executeStep() || check.getColumn(0).getString() != "ok") {
        throw SQLite::Exception("database failed quick_check", SQLITE_CORRUPT);
      }
    }  // finalized here: the journal mode cannot change while it is active
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA journal_size_limit = 67108864");
  }
  // Every acknowledged write is on disk, not only in the OS cache: WAL with
  // synchronous=FULL syncs the WAL at each commit.
  db.exec("PRAGMA synchronous = FULL");
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(kSchemaSql);
  return db;
}

// Encrypts and decrypts setup field values at rest with AES-256-GCM. A
// stored value is kSealedPrefix + nonce (12) + ciphertext + tag (16), in
// hex. The prefix starts with a control character, which no accepted clear
// value contains, so sealed and clear values never look alike. The endpoint
// id and field name are authenticated with it, so a value copied to another
// row fails to open.
class SecretBox {
 public:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}

  bool enabled() const { return !key_.empty(); }

  std::string Seal(std::string_view context, std::string_view plain) const {
    if (!enabled()) return std::string(plain);
    unsigned char nonce[kNonceBytes];
    if (RAND_bytes(nonce, kNonceBytes) != 1) {
      throw SQLite::Exception("random source failed", SQLITE_ERROR);
    }
    std::string out(plain.size() + kTagBytes, '\0');
    int length = 0;
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    CipherContext ctx;
    bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Key(),
                                 nonce) == 1 &&
              EVP_EncryptUpdate(ctx.get(), nullptr, &length, Bytes(context),
                                static_cast<int>(context.size())) == 1 &&
              EVP_EncryptUpdate(ctx.get(), bytes, &length, Bytes(plain),
                                static_cast<int>(plain.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx.get(), bytes + length, &length) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                                  bytes + plain.size()) == 1;
    if (!ok) throw SQLite::Exception("encryption failed", SQLITE_ERROR);
    return std::string(kSealedPrefix) +
           Hex(std::string_view(reinterpret_cast<char*>(nonce), kNonceBytes)) +
           Hex(out);
  }

  // Returns false if `stored` is sealed and cannot be opened.
  bool Open(std::string_view context, const std::string& stored,
            std::string* plain) const {
    if (stored.rfind(kSealedPrefix, 0) != 0) {
      *plain = stored;  // stored in clear, before a key was configured
      return true;
    }
    std::string raw;
    if (!enabled() ||
        !Unhex(std::string_view(stored).substr(std::strlen(kSealedPrefix)),
               &raw) ||
        raw.size() < kNonceBytes + kTagBytes) {
      return false;
    }
    const size_t text_size = raw.size() - kNonceBytes - kTagBytes;
    auto* bytes = reinterpret_cast<unsigned char*>(raw.data());
    std::string out(text_size, '\0');
    auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
    int length = 0;
    CipherContext ctx;
    bool ok =
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Key(),
                           bytes) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &length, Bytes(context),
                          static_cast<int>(context.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out_bytes, &length, bytes + kNonceBytes,
                          static_cast<int>(text_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                            bytes + kNonceBytes + text_size) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), out_bytes + length, &length) == 1;
    if (!ok) return false;
    *plain = std::move(out);
    return true;
  }

 private:
  static constexpr int kNonceBytes = 12;
  static constexpr int kTagBytes = 16;
  static constexpr const char* kSealedPrefix =
      "\x01"
      "aes256gcm:";

  class CipherContext {
   public:
    CipherContext() : ctx_(EVP_CIPHER_CTX_new()) {
      if (ctx_ == nullptr)
        throw SQLite::Exception("out of memory", SQLITE_NOMEM);
    }
    CipherContext(const CipherContext&) = delete;
    CipherContext& operator=(const CipherContext&) = delete;
    ~CipherContext() { EVP_CIPHER_CTX_free(ctx_); }
    EVP_CIPHER_CTX* get() { return ctx_; }

   private:
    EVP_CIPHER_CTX* ctx_;
  };

  const unsigned char* Key() const {
    return reinterpret_cast<const unsigned char*>(key_.data());
  }
  static const unsigned char* Bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char*>(text.data());
  }
  static std::string Hex(std::string_view raw) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
    return out;
  }
  static bool Unhex(std::string_view hex, std::string* raw) {
    if (hex.size() % 2 != 0) return false;
    auto digit = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    raw->clear();
    for (size_t i = 0; i < hex.size(); i += 2) {
      int high = digit(hex[i]), low = digit(hex[i + 1]);
      if (high < 0 || low < 0) return false;
      raw->push_back(static_cast<char>(high * 16 + low));
    }
    return true;
  }

  const std::string key_;
};

// The authenticated context of a sealed value: its row and field.
std::string SealContext(std::string_view endpoint_id, std::string_view name) {
  return std::string(endpoint_id) + '\0' + std::string(name);
}

constexpr const char* kEndpointColumns =
    "id, project_id, toolkit_slug, client_id, webhook_url, created_at, "
    "verified_at";

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : path_(path),
        secrets_(options.secrets_key),
        db_(OpenDatabase(path)),
        insert_endpoint_(
            db_, std::string("INSERT INTO webhook_endpoints (id, project_id, "
                             "toolkit_slug, client_id, webhook_url, "
                             "created_at) VALUES (:id, :project_id, "
                             ":toolkit_slug, :client_id, :webhook_url, "
                             ":created_at) ON CONFLICT (project_id, "
                             "toolkit_slug, client_id) DO NOTHING RETURNING ") +
                     kEndpointColumns),
        select_endpoint_by_triple_(
            db_, std::string("SELECT ") + kEndpointColumns +
                     " FROM webhook_endpoints WHERE project_id = :project_id "
                     "AND toolkit_slug = :toolkit_slug AND client_id = "
                     ":client_id"),
        select_endpoint_by_id_(
            db_, std::string("SELECT ") + kEndpointColumns +
                     " FROM webhook_endpoints WHERE id = :id AND project_id = "
                     ":project_id"),
        list_endpoints_(
            db_,
            std::string("SELECT ") + kEndpointColumns +
                " FROM webhook_endpoints WHERE project_id = :project_id AND "
                "(:toolkit_slug IS NULL OR toolkit_slug = :toolkit_slug) AND "
                "(:after_created_at IS NULL OR (created_at, id) > "
                "(:after_created_at, :after_id)) ORDER BY created_at, id "
                "LIMIT :limit"),
        upsert_setup_field_(
            db_,
            "INSERT INTO endpoint_setup_fields (endpoint_id, name, value) "
            "VALUES (:endpoint_id, :name, :value) ON CONFLICT (endpoint_id, "
            "name) DO UPDATE SET value = excluded.value"),
        delete_setup_fields_(
            db_,
            "DELETE FROM endpoint_setup_fields WHERE endpoint_id = "
            ":endpoint_id"),
        delete_endpoint_(db_,
                         "DELETE FROM webhook_endpoints WHERE id = :id AND "
                         "project_id = :project_id"),
        select_endpoint_any_(db_, std::string("SELECT ") + kEndpointColumns +
                                      " FROM webhook_endpoints WHERE id = :id"),
        mark_verified_(db_,
                       "UPDATE webhook_endpoints SET verified_at = :at WHERE "
                       "id = :id AND verified_at IS NULL"),
        insert_event_(
            db_,
            "INSERT INTO webhook_events (id, endpoint_id, provider_event_id, "
            "received_at, headers, body) VALUES (:id, :endpoint_id, "
            ":provider_event_id, :received_at, :headers, :body) ON CONFLICT "
            "(endpoint_id, provider_event_id) DO NOTHING"),
        prune_events_by_count_(
            db_,
            "DELETE FROM webhook_events WHERE endpoint_id = :endpoint_id AND "
            "seq <= (SELECT seq FROM webhook_events WHERE endpoint_id = "
            ":endpoint_id ORDER BY seq DESC LIMIT 1 OFFSET :keep)"),
        prune_events_by_age_(db_,
                             "DELETE FROM webhook_events WHERE endpoint_id = "
                             ":endpoint_id AND received_at < :cutoff"),
        list_events_(
            db_,
            "SELECT seq, id, provider_event_id, received_at, headers, body "
            "FROM webhook_events WHERE endpoint_id = :endpoint_id AND "
            "(:before = 0 OR seq < :before) ORDER BY seq DESC LIMIT :limit"),
        ping_(db_, "SELECT count(*) FROM projects"),
        count_rows_(db_,
                    "SELECT (SELECT count(*) FROM webhook_endpoints), "
                    "(SELECT count(*) FROM webhook_events)"),
        select_project_by_name_(db_,
                                "SELECT id FROM projects WHERE name = :name "
                                "ORDER BY created_at, id LIMIT 1"),
        list_keys_(db_,
                   "SELECT k.id, k.project_id, p.name, k.origin, "
                   "k.created_at, k.revoked_at FROM api_keys k JOIN projects "
                   "p ON p.id = k.project_id ORDER BY k.created_at, k.id"),
        revoke_key_(db_,
                    "UPDATE api_keys SET revoked_at = :at WHERE id = :id AND "
                    "revoked_at IS NULL"),
        any_admin_key_(db_,
                       "SELECT EXISTS (SELECT 1 FROM api_keys WHERE origin = "
                       "'admin')"),
        select_setup_fields_(db_,
                             "SELECT name, value FROM endpoint_setup_fields "
                             "WHERE endpoint_id = :endpoint_id ORDER BY name"),
        select_key_(
            db_,
            "SELECT id, project_id, origin, key_digest, revoked_at IS NOT "
            "NULL FROM api_keys WHERE key_digest = :key_digest"),
        insert_project_(db_,
                        "INSERT INTO projects (id, name, created_at) VALUES "
                        "(:id, :name, :created_at)"),
        insert_key_(db_,
                    "INSERT INTO api_keys (id, project_id, key_digest, origin, "
                    "created_at) VALUES (:id, :project_id, :key_digest, "
                    ":origin, :created_at)"),
        select_any_key_(db_,
                        "SELECT project_id FROM api_keys WHERE key_digest = "
                        ":key_digest") {
    struct stat info {};
    if (path != kMemoryPath && ::stat(path.c_str(), &info) == 0) {
      inode_ = info.st_ino;
    }
  }

  Status CreateEndpoint(const NewEndpoint& params, WebhookEndpoint* out,
                        bool* created) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      WebhookEndpoint row;
      bool inserted = false;
      {
        Reuse insert(insert_endpoint_);
        insert_endpoint_.bind(":id", params.id);
        insert_endpoint_.bind(":project_id", params.project_id);
        insert_endpoint_.bind(":toolkit_slug", params.toolkit_slug);
        insert_endpoint_.bind(":client_id", params.client_id);
        insert_endpoint_.bind(":webhook_url", params.webhook_url);
        insert_endpoint_.bind(":created_at", params.created_at_ms);
        // RETURNING yields no row when DO NOTHING fired: the triple exists.
        if (insert_endpoint_.executeStep()) {
          ReadEndpointRow(insert_endpoint_, &row);
          inserted = true;
          // Step to completion so the statement finishes before COMMIT.
          while (insert_endpoint_.executeStep()) {
          }
        }
      }
      if (!inserted) {
        Reuse select(select_endpoint_by_triple_);
        select_endpoint_by_triple_.bind(":project_id", params.project_id);
        select_endpoint_by_triple_.bind(":toolkit_slug", params.toolkit_slug);
        select_endpoint_by_triple_.bind(":client_id", params.client_id);
        if (!select_endpoint_by_triple_.executeStep()) {
          return Status::Internal("create: conflict without an existing row");
        }
        ReadEndpointRow(select_endpoint_by_triple_, &row);
        ReadSetupFields(&row);
      }
      txn.commit();
      *out = std::move(row);
      *created = inserted;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "create endpoint");
    }
  }

  Status GetEndpoint(std::string_view project_id, std::string_view id,
                     WebhookEndpoint* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      WebhookEndpoint row;
      if (!SelectEndpoint(project_id, id, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      ReadSetupFields(&row);
      *out = std::move(row);
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "get endpoint");
    }
  }

  Status ListEndpoints(const ListQuery& query,
                       std::vector<WebhookEndpoint>* out, bool* more) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      std::vector<WebhookEndpoint> rows;
      {
        Reuse select(list_endpoints_);
        list_endpoints_.bind(":project_id", query.project_id);
        if (query.toolkit_slug) {
          list_endpoints_.bind(":toolkit_slug", *query.toolkit_slug);
        }
        if (query.after) {
          list_endpoints_.bind(":after_created_at", query.after->created_at_ms);
          list_endpoints_.bind(":after_id", query.after->id);
        }
        // One row past the limit tells whether more follow; -1 is no limit.
        list_endpoints_.bind(
            ":limit", query.limit == 0 ? static_cast<int64_t>(-1)
                                       : static_cast<int64_t>(query.limit) + 1);
        while (list_endpoints_.executeStep()) {
          rows.emplace_back();
          ReadEndpointRow(list_endpoints_, &rows.back());
        }
      }
      bool has_more = query.limit != 0 && rows.size() > query.limit;
      if (has_more) rows.resize(query.limit);
      *out = std::move(rows);
      *more = has_more;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "list endpoints");
    }
  }

  Status UpdateSetupFields(std::string_view project_id, std::string_view id,
                           const std::vector<SetupField>& fields, bool replace,
                           WebhookEndpoint* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      WebhookEndpoint row;
      if (!SelectEndpoint(project_id, id, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      if (replace) {
        Reuse remove(delete_setup_fields_);
        delete_setup_fields_.bind(":endpoint_id", row.id);
        delete_setup_fields_.exec();
      }
      for (const SetupField& field : fields) {
        Reuse upsert(upsert_setup_field_);
        upsert_setup_field_.bind(":endpoint_id", row.id);
        upsert_setup_field_.bind(":name", field.name);
        upsert_setup_field_.bind(
            ":value",
            secrets_.Seal(SealContext(row.id, field.name), field.value));
        upsert_setup_field_.exec();
      }
      ReadSetupFields(&row);
      txn.commit();
      *out = std::move(row);
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "update setup fields");
    }
  }

  Status DeleteEndpoint(std::string_view project_id,
                        std::string_view id) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      Reuse remove(delete_endpoint_);
      delete_endpoint_.bind(":id", std::string(id));
      delete_endpoint_.bind(":project_id", std::string(project_id));
      if (delete_endpoint_.exec() == 0) {
        return Status::NotFound("no such endpoint in this project");
      }
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "delete endpoint");
    }
  }

  Status GetEndpointForIngress(std::string_view id,
                               WebhookEndpoint* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      WebhookEndpoint row;
      {
        Reuse select(select_endpoint_any_);
        select_endpoint_any_.bind(":id", std::string(id));
        if (!select_endpoint_any_.executeStep()) {
          return Status::NotFound("no such endpoint");
        }
        ReadEndpointRow(select_endpoint_any_, &row);
      }
      ReadSetupFields(&row);
      *out = std::move(row);
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "get endpoint for ingress");
    }
  }

  Status MarkVerified(std::string_view id, int64_t at_ms,
                      const std::optional<SetupField>& secret,
                      bool* verified) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      int changed = 0;
      {
        Reuse update(mark_verified_);
        mark_verified_.bind(":id", std::string(id));
        mark_verified_.bind(":at", at_ms);
        changed = mark_verified_.exec();
      }
      if (changed == 0) {
        Reuse select(select_endpoint_any_);
        select_endpoint_any_.bind(":id", std::string(id));
        if (!select_endpoint_any_.executeStep()) {
          return Status::NotFound("no such endpoint");
        }
        *verified = false;
        return Status::Ok();  // already verified: the transaction rolls back
      }
      if (secret) {
        Reuse upsert(upsert_setup_field_);
        upsert_setup_field_.bind(":endpoint_id", std::string(id));
        upsert_setup_field_.bind(":name", secret->name);
        upsert_setup_field_.bind(
            ":value",
            secrets_.Seal(SealContext(id, secret->name), secret->value));
        upsert_setup_field_.exec();
      }
      txn.commit();
      *verified = true;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "mark verified");
    }
  }

  Status RecordEvent(const NewEvent& event, const EventRetention& retention,
                     bool* stored) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      int inserted = 0;
      {
        Reuse insert(insert_event_);
        insert_event_.bind(":id", event.id);
        insert_event_.bind(":endpoint_id", event.endpoint_id);
        insert_event_.bind(":provider_event_id", event.provider_event_id);
        insert_event_.bind(":received_at", event.received_at_ms);
        insert_event_.bind(":headers", event.headers_json);
        insert_event_.bind(":body", event.body.data(),
                           static_cast<int>(event.body.size()));
        inserted = insert_event_.exec();
      }
      if (inserted > 0 && retention.max_count_per_endpoint > 0) {
        Reuse prune(prune_events_by_count_);
        prune_events_by_count_.bind(":endpoint_id", event.endpoint_id);
        prune_events_by_count_.bind(
            ":keep", static_cast<int64_t>(retention.max_count_per_endpoint));
        prune_events_by_count_.exec();
      }
      if (inserted > 0 && retention.max_age_ms > 0) {
        Reuse prune(prune_events_by_age_);
        prune_events_by_age_.bind(":endpoint_id", event.endpoint_id);
        prune_events_by_age_.bind(":cutoff",
                                  event.received_at_ms - retention.max_age_ms);
        prune_events_by_age_.exec();
      }
      txn.commit();
      *stored = inserted > 0;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "record event");
    }
  }

  Status ListEvents(std::string_view project_id, std::string_view endpoint_id,
                    size_t limit, int64_t before_sequence,
                    std::vector<StoredEvent>* out, bool* more) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      // One read transaction: the ownership check and the rows agree.
      SQLite::Transaction txn(db_);
      WebhookEndpoint endpoint;
      if (!SelectEndpoint(project_id, endpoint_id, &endpoint)) {
        return Status::NotFound("no such endpoint in this project");
      }
      std::vector<StoredEvent> rows;
      {
        Reuse select(list_events_);
        list_events_.bind(":endpoint_id", std::string(endpoint_id));
        list_events_.bind(":before", before_sequence);
        list_events_.bind(":limit", limit == 0
                                        ? static_cast<int64_t>(-1)
                                        : static_cast<int64_t>(limit) + 1);
        while (list_events_.executeStep()) {
          StoredEvent event;
          event.sequence = list_events_.getColumn(0).getInt64();
          event.id = list_events_.getColumn(1).getString();
          event.provider_event_id = list_events_.getColumn(2).getString();
          event.received_at_ms = list_events_.getColumn(3).getInt64();
          event.headers_json = list_events_.getColumn(4).getString();
          SQLite::Column body = list_events_.getColumn(5);
          if (body.getBytes() > 0) {
            event.body.assign(static_cast<const char*>(body.getBlob()),
                              static_cast<size_t>(body.getBytes()));
          }
          rows.push_back(std::move(event));
        }
      }
      txn.commit();
      bool has_more = limit != 0 && rows.size() > limit;
      if (has_more) rows.resize(limit);
      *out = std::move(rows);
      *more = has_more;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "list events");
    }
  }

  Status AddKeyToProject(const NewApiKey& key,
                         std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::lock_guard<std::mutex> lock(mu_);
    try {
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      std::string project = key.project_id;
      bool exists = false;
      {
        Reuse select(select_project_by_name_);
        select_project_by_name_.bind(":name", key.project_name);
        if (select_project_by_name_.executeStep()) {
          project = select_project_by_name_.getColumn(0).getString();
          exists = true;
        }
      }
      if (!exists) InsertProject(project, key.project_name, key.created_at_ms);
      InsertKey(key, project);
      txn.commit();
      *project_id = project;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "add key");
    }
  }

  Status ListKeys(std::vector<ApiKeyInfo>* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      std::vector<ApiKeyInfo> keys;
      Reuse select(list_keys_);
      while (list_keys_.executeStep()) {
        ApiKeyInfo info;
        info.key_id = list_keys_.getColumn(0).getString();
        info.project_id = list_keys_.getColumn(1).getString();
        info.project_name = list_keys_.getColumn(2).getString();
        info.origin = OriginFromName(list_keys_.getColumn(3).getString());
        info.created_at_ms = list_keys_.getColumn(4).getInt64();
        if (!list_keys_.isColumnNull(5)) {
          info.revoked_at_ms = list_keys_.getColumn(5).getInt64();
        }
        keys.push_back(std::move(info));
      }
      *out = std::move(keys);
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "list keys");
    }
  }

  Status RevokeKey(std::string_view key_id, int64_t at_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      Reuse update(revoke_key_);
      revoke_key_.bind(":id", std::string(key_id));
      revoke_key_.bind(":at", at_ms);
      if (revoke_key_.exec() == 0) {
        return Status::NotFound("no active key with that id");
      }
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "revoke key");
    }
  }

  Status HasAdminKeys(bool* any) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      Reuse select(any_admin_key_);
      any_admin_key_.executeStep();
      *any = any_admin_key_.getColumn(0).getInt() != 0;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "has admin keys");
    }
  }

  Status CountRows(int64_t* endpoints, int64_t* events) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      Reuse select(count_rows_);
      count_rows_.executeStep();
      *endpoints = count_rows_.getColumn(0).getInt64();
      *events = count_rows_.getColumn(1).getInt64();
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "count rows");
    }
  }

  Status Ping() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (path_ != kMemoryPath) {
      struct stat info {};
      if (::stat(path_.c_str(), &info) != 0 || info.st_ino != inode_) {
        return Status::Unavailable("the database file is gone or replaced");
      }
      if ((info.st_mode & (S_IRUSR | S_IWUSR)) != (S_IRUSR | S_IWUSR)) {
        return Status::Unavailable(
            "the database file is not readable and "
            "writable by its owner");
      }
    }
    try {
      Reuse select(ping_);
      if (!ping_.executeStep()) return Status::Internal("ping: no row");
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "ping");
    }
  }

  Status Checkpoint() override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "checkpoint");
    }
  }

  Status FindKey(std::string_view key_digest, ApiKeyRecord* out) override {
    std::lock_guard<std::mutex> lock(mu_);
    try {
      Reuse select(select_key_);
      select_key_.bind(":key_digest", key_digest.data(),
                       static_cast<int>(key_digest.size()));
      if (!select_key_.executeStep()) {
        return Status::NotFound("unknown or revoked key");
      }
      // The index lookup found an equal digest; compare again in constant
      // time so that the contract holds whatever the index does.
      SQLite::Column stored = select_key_.getColumn(3);
      if (static_cast<size_t>(stored.getBytes()) != key_digest.size() ||
          CRYPTO_memcmp(stored.getBlob(), key_digest.data(),
                        key_digest.size()) != 0) {
        return Status::NotFound("unknown or revoked key");
      }
      ApiKeyRecord record;
      record.key_id = select_key_.getColumn(0).getString();
      record.project_id = select_key_.getColumn(1).getString();
      record.origin = OriginFromName(select_key_.getColumn(2).getString());
      record.revoked = select_key_.getColumn(4).getInt() != 0;
      *out = std::move(record);
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "find key");
    }
  }

  Status RegisterKey(const NewApiKey& key, std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::lock_guard<std::mutex> lock(mu_);
    try {
      // IMMEDIATE takes the write lock first, so the look-up and the insert
      // below see the same database even with other processes writing.
      SQLite::Transaction txn(db_, SQLite::TransactionBehavior::IMMEDIATE);
      const auto digest_size = static_cast<int>(key.key_digest.size());
      {
        Reuse select(select_any_key_);
        select_any_key_.bind(":key_digest", key.key_digest.data(), digest_size);
        if (select_any_key_.executeStep()) {
          *project_id = select_any_key_.getColumn(0).getString();
          return Status::Ok();  // the transaction rolls back: nothing to do
        }
      }
      InsertProject(key.project_id, key.project_name, key.created_at_ms);
      InsertKey(key, key.project_id);
      txn.commit();
      *project_id = key.project_id;
      return Status::Ok();
    } catch (const SQLite::Exception& e) {
      return FromSqlite(e, "register key");
    }
  }

 private:
  // Resets a cached statement and clears its bindings when the scope ends,
  // whether it ends normally or by an exception, so no statement stays
  // active (an active read statement holds back WAL checkpoints).
  class Reuse {
   public:
    explicit Reuse(SQLite::Statement& statement) : statement_(statement) {}
    Reuse(const Reuse&) = delete;
    Reuse& operator=(const Reuse&) = delete;
    ~Reuse() {
      statement_.tryReset();
      statement_.clearBindings();
    }

   private:
    SQLite::Statement& statement_;
  };

  static void ReadEndpointRow(const SQLite::Statement& row,
                              WebhookEndpoint* out) {
    out->id = row.getColumn(0).getString();
    out->project_id = row.getColumn(1).getString();
    out->toolkit_slug = row.getColumn(2).getString();
    out->client_id = row.getColumn(3).getString();
    out->webhook_url = row.getColumn(4).getString();
    out->created_at_ms = row.getColumn(5).getInt64();
    if (row.isColumnNull(6)) {
      out->verified_at_ms.reset();
    } else {
      out->verified_at_ms = row.getColumn(6).getInt64();
    }
  }

  // Guarded by mu_, inside a transaction.
  void InsertProject(const std::string& id, const std::string& name,
                     int64_t created_at_ms) {
    Reuse insert(insert_project_);
    insert_project_.bind(":id", id);
    insert_project_.bind(":name", name);
    insert_project_.bind(":created_at", created_at_ms);
    insert_project_.exec();
  }

  // Guarded by mu_, inside a transaction.
  void InsertKey(const NewApiKey& key, const std::string& project_id) {
    Reuse insert(insert_key_);
    insert_key_.bind(":id", key.key_id);
    insert_key_.bind(":project_id", project_id);
    insert_key_.bind(":key_digest", key.key_digest.data(),
                     static_cast<int>(key.key_digest.size()));
    insert_key_.bind(":origin", OriginName(key.origin));
    insert_key_.bind(":created_at", key.created_at_ms);
    insert_key_.exec();
  }

  // Reads the endpoint row (without setup fields); false if `id` is not an
  // endpoint of `project_id`. Guarded by mu_.
  bool SelectEndpoint(std::string_view project_id, std::string_view id,
                      WebhookEndpoint* out) {
    Reuse select(select_endpoint_by_id_);
    select_endpoint_by_id_.bind(":id", std::string(id));
    select_endpoint_by_id_.bind(":project_id", std::string(project_id));
    if (!select_endpoint_by_id_.executeStep()) return false;
    ReadEndpointRow(select_endpoint_by_id_, out);
    return true;
  }

  // Guarded by mu_.
  void ReadSetupFields(WebhookEndpoint* endpoint) {
    Reuse select(select_setup_fields_);
    select_setup_fields_.bind(":endpoint_id", endpoint->id);
    endpoint->setup_fields.clear();
    while (select_setup_fields_.executeStep()) {
      SetupField field;
      field.name = select_setup_fields_.getColumn(0).getString();
      if (!secrets_.Open(SealContext(endpoint->id, field.name),
                         select_setup_fields_.getColumn(1).getString(),
                         &field.value)) {
        // Converted to Internal by FromSqlite: never a garbage value.
        throw SQLite::Exception(
            "setup field '" + field.name + "' of " + endpoint->id +
                " cannot be decrypted (missing or different secrets key)",
            SQLITE_ERROR);
      }
      endpoint->setup_fields.push_back(std::move(field));
    }
  }

  const std::string path_;
  ino_t inode_ = 0;  // of the file opened; 0 for :memory:
  const SecretBox secrets_;
  std::mutex mu_;
  // Guarded by mu_. Declared first: the statements below are prepared
  // against the schema that OpenDatabase applies.
  SQLite::Database db_;
  SQLite::Statement insert_endpoint_;
  SQLite::Statement select_endpoint_by_triple_;
  SQLite::Statement select_endpoint_by_id_;
  SQLite::Statement list_endpoints_;
  SQLite::Statement upsert_setup_field_;
  SQLite::Statement delete_setup_fields_;
  SQLite::Statement delete_endpoint_;
  SQLite::Statement select_endpoint_any_;
  SQLite::Statement mark_verified_;
  SQLite::Statement insert_event_;
  SQLite::Statement prune_events_by_count_;
  SQLite::Statement prune_events_by_age_;
  SQLite::Statement list_events_;
  SQLite::Statement ping_;
  SQLite::Statement count_rows_;
  SQLite::Statement select_project_by_name_;
  SQLite::Statement list_keys_;
  SQLite::Statement revoke_key_;
  SQLite::Statement any_admin_key_;
  SQLite::Statement select_setup_fields_;
  SQLite::Statement select_key_;
  SQLite::Statement insert_project_;
  SQLite::Statement insert_key_;
  SQLite::Statement select_any_key_;
};

}  // namespace

Status OpenSqliteStore(const std::string& path, const StoreOptions& options,
                       std::unique_ptr<Store>* store) {
  if (!options.secrets_key.empty() && options.secrets_key.size() != 32) {
    return Status::InvalidArgument("the secrets key must be 32 bytes");
  }
  try {
    *store = std::make_unique<SqliteStore>(path, options);
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    return Status::Unavailable("cannot open database '" + path +
                               "': " + e.what());
  }
}

Status BackupSqliteDatabase(const std::string& from, const std::string& to) {
  struct stat existing {};
  if (::stat(to.c_str(), &existing) == 0) {
    return Status::InvalidArgument("'" + to +
                                   "' exists; back up to a new file");
  }
  try {
    SQLite::Database source(from, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    CreateFilePrivately(to);
    SQLite::Database target(to, SQLite::OPEN_READWRITE, kBusyTimeoutMs);
    SQLite::Backup backup(target, source);
    // All pages in one step: the copy is one consistent snapshot.
    backup.executeStep(-1);
    target.exec("PRAGMA journal_mode = DELETE");
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    ::unlink(to.c_str());
    return Status::Internal("backup of '" + from + "' to '" + to +
                            "' failed: " + e.what());
  }
}

Status CheckSqliteDatabase(const std::string& path,
                           std::vector<std::string>* problems) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return Status::NotFound("'" + path + "' is not a database file");
  }
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY, kBusyTimeoutMs);
    SQLite::Statement check(db, "PRAGMA integrity_check");
    problems->clear();
    while (check.executeStep()) {
      std::string line = check.getColumn(0).getString();
      if (line != "ok") problems->push_back(std::move(line));
    }
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    if (e.getErrorCode() == SQLITE_CORRUPT ||
        e.getErrorCode() == SQLITE_NOTADB) {
      problems->assign({std::string("not a sound database: ") + e.what()});
      return Status::Ok();
    }
    return Status::Unavailable("cannot check '" + path + "': " + e.what());
  }
}

}  // namespace webhooks
