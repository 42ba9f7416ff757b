#include "common/hist.h"
#include "workloads/workload.h"
