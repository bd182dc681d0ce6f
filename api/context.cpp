#include "api/context.h"

#include "api/errors.h"
#include "util/crypto.h"

namespace webhooks {

std::string NewId(const Context& ctx, std::string_view prefix, size_t length) {
  if (ctx.ids != nullptr) return ctx.ids->Make(prefix, length);
  return std::string(prefix) + RandomToken(length);
}

std::string NewOrderedId(const Context& ctx, std::string_view prefix,
                         int64_t millis, size_t length) {
  if (ctx.ids != nullptr) return ctx.ids->MakeOrdered(prefix, millis, length);
  return std::string(prefix) + TimeOrderedToken(millis, length);
}

void NoteStoreError(const Context& ctx, const std::string& request_id,
                    const Status& status) {
  ctx.metrics.CountStoreError(status.code());
  ctx.log.Log(LogLevel::kError, "store error",
              {{"request_id", request_id}, {"detail", status.message()}});
}

void ReplyStoreError(const Context& ctx, httplib::Response& res,
                     const Status& status) {
  ErrorKind kind = ErrorKind::kInternal;
  switch (status.code()) {
    case Status::Code::kUnavailable:
      kind = ErrorKind::kStorageUnavailable;
      res.set_header("Retry-After", "1");
      break;
    case Status::Code::kOk:
    case Status::Code::kNotFound:
    case Status::Code::kInvalidArgument:
    case Status::Code::kConflict:
    case Status::Code::kInternal:
      kind = ErrorKind::kInternal;
      break;
  }
  NoteStoreError(ctx, RequestIdOf(res), status);
  ReplyError(res, MakeError(kind, kind == ErrorKind::kInternal
                                      ? "Internal error."
                                      : "The database is busy or full."));
}

}  // namespace webhooks
