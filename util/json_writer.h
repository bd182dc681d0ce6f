// JsonWriter: JSON text out, appended to a string, for every response body
// and log line we write. Reading JSON is simdjson's job (api/params).

#ifndef WEBHOOKS_UTIL_JSON_WRITER_H_
#define WEBHOOKS_UTIL_JSON_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace webhooks {

// Appends JSON to a string. Strings are escaped per RFC 8259: quote,
// backslash and control characters; other bytes pass through (all our text
// is valid UTF-8, checked on the way in).
class JsonWriter {
 public:
  void BeginObject() {
    Separate();
    out_ += '{';
    first_ = true;
  }
  void EndObject() {
    out_ += '}';
    first_ = false;
  }
  void BeginArray() {
    Separate();
    out_ += '[';
    first_ = true;
  }
  void EndArray() {
    out_ += ']';
    first_ = false;
  }
  void Key(std::string_view key) {
    Separate();
    String(key);
    out_ += ':';
    first_ = true;  // the value that follows needs no comma
  }
  void Value(std::string_view text) {
    Separate();
    String(text);
  }
  // Without this, a string literal would pick Value(bool): a pointer
  // converts to bool before it converts to string_view.
  void Value(const char* text) { Value(std::string_view(text)); }
  void Value(long long number) {
    Separate();
    out_ += std::to_string(number);
  }
  void Value(bool flag) {
    Separate();
    out_ += flag ? "true" : "false";
  }
  void Null() {
    Separate();
    out_ += "null";
  }
  // Appends JSON text this program wrote earlier (stored), as a value.
  void RawValue(std::string_view json) {
    Separate();
    out_ += json;
  }
  // Bytes written and not yet taken.
  size_t size() const { return out_.size(); }
  void Reserve(size_t bytes) { out_.reserve(bytes); }
  // Returns what was written since the last Take. The writer keeps its
  // place, so a long document can be sent in pieces as it is written.
  std::string Take() {
    std::string taken = std::move(out_);
    out_.clear();
    return taken;
  }

 private:
  void Separate() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void String(std::string_view text);

  std::string out_;
  bool first_ = true;
};

}  // namespace webhooks

#endif  // WEBHOOKS_UTIL_JSON_WRITER_H_
