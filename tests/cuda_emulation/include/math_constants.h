#pragma once
// The emulation's stand-in for the toolkit's math_constants.h: the constants the kernels use.
#define CUDART_NAN_F __builtin_nanf("")
