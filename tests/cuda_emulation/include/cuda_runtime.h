#pragma once
// The emulation's stand-in for the toolkit's cuda_runtime.h (see cuda_runtime_api.h).
#include "cuda_runtime_api.h"
