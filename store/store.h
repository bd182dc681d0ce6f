// The persistence interface of webhooks-server: plain records, a Status for
// outcomes, options, and an abstract Store. No backend type (SQLite,
// SQLiteCpp, SQL) appears here: each backend declares its factory in a
// header of its own (store/sqlite_store.h), which only the composition root
// and the backend's own tests include, so a second backend is new files and
// no code written against Store changes.

#ifndef WEBHOOKS_STORE_STORE_H_
#define WEBHOOKS_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace webhooks {

// One stored setup field of an endpoint, in clear. Masking is the API's job.
struct SetupField {
  std::string name;
  std::string value;
};

// A webhook endpoint as stored. Times are milliseconds since the Unix epoch.
struct WebhookEndpoint {
  std::string id;
  std::string project_id;
  std::string toolkit_slug;
  std::string client_id;
  // The webhook_url at creation. No longer read: the API writes the
  // server's current public base plus the endpoint's path (api/resources,
  // WebhookUrlOf), so a restart with another --public-url moves every URL.
  // Kept so that the schema, and older servers on the same database, stay
  // as they were.
  std::string webhook_url;
  int64_t created_at_ms = 0;
  std::optional<int64_t> verified_at_ms;  // unset until a provider handshake
  std::vector<SetupField> setup_fields;   // sorted by name; empty: none stored
};

// What CreateEndpoint needs. The caller chooses the id, the URL and the time;
// they are used only if the (project_id, toolkit_slug, client_id) triple is
// new.
struct NewEndpoint {
  std::string id;
  std::string project_id;
  std::string toolkit_slug;  // already normalised (lower case)
  std::string client_id;
  std::string webhook_url;
  int64_t created_at_ms = 0;
};

// A position in a project's endpoint list, which is ordered by
// (created_at, id): the list continues after this endpoint.
struct EndpointCursor {
  int64_t created_at_ms = 0;
  std::string id;
};

// One endpoint as a list shows it: what identifies it and orders it. Not a
// WebhookEndpoint: a list of 1,000 is built by many requests at once, and
// the fields a list never shows (URL, project, setup fields) made up most
// of its memory.
struct EndpointListItem {
  std::string id;
  std::string toolkit_slug;
  std::string client_id;
  int64_t created_at_ms = 0;
};

// What ListEndpoints returns.
struct ListQuery {
  std::string project_id;
  std::optional<std::string> toolkit_slug;  // unset: every toolkit
  size_t limit = 0;                         // 0: no limit
  std::optional<EndpointCursor> after;      // unset: from the start
};

// What the ingress adds to a new event so that it is delivered: the trigger
// message's fields that come from the catalog. RecordEvent uses it only if
// the endpoint's project has a subscription to kTriggerMessageEvent.
struct NewDelivery {
  std::string id;          // ours, "dlv_..."
  std::string message_id;  // "msg_...": the webhook-id of every attempt
  std::string trigger_slug;
  std::string user_id;       // the provider's user, or ""
  std::string content_type;  // of the event's body, as received
  // > 0: claim the delivery as it is stored (in flight, attempt 1, leased
  // until the event's time + claim_lease_ms) and return it from
  // RecordEvent, so that the worker that asked sends it without a claim (a
  // commit) of its own. 0: it waits, pending, for ClaimDeliveries.
  int64_t claim_lease_ms = 0;
};

// An event the ingress accepted, to be stored.
struct NewEvent {
  std::string id;  // ours, "ev_..."
  std::string endpoint_id;
  std::string provider_event_id;  // the provider's id, for de-duplication
  int64_t received_at_ms = 0;
  std::string headers_json;  // a JSON object of the headers that matter
  std::string body;          // the raw body
  // Set: deliver the event to the project's subscription, if any.
  std::optional<NewDelivery> delivery;
};

// A stored event. `sequence` orders events (higher is newer).
struct StoredEvent {
  int64_t sequence = 0;
  std::string id;
  std::string provider_event_id;
  int64_t received_at_ms = 0;
  std::string headers_json;
  std::string body;
};

