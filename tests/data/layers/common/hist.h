/* A header of the bottom layer that reaches up to the agent. */
#include "common/clock.h"

#include "agent/runner.h"
