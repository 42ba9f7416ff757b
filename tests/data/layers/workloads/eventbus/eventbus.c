/* A workload that includes the agent. */
#include "agent/runner.h"
#include "workloads/workload.h"