// A project's webhook subscription: where its events are delivered. One
// per project. Times are milliseconds since the Unix epoch.
struct WebhookSubscription {
  std::string id;  // "whs_..."
  std::string project_id;
  std::string webhook_url;
  std::string version;                      // "V1", "V2" or "V3"
  std::vector<std::string> enabled_events;  // in the order given
  std::string secret;  // in clear: signs deliveries (sealed at rest with a key)
  bool enabled = true;  // false after a receiver answered 410 Gone
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// What UpdateSubscription changes: the fields that are set. Any successful
// update also enables the subscription again (the usual fix after a 410 is
// a new URL).
struct SubscriptionChanges {
  std::optional<std::string> webhook_url;
  std::optional<std::string> version;
  std::optional<std::vector<std::string>> enabled_events;
  int64_t updated_at_ms = 0;
};

// The event type whose subscribers receive every stored event.
constexpr char kTriggerMessageEvent[] = "composio.trigger.message";

enum class DeliveryStatus {
  kPending,    // not attempted yet, due at next_attempt_at
  kInFlight,   // claimed by a worker until its lease ends
  kSucceeded,  // the receiver answered 2xx
  kRetrying,   // failed, due again at next_attempt_at
  kFailed,     // failed for good (schedule exhausted, 410, a manual attempt)
  kHeld,       // created or stopped while the subscription was disabled
  kCancelled,  // its subscription was deleted before it was made
};
// The contract's name for `status` ("pending", ...), and back. Both
// backends store these names.
inline const char* DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kPending:
      return "pending";
    case DeliveryStatus::kInFlight:
      return "in_flight";
    case DeliveryStatus::kSucceeded:
      return "succeeded";
    case DeliveryStatus::kRetrying:
      return "retrying";
    case DeliveryStatus::kFailed:
      return "failed";
    case DeliveryStatus::kHeld:
      return "held";
    case DeliveryStatus::kCancelled:
      return "cancelled";
  }
  return "pending";
}
inline std::optional<DeliveryStatus> DeliveryStatusFromName(
    std::string_view name) {
  for (DeliveryStatus status :
       {DeliveryStatus::kPending, DeliveryStatus::kInFlight,
        DeliveryStatus::kSucceeded, DeliveryStatus::kRetrying,
        DeliveryStatus::kFailed, DeliveryStatus::kHeld,
        DeliveryStatus::kCancelled}) {
    if (name == DeliveryStatusName(status)) return status;
  }
  return std::nullopt;
}

