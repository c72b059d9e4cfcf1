// The one translation unit nvcc compiles into shears_kernels.fatbin: every operation file of this
// folder, included once (KernelSourcesTest checks that none is missing). Each file includes
// common.cuh, whose #pragma once keeps the helpers single.
#include "magnitude_threshold.cu"
#include "update_mask.cu"
#include "update_mask_nm.cu"
#include "optimizer_sgd.cu"
#include "optimizer_adam.cu"
#include "elementwise.cu"
#include "reduction.cu"
#include "bias.cu"
#include "activation.cu"
#include "softmax.cu"
#include "cross_entropy.cu"
#include "im2col.cu"
#include "pooling.cu"
#include "batch_norm.cu"
#include "dropout.cu"
