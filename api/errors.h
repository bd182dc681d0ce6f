// Every error the API answers with, and the one path every error body
// takes (ReplyError). The kinds, statuses, codes and slugs are a table.

#ifndef WEBHOOKS_API_ERRORS_H_
#define WEBHOOKS_API_ERRORS_H_

#include <httplib.h>

#include <string>
#include <vector>

namespace webhooks {

// Every error the API answers with. The table below gives each its HTTP
// status, stable numeric code, slug and default suggested fix; the codes are
// our choice (Composio publishes none for these) and never change once
// released.
enum class ErrorKind {
  kBadRequest,
  kUnauthorized,
  kRouteNotFound,
  kMethodNotAllowed,
  kLengthRequired,
  kPayloadTooLarge,
  kUriTooLong,
  kUnsupportedMediaType,
  kRangeNotSatisfiable,
  kHeadersTooLarge,
  kHostNotAllowed,
  kNotImplemented,
  kInternal,
  kStorageUnavailable,
  kValidation,
  kEndpointNotFound,
  kToolkitNotFound,
  kIngressNotConfigured,
  kIngressInvalidSignature,
  kIngressSignatureUnauthorized,
  kIngressAlreadyVerified,
  kDeliveryNotFound,
  kDeliveryConflict,
  kSubscriptionValidation,
  kSubscriptionNotFound,
  kSubscriptionAlreadyExists,
  kStreamLimit,
  kTestEventUnavailable,
  kLocalModeOnly,
};

struct ErrorInfo {
  ErrorKind kind;
  int status;
  int code;
  const char* slug;
  const char* suggested_fix;
};

// The row of the table for `kind`.
const ErrorInfo& InfoFor(ErrorKind kind);

// An error on its way to the client. `suggested_fix` empty means the kind's
// default.
struct ApiError {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::vector<std::string> errors;
  std::string suggested_fix;
};

ApiError MakeError(ErrorKind kind, std::string message,
                   std::vector<std::string> errors = {});

constexpr char kRequestIdHeader[] = "x-request-id";

// The id of the current request, set by the pre-routing hook; requests the
// library rejected before routing get one here.
std::string RequestIdOf(httplib::Response& res);

// The one funnel: every error response body is written here.
void ReplyError(httplib::Response& res, const ApiError& error);

// The validation error for a list of problems, with a message that stands on
// its own when there is one. `kind`: the resource's validation kind.
ApiError ValidationError(std::vector<std::string> problems,
                         ErrorKind kind = ErrorKind::kValidation);

// Sends `body`, which is JSON, with `status`.
void ReplyJson(httplib::Response& res, int status, std::string body);

}  // namespace webhooks

#endif  // WEBHOOKS_API_ERRORS_H_