// A delivery as listed.
struct DeliveryRecord {
  std::string id;
  std::string subscription_id;
  std::string webhook_id;  // the message id
  std::string event_id;
  std::string endpoint_id;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;  // attempts started, manual ones included
  std::optional<int64_t> next_attempt_at_ms;  // set while pending/retrying
  std::optional<int> last_status_code;        // of the last finished attempt
  std::string last_error;  // its error class, "" if none or it succeeded
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// One attempt as recorded.
struct DeliveryAttempt {
  int attempt = 0;
  int64_t started_at_ms = 0;
  std::string request_headers_json;  // JSON object, as sent
  std::optional<int> status_code;    // unset: no response
  std::string error_class;           // "" on success
  int64_t duration_ms = 0;
  std::string response_headers_json;  // JSON object
  std::string response_body;          // at most what the worker kept
};

// A position in a subscription's delivery list, newest first: the list
// continues after (older than) this delivery.
struct DeliveryCursor {
  int64_t created_at_ms = 0;
  std::string id;
};

struct DeliveryListQuery {
  std::string project_id;
  std::string subscription_id;
  std::optional<DeliveryStatus> status;  // unset: any
  size_t limit = 50;
  std::optional<DeliveryCursor> after;
};

// A delivery a worker claimed: everything its attempt needs.
struct ClaimedDelivery {
  std::string id;
  std::string project_id;  // whose it is (the dashboard's live stream)
  int attempt = 0;         // this attempt's number (1 for the first)
  // Automatic attempts made before this one: where the schedule stands.
  int automatic_attempts = 0;
  bool manual = false;  // a resend or recover: never rescheduled
  std::string webhook_id;
  std::string event_id;
  std::string endpoint_id;
  std::string toolkit_slug;
  std::string trigger_slug;
  std::string user_id;
  std::string content_type;
  int64_t event_received_at_ms = 0;
  std::string body;  // the provider's body, as received
  // The subscription as it is now (a rotated secret signs the next attempt).
  std::string subscription_id;
  std::string url;
  std::string secret;
  std::string version;
};

// How an attempt ended, and what happens to its delivery.
enum class AttemptVerdict {
  kSucceeded,  // 2xx: the delivery is done
  kRetry,      // again at next_attempt_at_ms
  kFailed,     // no more attempts
  kGone,       // 410: failed, and the subscription is disabled and held
};

struct AttemptOutcome {
  std::string delivery_id;
  DeliveryAttempt record;  // record.attempt is the claimed attempt number
  AttemptVerdict verdict = AttemptVerdict::kFailed;
  int64_t next_attempt_at_ms = 0;  // for kRetry
};

// For metrics: deliveries waiting to be attempted.
struct DeliveryQueueStats {
  int64_t due = 0;               // pending or retrying, due now or earlier
  int64_t waiting = 0;           // pending, retrying or in flight, due or not
  int64_t oldest_due_at_ms = 0;  // 0: none due
};

// A project's activity in one time bucket (the dashboard's chart): events
// received, and the deliveries created then, by where they stand now.
struct ActivityBucket {
  int64_t start_ms = 0;
  int64_t events = 0;
  int64_t succeeded = 0;
  int64_t failed = 0;   // failed or cancelled
  int64_t waiting = 0;  // pending, in flight, retrying or held
};

// How many events to keep. The count bound is applied when an event is
// stored (RecordEvent), the age bound by PruneEvents (in the background, see
// StoreOptions::background_retention): an endpoint that receives nothing
// more still loses its old events.
struct EventRetention {
  size_t max_count_per_endpoint = 0;  // 0: no count bound
  int64_t max_age_ms = 0;             // 0: no age bound
};

// How an API key came to be known.
enum class KeyOrigin {
  kLocal,   // zero-config mode: registered on first use
  kConfig,  // given at start-up (--api-key, WEBHOOKS_API_KEYS)
  kAdmin,   // created with `webhooks-server keys create`
};

// A stored key as `keys list` shows it: never the key, nor its digest.
struct ApiKeyInfo {
  std::string key_id;
  std::string project_id;
  std::string project_name;
  KeyOrigin origin = KeyOrigin::kLocal;
  int64_t created_at_ms = 0;
  std::optional<int64_t> revoked_at_ms;
};

// A new key and the project it creates if the key is not known yet.
struct NewApiKey {
  std::string key_digest;  // SHA-256 of the key, 32 raw bytes
  KeyOrigin origin = KeyOrigin::kLocal;
  std::string key_id;        // used only if the key is new
  std::string project_id;    // used only if the key is new
  std::string project_name;  // used only if the key is new
  int64_t created_at_ms = 0;
};

// What Store::AddKeyToProject may do with the project it is given.
enum class ProjectChoice { kCreate, kJoin, kJoinOrCreate };

// Store::AddKeyToProject's rule, the same for every backend: given the
// projects that `name` matches (by id first, then by name; at most two
// looked at), sets *project to the one to join, or leaves it empty to
// create one. `id_match`: matches[0] is the project with id `name`.
Status ChooseProject(ProjectChoice choice, const std::string& name,
                     const std::vector<std::string>& matches, bool id_match,
                     std::string* project);

// A stored key, without the key.
struct ApiKeyRecord {
  std::string key_id;
  std::string project_id;
  KeyOrigin origin = KeyOrigin::kLocal;
  bool revoked = false;
};

// A Store persists projects, their API keys and their webhook endpoints.
// Every endpoint method is scoped to one project: none can read or change
// another project's rows. A 2xx-worthy Ok from a write means the change is
// durable (on disk for file databases).
// Thread-safe. Writes from concurrent callers may share one commit (and one
// fsync); each is still all-or-nothing and durable before its call returns.
class Store {
 public:
  Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  virtual ~Store() = default;

  // Inserts an endpoint for (project_id, toolkit_slug, client_id), or, if one
  // already exists for that triple, returns it unchanged (its id, URL, time
  // and setup fields). Sets *created to tell the two apart. Exactly one of
  // any number of concurrent calls for a new triple sees *created == true.
  // On error, *out and *created are unchanged.
  virtual Status CreateEndpoint(const NewEndpoint& params, WebhookEndpoint* out,
                                bool* created) = 0;

  // Reads endpoint `id` of `project_id`. NotFound if there is no such id, or
  // if it belongs to another project (the two are indistinguishable).
  virtual Status GetEndpoint(std::string_view project_id, std::string_view id,
                             WebhookEndpoint* out) = 0;

