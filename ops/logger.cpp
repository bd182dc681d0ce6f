#include "ops/logger.h"

#include <unistd.h>

#include "util/json_writer.h"
#include "util/text.h"
#include "util/time.h"

namespace webhooks {

LogLevel LevelNamed(const std::string& name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

void Logger::Log(LogLevel level, std::string_view message,
                 const std::vector<LogField>& fields) const {
  if (!Enabled(level)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  std::string line;
  const std::string time = FormatTime(NowMillis());
  const char* level_name = kNames[static_cast<size_t>(level)];
  if (json_) {
    JsonWriter json;
    json.BeginObject();
    json.Key("time");
    json.Value(time);
    json.Key("level");
    json.Value(std::string_view(level_name));
    json.Key("msg");
    json.Value(Printable(message));
    for (const LogField& field : fields) {
      json.Key(field.key);
      if (field.number) {
        json.RawValue(field.value);
      } else {
        json.Value(Printable(field.value));
      }
    }
    json.EndObject();
    line = json.Take();
  } else {
    line = "time=" + time + " level=" + level_name + " msg=\"" +
           Printable(message) + "\"";
    for (const LogField& field : fields) {
      line += " " + std::string(field.key) + "=";
      line += field.number ? field.value : "\"" + Printable(field.value) + "\"";
    }
  }
  sink_.Write(std::move(line));
}

void Logger::Notice(std::string_view text) const {
  sink_.Write("webhooks-server: " + Printable(text, 1024));
}

}  // namespace webhooks
