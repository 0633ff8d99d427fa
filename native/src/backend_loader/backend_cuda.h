// backend_cuda.h — the "cuda" entry of the backend table (backend/backend.h), over the plugin.
//
// A first, correctness-first device backend: weights are uploaded once on first use and stay
// resident (a cache keyed by host pointer, verified by a content fingerprint); activations travel
// host -> device -> host per op, because the backend table is host-pointer based. Ops and weight
// types it does not run (or any CUDA failure, e.g. out of device memory) fall back to the CPU op,
// so results never depend on whether the GPU could take an op. A weight that does not fit even after
// the cache is emptied stays on the CPU for good (Kimi K2's experts: the MoE then runs on the CPU
// while everything else runs on the GPU, until the placement-driven hybrid step replaces this). The hybrid MoE step, device-resident
// activations and placement-driven residency come next (docs/cuda.md).
#pragma once
#include "backend/backend.h"
#include "core/status.h"

namespace kk {

// The CUDA backend when the plugin loads and a device is usable; otherwise a Status that says why
// (no plugin, no driver, no device).
Status backend_cuda(const Backend** out);

// Ops the CUDA backend ran on the device, and ops it handed to the CPU after a CUDA failure
// (ops it never claims, per supports(), are not counted). For tests and the bench.
struct CudaBackendCounts { int64_t device_ops = 0, cpu_fallbacks = 0; };
CudaBackendCounts cuda_backend_counts();

}  // namespace kk