  // Lists the endpoints of query.project_id (optionally of one toolkit) in
  // (created_at, id) order, starting after query.after, at most query.limit
  // of them. Sets *more to whether endpoints follow the last one returned.
  virtual Status ListEndpoints(const ListQuery& query,
                               std::vector<EndpointListItem>* out,
                               bool* more) = 0;

  // Sets the listed setup fields of endpoint `id` of `project_id`; with
  // `replace`, also removes every field not listed. One transaction: all or
  // nothing. On success *out is the endpoint as now stored. NotFound as for
  // GetEndpoint, and then nothing changes.
  virtual Status UpdateSetupFields(std::string_view project_id,
                                   std::string_view id,
                                   const std::vector<SetupField>& fields,
                                   bool replace, WebhookEndpoint* out) = 0;

  // Deletes endpoint `id` of `project_id` with its setup fields. NotFound as
  // for GetEndpoint, and then nothing changes. The endpoint is gone for
  // every other method at once; its events are deleted later, in slices, by
  // PruneEvents (the cost of this call does not grow with them), and until
  // then they still count in CountRows.
  virtual Status DeleteEndpoint(std::string_view project_id,
                                std::string_view id) = 0;

  // The ingress's look-up: endpoint `id` whatever its project (a provider
  // has no API key; the unguessable id in the URL is what it holds).
  // NotFound if there is none.
  virtual Status GetEndpointForIngress(std::string_view id,
                                       WebhookEndpoint* out) = 0;

  // Sets verified_at of endpoint `id` to `at_ms` if it is not set yet, and,
  // if `secret` is given, stores it as setup field secret->name in the same
  // transaction. *verified is false (and nothing changes) if the endpoint
  // was verified already. NotFound if there is no endpoint `id`.
  virtual Status MarkVerified(std::string_view id, int64_t at_ms,
                              const std::optional<SetupField>& secret,
                              bool* verified) = 0;

  // Undoes MarkVerified for endpoint `id` of `project_id`, so that the
  // provider's next handshake verifies it again under the same URL: clears
  // verified_at and, if `secret_field` is given, deletes that setup field
  // (the secret a handshake stored, Notion's verification_token), in one
  // transaction. Other setup fields, and stored events, are kept. On
  // success *out is the endpoint as now stored (an endpoint never verified
  // is Ok and unchanged). NotFound as for GetEndpoint, and then nothing
  // changes.
  virtual Status ResetVerification(
      std::string_view project_id, std::string_view id,
      const std::optional<std::string>& secret_field, WebhookEndpoint* out) = 0;

  // Stores an event durably, unless one with the same (endpoint_id,
  // provider_event_id) is stored already: then nothing changes and *stored
  // is false. With event.delivery set and a subscription of the endpoint's
  // project to kTriggerMessageEvent, the event's delivery is stored in the
  // same transaction: pending and due at once, or held if the subscription
  // is disabled (the outbox: a stored event is a scheduled delivery). Then
  // applies the count bound of `retention` to that endpoint: its oldest events
  // beyond it are deleted, at most kMaxPrunedPerEvent at a time, so the cost of
  // a call does not depend on the bound nor on how many events are stored (a
  // bound lowered on restart is reached over the next events). The age bound is
  // PruneEvents's.
  // With `claimed` and event.delivery->claim_lease_ms > 0, a delivery stored
  // in flight (not held) is returned in *claimed, ready to send; else
  // *claimed is left empty.
  virtual Status RecordEvent(const NewEvent& event,
                             const EventRetention& retention, bool* stored,
                             std::optional<ClaimedDelivery>* claimed) = 0;
  // The same, never claiming.
  Status RecordEvent(const NewEvent& event, const EventRetention& retention,
                     bool* stored) {
    return RecordEvent(event, retention, stored, nullptr);
  }

  // Lists events of endpoint `endpoint_id` of `project_id`, newest first,
  // starting below `before_sequence` (0: from the newest), at most `limit`
  // (0: all), and, with `max_bytes` (0: no bound), no more events than fit
  // in max_bytes of bodies and headers, except that the first event comes
  // back whatever its size: a page's memory is bounded, and every page
  // makes progress. *more tells whether older events follow. NotFound as
  // for GetEndpoint.
  virtual Status ListEvents(std::string_view project_id,
                            std::string_view endpoint_id, size_t limit,
                            int64_t before_sequence, size_t max_bytes,
                            std::vector<StoredEvent>* out, bool* more) = 0;
  // The same without a byte bound.
  Status ListEvents(std::string_view project_id, std::string_view endpoint_id,
                    size_t limit, int64_t before_sequence,
                    std::vector<StoredEvent>* out, bool* more) {
    return ListEvents(project_id, endpoint_id, limit, before_sequence, 0, out,
                      more);
  }

