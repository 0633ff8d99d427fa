// expert_heat.cpp — kk::expert_heat() (karakoram/backends.h): the CUDA backend's routing counts
// and GPU residency, for the model panel's heat map.
#include "karakoram/backends.h"
#include "backend_cuda/backend_cuda.h"

namespace kk {

ExpertHeat expert_heat() {
  ExpertHeat h;
  cuda_backend_expert_heat(&h.n_layers, &h.n_experts, &h.counts, &h.on_gpu);
  return h;
}

}  // namespace kk
