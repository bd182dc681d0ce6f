#include "api/endpoints.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "api/activity.h"
#include "api/auth.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/resources.h"
#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {
namespace {

ApiError ToolkitNotFound(const ToolkitCatalog& catalog,
                         const std::string& slug) {
  std::string known;
  for (const std::string& name : catalog.Slugs()) {
    known += (known.empty() ? "" : ", ") + name;
  }
  ApiError err =
      MakeError(ErrorKind::kToolkitNotFound,
                "Toolkit '" + slug + "' is not in the toolkit catalog.");
  err.suggested_fix = "Use a toolkit_slug from the toolkit catalog (" + known +
                      "); the server adds toolkits from a --toolkits file.";
  return err;
}

void ReplyEndpoint(const Context& ctx, httplib::Response& res, int status,
                   const WebhookEndpoint& endpoint) {
  JsonWriter json;
  WriteEndpoint(endpoint, ctx.catalog, ctx.public_base, NowMillis(), &json);
  ReplyJson(res, status, json.Take());
}

// How many endpoints an unpaged list reads from the store at a time (and
// writes to the client at a time). Issue 12: the whole list used to be
// built in memory first, so memory grew with the project times the number
// of concurrent lists (64 lists of 40,000 endpoints at once: peak RSS 145
// MB); now each list holds one page (24 MB; pages of 1,000 peaked at 45
// MB, and 256 only adds short index seeks).
constexpr size_t kListReadPage = 256;

// Sends an unpaged endpoint list whose first page, `page`, is read and
// more follow: each call of the provider writes the page in hand and reads
// the next one, after the last endpoint written, on a read connection held
// only for that read. So a slow client holds no connection or snapshot, and
// the list shows every endpoint that exists throughout, once, in order (one
// created or deleted meanwhile may or may not appear). A store failure
// midway can no longer change the status: it is logged and the response is
// cut short (no final chunk), which every client reports as an error rather
// than reading a short list.
void StreamEndpointList(const Context& ctx, ListQuery query,
                        std::vector<EndpointListItem> page,
                        httplib::Response& res) {
  struct State {
    ListQuery query;
    std::vector<EndpointListItem> page;  // read, not written yet
    bool more = true;                    // endpoints follow `page`
    JsonWriter json;
    std::string request_id;
  };
  auto state = std::make_shared<State>();
  state->query = std::move(query);
  state->page = std::move(page);
  state->request_id = RequestIdOf(res);
  state->json.BeginObject();
  state->json.Key("items");
  state->json.BeginArray();
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [&ctx, state](size_t, httplib::DataSink& sink) {
        WriteListItems(state->page, &state->json);
        const bool last = !state->more;
        if (last) {
          state->json.EndArray();
          EndPage(std::nullopt, &state->json);
        } else {
          const EndpointListItem& written = state->page.back();
          state->query.after =
              EndpointCursor{written.created_at_ms, written.id};
          // Freed before the next page is read: one page in memory at once.
          std::vector<EndpointListItem>().swap(state->page);
          Status status =
              ctx.store.ListEndpoints(state->query, &state->page, &state->more);
          if (!status.ok()) {
            NoteStoreError(ctx, state->request_id, status);
            return false;
          }
        }
        const std::string piece = state->json.Take();
        if (!sink.write(piece.data(), piece.size())) return false;
        if (last) sink.done();
        return true;
      },
      [&ctx](bool) {
        if (ctx.trimmer != nullptr) ctx.trimmer->NoteLargeResponse();
      });
}

// Clients read secrets masked and may send the object straight back. Our
// choice: a secret sent back as exactly the mask of its stored value keeps
// the stored value; any other mask-shaped value for a secret is refused, so
// a mask can never overwrite a secret.
void ResolveMaskedSecrets(const ToolkitSpec& toolkit,
                          const WebhookEndpoint& current,
                          std::vector<SetupField>* fields,
                          std::vector<std::string>* problems) {
  for (SetupField& field : *fields) {
    const SetupFieldSpec* spec = toolkit.FindField(field.name);
    if (spec == nullptr || !spec->is_secret || !LooksMasked(field.value)) {
      continue;
    }
    auto stored =
        std::find_if(current.setup_fields.begin(), current.setup_fields.end(),
                     [&](const SetupField& f) { return f.name == field.name; });
    if (stored != current.setup_fields.end() &&
        MaskSecret(stored->value) == field.value) {
      field.value = stored->value;
    } else {
      problems->push_back("data." + field.name +
                          " looks like a masked value; send the secret "
                          "itself");
    }
  }
}

}  // namespace