  // Deletes at most `max_rows` events that are due: first those of deleted
  // endpoints, then, with an age bound in `retention`, those received before
  // now_ms - max_age_ms, oldest first. One short write: the bound is what
  // keeps other writers from waiting long. Sets *more to whether it did any
  // work (then call again: more may be due).
  virtual Status PruneEvents(const EventRetention& retention, int64_t now_ms,
                             size_t max_rows, bool* more) = 0;

  // Deletes every endpoint (with its setup fields), event, subscription,
  // delivery and delivery attempt of `project_id`, and nothing of any other
  // project: a test fixture's reset (local mode only; the caller checks).
  // One transaction: all or nothing. The project and its keys stay. As with
  // DeleteEndpoint, the endpoints are gone at once and their events are
  // listed for PruneEvents, so the call's cost does not grow with them (no
  // method can reach an event without its endpoint). A delivery attempt in
  // flight meanwhile records nothing when it ends. Ok for a project with
  // nothing stored.
  virtual Status ResetProject(std::string_view project_id) = 0;

  // ---- Subscriptions. Every method is scoped to one project, like the
  // endpoint methods: another project's id is NotFound.

  // Stores a project's subscription. If the project has one already,
  // nothing changes, *out is the existing one and the code is Conflict:
  // only then is *out set on a failure (a Conflict with *out unchanged is
  // another constraint, a store failure). Of concurrent creates for one
  // project exactly one stores its subscription.
  virtual Status CreateSubscription(const WebhookSubscription& subscription,
                                    WebhookSubscription* out) = 0;
  virtual Status GetSubscription(std::string_view project_id,
                                 std::string_view id,
                                 WebhookSubscription* out) = 0;
  // The project's subscriptions (at most one).
  virtual Status ListSubscriptions(std::string_view project_id,
                                   std::vector<WebhookSubscription>* out) = 0;
  // Applies the changes that are set and enables the subscription. Its
  // held deliveries stay held (recover releases them).
  virtual Status UpdateSubscription(std::string_view project_id,
                                    std::string_view id,
                                    const SubscriptionChanges& changes,
                                    WebhookSubscription* out) = 0;
  // Deletes it; its deliveries not yet made (pending, retrying, held) are
  // cancelled in the same transaction. An attempt in flight finishes, and
  // its outcome is recorded, but it is not retried.
  virtual Status DeleteSubscription(std::string_view project_id,
                                    std::string_view id, int64_t now_ms) = 0;
  // Replaces the secret: the next attempt is signed with `secret`.
  virtual Status RotateSubscriptionSecret(std::string_view project_id,
                                          std::string_view id,
                                          const std::string& secret,
                                          int64_t now_ms,
                                          WebhookSubscription* out) = 0;

  // ---- Deliveries. RecordEvent creates them (the outbox); a worker claims
  // and finishes them; the API lists and replays them.

  // Newest first. NotFound if the subscription is not the project's.
  virtual Status ListDeliveries(const DeliveryListQuery& query,
                                std::vector<DeliveryRecord>* out,
                                bool* more) = 0;
  // A delivery with its attempts, oldest first. NotFound as for a list, or
  // if the delivery is not the subscription's.
  virtual Status GetDelivery(std::string_view project_id,
                             std::string_view subscription_id,
                             std::string_view delivery_id, DeliveryRecord* out,
                             std::vector<DeliveryAttempt>* attempts) = 0;
  // Makes a delivery due now and sets *attempt to the number its next
  // attempt will have. A pending or retrying delivery just moves its next
  // automatic attempt to now (the schedule goes on after it); a succeeded,
  // failed or held one gets one manual attempt, never rescheduled.
  // Conflict if an attempt is in flight or the delivery was cancelled.
  virtual Status ResendDelivery(std::string_view project_id,
                                std::string_view subscription_id,
                                std::string_view delivery_id, int64_t now_ms,
                                int* attempt) = 0;
  // Gives every failed or held delivery of the subscription created in
  // [since_ms, until_ms] one manual attempt now. *scheduled: how many.
  virtual Status RecoverDeliveries(std::string_view project_id,
                                   std::string_view subscription_id,
                                   int64_t since_ms, int64_t until_ms,
                                   int64_t now_ms, int64_t* scheduled) = 0;

