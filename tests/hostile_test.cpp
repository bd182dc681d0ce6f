// (being written)

#include "tests/test_util.h"
