// Unit tests for store/secret_box.h: sealed values open only with their key
// and context and only unaltered; without a key, values pass through in
// clear; and the secrets key file reader's accepted and refused forms.

#include "store/secret_box.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/test_util.h"
#include "util/status.h"

namespace webhooks {
namespace {

using testing::TempDir;

const std::string kKey(SecretBox::kKeyBytes, 'k');
const std::string kOtherKey(SecretBox::kKeyBytes, 'o');

std::string SealOrDie(const SecretBox& box, std::string_view context,
                      std::string_view plain) {
  std::string sealed;
  const Status status = box.Seal(context, plain, &sealed);
  EXPECT_TRUE(status.ok()) << status.message();
  return sealed;
}

TEST(SecretBoxTest, SealedValueOpensWithItsKeyAndContext) {
  const SecretBox box(kKey);
  ASSERT_TRUE(box.enabled());
  const std::string context = SetupFieldContext("we_1", "name");
  for (const std::string& plain : std::vector<std::string>{
           "", "s", "a signing secret \xE2\x82\xAC", std::string(1000, 'x')}) {
    const std::string sealed = SealOrDie(box, context, plain);
    EXPECT_EQ(sealed.rfind(SecretBox::SealedPrefix(), 0), 0u);
    if (plain.size() > 1) {
      EXPECT_EQ(sealed.find(plain), std::string::npos);
    }
    std::string opened = "unchanged";
    ASSERT_OK(box.Open(context, sealed, &opened));
    EXPECT_EQ(opened, plain);
  }
}

TEST(SecretBoxTest, SealsTheSameValueDifferentlyEachTime) {
  const SecretBox box(kKey);
  EXPECT_NE(SealOrDie(box, "c", "value"), SealOrDie(box, "c", "value"));
}

TEST(SecretBoxTest, SealedFormIsPrefixThenLowerCaseHex) {
  const SecretBox box(kKey);
  const std::string sealed = SealOrDie(box, "c", "value");
  const std::string hex = sealed.substr(SecretBox::SealedPrefix().size());
  // nonce (12) + ciphertext (5) + tag (16), two digits a byte.
  EXPECT_EQ(hex.size(), 2u * (12 + 5 + 16));
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(SecretBox::SealedPrefix()[0], '\x01');
}

TEST(SecretBoxTest, WrongContextDoesNotOpen) {
  const SecretBox box(kKey);
  const std::string sealed =
      SealOrDie(box, SetupFieldContext("we_1", "secret"), "value");
  std::string opened = "unchanged";
  const Status other_row =
      box.Open(SetupFieldContext("we_2", "secret"), sealed, &opened);
  EXPECT_EQ(other_row.code(), Status::Code::kInvalidArgument);
  const Status other_field =
      box.Open(SetupFieldContext("we_1", "other"), sealed, &opened);
  EXPECT_EQ(other_field.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(opened, "unchanged");
  ASSERT_OK(box.Open(SetupFieldContext("we_1", "secret"), sealed, &opened));
  EXPECT_EQ(opened, "value");
}

TEST(SecretBoxTest, SetupFieldContextSeparatesIdFromName) {
  // "ab" + "c" and "a" + "bc" must not be the same context.
  EXPECT_NE(SetupFieldContext("ab", "c"), SetupFieldContext("a", "bc"));
  EXPECT_EQ(SetupFieldContext("we_1", "name"), std::string("we_1\0name", 9));
}

TEST(SecretBoxTest, WrongKeyOrNoKeyDoesNotOpen) {
  const std::string sealed = SealOrDie(SecretBox(kKey), "c", "value");
  std::string opened = "unchanged";
  EXPECT_EQ(SecretBox(kOtherKey).Open("c", sealed, &opened).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(SecretBox("").Open("c", sealed, &opened).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(opened, "unchanged");
}

TEST(SecretBoxTest, TamperedValueDoesNotOpen) {
  const SecretBox box(kKey);
  const std::string sealed = SealOrDie(box, "c", "value");
  const size_t hex_start = SecretBox::SealedPrefix().size();
  std::string opened = "unchanged";
  // One bit changed anywhere (nonce, ciphertext or tag) fails the tag.
  for (size_t i = hex_start; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = tampered[i] == '0' ? '1' : '0';
    EXPECT_EQ(box.Open("c", tampered, &opened).code(),
              Status::Code::kInvalidArgument)
        << "digit " << i;
  }
  // Cut short, extended, not hex, upper case, or too short to hold a tag.
  for (const std::string& bad :
       {sealed.substr(0, sealed.size() - 2), sealed + "00",
        sealed.substr(0, sealed.size() - 1), sealed + "zz",
        SecretBox::SealedPrefix() + std::string(2 * 27, '0'),
        SecretBox::SealedPrefix()}) {
    EXPECT_EQ(box.Open("c", bad, &opened).code(),
              Status::Code::kInvalidArgument)
        << bad.size();
  }
  std::string upper = sealed;
  for (size_t i = hex_start; i < upper.size(); ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') {
      upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
    }
  }
  if (upper != sealed) {
    EXPECT_EQ(box.Open("c", upper, &opened).code(),
              Status::Code::kInvalidArgument);
  }
  EXPECT_EQ(opened, "unchanged");
}

TEST(SecretBoxTest, WithoutKeyValuesPassThroughInClear) {
  const SecretBox box("");
  EXPECT_FALSE(box.enabled());
  std::string sealed;
  ASSERT_OK(box.Seal("c", "plain value", &sealed));
  EXPECT_EQ(sealed, "plain value");
  std::string opened;
  ASSERT_OK(box.Open("c", "plain value", &opened));
  EXPECT_EQ(opened, "plain value");
}

TEST(SecretBoxTest, ClearValuesOpenAsThemselvesWithAKey) {
  // Stored before a key was given: read as they are, whatever the context.
  const SecretBox box(kKey);
  std::string opened;
  ASSERT_OK(box.Open("any", "stored in clear", &opened));
  EXPECT_EQ(opened, "stored in clear");
  ASSERT_OK(box.Open("any", "", &opened));
  EXPECT_EQ(opened, "");
  // Only the whole prefix marks a sealed value.
  ASSERT_OK(box.Open("any",
                     "\x01"
                     "aes256gcm",
                     &opened));
  EXPECT_EQ(opened,
            "\x01"
            "aes256gcm");
}

TEST(SecretBoxTest, KeyOfTheWrongSizeSealsNothing) {
  const SecretBox box(std::string(16, 'k'));
  std::string sealed = "unchanged";
  EXPECT_EQ(box.Seal("c", "value", &sealed).code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(sealed, "unchanged");
}

// ---------------------------------------------------------------------------
// ReadSecretsKeyFile

class ReadSecretsKeyFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content) {
    const std::string path = dir_.File("key");
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path;
  }

  TempDir dir_;
};

const std::string kKeyHex =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F";

TEST_F(ReadSecretsKeyFileTest, ReadsSixtyFourHexDigitsWithSurroundingBlanks) {
  std::string expected;
  for (int i = 0; i < 32; ++i) expected += static_cast<char>(i);
  for (const std::string& content :
       {kKeyHex, kKeyHex + "\n", " \t\r\n" + kKeyHex + "\r\n  "}) {
    std::string key, error;
    ASSERT_TRUE(ReadSecretsKeyFile(Write(content), &key, &error)) << error;
    EXPECT_EQ(key, expected);
  }
}

TEST_F(ReadSecretsKeyFileTest, RefusesAnythingElseWithoutEchoingIt) {
  for (const std::string& content :
       {std::string(), kKeyHex.substr(2), kKeyHex + "00",
        kKeyHex.substr(0, 63) + "g",
        kKeyHex.substr(0, 32) + " " + kKeyHex.substr(32, 31),
        "0x" + kKeyHex.substr(2)}) {
    const std::string path = Write(content);
    std::string key = "old", error;
    EXPECT_FALSE(ReadSecretsKeyFile(path, &key, &error)) << content;
    EXPECT_EQ(key, "");
    EXPECT_EQ(error, "--secrets-key-file '" + path +
                         "' must hold 64 hex characters (32 bytes), for "
                         "example from `openssl rand -hex 32`");
  }
}

TEST_F(ReadSecretsKeyFileTest, MissingFileNamesTheReasonAndKeepsTheKey) {
  const std::string path = dir_.File("missing");
  std::string key = "old", error;
  EXPECT_FALSE(ReadSecretsKeyFile(path, &key, &error));
  EXPECT_EQ(key, "old");
  EXPECT_EQ(error,
            "--secrets-key-file '" + path + "': No such file or directory");
}

}  // namespace
}  // namespace webhooks