  // The worker's side, across projects. Claims at most `max` deliveries
  // that are due at now_ms (pending or retrying whose time has come, or in
  // flight whose lease ended), oldest due first, in one transaction: each
  // becomes in flight until now_ms + lease_ms, its attempt count goes up by
  // one, and no other claim returns it until then.
  virtual Status ClaimDeliveries(int64_t now_ms, int64_t lease_ms, size_t max,
                                 std::vector<ClaimedDelivery>* out) = 0;
  // Records the attempts and applies their verdicts, all in one
  // transaction. An outcome whose delivery is no longer in flight with that
  // attempt number (its lease ended and it was claimed again, or it was
  // cancelled) is recorded as an attempt and changes nothing else.
  virtual Status FinishAttempts(const std::vector<AttemptOutcome>& outcomes,
                                int64_t now_ms) = 0;
  // FinishAttempts(outcomes) then ClaimDeliveries, in one transaction: a
  // worker that has attempts to record and room for more pays one commit
  // (one fsync) for both. On failure neither happened.
  virtual Status FinishAndClaim(const std::vector<AttemptOutcome>& outcomes,
                                int64_t now_ms, int64_t lease_ms, size_t max,
                                std::vector<ClaimedDelivery>* out) = 0;
  // Makes every delivery in flight due at now_ms: for a start-up that knows
  // no other process works on this database (one SQLite server), so that
  // attempts cut short by a crash do not wait for their lease.
  virtual Status ReleaseLeases(int64_t now_ms) = 0;
  // The earliest time any delivery becomes due (its next attempt or the
  // end of its lease); unset if none will.
  virtual Status NextDeliveryDue(std::optional<int64_t>* at_ms) = 0;
  // The project's activity in buckets of `bucket_ms` from `since_ms` on,
  // oldest first; only buckets with something in them.
  virtual Status CountActivity(std::string_view project_id, int64_t since_ms,
                               int64_t bucket_ms,
                               std::vector<ActivityBucket>* out) = 0;
  virtual Status CountDeliveryQueue(int64_t now_ms,
                                    DeliveryQueueStats* out) = 0;

  // Adds key (of key.origin) to the project that key.project_name names: the
  // project with that id, else the one with that name. `choice` says what
  // may happen:
  // - kCreate: a new project (id key.project_id, that name); Conflict if a
  //   project has that name or id (`keys create` never joins one silently).
  // - kJoin: the existing project; NotFound if there is none.
  // - kJoinOrCreate: the existing project, else a new one.
  // Joining by a name that several projects share (local and configured
  // keys' projects are named "local" and "configured") is InvalidArgument:
  // name that project by its id. Conflict if the key's digest is known.
  // Sets *project_id to the key's project.
  virtual Status AddKeyToProject(const NewApiKey& key, ProjectChoice choice,
                                 std::string* project_id) = 0;

  // Every key, oldest first, revoked ones included.
  virtual Status ListKeys(std::vector<ApiKeyInfo>* out) = 0;

  // Revokes key `key_id` from `at_ms` on: FindKey no longer finds it.
  // NotFound if there is no such key or it is revoked already.
  virtual Status RevokeKey(std::string_view key_id, int64_t at_ms) = 0;

  // Whether any admin key was ever created, revoked ones included: from
  // then on the server stays in configured mode (revoking every key must
  // not reopen it to any key).
  virtual Status HasAdminKeys(bool* any) = 0;

  // How many endpoints and events are stored, in all projects (metrics).
  virtual Status CountRows(int64_t* endpoints, int64_t* events) = 0;

  // Ok if the database answers a query now and, for a file database, the
  // file is still the one opened (not deleted or replaced) and its owner may
  // read and write it: a check that holds even for root, who reads through
  // any mode. Unavailable otherwise.
  virtual Status Ping() = 0;