bool GetEndpointOrReply(const Context& ctx, const Caller& caller,
                        const std::string& id, httplib::Response& res,
                        WebhookEndpoint* endpoint) {
  Status status = IsEndpointId(id)
                      ? ctx.store.GetEndpoint(caller.project_id, id, endpoint)
                      : Status::NotFound("malformed id");
  if (status.ok()) return true;
  ReplyEndpointFailure(ctx, res, status, id);
  return false;
}

bool IsEndpointId(std::string_view id) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  return id.size() == 15 && id.substr(0, 3) == "we_" &&
         id.substr(3).find_first_not_of(kAlphabet) == std::string_view::npos;
}

void ReplyEndpointFailure(const Context& ctx, httplib::Response& res,
                          const Status& status, std::string_view id) {
  if (status.code() != Status::Code::kNotFound) {
    return ReplyStoreError(ctx, res, status);
  }
  ReplyError(res, MakeError(ErrorKind::kEndpointNotFound,
                            "Webhook endpoint '" + Printable(id, 64) +
                                "' not found."));
}

void HandleCreateEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  CreateParams params;
  ApiError err;
  if (!ParseCreateParams(req, &params, &err)) return ReplyError(res, err);
  if (ctx.catalog.Find(params.toolkit_slug) == nullptr) {
    return ReplyError(res, ToolkitNotFound(ctx.catalog, params.toolkit_slug));
  }
  NewEndpoint endpoint;
  endpoint.id = NewId(ctx, "we_", 12);
  endpoint.project_id = caller.project_id;
  endpoint.toolkit_slug = params.toolkit_slug;
  endpoint.client_id = params.client_id;
  // Stored for the record only: replies write the current one (store.h).
  endpoint.webhook_url =
      WebhookUrlOf(ctx.public_base, params.toolkit_slug, endpoint.id);
  endpoint.created_at_ms = NowMillis();
  WebhookEndpoint stored;
  bool created = false;
  Status status = ctx.store.CreateEndpoint(endpoint, &stored, &created);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  if (created)
    PublishResourceChange(ctx, caller.project_id, "endpoint", stored.id,
                          "created");
  ReplyEndpoint(ctx, res, created ? 201 : 200, stored);
}

void HandleListEndpoints(const Context& ctx, const httplib::Request& req,
                         httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  ListParams params;
  ApiError err;
  if (!ParseListParams(req, &params, &err)) return ReplyError(res, err);
  ListQuery query;
  query.project_id = caller.project_id;
  query.toolkit_slug = params.toolkit_slug;
  query.limit = params.limit != 0 ? params.limit : kListReadPage;
  query.after = params.after;
  std::vector<EndpointListItem> items;
  bool more = false;
  Status status = ctx.store.ListEndpoints(query, &items, &more);
  if (!status.ok()) return ReplyStoreError(ctx, res, status);
  if (params.limit == 0 && more) {
    return StreamEndpointList(ctx, std::move(query), std::move(items), res);
  }
  JsonWriter json;
  WriteEndpointPage(items,
                    more
                        ? std::optional<std::string>(EncodeCursor(items.back()))
                        : std::nullopt,
                    &json);
  ReplyJson(res, 200, json.Take());
}

void HandleGetSchema(const Context& ctx, const httplib::Request& req,
                     httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string slug = Lowercase(req.get_param_value("toolkit_slug"));
  if (slug.empty()) {
    return ReplyError(res, ValidationError({"the toolkit_slug query "
                                            "parameter is required"}));
  }
  const ToolkitSpec* toolkit = ctx.catalog.Find(slug);
  if (toolkit == nullptr) {
    return ReplyError(res, ToolkitNotFound(ctx.catalog, Printable(slug, 64)));
  }
  JsonWriter json;
  WriteSchema(*toolkit, &json);
  ReplyJson(res, 200, json.Take());
}

