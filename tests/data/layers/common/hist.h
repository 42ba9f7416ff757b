/* A header of the bottom layer that reaches up to the agent. */
#include "agent/runner.h"
#include "common/clock.h"
