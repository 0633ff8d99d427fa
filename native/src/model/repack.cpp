// repack.cpp — the CPU backend's load-time weight repack (Model::repack_q4x16).
#include <vector>

#include "core/q4x16.h"
#include "model/model.h"

namespace kk {

// bytes_repacked counts every matrix in block_q4x16 afterwards, those already so included.
Status Model::repack_q4x16(ThreadPool* pool, int64_t* bytes_repacked) {
  std::vector<Tensor*> mats;
  for (LayerWeights& l : w_.layers) {
    AttentionWeights& a = l.attn;
    for (Tensor* t : {&a.q_a_proj, &a.q_b_proj, &a.q_proj, &a.kv_a_proj_with_mqa, &a.kv_b_proj, &a.o_proj})
      mats.push_back(t);
    for (Tensor* t : {&l.mlp.gate_proj, &l.mlp.up_proj, &l.mlp.down_proj, &l.moe.gate_exps, &l.moe.up_exps,
                      &l.moe.down_exps, &l.moe.shared.gate_proj, &l.moe.shared.up_proj, &l.moe.shared.down_proj})
      mats.push_back(t);
  }
  int64_t bytes = 0;
  for (Tensor* t : mats) {
    if (t->type == DType::Q4X16) {  // experts the loader mapped from its layout cache
      bytes += int64_t(t->nbytes());
      continue;
    }
    if (!q4x16_eligible(*t)) continue;  // not Q4, or rows not a multiple of 16: stays as it is
    KK_RETURN_IF_ERROR(kk::q4x16_repack(t, pool));
    bytes += int64_t(t->nbytes());
  }
  if (bytes_repacked) *bytes_repacked = bytes;
  return Status::OK();
}

}  // namespace kk