void HandleGetEndpoint(const Context& ctx, const httplib::Request& req,
                       httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint endpoint;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &endpoint)) return;
  ReplyEndpoint(ctx, res, 200, endpoint);
}

void HandleSetSetupData(const Context& ctx, bool replace,
                        const httplib::Request& req, httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint current;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &current)) return;
  const ToolkitSpec* toolkit = ctx.catalog.Find(current.toolkit_slug);
  SetupDataParams params;
  std::vector<std::string> problems;
  const bool data_read = ParseSetupDataParams(req, toolkit, &params, &problems);
  if (data_read && toolkit != nullptr) {
    ResolveMaskedSecrets(*toolkit, current, &params.fields, &problems);
    for (const SetupFieldSpec& spec : toolkit->setup_fields) {
      bool listed = std::find(params.named.begin(), params.named.end(),
                              spec.name) != params.named.end();
      if (replace && spec.is_required && !listed) {
        problems.push_back("data." + spec.name +
                           " is required when replacing the configuration");
      }
    }
  }
  if (!problems.empty()) {
    return ReplyError(res, ValidationError(std::move(problems)));
  }
  if (replace) {
    for (const SetupField& field : current.setup_fields) {
      if (IsHandshakeSecret(toolkit, field.name))
        params.fields.push_back(field);
    }
  }
  WebhookEndpoint updated;
  Status status = ctx.store.UpdateSetupFields(caller.project_id, current.id,
                                              params.fields, replace, &updated);
  // NotFound here means it was deleted between our read and this write.
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, current.id);
  PublishResourceChange(ctx, caller.project_id, "endpoint", updated.id,
                        "updated");
  ReplyEndpoint(ctx, res, 200, updated);
}

void HandleDeleteEndpoint(const Context& ctx, const httplib::Request& req,
                          httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  Status status = IsEndpointId(id)
                      ? ctx.store.DeleteEndpoint(caller.project_id, id)
                      : Status::NotFound("malformed id");
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, id);
  PublishResourceChange(ctx, caller.project_id, "endpoint", id, "deleted");
  ReplyJson(res, 200, R"({"success":true})");
}

void HandleResetVerification(const Context& ctx, const httplib::Request& req,
                             httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  WebhookEndpoint current;
  if (!GetEndpointOrReply(ctx, caller, req.matches[1], res, &current)) return;
  // Only a secret the handshake brought goes with it; a secret the project
  // set (Slack's signing secret) stays, and Slack's next url_verification
  // is checked with it.
  const std::string* field =
      HandshakeSecretField(ctx.catalog.Find(current.toolkit_slug));
  WebhookEndpoint reset;
  Status status = ctx.store.ResetVerification(
      caller.project_id, current.id,
      field == nullptr ? std::nullopt : std::optional<std::string>(*field),
      &reset);
  // NotFound here means it was deleted between our read and this write.
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, current.id);
  PublishResourceChange(ctx, caller.project_id, "endpoint", reset.id,
                        "updated");
  ReplyEndpoint(ctx, res, 200, reset);
}

void HandleListEvents(const Context& ctx, const httplib::Request& req,
                      httplib::Response& res) {
  Caller caller;
  if (!AuthenticateOrReply(ctx, req, res, &caller)) return;
  const std::string id = req.matches[1];
  EventListParams params;
  ApiError err;
  if (!ParseEventListParams(req, &params, &err)) return ReplyError(res, err);
  std::vector<StoredEvent> events;
  bool more = false;
  Status status =
      IsEndpointId(id)
          ? ctx.store.ListEvents(caller.project_id, id, params.limit,
                                 params.before, kEventPageBytes, &events, &more)
          : Status::NotFound("malformed id");
  if (!status.ok()) return ReplyEndpointFailure(ctx, res, status, id);
  JsonWriter json;
  WriteEventPage(events, more, &json);
  if (json.size() >= kLargeResponseBytes && ctx.trimmer != nullptr) {
    ctx.trimmer->NoteLargeResponse();
  }
  ReplyJson(res, 200, json.Take());
}

}  // namespace webhooks