  // Checks that the setup values (and subscription secrets: "values" below
  // means both) stored in this database can be read with
  // the secrets key this store was opened with (StoreOptions::secrets_key),
  // so that a wrong key stops a start-up instead of failing every read. The
  // first check of a database records how its values are stored: in clear,
  // or sealed with a key (a short known text sealed with it). Then:
  // - the recorded key, or no key where values are recorded in clear: Ok;
  // - another key, or no key where a key is recorded: InvalidArgument, whose
  //   message says which (never the key), and nothing changes;
  // - a key where values are recorded in clear: the key is adopted: values
  //   stored in clear are sealed with it now, and it is recorded (our
  //   choice: a key given means every value is encrypted at rest).
  // A database from before the record is judged by its first sealed value.
  // Other codes: the database failed. Once recorded, a check costs one
  // indexed read and at most one decryption of a few bytes; a first check
  // or an adoption reads every setup value and writes.
  virtual Status CheckSecretsKey() = 0;

  // Makes the database's main files hold everything committed, so that they
  // alone are a complete copy (SQLite: moves the write-ahead log into the
  // database file and empties it; a no-op for :memory:). For a clean
  // shutdown: stops the background pruning first, for good.
  virtual Status Checkpoint() = 0;

  // Whether opening the database ran the backend's full check of its data
  // (for SQLite, the integrity check, which reads every page), because the
  // last server to open it did not stop cleanly (see
  // StoreOptions::track_clean_stop). False for a backend without one.
  virtual bool FullCheckAtOpen() = 0;

  // For a clean shutdown, once nothing more will be written and before the
  // final Checkpoint: deletes this open's record that a server has the
  // database open (StoreOptions::track_clean_stop), so the next open skips
  // the full check. A no-op without that option, or once done. Not for
  // concurrent calls.
  virtual Status RecordCleanStop() = 0;

  // Finds the key whose SHA-256 digest is `key_digest`, revoked or not
  // (out->revoked tells). NotFound if no such key exists. The stored digest
  // is compared with `key_digest` in constant time.
  virtual Status FindKey(std::string_view key_digest, ApiKeyRecord* out) = 0;

  // Registers a key with a new project of its own, unless the digest is
  // already known, in which case nothing changes. Either way sets
  // *project_id to the key's project. Safe against concurrent calls for the
  // same key, in this process and others: all see the same project.
  virtual Status RegisterKey(const NewApiKey& key, std::string* project_id) = 0;
};

// How a store is opened, beyond where. Every field is a contract that any
// backend can keep (or, for the tuning ones, ignore); what a field means for
// SQLite in particular is said at OpenSqliteStore (store/sqlite_store.h).
struct StoreOptions {
  // 32 raw bytes, or empty. With a key, setup field values and
  // subscription secrets are stored encrypted (AES-256-GCM, bound to their
  // endpoint and field name, or to their subscription) and
  // decrypted on read; values stored in clear earlier are still read (and
  // sealed by CheckSecretsKey). A value that cannot be decrypted (no key,
  // or another key) makes the read fail with Internal rather than return
  // garbage; CheckSecretsKey finds that case up front.
  std::string secrets_key;
  // How many connections serve reads beside the one that writes (at least
  // 1), for a backend that keeps a pool of them. Tuning: a backend with one
  // connection ignores it.
  size_t read_connections = 4;
  // With a value, a thread of the store's own calls PruneEvents with it,
  // kPruneSliceRows rows at a time, until nothing is due: at once (which
  // finishes what a crash interrupted), after each DeleteEndpoint, and every
  // kPruneIntervalMs. Unset: no thread (a short-lived command).
  std::optional<EventRetention> background_retention;
  // For the server's own open: keeps a record in the database that a server
  // has it open, from this open until RecordCleanStop(). An open with this
  // option that finds such a record (the last server was killed, crashed or
  // lost power), or a database from before the record, runs the backend's
  // full check of its data, whose time may grow with the data; every other
  // open checks only what it can in a time that does not (FullCheckAtOpen()
  // tells which ran). A backend that has no such check ignores it. The admin
  // commands leave it off: they never run the full check, nor touch the
  // record of a server running beside them.
  bool track_clean_stop = false;
};

// Most old events RecordEvent deletes per stored event.
constexpr size_t kMaxPrunedPerEvent = 16;
// Rows per background PruneEvents call, and the pause between two looks
// when nothing was due.
constexpr size_t kPruneSliceRows = 500;
constexpr int64_t kPruneIntervalMs = 1000;

}  // namespace webhooks

#endif  // WEBHOOKS_STORE_STORE_H_
