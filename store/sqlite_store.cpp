// SqliteStore: the Store interface on SQLite through SQLiteCpp, one method
// per use case, and OpenSqliteStore. With the backend's other files
// (store/sqlite_*.{h,cpp}: the database file, the statement table, the
// connections, setup values sealed at rest), the only code that includes
// SQLiteCpp or sqlite3.h; every SQLite::Exception becomes a Status in
// StatusFromSqlite().
//
// A file database has one write connection, owned by a writer thread that
// commits concurrent writes together (GroupCommit), a pool of read
// connections that read beside it (WAL), and a background checkpointer.
// ":memory:" is a separate database per connection, so there the writer
// runs the reads too.

#include "store/sqlite_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/secret_box.h"
#include "store/sqlite_connections.h"
#include "store/sqlite_database.h"
#include "store/sqlite_deliveries.h"
#include "store/sqlite_keys.h"
#include "store/sqlite_secrets.h"
#include "store/sqlite_statements.h"
#include "store/sqlite_subscriptions.h"
#include "util/background_loop.h"
#include "util/time.h"

namespace webhooks {
namespace {

using sqlite_internal::AddKeyToNamedProject;
using sqlite_internal::AnyAdminKey;
using sqlite_internal::DeleteOldestEvents;
using sqlite_internal::kMemoryPath;
using sqlite_internal::kRunningSetting;
using sqlite_internal::OpenDatabase;
using sqlite_internal::PruneOverCount;
using sqlite_internal::ReadEndpointRow;
using sqlite_internal::RegisterKeyRow;
using sqlite_internal::RevokeKeyRow;
using sqlite_internal::SecretsAtRest;
using sqlite_internal::SelectEndpoint;
using sqlite_internal::SelectKeyByDigest;
using sqlite_internal::SelectKeys;
using sqlite_internal::Sql;
using sqlite_internal::Use;
using sqlite_internal::WhyUnopenable;

// Idempotency does not rest on the writer thread but on UNIQUE constraints,
// so it also holds against other processes writing the same file.
class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, const StoreOptions& options)
      : path_(path), secrets_(path, options.secrets_key) {
    auto writer = std::make_unique<Connection>(OpenDatabase(
        path, options.track_clean_stop, &full_check_at_open_, &running_token_));
    if (path != kMemoryPath) {
      checkpointer_ = std::make_unique<Checkpointer>(
          Connection::OpenExisting(path, /*reader=*/false));
      checkpointer_->WatchWriter(*writer);
      // ":memory:" is a separate database per connection: there, reads go
      // through the writer too.
      readers_ = std::make_unique<ReaderPool>(path, options.read_connections);
      struct stat info {};
      if (::stat(path.c_str(), &info) == 0) inode_ = info.st_ino;
    }
    GroupCommit::Upkeep upkeep;
    if (checkpointer_) {
      upkeep.due = [checkpointer = checkpointer_.get()] {
        return checkpointer->CatchUpDue();
      };
      upkeep.run = [checkpointer = checkpointer_.get()](Connection& c) {
        checkpointer->CatchUp(c);
      };
    }
    writer_ =
        std::make_unique<GroupCommit>(std::move(writer), std::move(upkeep));
    if (options.background_retention) {
      pruner_ = std::make_unique<BackgroundLoop>(
          std::chrono::milliseconds(kPruneIntervalMs),
          [this, retention = *options.background_retention] {
            bool more = false;
            // A failure (busy, a full disk) is tried again at the next look.
            return PruneEvents(retention, NowMillis(), kPruneSliceRows, &more)
                       .ok() &&
                   more;
          });
    }
  }

