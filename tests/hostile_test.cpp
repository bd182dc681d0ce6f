// (being written)

#include "tests/test_util.h"

TEST(Placeholder, Builds) { SUCCEED(); }
