/* A bare name: not rooted at the repo. */
#include "hist.h"