  Status CreateEndpoint(const NewEndpoint& params, WebhookEndpoint* out,
                        bool* created) override {
    WebhookEndpoint row;
    bool found = false;
    // A known triple (a retry, an idempotent re-run) is answered from a
    // reader, without waiting for the writer; but only while recent creates
    // found their triple: a run of new ones would pay a read transaction
    // each for nothing (a tenth of a create's CPU at 64 connections). The
    // writer looks the triple up too, so skipping this changes no answer.
    const bool look_first =
        readers_ && known_triple_score_.load(std::memory_order_relaxed) > 0;
    if (look_first) {
      Status status = Read("create endpoint", [&](Connection& c) {
        found = SelectByTriple(c, params, &row);
        return Status::Ok();
      });
      if (!status.ok()) return status;
      if (found) {
        ScoreKnownTriple(true);
        *out = std::move(row);
        *created = false;
        return Status::Ok();
      }
    }
    bool inserted = false;
    Status status = writer_->Run("create endpoint", [&](Connection& c) {
      Use insert(c, Sql::kInsertEndpoint);
      insert->bind(":id", params.id);
      insert->bind(":project_id", params.project_id);
      insert->bind(":toolkit_slug", params.toolkit_slug);
      insert->bind(":client_id", params.client_id);
      insert->bind(":webhook_url", params.webhook_url);
      insert->bind(":created_at", params.created_at_ms);
      // RETURNING yields no row when DO NOTHING fired: the triple exists.
      if (insert->executeStep()) {
        ReadEndpointRow(*insert, &row);
        inserted = true;
        // Step to completion so the statement finishes before COMMIT.
        while (insert->executeStep()) {
        }
        return Status::Ok();
      }
      if (!SelectByTriple(c, params, &row)) {
        return Status::Internal("create: conflict without an existing row");
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    ScoreKnownTriple(!inserted);
    *out = std::move(row);
    *created = inserted;
    return Status::Ok();
  }

  Status GetEndpoint(std::string_view project_id, std::string_view id,
                     WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Read("get endpoint", [&](Connection& c) {
      Use select(c, Sql::kSelectEndpointByIdWithFields);
      select->bind(":id", std::string(id));
      select->bind(":project_id", std::string(project_id));
      if (!ReadEndpointWithFields(*select, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status ListEndpoints(const ListQuery& query,
                       std::vector<EndpointListItem>* out,
                       bool* more) override {
    std::vector<EndpointListItem> rows;
    Status status = Read("list endpoints", [&](Connection& c) {
      Use select(c, Sql::kListEndpoints);
      select->bind(":project_id", query.project_id);
      if (query.toolkit_slug)
        select->bind(":toolkit_slug", *query.toolkit_slug);
      if (query.after) {
        select->bind(":after_created_at", query.after->created_at_ms);
        select->bind(":after_id", query.after->id);
      }
      // Growing the vector row by row moved every endpoint ten times over.
      rows.reserve(query.limit == 0 ? 256 : query.limit + 1);
      // One row past the limit tells whether more follow; -1 is no limit.
      select->bind(":limit", query.limit == 0
                                 ? static_cast<int64_t>(-1)
                                 : static_cast<int64_t>(query.limit) + 1);
      if (!select->executeStep()) return Status::Ok();
      // One Column per column for the whole list, not one per value: each
      // reads the row the statement is on, and making one copies a
      // shared_ptr (two atomic operations), 6% of a list's CPU time.
      const SQLite::Column id = select->getColumn(0);
      const SQLite::Column toolkit_slug = select->getColumn(1);
      const SQLite::Column client_id = select->getColumn(2);
      const SQLite::Column created_at = select->getColumn(3);
      do {
        EndpointListItem& item = rows.emplace_back();
        item.id = id.getString();
        item.toolkit_slug = toolkit_slug.getString();
        item.client_id = client_id.getString();
        item.created_at_ms = created_at.getInt64();
      } while (select->executeStep());
      return Status::Ok();
    });
    if (!status.ok()) return status;
    bool has_more = query.limit != 0 && rows.size() > query.limit;
    if (has_more) rows.resize(query.limit);
    *out = std::move(rows);
    *more = has_more;
    return Status::Ok();
  }

  Status UpdateSetupFields(std::string_view project_id, std::string_view id,
                           const std::vector<SetupField>& fields, bool replace,
                           WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = writer_->Run("update setup fields", [&](Connection& c) {
      if (!SelectEndpoint(c, project_id, id, &row)) {
        return Status::NotFound("no such endpoint in this project");
      }
      if (replace) {
        Use remove(c, Sql::kDeleteSetupFields);
        remove->bind(":endpoint_id", row.id);
        remove->exec();
      }
      for (const SetupField& field : fields) {
        Use upsert(c, Sql::kUpsertSetupField);
        upsert->bind(":endpoint_id", row.id);
        upsert->bind(":name", field.name);
        upsert->bind(
            ":value",
            secrets_.Seal(SetupFieldContext(row.id, field.name), field.value));
        upsert->exec();
      }
      ReadSetupFields(c, &row);
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status DeleteEndpoint(std::string_view project_id,
                        std::string_view id) override {
    Status status = writer_->Run("delete endpoint", [&](Connection& c) {
      {
        Use remove(c, Sql::kDeleteEndpoint);
        remove->bind(":id", std::string(id));
        remove->bind(":project_id", std::string(project_id));
        if (remove->exec() == 0) {
          return Status::NotFound("no such endpoint in this project");
        }
      }
      // Its events stay, listed for the pruner: deleting them here held the
      // one writer (and so every project's writes) for as long as they took.
      Use purge(c, Sql::kInsertPurge);
      purge->bind(":endpoint_id", std::string(id));
      purge->exec();
      return Status::Ok();
    });
    if (status.ok() && pruner_) pruner_->Wake();
    return status;
  }

  Status ResetProject(std::string_view project_id) override {
    Status status = writer_->Run("reset project", [&](Connection& c) {
      // Deliveries before their events' purge is listed: the body-keeping
      // trigger then finds no delivery to copy a body into.
      for (Sql sql : {Sql::kResetDeliveryAttempts, Sql::kResetDeliveries,
                      Sql::kResetSubscriptions, Sql::kResetPurges,
                      Sql::kResetEndpoints}) {
        Use statement(c, sql);
        statement->bind(":project_id", std::string(project_id));
        statement->exec();
      }
      return Status::Ok();
    });
    if (status.ok() && pruner_) pruner_->Wake();
    return status;
  }

  Status GetEndpointForIngress(std::string_view id,
                               WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = Read("get endpoint for ingress", [&](Connection& c) {
      Use select(c, Sql::kSelectEndpointAnyWithFields);
      select->bind(":id", std::string(id));
      if (!ReadEndpointWithFields(*select, &row)) {
        return Status::NotFound("no such endpoint");
      }
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status MarkVerified(std::string_view id, int64_t at_ms,
                      const std::optional<SetupField>& secret,
                      bool* verified) override {
    bool changed = false;
    Status status = writer_->Run("mark verified", [&](Connection& c) {
      {
        Use update(c, Sql::kMarkVerified);
        update->bind(":id", std::string(id));
        update->bind(":at", at_ms);
        changed = update->exec() > 0;
      }
      if (!changed) {
        Use select(c, Sql::kSelectEndpointAny);
        select->bind(":id", std::string(id));
        if (!select->executeStep()) return Status::NotFound("no such endpoint");
        return Status::Ok();  // verified already: nothing written
      }
      if (secret) {
        Use upsert(c, Sql::kUpsertSetupField);
        upsert->bind(":endpoint_id", std::string(id));
        upsert->bind(":name", secret->name);
        upsert->bind(
            ":value",
            secrets_.Seal(SetupFieldContext(id, secret->name), secret->value));
        upsert->exec();
      }
      return Status::Ok();
    });
    if (status.ok()) *verified = changed;
    return status;
  }

  Status ResetVerification(std::string_view project_id, std::string_view id,
                           const std::optional<std::string>& secret_field,
                           WebhookEndpoint* out) override {
    WebhookEndpoint row;
    Status status = writer_->Run("reset verification", [&](Connection& c) {
      {
        Use update(c, Sql::kResetVerified);
        update->bind(":id", std::string(id));
        update->bind(":project_id", std::string(project_id));
        if (update->exec() == 0) {
          return Status::NotFound("no such endpoint in this project");
        }
      }
      if (secret_field) {
        Use remove(c, Sql::kDeleteSetupField);
        remove->bind(":endpoint_id", std::string(id));
        remove->bind(":name", *secret_field);
        remove->exec();
      }
      if (!SelectEndpoint(c, project_id, id, &row)) {
        return Status::Internal("endpoint gone inside its transaction");
      }
      ReadSetupFields(c, &row);
      return Status::Ok();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  Status RecordEvent(const NewEvent& event, const EventRetention& retention,
                     bool* stored,
                     std::optional<ClaimedDelivery>* claimed) override {
    bool inserted = false;
    std::optional<ClaimedDelivery> claim;
    Status status = writer_->Run("record event", [&](Connection& c) {
      {
        Use insert(c, Sql::kInsertEvent);
        insert->bind(":id", event.id);
        insert->bind(":endpoint_id", event.endpoint_id);
        insert->bind(":provider_event_id", event.provider_event_id);
        insert->bind(":received_at", event.received_at_ms);
        insert->bind(":headers", event.headers_json);
        insert->bind(":body", event.body.data(),
                     static_cast<int>(event.body.size()));
        try {
          inserted = insert->exec() > 0;
        } catch (const SQLite::Exception& e) {
          // The endpoint was deleted since the ingress read it: the answer
          // an endpoint that never existed gets, not a failure.
          if (e.getExtendedErrorCode() != SQLITE_CONSTRAINT_FOREIGNKEY) throw;
          return Status::NotFound("no such endpoint");
        }
      }
      if (inserted && event.delivery) {
        // The outbox. The event's seq is its rowid, just inserted (the
        // counting trigger's insert does not change it once it returns).
        const bool delivered = sqlite_internal::InsertDeliveryForEvent(
            c, event, c.db().getLastInsertRowid());
        if (delivered && claimed != nullptr &&
            event.delivery->claim_lease_ms > 0) {
          claim = sqlite_internal::ClaimedAtInsert(c, secrets_, event);
        }
      }
      if (inserted && retention.max_count_per_endpoint > 0) {
        PruneOverCount(c, event.endpoint_id, retention.max_count_per_endpoint);
      }
      return Status::Ok();
    });
    if (status.ok()) *stored = inserted;
    if (status.ok() && claimed != nullptr) *claimed = std::move(claim);
    return status;
  }

  Status ListEvents(std::string_view project_id, std::string_view endpoint_id,
                    size_t limit, int64_t before_sequence, size_t max_bytes,
                    std::vector<StoredEvent>* out, bool* more) override {
    std::vector<StoredEvent> rows;
    bool has_more = false;
    // One read transaction: the ownership check and the rows agree.
    Status status = ReadSnapshot("list events", [&](Connection& c) {
      WebhookEndpoint endpoint;
      if (!SelectEndpoint(c, project_id, endpoint_id, &endpoint)) {
        return Status::NotFound("no such endpoint in this project");
      }
      Use select(c, Sql::kListEvents);
      select->bind(":endpoint_id", std::string(endpoint_id));
      select->bind(":before", before_sequence);
      select->bind(":limit", limit == 0 ? static_cast<int64_t>(-1)
                                        : static_cast<int64_t>(limit) + 1);
      size_t bytes = 0;
      while (select->executeStep()) {
        SQLite::Column headers = select->getColumn(4);
        SQLite::Column body = select->getColumn(5);
        const size_t size = static_cast<size_t>(headers.getBytes()) +
                            static_cast<size_t>(body.getBytes());
        // The row past the limit, or past the byte bound, is not copied:
        // it only tells that more follow.
        if ((limit != 0 && rows.size() == limit) ||
            (max_bytes != 0 && !rows.empty() && bytes + size > max_bytes)) {
          has_more = true;
          break;
        }
        bytes += size;
        StoredEvent& event = rows.emplace_back();
        event.sequence = select->getColumn(0).getInt64();
        event.id = select->getColumn(1).getString();
        event.provider_event_id = select->getColumn(2).getString();
        event.received_at_ms = select->getColumn(3).getInt64();
        event.headers_json = headers.getString();
        if (body.getBytes() > 0) {
          event.body.assign(static_cast<const char*>(body.getBlob()),
                            static_cast<size_t>(body.getBytes()));
        }
      }
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *out = std::move(rows);
    *more = has_more;
    return Status::Ok();
  }

  Status PruneEvents(const EventRetention& retention, int64_t now_ms,
                     size_t max_rows, bool* more) override {
    bool worked = false;
    Status status = writer_->Run("prune events", [&](Connection& c) {
      worked = false;
      int64_t budget = static_cast<int64_t>(max_rows);
      std::optional<std::string> purged;
      {
        Use select(c, Sql::kSelectPurge);
        if (select->executeStep()) purged = select->getColumn(0).getString();
      }
      if (purged) {
        const int64_t deleted = DeleteOldestEvents(c, *purged, budget);
        budget -= deleted;
        worked = true;
        if (budget > 0) {  // fewer than asked for: none are left
          Use done(c, Sql::kDeletePurge);
          done->bind(":endpoint_id", *purged);
          done->exec();
        }
      }
      if (budget > 0 && retention.max_age_ms > 0) {
        Use remove(c, Sql::kDeleteAgedEvents);
        remove->bind(":cutoff", now_ms - retention.max_age_ms);
        remove->bind(":limit", budget);
        const int64_t deleted = remove->exec();
        // Finished deliveries share what the events left of the budget.
        budget -= deleted;
        if (deleted + sqlite_internal::PruneFinishedDeliveries(
                          c, now_ms - retention.max_age_ms, budget) >
            0) {
          worked = true;
        }
      }
      return Status::Ok();
    });
    if (status.ok()) *more = worked;
    return status;
  }

  Status AddKeyToProject(const NewApiKey& key, ProjectChoice choice,
                         std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::string project;
    Status status = writer_->Run("add key", [&](Connection& c) {
      return AddKeyToNamedProject(c, key, choice, &project);
    });
    if (status.ok()) *project_id = project;
    return status;
  }

  // ---- Subscriptions (issue 14): wrappers over store/sqlite_subscriptions.

  Status CreateSubscription(const WebhookSubscription& subscription,
                            WebhookSubscription* out) override {
    WebhookSubscription row;
    bool inserted = false;
    Status status = writer_->Run("create subscription", [&](Connection& c) {
      inserted =
          sqlite_internal::InsertSubscription(c, secrets_, subscription, &row);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *out = std::move(row);
    return inserted ? Status::Ok()
                    : Status::Conflict("the project has a subscription");
  }
  Status GetSubscription(std::string_view project_id, std::string_view id,
                         WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status = Read("get subscription", [&](Connection& c) {
      return sqlite_internal::SelectSubscription(c, secrets_, project_id, id,
                                                 &row)
                 ? Status::Ok()
                 : NoSuchSubscription();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }
  Status ListSubscriptions(std::string_view project_id,
                           std::vector<WebhookSubscription>* out) override {
    return Read("list subscriptions", [&](Connection& c) {
      *out =
          sqlite_internal::SelectProjectSubscriptions(c, secrets_, project_id);
      return Status::Ok();
    });
  }
  Status UpdateSubscription(std::string_view project_id, std::string_view id,
                            const SubscriptionChanges& changes,
                            WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status = writer_->Run("update subscription", [&](Connection& c) {
      return sqlite_internal::UpdateSubscription(c, secrets_, project_id, id,
                                                 changes, &row)
                 ? Status::Ok()
                 : NoSuchSubscription();
    });
    if (status.ok()) *out = std::move(row);
    return status;
  }
  Status DeleteSubscription(std::string_view project_id, std::string_view id,
                            int64_t now_ms) override {
    return writer_->Run("delete subscription", [&](Connection& c) {
      return sqlite_internal::DeleteSubscription(c, project_id, id, now_ms)
                 ? Status::Ok()
                 : NoSuchSubscription();
    });
  }
  Status RotateSubscriptionSecret(std::string_view project_id,
                                  std::string_view id,
                                  const std::string& secret, int64_t now_ms,
                                  WebhookSubscription* out) override {
    WebhookSubscription row;
    Status status =
        writer_->Run("rotate subscription secret", [&](Connection& c) {
          return sqlite_internal::RotateSubscriptionSecret(
                     c, secrets_, project_id, id, secret, now_ms, &row)
                     ? Status::Ok()
                     : NoSuchSubscription();
        });
    if (status.ok()) *out = std::move(row);
    return status;
  }

  // ---- Deliveries (issue 14): wrappers over store/sqlite_deliveries,
  // which set their outputs only when they return Ok.

  Status ListDeliveries(const DeliveryListQuery& query,
                        std::vector<DeliveryRecord>* out, bool* more) override {
    return ReadSnapshot("list deliveries", [&](Connection& c) {
      return sqlite_internal::ListDeliveries(c, query, out, more);
    });
  }
  Status CountActivity(std::string_view project_id, int64_t since_ms,
                       int64_t bucket_ms,
                       std::vector<ActivityBucket>* out) override {
    return ReadSnapshot("count activity", [&](Connection& c) {
      return sqlite_internal::CountActivity(c, project_id, since_ms, bucket_ms,
                                            out);
    });
  }
  Status GetDelivery(std::string_view project_id, std::string_view id,
                     std::string_view delivery_id, DeliveryRecord* out,
                     std::vector<DeliveryAttempt>* attempts) override {
    return ReadSnapshot("get delivery", [&](Connection& c) {
      return sqlite_internal::GetDelivery(c, project_id, id, delivery_id, out,
                                          attempts);
    });
  }
  Status ResendDelivery(std::string_view project_id, std::string_view id,
                        std::string_view delivery_id, int64_t now_ms,
                        int* attempt) override {
    return writer_->Run("resend delivery", [&](Connection& c) {
      return sqlite_internal::ResendDelivery(c, project_id, id, delivery_id,
                                             now_ms, attempt);
    });
  }
  Status RecoverDeliveries(std::string_view project_id, std::string_view id,
                           int64_t since_ms, int64_t until_ms, int64_t now_ms,
                           int64_t* scheduled) override {
    return writer_->Run("recover deliveries", [&](Connection& c) {
      return sqlite_internal::RecoverDeliveries(c, project_id, id, since_ms,
                                                until_ms, now_ms, scheduled);
    });
  }
  Status ClaimDeliveries(int64_t now_ms, int64_t lease_ms, size_t max,
                         std::vector<ClaimedDelivery>* out) override {
    return FinishAndClaim({}, now_ms, lease_ms, max, out);
  }
  Status FinishAttempts(const std::vector<AttemptOutcome>& outcomes,
                        int64_t now_ms) override {
    return writer_->Run("finish attempts", [&](Connection& c) {
      return sqlite_internal::FinishAttempts(c, outcomes, now_ms);
    });
  }
  Status FinishAndClaim(const std::vector<AttemptOutcome>& outcomes,
                        int64_t now_ms, int64_t lease_ms, size_t max,
                        std::vector<ClaimedDelivery>* out) override {
    Status status = writer_->Run("finish and claim", [&](Connection& c) {
      sqlite_internal::FinishAttempts(c, outcomes, now_ms);  // throws
      return sqlite_internal::ClaimDeliveries(c, secrets_, now_ms, lease_ms,
                                              max, out);
    });
    if (!status.ok()) out->clear();  // rolled back, the claims with it
    return status;
  }
  Status ReleaseLeases(int64_t now_ms) override {
    return writer_->Run("release leases", [&](Connection& c) {
      return sqlite_internal::ReleaseLeases(c, now_ms);
    });
  }
  Status NextDeliveryDue(std::optional<int64_t>* at_ms) override {
    return Read("next delivery due", [&](Connection& c) {
      return sqlite_internal::NextDeliveryDue(c, at_ms);
    });
  }
  Status CountDeliveryQueue(int64_t now_ms, DeliveryQueueStats* out) override {
    return Read("count delivery queue", [&](Connection& c) {
      return sqlite_internal::CountDeliveryQueue(c, now_ms, out);
    });
  }

  Status ListKeys(std::vector<ApiKeyInfo>* out) override {
    return Read("list keys", [&](Connection& c) {
      *out = SelectKeys(c);
      return Status::Ok();
    });
  }

  Status RevokeKey(std::string_view key_id, int64_t at_ms) override {
    return writer_->Run("revoke key", [&](Connection& c) {
      return RevokeKeyRow(c, key_id, at_ms);
    });
  }

  Status HasAdminKeys(bool* any) override {
    return Read("has admin keys", [&](Connection& c) {
      *any = AnyAdminKey(c);
      return Status::Ok();
    });
  }

  Status CountRows(int64_t* endpoints, int64_t* events) override {
    int64_t endpoint_count = 0, event_count = 0;
    Status status = Read("count rows", [&](Connection& c) {
      Use select(c, Sql::kCountRows);
      select->executeStep();
      endpoint_count = select->getColumn(0).getInt64();
      event_count = select->getColumn(1).getInt64();
      return Status::Ok();
    });
    if (!status.ok()) return status;
    *endpoints = endpoint_count;
    *events = event_count;
    return Status::Ok();
  }

  Status Ping() override {
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
    return Read("ping", [&](Connection& c) {
      Use select(c, Sql::kPing);
      if (!select->executeStep()) return Status::Internal("ping: no row");
      return Status::Ok();
    });
  }

  Status CheckSecretsKey() override {
    // Usually the record decides, on a reader, without waiting for writes.
    std::optional<std::string> recorded;
    Status status = Read("check secrets key", [&](Connection& c) {
      recorded = SecretsAtRest::SelectKeyCheck(c);
      return Status::Ok();
    });
    if (!status.ok()) return status;
    if (recorded && !secrets_.NeedsAdoption(*recorded)) {
      return secrets_.JudgeKeyCheck(*recorded);
    }
    return writer_->Run("record secrets key", [&](Connection& c) {
      // Read again in the write transaction: another process may have
      // recorded a key since.
      std::optional<std::string> now = SecretsAtRest::SelectKeyCheck(c);
      if (now && !secrets_.NeedsAdoption(*now)) {
        return secrets_.JudgeKeyCheck(*now);
      }
      if (!now) {
        Status legacy = secrets_.JudgeFirstSealedValue(c);
        if (!legacy.ok()) return legacy;
      }
      if (secrets_.enabled()) secrets_.SealClearValues(c);
      secrets_.RecordKeyCheck(c);
      return Status::Ok();
    });
  }

  Status Checkpoint() override {
    // A slice running meanwhile would make the checkpoint wait for it.
    pruner_.reset();
    return checkpointer_ ? checkpointer_->Truncate() : Status::Ok();
  }

  bool FullCheckAtOpen() override { return full_check_at_open_; }

  Status RecordCleanStop() override {
    if (running_token_.empty()) return Status::Ok();
    Status status = writer_->Run("record clean stop", [&](Connection& c) {
      Use remove(c, Sql::kDeleteRunningSetting);
      remove->bind(":name", kRunningSetting);
      remove->bind(":value", running_token_);
      remove->exec();
      return Status::Ok();
    });
    if (status.ok()) running_token_.clear();
    return status;
  }

  Status FindKey(std::string_view key_digest, ApiKeyRecord* out) override {
    ApiKeyRecord record;
    Status status = Read("find key", [&](Connection& c) {
      return SelectKeyByDigest(c, key_digest, &record);
    });
    if (status.ok()) *out = std::move(record);
    return status;
  }

  Status RegisterKey(const NewApiKey& key, std::string* project_id) override {
    if (key.key_digest.size() != 32) {
      return Status::InvalidArgument("key digest must be 32 bytes");
    }
    std::string project;
    // The writer's transaction is IMMEDIATE: the look-up and the insert see
    // the same database even with other processes writing.
    Status status = writer_->Run("register key", [&](Connection& c) {
      project = RegisterKeyRow(c, key);
      return Status::Ok();
    });
    if (status.ok()) *project_id = project;
    return status;
  }

 private:
  static Status NoSuchSubscription() {
    return Status::NotFound("no such subscription in this project");
  }

  // Counts a create's outcome towards known_triple_score_.
  void ScoreKnownTriple(bool known) {
    // Racing updates may lose a step; the score is only a hint.
    const int score = known_triple_score_.load(std::memory_order_relaxed);
    known_triple_score_.store(known ? std::min(score + 1, kKnownTripleScoreMax)
                                    : std::max(score - 1, 0),
                              std::memory_order_relaxed);
  }

  // Reads run on the reader pool, or, for ":memory:", on the writer.
  // Runs `work`, which runs one statement, on a reader.
  Status Read(const char* operation, ConnectionWork work) {
    return readers_ ? readers_->Run(operation, work, /*snapshot=*/false)
                    : writer_->Run(operation, work);
  }

  // Runs `work`, which runs several statements, on a reader, in one read
  // transaction so that they all see the same database.
  Status ReadSnapshot(const char* operation, ConnectionWork work) {
    return readers_ ? readers_->Run(operation, work, /*snapshot=*/true)
                    : writer_->Run(operation, work);
  }

  // The endpoint of params' triple with its setup fields; false if none.
  bool SelectByTriple(Connection& c, const NewEndpoint& params,
                      WebhookEndpoint* out) const {
    Use select(c, Sql::kSelectEndpointByTriple);
    select->bind(":project_id", params.project_id);
    select->bind(":toolkit_slug", params.toolkit_slug);
    select->bind(":client_id", params.client_id);
    return ReadEndpointWithFields(*select, out);
  }

  // Reads a "with fields" statement to its end; false if it has no row.
  bool ReadEndpointWithFields(SQLite::Statement& rows,
                              WebhookEndpoint* out) const {
    if (!rows.executeStep()) return false;
    ReadEndpointRow(rows, out);
    out->setup_fields.clear();
    do {
      if (rows.isColumnNull(7)) continue;  // the endpoint has no fields
      secrets_.AppendSetupField(rows.getColumn(7).getString(),
                                rows.getColumn(8).getString(), out);
    } while (rows.executeStep());
    return true;
  }

  void ReadSetupFields(Connection& c, WebhookEndpoint* endpoint) const {
    Use select(c, Sql::kSelectSetupFields);
    select->bind(":endpoint_id", endpoint->id);
    endpoint->setup_fields.clear();
    while (select->executeStep()) {
      secrets_.AppendSetupField(select->getColumn(0).getString(),
                                select->getColumn(1).getString(), endpoint);
    }
  }

  const std::string path_;
  ino_t inode_ = 0;  // of the file opened; 0 for :memory:
  bool full_check_at_open_ = false;
  // This open's kRunningSetting value; empty if it records none, or once
  // RecordCleanStop deleted it.
  std::string running_token_;
  const SecretsAtRest secrets_;
  // Declared before writer_, which is destroyed first: the writer's WAL
  // hook points at the checkpointer. Both are null for ":memory:".
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<GroupCommit> writer_;
  // Whether creates look their triple up on a reader first: up one for
  // each recent create that found its triple, down one for each that made
  // a new endpoint; they look while it is above 0. One known triple after a
  // run of new ones is enough to look again.
  static constexpr int kKnownTripleScoreMax = 8;
  std::atomic<int> known_triple_score_{kKnownTripleScoreMax};
  // Declared last, so stopped first: its slices run on the writer. Null
  // without StoreOptions::background_retention, and after Checkpoint().
  std::unique_ptr<BackgroundLoop> pruner_;
};

}  // namespace

Status OpenSqliteStore(const std::string& path, const StoreOptions& options,
                       std::unique_ptr<Store>* store) {
  if (!options.secrets_key.empty() &&
      options.secrets_key.size() != SecretBox::kKeyBytes) {
    return Status::InvalidArgument("the secrets key must be 32 bytes");
  }
  try {
    *store = std::make_unique<SqliteStore>(path, options);
    return Status::Ok();
  } catch (const SQLite::Exception& e) {
    return Status::Unavailable("cannot open database '" + path +
                               "': " + e.what() + WhyUnopenable(path));
  }
}

Status MigrateSqliteDatabase(const std::string& path, int* from, int* to) {
  int found = 0;
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) {
    try {
      SQLite::Database db(path, SQLite::OPEN_READONLY);
      found = db.execAndGet("PRAGMA user_version").getInt();
    } catch (const SQLite::Exception& e) {
      return Status::Unavailable("cannot read database '" + path +
                                 "': " + e.what() + WhyUnopenable(path));
    }
  }
  // Opening applies the schema: the migrations run there, as at a start.
  std::unique_ptr<Store> store;
  if (Status status = OpenSqliteStore(path, &store); !status.ok()) {
    return status;
  }
  *from = found;
  *to = sqlite_internal::kSchemaVersion;
  return Status::Ok();
}

}  // namespace webhooks
