// Unit tests for util/text.h and util/crypto.h, the helpers every folder
// shares: hex and canonical base64 (round trips and what they refuse), the
// UTF-8 decoder's edge cases, Printable's escaping, ParseInt's bounds, and
// the cryptography against published known answers (FIPS 180-2 for SHA-256,
// RFC 4231 for HMAC-SHA256).

#include <gtest/gtest.h>

#include <climits>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/crypto.h"
#include "util/id_source.h"
#include "util/text.h"

namespace webhooks {
namespace {

using namespace std::string_literals;

// Every byte value once, 0x00 to 0xff.
std::string AllBytes() {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  return bytes;
}

// ---------------------------------------------------------------------------
// Hex

TEST(HexTest, EncodesLowerCase) {
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("\x00\x7f\x80\xff"s), "007f80ff");
  EXPECT_EQ(HexEncode("\xAB\xCD"), "abcd");
}

TEST(HexTest, RoundTripsEveryByte) {
  const std::string bytes = AllBytes();
  std::string decoded;
  ASSERT_TRUE(HexDecode(HexEncode(bytes), &decoded));
  EXPECT_EQ(decoded, bytes);
}

TEST(HexTest, DecodesEitherCase) {
  std::string decoded;
  ASSERT_TRUE(HexDecode("aBcDeF", &decoded));
  EXPECT_EQ(decoded, "\xab\xcd\xef");
  ASSERT_TRUE(HexDecode("", &decoded));
  EXPECT_EQ(decoded, "");
}

TEST(HexTest, RefusesOddLengthAndNonDigits) {
  std::string decoded = "unchanged";
  EXPECT_FALSE(HexDecode("abc", &decoded));
  EXPECT_FALSE(HexDecode("0g", &decoded));
  EXPECT_FALSE(HexDecode("g0", &decoded));
  EXPECT_FALSE(HexDecode(" 00", &decoded));
  EXPECT_FALSE(HexDecode("00 ", &decoded));
  EXPECT_FALSE(HexDecode("0x00", &decoded));
  EXPECT_FALSE(HexDecode("+1", &decoded));
  EXPECT_FALSE(
      HexDecode("\0"s
                "0",
                &decoded));
  // A digit after a non-digit: the whole input is refused, not a prefix.
  EXPECT_FALSE(HexDecode("00zz00", &decoded));
  EXPECT_EQ(decoded, "unchanged");
}

// ---------------------------------------------------------------------------
// Base64

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST(Base64Test, RoundTripsEverySize) {
  const std::string bytes = AllBytes();
  for (size_t size = 0; size <= 66; ++size) {
    const std::string raw = bytes.substr(200 - size, size);
    std::string decoded;
    ASSERT_TRUE(Base64DecodeExact(Base64Encode(raw), size, &decoded)) << size;
    EXPECT_EQ(decoded, raw) << size;
  }
}

TEST(Base64Test, RefusesAnythingButTheCanonicalEncodingOfThatSize) {
  std::string decoded = "unchanged";
  // The right text for another size.
  EXPECT_FALSE(Base64DecodeExact("Zm9v", 2, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm8=", 3, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm8=", 1, &decoded));
  // Padding missing, or where a byte should be.
  EXPECT_FALSE(Base64DecodeExact("Zm8", 2, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zg==", 2, &decoded));
  // Non-zero padding bits: "Zh==" and "Zm9=" decode, but are not what
  // encoding those bytes gives.
  EXPECT_FALSE(Base64DecodeExact("Zh==", 1, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm9=", 2, &decoded));
  // White space, inside or around.
  EXPECT_FALSE(Base64DecodeExact(" Zm8=", 2, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm8= ", 2, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm\n9v", 3, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm 9v", 3, &decoded));
  // The URL-safe alphabet and characters of no alphabet.
  EXPECT_FALSE(Base64DecodeExact("-_8=", 2, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm9*", 3, &decoded));
  EXPECT_FALSE(Base64DecodeExact("Zm9\0"s, 3, &decoded));
  // Padding in the middle.
  EXPECT_FALSE(Base64DecodeExact("Zg==Zg==", 4, &decoded));
  EXPECT_EQ(decoded, "unchanged");

  ASSERT_TRUE(Base64DecodeExact("+/8=", 2, &decoded));
  EXPECT_EQ(decoded, "\xfb\xff");
}

// ---------------------------------------------------------------------------
// UTF-8

TEST(Utf8Test, DecodesOneSequenceOfEachLength) {
  const std::string text = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  size_t i = 0;
  EXPECT_EQ(NextCodePoint(text, &i), 0x41);
  EXPECT_EQ(i, 1u);
  EXPECT_EQ(NextCodePoint(text, &i), 0xE9);
  EXPECT_EQ(i, 3u);
  EXPECT_EQ(NextCodePoint(text, &i), 0x20AC);
  EXPECT_EQ(i, 6u);
  EXPECT_EQ(NextCodePoint(text, &i), 0x1F600);
  EXPECT_EQ(i, text.size());
  EXPECT_TRUE(IsUtf8(text));
}

TEST(Utf8Test, AcceptsTheBoundaries) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("\0"s));
  EXPECT_TRUE(IsUtf8("\x7F"));
  EXPECT_TRUE(IsUtf8("\xC2\x80"));          // U+0080, shortest 2-byte
  EXPECT_TRUE(IsUtf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(IsUtf8("\xE0\xA0\x80"));      // U+0800, shortest 3-byte
  EXPECT_TRUE(IsUtf8("\xED\x9F\xBF"));      // U+D7FF, below the surrogates
  EXPECT_TRUE(IsUtf8("\xEE\x80\x80"));      // U+E000, above them
  EXPECT_TRUE(IsUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(IsUtf8("\xF0\x90\x80\x80"));  // U+10000, shortest 4-byte
  EXPECT_TRUE(IsUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last
}

TEST(Utf8Test, RefusesOverlongEncodings) {
  EXPECT_FALSE(IsUtf8("\xC0\x80"));          // U+0000 in two bytes
  EXPECT_FALSE(IsUtf8("\xC1\xBF"));          // U+007F in two bytes
  EXPECT_FALSE(IsUtf8("\xE0\x80\xAF"));      // '/' in three bytes
  EXPECT_FALSE(IsUtf8("\xE0\x9F\xBF"));      // U+07FF in three bytes
  EXPECT_FALSE(IsUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in four bytes
}

TEST(Utf8Test, RefusesSurrogatesAndBeyondU10FFFF) {
  EXPECT_FALSE(IsUtf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(IsUtf8("\xED\xBF\xBF"));  // U+DFFF
  // A surrogate pair encoded as two sequences (CESU-8), not UTF-8.
  EXPECT_FALSE(IsUtf8("\xED\xA0\xBD\xED\xB8\x80"));
  EXPECT_FALSE(IsUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsUtf8("\xF8\x88\x80\x80\x80"));  // five-byte form
  EXPECT_FALSE(IsUtf8("\xFF"));
  EXPECT_FALSE(IsUtf8("\xFE"));
}

TEST(Utf8Test, RefusesTruncatedAndStraySequences) {
  EXPECT_FALSE(IsUtf8("\xC3"));
  EXPECT_FALSE(IsUtf8("\xE2\x82"));
  EXPECT_FALSE(IsUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsUtf8("abc\xF0\x9F"));
  EXPECT_FALSE(IsUtf8("\x80"));      // a continuation byte alone
  EXPECT_FALSE(IsUtf8("\xC3\x41"));  // a lead byte without continuation
  EXPECT_FALSE(IsUtf8("\xE2\x28\xA1"));
}

TEST(Utf8Test, NextCodePointLeavesTheIndexOnFailure) {
  const std::string text = "a\xE2\x82";
  size_t i = 1;
  EXPECT_EQ(NextCodePoint(text, &i), -1);
  EXPECT_EQ(i, 1u);
}

TEST(Utf8Test, CleanTextRefusesControlCharacters) {
  EXPECT_TRUE(IsCleanText("caf\xC3\xA9 \xE2\x82\xAC"));
  EXPECT_FALSE(IsCleanText("a\tb"));
  EXPECT_FALSE(IsCleanText("\0"s));
  EXPECT_FALSE(IsCleanText("\x7F"));      // DEL
  EXPECT_FALSE(IsCleanText("\xC2\x80"));  // U+0080, C1
  EXPECT_FALSE(IsCleanText("\xC2\x9F"));  // U+009F, C1
  EXPECT_TRUE(IsCleanText("\xC2\xA0"));   // U+00A0, not a control
  EXPECT_FALSE(IsCleanText("\xC0\x80"));  // not UTF-8 at all
}

// ---------------------------------------------------------------------------
// Printable, ParseInt

TEST(PrintableTest, EscapesControlQuoteBackslashAndNonAscii) {
  EXPECT_EQ(Printable("plain text 123"), "plain text 123");
  EXPECT_EQ(Printable("a\"b\\c"), "a\\x22b\\x5cc");
  EXPECT_EQ(Printable("\n\r\t\0"s), "\\x0a\\x0d\\x09\\x00");
  EXPECT_EQ(Printable("\x7F\x80\xFF"), "\\x7f\\x80\\xff");
  EXPECT_EQ(Printable("caf\xC3\xA9"), "caf\\xc3\\xa9");
}

TEST(PrintableTest, CutsAtMaxLengthBytes) {
  EXPECT_EQ(Printable("abcdef", 3), "abc...");
  EXPECT_EQ(Printable("abc", 3), "abc");
  EXPECT_EQ(Printable("", 0), "");
  // The bound counts input bytes, before escaping.
  EXPECT_EQ(Printable("\n\n\n", 2), "\\x0a\\x0a...");
  EXPECT_EQ(Printable(std::string(600, 'x')), std::string(512, 'x') + "...");
}

TEST(CaseTest, ComparesAsciiLettersWithoutCase) {
  EXPECT_TRUE(EqualsIgnoringCase("Content-Length", "content-LENGTH"));
  EXPECT_TRUE(EqualsIgnoringCase("", ""));
  EXPECT_FALSE(EqualsIgnoringCase("Host", "Hos"));
  EXPECT_FALSE(EqualsIgnoringCase("Host", "Hosu"));
  // Only A-Z fold: '@' (0x40) and '`' (0x60) differ by the case bit too.
  EXPECT_FALSE(EqualsIgnoringCase("@", "`"));
  EXPECT_EQ(Lowercase("Slack-BOT_1"), "slack-bot_1");
}

TEST(ParseIntTest, AcceptsWholeNumbersInRange) {
  long long value = 0;
  ASSERT_TRUE(ParseInt("0", 0, 10, &value));
  EXPECT_EQ(value, 0);
  ASSERT_TRUE(ParseInt("10", 0, 10, &value));
  EXPECT_EQ(value, 10);
  ASSERT_TRUE(ParseInt("-5", -5, 5, &value));
  EXPECT_EQ(value, -5);
  ASSERT_TRUE(ParseInt("007", 0, 10, &value));
  EXPECT_EQ(value, 7);
  ASSERT_TRUE(ParseInt("9223372036854775807", 0, LLONG_MAX, &value));
  EXPECT_EQ(value, LLONG_MAX);
  ASSERT_TRUE(ParseInt("-9223372036854775808", LLONG_MIN, 0, &value));
  EXPECT_EQ(value, LLONG_MIN);
}

TEST(ParseIntTest, RefusesOutOfRangeAndNonNumbers) {
  long long value = 42;
  EXPECT_FALSE(ParseInt("11", 0, 10, &value));
  EXPECT_FALSE(ParseInt("-1", 0, 10, &value));
  EXPECT_FALSE(ParseInt("9223372036854775808", 0, LLONG_MAX, &value));
  EXPECT_FALSE(ParseInt("-9223372036854775809", LLONG_MIN, 0, &value));
  EXPECT_FALSE(ParseInt("", 0, 10, &value));
  EXPECT_FALSE(ParseInt("+1", 0, 10, &value));
  EXPECT_FALSE(ParseInt(" 1", 0, 10, &value));
  EXPECT_FALSE(ParseInt("1 ", 0, 10, &value));
  EXPECT_FALSE(ParseInt("1.0", 0, 10, &value));
  EXPECT_FALSE(ParseInt("0x1", 0, 10, &value));
  EXPECT_FALSE(ParseInt("1e1", 0, 100, &value));
  EXPECT_FALSE(ParseInt("-", 0, 10, &value));
  EXPECT_EQ(value, 42);
}

// ---------------------------------------------------------------------------
// Cryptography

TEST(Sha256Test, MatchesFips180KnownAnswers) {
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase2) {
  std::string digest;
  ASSERT_TRUE(HmacSha256("Jefe", "what do ya want for nothing?", &digest));
  EXPECT_EQ(digest.size(), 32u);
  EXPECT_EQ(HexEncode(digest),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase1WithBinaryKey) {
  std::string digest;
  ASSERT_TRUE(HmacSha256(std::string(20, '\x0b'), "Hi There", &digest));
  EXPECT_EQ(HexEncode(digest),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, TakesAnEmptyKeyAndEmptyData) {
  std::string digest;
  ASSERT_TRUE(HmacSha256("", "", &digest));
  EXPECT_EQ(HexEncode(digest),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ConstantTimeEqualsTest, ComparesContentsAndLengths) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals("a\0b"s, "a\0b"s));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "Secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("secret", ""));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals("a\0b"s, "a\0c"s));
}

TEST(RandomTest, GivesTheSizeAskedAndDiffers) {
  const std::string token = RandomToken(43);
  ASSERT_EQ(token.size(), 43u);
  for (char c : token) {
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                (c >= '0' && c <= '9') || c == '_' || c == '-')
        << c;
  }
  EXPECT_NE(RandomToken(43), token);
  const std::string bytes = RandomBytes(32);
  EXPECT_EQ(bytes.size(), 32u);
  EXPECT_NE(RandomBytes(32), bytes);
}

TEST(RandomTest, TimeOrderedTokensSortByTime) {
  // Byte order is time order, across every digit's carry.
  const int64_t times[] = {0,
                           1,
                           63,
                           64,
                           4095,
                           4096,
                           1767225600000,
                           1767225600001,
                           1767225660000,
                           (1LL << 48) - 1};
  std::string previous;
  for (int64_t millis : times) {
    const std::string token = TimeOrderedToken(millis, 8);
    ASSERT_EQ(token.size(), 16u);
    EXPECT_LT(previous, token) << millis;
    previous = token.substr(0, 8) + "~";  // above any random tail
    for (char c : token) {
      EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-')
          << c;
    }
  }
  // The same millisecond: the random part still tells them apart.
  EXPECT_NE(TimeOrderedToken(5, 8), TimeOrderedToken(5, 8));
}

// Issue 17: --id-seed's ids repeat with the seed, each prefix on its own.
TEST(IdSourceTest, ASeedFixesEachPrefixsSequence) {
  IdSource a(uint64_t{42});
  IdSource b(uint64_t{42});
  IdSource other(uint64_t{43});
  const std::string first = a.Make("we_", 12);
  EXPECT_EQ(first.size(), 15u);
  EXPECT_EQ(first.rfind("we_", 0), 0u);
  EXPECT_TRUE(IsTokenText(first.substr(3), 12));
  // Drawing other prefixes in between does not shift this one's sequence.
  EXPECT_EQ(b.Make("ev_", 16).size(), 19u);
  EXPECT_EQ(b.Make("we_", 12), first);
  EXPECT_EQ(a.Make("we_", 12), b.Make("we_", 12));
  EXPECT_NE(other.Make("we_", 12), first);
  // Longer than one digest, and ordered by the sequence.
  EXPECT_EQ(a.Make("", 40).size(), 40u);
  const std::string d1 = a.MakeOrdered("dlv_", 999, 8);
  const std::string d2 = a.MakeOrdered("dlv_", 1, 8);
  EXPECT_EQ(d1.size(), 20u);
  EXPECT_LT(d1, d2);
  // Unseeded: random.
  IdSource random(std::nullopt);
  EXPECT_FALSE(random.seeded());
  EXPECT_NE(random.Make("we_", 12), random.Make("we_", 12));
}

TEST(IdSourceTest, ConcurrentDrawsNeverRepeat) {
  IdSource ids(uint64_t{7});
  std::vector<std::vector<std::string>> drawn(4);
  std::vector<std::thread> threads;
  for (auto& mine : drawn) {
    threads.emplace_back([&ids, &mine] {
      for (int i = 0; i < 250; ++i) mine.push_back(ids.Make("we_", 12));
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> all;
  for (const auto& mine : drawn) all.insert(mine.begin(), mine.end());
  EXPECT_EQ(all.size(), 1000u);
  // The same 1000 ids as one thread drawing them in sequence.
  IdSource sequential(uint64_t{7});
  std::set<std::string> expected;
  for (int i = 0; i < 1000; ++i) expected.insert(sequential.Make("we_", 12));
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace webhooks
