#include "common/hist.h"
