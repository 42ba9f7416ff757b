/* A workload that includes the agent. */
#include "workloads/workload.h"
#include "agent/runner.h"
