// test_long_context.cpp — decode attention far past 64K tokens through the engine's paged latent
// cache, against a float64 reference of the same attention.
//
// The model is K2-Thinking's own config (../shared/specs/kimi-k2-thinking.config.json: YaRN factor
// 64 over an original 4096-token context, rope dim 64, theta 50000, mscale = mscale_all_dim = 1,
// qk_head_dim 192) with small widths (4 heads, latent rank 32) so 262,144 cached tokens fit in
// ~250 MB and the test runs in seconds. Rows are written the way Model::attention writes them
// (KvPool::reserve, KvView::row_ptr, Rope::cos_sin/rotate on k_pe), and read the way
// attend_absorbed reads them (KvView::layer → the backend's mla_decode_attention), on layer 1 of
// 2 so the layer offset inside a block matters. The sequences grow the engine's way:
//   A: 70,001 tokens, its blocks interleaved with a distractor sequence D; decode at 70,000;
//   A cached (prefix cache), released; C attaches A's prefix (sharing its blocks, the partial
//   last one copied on C's first write) and grows to 131,073 (decode at 131,072), then to
//   262,144 = K2-Thinking's max_position_embeddings (decode at 262,143).
// D's rows, and the rows of a sequence's last block past its length, hold NaN: an attention that
// reads any row outside [0, n_ctx) of its own table returns NaN and fails every check.
// The whole growth runs on an fp32 pool (exact and fast mode), then on a bf16 and an fp8 pool
// (fast mode: exact mode keeps fp32 only), rows stored and read back in the pool's precision.
//
// Checks per position (exact mode and fast mode):
//   1. every row read through the table (the test's own address arithmetic from the block ids)
//      is the row written for that position, byte for byte in the pool's precision;
//   2. YaRN: inverse frequencies and the softmax scale (qk_head_dim^-0.5 · mscale(64, 1)²) equal
//      the float64 formulas; the rotated q_pe and every score q·k (over k_pe as cached) equal a
//      float64 rotation within the float32 angle error HF's rotary embedding also has;
//   3. the op's output equals float64 attention over the same cache contents (kExactTol), and (fp32)
//      a float64 attention with float64 rope within what the scores' deviation implies;
//   4. controls: the scale without mscale², or one block of the table swapped for a distractor's,
//      moves the output far past the tolerance (the checks can see those mistakes);
//   5. memory: block bytes and bytes per token from the dimensions, the pool's used bytes =
//      blocks held × block bytes (counted independently), the pool's resident pages (mincore) are
//      the blocks in use at 262,144 tokens and none once they are freed; a reservation past the
//      budget is refused ("KV pool exhausted") and leaves the sequence as it was.
#include <sys/mman.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/thread_pool.h"
#include "cpu/kernels.h"
#include "engine/kv_pool.h"
#include "model/config.h"
#include "model/rope.h"
#include "test_util.h"

using namespace kk;

namespace {

// Small widths; the rope dims, theta, YaRN and qk_head_dim stay K2-Thinking's.
constexpr int kHeads = 4;
constexpr int kRank = 32;       // kv_lora_rank (K2: 512); the absorbed op attends over it
constexpr int kLayers = 2;
constexpr int kLayer = 1;       // the layer attended (not the first: the in-block layer offset counts)
constexpr int kThreads = 2;
// Decode positions: past 64K, 2^17, and the last of K2-Thinking's 262,144.
constexpr int64_t kPosA = 70'000, kPosC = 131'072, kPosFull = 262'143;
// The distractor takes one block after every kDistractEvery blocks of the growing sequence.
constexpr int64_t kDistractEvery = 4;
// Value ranges: queries in [-2, 2], cache in [-1, 1] with "needle" rows scaled by kNeedleAmp at
// the first row, either side of the original 4096 context and of 65,536, and the query's own row.
constexpr double kQueryAmp = 2.0, kNeedleAmp = 8.0;

// Exact mode: fp32 scores (a 96-term dot in 16 partial sums), exp, 128-token chunk sums and a
// log-sum-exp merge of up to 2048 chunks, each a few float32 ulps (6e-8) relative; 1e-5 of the
// largest cache value is ~170 ulps, above what that chain gives at 262K tokens (measured ≤ 1e-6)
// and far below what a wrong row, block, scale or dropped chunk gives (the controls: ≥ 1e-2).
constexpr double kExactTol = 1e-5;
// Fast mode reads the cache in its precision (fp32 by default; bf16, or fp8-e4m3 with a per-row
// scale, when chosen) and computes in fp32 on the decoded values: against float64 over the same
// stored rows it is held to the same bound. What the rounding to bf16 / fp8 itself costs against
// fp32 rows is test_kv_precision's and the tiny-k2 eval's to measure, not this test's.
constexpr double kFastTol = kExactTol;
// A control must move the output by at least this many tolerances to count as seen.
constexpr double kControlFactor = 100.0;
// float32 inverse frequencies: pow, reciprocal and the YaRN ramp blend in float32 (HF does the
// same), a few roundings of 2^-24 each.
constexpr double kFreqRelErr = 8.0 / 16777216.0;
// cos/sin of the float32 angle computed in double, then rounded to float32 and multiplied.
constexpr double kTrigAbsErr = 2.0 / 16777216.0;
// The rotation's own float32 arithmetic (two products and a sum per element) and the rounding of
// the stored value, relative to the pair's norm.
constexpr double kRotRelErr = 4.0 / 16777216.0;
// Resident memory of the pool's mapping vs the blocks in use: exact with 4 KiB pages; the slack is
// for a kernel with transparent huge pages always on, which may commit a 2 MiB page around the
// end of the used range.
constexpr double kResidentSlackBytes = 4.0 * (1 << 20);

std::string shared_dir() {
  if (const char* s = std::getenv("KK_SHARED")) return s;
  return "../shared";
}

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// A value in [-1, 1) fixed by (stream, a, b): rows can be regenerated for the reference.
float uval(uint64_t stream, uint64_t a, uint64_t b) {
  const uint64_t h = mix(mix(mix(stream) ^ a) ^ (b * 0x2545F4914F6CDD1Dull));
  return float(double(h >> 40) / double(1ull << 23) - 1.0);
}

bool is_needle(int64_t t, int64_t query_pos) {
  return t == 0 || t == 4095 || t == 4096 || t == 65'535 || t == 65'536 || t == query_pos;
}

// The raw (un-rotated) cache row of position t, layer l: [c_kv (R) | k_pe (P)].
void raw_row(int l, int64_t t, int P, bool needle, float* out) {
  const float amp = needle ? float(kNeedleAmp) : 1.f;
  for (int i = 0; i < kRank; ++i) out[i] = amp * uval(1, uint64_t(l) << 40 | uint64_t(t), uint64_t(i));
  for (int i = 0; i < P; ++i) out[kRank + i] = uval(2, uint64_t(l) << 40 | uint64_t(t), uint64_t(i));
}

// --- float64 YaRN, written from transformers' _compute_yarn_parameters / DeepseekV3Attention ---
struct YarnRef {
  std::vector<double> inv_freq;  // [P/2]
  double softmax_scale = 0, attention_factor = 1;
};
double mscale_d(double s, double m) { return s <= 1 ? 1.0 : 0.1 * m * std::log(s) + 1.0; }
YarnRef yarn_ref(const ModelConfig& c) {
  const int P = c.qk_rope_head_dim, half = P / 2;
  const RopeScaling& s = c.rope_scaling;
  const double base = c.rope_theta, orig = s.original_max_position_embeddings;
  auto corr = [&](double rot) { return P * std::log(orig / (rot * 2 * M_PI)) / (2 * std::log(base)); };
  double low = std::max(std::floor(corr(s.beta_fast)), 0.0), high = std::min(std::ceil(corr(s.beta_slow)), P - 1.0);
  if (low == high) high += 0.001;
  YarnRef r;
  r.inv_freq.resize(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) {
    const double pf = std::pow(base, 2.0 * i / P);
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    r.inv_freq[size_t(i)] = (1.0 / (s.factor * pf)) * ramp + (1.0 / pf) * (1.0 - ramp);
  }
  const double m = mscale_d(s.factor, s.mscale_all_dim);
  r.softmax_scale = m * m / std::sqrt(double(c.qk_head_dim()));
  r.attention_factor = mscale_d(s.factor, s.mscale) / mscale_d(s.factor, s.mscale_all_dim);
  return r;
}
// Interleaved pairs (x[2i], x[2i+1]) rotated by pos·inv_freq[i] into (y[i], y[i + P/2]).
void rotate_d(const float* x, int P, double pos, const YarnRef& y, double* out) {
  for (int i = 0; i < P / 2; ++i) {
    const double th = pos * y.inv_freq[size_t(i)], a = x[2 * i], b = x[2 * i + 1];
    out[i] = (a * std::cos(th) - b * std::sin(th)) * y.attention_factor;
    out[i + P / 2] = (b * std::cos(th) + a * std::sin(th)) * y.attention_factor;
  }
}
// Bound on the float32 rotation angle's error at `pos` for pair i (what HF's float32 forward has).
double angle_err(double pos, int i, const YarnRef& y) {
  const double th = pos * y.inv_freq[size_t(i)];
  const float thf = float(th);
  const double half_ulp = 0.5 * double(std::nextafter(thf, std::numeric_limits<float>::infinity()) - thf);
  return th * kFreqRelErr + half_ulp + kTrigAbsErr;
}

// Bytes of the pool's mapping resident in RAM (mincore over the whole mapping): what the KV cache
// really costs, with nothing else of the process mixed in.
int64_t pool_resident_bytes(const BlockPool& b) {
  const int64_t page = sysconf(_SC_PAGESIZE), len = b.n_blocks() * b.block_bytes();
  std::vector<unsigned char> vec(size_t((len + page - 1) / page));
  if (mincore(b.data(0), size_t(len), vec.data()) != 0) return -1;
  int64_t n = 0;
  for (unsigned char v : vec) n += v & 1;
  return n * page;
}

const char* dtype_name(int dtype) { return dtype == KK_KV_F32 ? "fp32" : dtype == KK_KV_BF16 ? "bf16" : "fp8"; }

struct World {
  ModelConfig cfg;
  Rope rope;
  YarnRef yarn;
  KvPool pool;
  int dtype = KK_KV_F32;        // the cache's storage precision (fp32: exact and fast; bf16 / fp8: fast)
  int P = 0, row = 0;
  int32_t distract = -1;
  int64_t distract_blocks = 0;
};

// Writes rows [from, to) of `seq` as Model::attention does (after reserve), NaN past `to` in the
// last block, and grows the distractor by one NaN block after every kDistractEvery new blocks.
bool grow(World& w, int32_t seq, int64_t to, int64_t query_pos) {
  const int64_t from = w.pool.length(seq), B = w.pool.blocks().block_tokens();
  for (int64_t t0 = from; t0 < to;) {
    const int64_t t1 = std::min(to, (t0 / B + 1) * B);  // up to the end of this block
    Status st = w.pool.reserve(seq, t1);
    CHECK(st.ok(), "reserve %lld: %s", (long long)t1, st.message().c_str());
    if (!st.ok()) return false;
    const KvView v = w.pool.view(seq);
    std::vector<float> cos(static_cast<size_t>(w.P / 2)), sin(static_cast<size_t>(w.P / 2));
    std::vector<int32_t> ids;
    std::vector<float> r(static_cast<size_t>(w.row));
    for (int64_t t = t0; t < t1; ++t) {
      w.rope.cos_sin(t, cos.data(), sin.data());
      for (int l = 0; l < kLayers; ++l) {
        raw_row(l, t, w.P, is_needle(t, query_pos), r.data());
        w.rope.rotate(r.data() + kRank, cos.data(), sin.data());
        v.write_row(l, t, r.data());  // rounded to the pool's precision, as Model::attention stores it
      }
      ids.push_back(int32_t(t));
    }
    w.pool.append(seq, ids.data(), int64_t(ids.size()));
    if (t1 % B == 0 && (t1 / B) % kDistractEvery == 0) {
      const int64_t dl = w.pool.length(w.distract);
      st = w.pool.reserve(w.distract, dl + B);
      CHECK(st.ok(), "distractor reserve: %s", st.message().c_str());
      if (!st.ok()) return false;
      const KvView dv = w.pool.view(w.distract);
      const std::vector<float> nan_row(static_cast<size_t>(w.row), std::nanf(""));
      for (int64_t t = dl; t < dl + B; ++t)
        for (int l = 0; l < kLayers; ++l) dv.write_row(l, t, nan_row.data());
      std::vector<int32_t> did(size_t(B), -1);
      w.pool.append(w.distract, did.data(), B);
      ++w.distract_blocks;
    }
    t0 = t1;
  }
  // Rows past the end of the last block: garbage an attention must not read.
  const KvView v = w.pool.view(seq);
  const std::vector<float> nan_row(static_cast<size_t>(w.row), std::nanf(""));
  for (int64_t t = to; t < (to + B - 1) / B * B; ++t)
    for (int l = 0; l < kLayers; ++l) v.write_row(l, t, nan_row.data());
  return true;
}

// Rewrites row t of every layer of a sequence as a plain (non-needle) row.
void write_plain_row(const World& w, const KvView& v, int64_t t) {
  std::vector<float> cs(static_cast<size_t>(w.P / 2)), sn(static_cast<size_t>(w.P / 2)), r(static_cast<size_t>(w.row));
  w.rope.cos_sin(t, cs.data(), sn.data());
  for (int l = 0; l < kLayers; ++l) {
    raw_row(l, t, w.P, false, r.data());
    w.rope.rotate(r.data() + kRank, cs.data(), sn.data());
    v.write_row(l, t, r.data());
  }
}

// Max over heads of |a - b| / scale, NaN-propagating.
double max_err(const std::vector<double>& ref, const std::vector<float>& got, double scale) {
  double m = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = std::fabs(ref[i] - double(got[i])) / scale;
    if (!(d <= m)) m = d;
  }
  return m;
}

// float64 attention of one query over rows [0, n_ctx) of `seq`'s layer kLayer, each row fetched
// by the test's own address arithmetic from the block ids: scores from `qp` (rotated q_pe, [H][P])
// and the rows' k_pe as stored, or (qp_d / rotate_d) from float64 rope of the raw values.
struct RefOut {
  std::vector<double> same;   // over the cache contents as stored, float32 q_pe
  std::vector<double> rope64; // with float64 rope of q_pe and k_pe
  double score_dev = 0;       // max over heads and rows of |score (float32 rope) - score (float64 rope)|
  int64_t score_over = 0;     // scores whose deviation exceeds the bound from the float32 angle error
  double spread = 0;          // max over heads of max_t |c_t - o| (for the softmax bound)
  double cmax = 0;            // max |c_kv|
  int64_t row_mismatches = 0;
};

RefOut reference(World& w, int32_t seq, int64_t query_pos, const std::vector<float>& q_lat,
                 const std::vector<float>& qp, const std::vector<float>& qp_raw) {
  const int P = w.P, half = P / 2;
  const int64_t n_ctx = query_pos + 1, B = w.pool.blocks().block_tokens();
  const std::vector<int32_t> table = w.pool.view(seq).table;
  RefOut r;
  r.same.assign(size_t(kHeads) * kRank, 0);
  r.rope64.assign(size_t(kHeads) * kRank, 0);
  std::vector<double> qd(size_t(kHeads) * P);
  for (int h = 0; h < kHeads; ++h) rotate_d(&qp_raw[size_t(h) * P], P, double(query_pos), w.yarn, &qd[size_t(h) * P]);
  std::vector<double> qerr(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) qerr[size_t(i)] = angle_err(double(query_pos), i, w.yarn);
  std::vector<double> s1(size_t(n_ctx) * kHeads), s2(size_t(n_ctx) * kHeads), kd(static_cast<size_t>(P));
  std::vector<float> raw(static_cast<size_t>(w.row)), want(static_cast<size_t>(w.row));
  std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
  std::vector<double> kerr(static_cast<size_t>(half));
  // The rows as the cache holds them, decoded to fp32 by the shared layout (kernels/common/kk_kv.h).
  const int64_t row_bytes = w.pool.blocks().row_bytes();
  std::vector<float> deq(size_t(n_ctx) * size_t(w.row));
  std::vector<kk_u8> want_bytes(static_cast<size_t>(row_bytes));
  std::vector<const float*> rows(static_cast<size_t>(n_ctx));
  const bool f32 = w.dtype == KK_KV_F32;
  for (int64_t t = 0; t < n_ctx; ++t) {
    const uint8_t* rb = w.pool.blocks().data(table[size_t(t / B)]) + (int64_t(kLayer) * B + t % B) * row_bytes;
    float* row = &deq[size_t(t) * size_t(w.row)];
    for (int i = 0; i < w.row; ++i) row[i] = kk_kv_load(rb, w.dtype, i);
    rows[size_t(t)] = row;
    // 1. the row is what was written for position t (raw c_kv, k_pe rotated by the engine's rope,
    // stored in the pool's precision): byte for byte
    raw_row(kLayer, t, P, is_needle(t, query_pos), raw.data());
    want = raw;
    w.rope.cos_sin(t, cs.data(), sn.data());
    w.rope.rotate(want.data() + kRank, cs.data(), sn.data());
    kk_kv_store_row(want.data(), w.row, w.dtype, want_bytes.data());
    if (!std::equal(want_bytes.begin(), want_bytes.end(), rb)) ++r.row_mismatches;
    rotate_d(raw.data() + kRank, P, double(t), w.yarn, kd.data());
    for (int i = 0; i < half; ++i) kerr[size_t(i)] = qerr[size_t(i)] + angle_err(double(t), i, w.yarn);
    for (int i = 0; i < kRank; ++i) r.cmax = std::max(r.cmax, std::fabs(double(row[i])));
    for (int h = 0; h < kHeads; ++h) {
      double a = 0, bound = 0;
      for (int i = 0; i < kRank; ++i) a += double(q_lat[size_t(h) * kRank + i]) * row[i];
      double b = a;
      for (int i = 0; i < P; ++i) a += double(qp[size_t(h) * P + i]) * row[kRank + i];
      for (int i = 0; i < P; ++i) b += qd[size_t(h) * P + i] * kd[size_t(i)];
      // |Δ(q_i·k_i)| over a rotated pair ≤ |q pair|·|k pair|·(Δθ_q + Δθ_k + float32 rounding)
      for (int i = 0; i < half; ++i) {
        const double qn = std::hypot(qd[size_t(h) * P + i], qd[size_t(h) * P + i + half]);
        const double kn = std::hypot(kd[size_t(i)], kd[size_t(i + half)]);
        bound += qn * kn * (kerr[size_t(i)] + kRotRelErr);
      }
      s1[size_t(t) * kHeads + h] = a * w.yarn.softmax_scale;
      s2[size_t(t) * kHeads + h] = b * w.yarn.softmax_scale;
      const double dev = std::fabs(a - b);
      // The angle bound is for fp32 rows; a bf16 / fp8 row adds its rounding (checked by
      // test_kv_precision), so only the fp32 cache is held to it here.
      if (f32 && !(dev <= bound)) ++r.score_over;
      r.score_dev = std::max(r.score_dev, dev * w.yarn.softmax_scale);
    }
  }
  for (int which = 0; which < 2; ++which) {
    const std::vector<double>& s = which == 0 ? s1 : s2;
    std::vector<double>& out = which == 0 ? r.same : r.rope64;
    for (int h = 0; h < kHeads; ++h) {
      double m = -std::numeric_limits<double>::infinity(), l = 0;
      for (int64_t t = 0; t < n_ctx; ++t) m = std::max(m, s[size_t(t) * kHeads + h]);
      double* o = &out[size_t(h) * kRank];
      for (int64_t t = 0; t < n_ctx; ++t) {
        const double p = std::exp(s[size_t(t) * kHeads + h] - m);
        l += p;
        for (int i = 0; i < kRank; ++i) o[i] += p * rows[size_t(t)][i];
      }
      for (int i = 0; i < kRank; ++i) o[i] /= l;
      if (which == 0)
        for (int64_t t = 0; t < n_ctx; ++t)
          for (int i = 0; i < kRank; ++i) r.spread = std::max(r.spread, std::fabs(rows[size_t(t)][i] - o[i]));
    }
  }
  return r;
}

// One decode position: queries, the engine's rope on them, the op in both modes, the references.
void check_position(World& w, int32_t seq, int64_t query_pos, ThreadPool& threads) {
  const int P = w.P;
  const int64_t n_ctx = query_pos + 1;
  std::vector<float> q_lat(size_t(kHeads) * kRank), qp_raw(size_t(kHeads) * P);
  for (size_t i = 0; i < q_lat.size(); ++i) q_lat[i] = float(kQueryAmp) * uval(3, uint64_t(query_pos), i);
  for (size_t i = 0; i < qp_raw.size(); ++i) qp_raw[i] = float(kQueryAmp) * uval(4, uint64_t(query_pos), i);
  std::vector<float> qp(qp_raw), cs(static_cast<size_t>(P / 2)), sn(static_cast<size_t>(P / 2));
  w.rope.cos_sin(query_pos, cs.data(), sn.data());  // as Model::attention rotates every head's query
  for (int h = 0; h < kHeads; ++h) w.rope.rotate(&qp[size_t(h) * P], cs.data(), sn.data());

  // 2. the rotation at this position against float64 rope, pair by pair
  std::vector<double> qd(static_cast<size_t>(P));
  double rot_excess = 0;
  for (int h = 0; h < kHeads; ++h) {
    rotate_d(&qp_raw[size_t(h) * P], P, double(query_pos), w.yarn, qd.data());
    for (int i = 0; i < P / 2; ++i) {
      const double n = std::hypot(qd[size_t(i)], qd[size_t(i + P / 2)]);
      const double bound = n * (angle_err(double(query_pos), i, w.yarn) + kRotRelErr);
      const double d = std::max(std::fabs(qp[size_t(h) * P + i] - qd[size_t(i)]),
                                std::fabs(qp[size_t(h) * P + i + P / 2] - qd[size_t(i + P / 2)]));
      rot_excess = std::max(rot_excess, d / bound);
    }
  }
  CHECK(rot_excess <= 1.0, "pos %lld: q_pe rotation off float64 YaRN rope by %.3g of its float32-angle bound",
        (long long)query_pos, rot_excess);

  const RefOut ref = reference(w, seq, query_pos, q_lat, qp, qp_raw);
  CHECK(ref.row_mismatches == 0, "pos %lld: %lld rows read through the block table are not the rows written",
        (long long)query_pos, (long long)ref.row_mismatches);

  std::vector<const uint8_t*> ptrs;
  const KvPages pages = w.pool.view(seq).layer(kLayer, &ptrs);  // as attend_absorbed reads it
  auto run = [&](bool fast, float scale, const KvPages& pg) {
    cpu::OpContext ctx{&threads, &cpu::kernels_best(), fast};
    const OpDispatch ops(&backend_cpu(), ctx);
    std::vector<float> out(size_t(kHeads) * kRank);
    ops.mla_decode_attention(q_lat.data(), qp.data(), pg, n_ctx, kHeads, kRank, P, scale, out.data());
    return out;
  };
  // Exact mode runs on an fp32 cache only (the engine refuses it with bf16 / fp8).
  const bool f32 = w.dtype == KK_KV_F32;
  const char* dt = dtype_name(w.dtype);
  const std::vector<float> fast = run(true, w.rope.softmax_scale, pages);
  const std::vector<float> exact = f32 ? run(false, w.rope.softmax_scale, pages) : fast;
  const double e_exact = f32 ? max_err(ref.same, exact, ref.cmax) : -1, e_fast = max_err(ref.same, fast, ref.cmax);
  CHECK(!f32 || e_exact <= kExactTol, "%s pos %lld exact: max |attn - float64| / max|c| = %.3g > %.3g", dt,
        (long long)query_pos, e_exact, kExactTol);
  CHECK(e_fast <= kFastTol, "%s pos %lld fast: max |attn - float64| / max|c| = %.3g > %.3g", dt, (long long)query_pos,
        e_fast, kFastTol);
  // 3b. against float64 rope (fp32 cache): every score differs by ≤ Δ (measured above), so each
  // softmax weight by a factor within e^{±2Δ} and the output by ≤ (e^{2Δ} − 1)·max_t |c_t − o|.
  CHECK(ref.score_over == 0, "pos %lld: %lld scores off float64 YaRN rope by more than the float32 angle error",
        (long long)query_pos, (long long)ref.score_over);
  const double rope_bound = (std::expm1(2 * ref.score_dev) * ref.spread) / ref.cmax + kExactTol;
  const double e_rope = f32 ? max_err(ref.rope64, exact, ref.cmax) : -1;
  CHECK(e_rope <= rope_bound, "pos %lld: attention vs float64-rope attention %.3g > bound %.3g", (long long)query_pos,
        e_rope, rope_bound);

  // 4. controls: the checks above see a scale without YaRN's mscale², and a foreign block.
  const float plain_scale = float(1.0 / std::sqrt(double(w.cfg.qk_head_dim())));
  const double e_scale = max_err(ref.same, run(!f32, plain_scale, pages), ref.cmax);
  CHECK(e_scale >= kControlFactor * kExactTol, "pos %lld: the scale without mscale^2 moves the output only %.3g",
        (long long)query_pos, e_scale);
  std::vector<const uint8_t*> foreign(ptrs);
  std::vector<const uint8_t*> dptrs;
  w.pool.view(w.distract).layer(kLayer, &dptrs);
  foreign[foreign.size() / 2] = dptrs.front();
  const double e_block = max_err(ref.same, run(!f32, w.rope.softmax_scale, KvPages{foreign.data(), pages.block_tokens, pages.row, pages.dtype, pages.row_bytes}), ref.cmax);
  CHECK(!(e_block <= kControlFactor * kExactTol), "pos %lld: a foreign block in the table went unseen (%.3g)",
        (long long)query_pos, e_block);

  if (f32)
    std::printf("%s pos %7lld (n_ctx %7lld, %5zu blocks): exact err %.2e, fast err %.2e (tol %.0e); vs float64 rope "
                "%.2e (bound %.2e, score dev %.2e); controls: no-mscale %.2e, foreign block %g\n",
                dt, (long long)query_pos, (long long)n_ctx, ptrs.size(), e_exact, e_fast, kExactTol, e_rope, rope_bound,
                ref.score_dev, e_scale, e_block);
  else
    std::printf("%s pos %7lld (n_ctx %7lld, %5zu blocks): fast err %.2e over the stored rows (tol %.0e); "
                "controls: no-mscale %.2e, foreign block %g\n",
                dt, (long long)query_pos, (long long)n_ctx, ptrs.size(), e_fast, kFastTol, e_scale, e_block);
}

// 5. the pool's bytes: what it holds is exactly the blocks the sequences and the cache hold.
void check_accounting(World& w, int64_t expect_blocks, const char* when) {
  const BlockPool& b = w.pool.blocks();
  const int64_t used = b.n_blocks() - b.n_free();
  CHECK(used == expect_blocks, "%s: %lld blocks in use, expected %lld", when, (long long)used, (long long)expect_blocks);
  CHECK(w.pool.used_bytes() == expect_blocks * b.block_bytes(), "%s: used_bytes %lld != %lld blocks x %lld", when,
        (long long)w.pool.used_bytes(), (long long)expect_blocks, (long long)b.block_bytes());
}

int64_t blocks_for(int64_t tokens) { return (tokens + kBlockTokens - 1) / kBlockTokens; }

}  // namespace

// The whole growth (A, C from A's prefix, C to the full context) on a pool of w.dtype.
void scenario(World& w) {
  Status st;
  // The budget: C's full context, the distractor's blocks, A's partial last block that stays
  // cached after C copies it, and two spare blocks.
  const int64_t full = kPosFull + 1;
  const int64_t need_blocks = blocks_for(full) + blocks_for(full) / kDistractEvery + 1 + 2;
  const int64_t page = sysconf(_SC_PAGESIZE);
  const int64_t row_bytes = KK_KV_ROW_BYTES(w.dtype, w.row);
  const int64_t block_bytes = (int64_t(kLayers) * kBlockTokens * row_bytes + page - 1) / page * page;
  st = w.pool.init(need_blocks * block_bytes, kLayers, w.row, w.dtype);
  CHECK(st.ok(), "pool init: %s", st.message().c_str());
  if (!st.ok()) return;
  CHECK(w.pool.blocks().block_bytes() == block_bytes, "block bytes %lld, want %lld (layers x tokens x row bytes, pages)",
        (long long)w.pool.blocks().block_bytes(), (long long)block_bytes);
  CHECK(w.pool.bytes_per_token() == int64_t(kLayers) * row_bytes, "%s bytes per token %lld", dtype_name(w.dtype),
        (long long)w.pool.bytes_per_token());
  CHECK(w.pool.blocks().n_blocks() == need_blocks && w.pool.capacity_bytes() <= need_blocks * block_bytes,
        "capacity %lld blocks for a budget of %lld", (long long)w.pool.blocks().n_blocks(), (long long)need_blocks);

  ThreadPool threads(kThreads);
  const int64_t res0 = pool_resident_bytes(w.pool.blocks());
  CHECK(res0 == 0, "a fresh pool has %lld bytes resident", (long long)res0);
  int32_t a = -1, c = -1;
  w.pool.alloc(&w.distract);
  w.pool.alloc(&a);

  // A: 70,001 tokens, decode at 70,000.
  if (!grow(w, a, kPosA + 1, kPosA)) return;
  check_accounting(w, blocks_for(kPosA + 1) + w.distract_blocks, "A at 70,001");
  check_position(w, a, kPosA, threads);

  // A into the prefix cache; C takes that prefix and grows past it (its first write copies A's
  // partial last block, which stays cached for A's tokens).
  w.pool.cache_sequence(a);
  const std::vector<int32_t> a_ids = w.pool.tokens(a);
  w.pool.release(a);
  w.pool.alloc(&c);
  std::vector<int32_t> c_ids(a_ids);
  c_ids.push_back(-7);  // C's next token differs from anything cached
  const int64_t hit = w.pool.attach_prefix(c, c_ids.data(), int64_t(c_ids.size()));
  CHECK(hit == kPosA + 1, "C's cached prefix %lld tokens, want %lld", (long long)hit, (long long)(kPosA + 1));
  // The needle at A's query position 70,000 is part of the shared prefix; C's own rows start after.
  if (!grow(w, c, kPosC + 1, kPosC)) return;
  check_accounting(w, blocks_for(kPosC + 1) + 1 + w.distract_blocks, "C at 131,073");

  // reference() regenerates each row by position with the needles of the query it checks: row
  // 70,000 was A's query row (a needle); C's copy of it is rewritten as a plain row.
  {
    // The row lives in the block C copied on write: A's cached block must keep A's row.
    std::vector<int32_t> shared;
    const int64_t back = w.pool.share_cached(a_ids.data(), int64_t(a_ids.size()), &shared);
    CHECK(back == kPosA + 1, "A's prefix still cached (%lld)", (long long)back);
    const KvView cv = w.pool.view(c);
    CHECK(shared.back() != cv.table[size_t(kPosA / kBlockTokens)], "C's partial block was copied on write");
    write_plain_row(w, cv, kPosA);
    // A's cached copy of that row still holds A's needle, byte for byte.
    const uint8_t* ar = w.pool.blocks().data(shared.back()) + (int64_t(kLayer) * kBlockTokens + kPosA % kBlockTokens) * row_bytes;
    std::vector<float> want(static_cast<size_t>(w.row)), cs(static_cast<size_t>(w.P / 2)), sn(static_cast<size_t>(w.P / 2));
    raw_row(kLayer, kPosA, w.P, true, want.data());
    w.rope.cos_sin(kPosA, cs.data(), sn.data());
    w.rope.rotate(want.data() + kRank, cs.data(), sn.data());
    std::vector<kk_u8> wb(static_cast<size_t>(row_bytes));
    kk_kv_store_row(want.data(), w.row, w.dtype, wb.data());
    CHECK(std::equal(wb.begin(), wb.end(), ar), "A's cached row 70,000 changed by C's write");
    w.pool.unref(shared);
  }
  check_position(w, c, kPosC, threads);

  // C to K2-Thinking's full 262,144: decode at the last position.
  if (!grow(w, c, full, kPosFull)) return;
  const int64_t expect = blocks_for(full) + 1 + w.distract_blocks;
  check_accounting(w, expect, "C at 262,144");
  // Row 131,072 was a needle for C's previous query: C's rows now follow kPosFull's needles.
  write_plain_row(w, w.pool.view(c), kPosC);
  check_position(w, c, kPosFull, threads);

  // 5. memory: what is resident is the blocks in use; past the budget a reservation is refused.
  const int64_t res1 = pool_resident_bytes(w.pool.blocks());
  const double in_use = double(expect) * double(block_bytes);
  CHECK(double(res1) >= in_use && double(res1) <= in_use + kResidentSlackBytes,
        "the pool has %.1f MB resident for %.1f MB of blocks in use", res1 / 1e6, in_use / 1e6);
  const int64_t cap = w.pool.capacity_tokens();
  st = w.pool.reserve(c, cap + 1);
  CHECK(!st.ok() && st.message().find("KV pool exhausted") != std::string::npos,
        "a reservation past the budget: %s", st.ok() ? "accepted" : st.message().c_str());
  CHECK(w.pool.length(c) == full, "the refused reservation changed C's length (%lld)", (long long)w.pool.length(c));
  check_accounting(w, expect - 1, "after the refusal (A's copied block evicted trying)");

  w.pool.release(c);
  w.pool.release(w.distract);
  w.pool.clear_cache();
  check_accounting(w, 0, "all released");
  const int64_t res2 = pool_resident_bytes(w.pool.blocks());
  CHECK(res2 >= 0 && double(res2) <= kResidentSlackBytes, "after freeing every block %.1f MB stay resident", res2 / 1e6);
  std::printf("%s pool: %lld blocks of %lld bytes (%lld bytes/token); resident %.1f MB for the %lld blocks in use "
              "at 262,144 tokens (%.1f MB), %.1f MB after release\n",
              dtype_name(w.dtype), (long long)need_blocks, (long long)block_bytes, (long long)w.pool.bytes_per_token(), res1 / 1e6,
              (long long)expect, in_use / 1e6, res2 / 1e6);
  return;
}

int main() {
  World w;  // the config and rope checks; each cache precision then gets a World of its own
  const std::string path = shared_dir() + "/specs/kimi-k2-thinking.config.json";
  std::ifstream f(path);
  CHECK(f.good(), "cannot read %s", path.c_str());
  if (!f.good()) return kk_test::finish("test_long_context");
  std::stringstream ss;
  ss << f.rdbuf();
  Status st = parse_model_config(ss.str(), path, &w.cfg);
  CHECK(st.ok(), "parse %s: %s", path.c_str(), st.message().c_str());
  if (!st.ok()) return kk_test::finish("test_long_context");
  CHECK(w.cfg.rope_scaling.type == "yarn" && w.cfg.rope_scaling.factor == 64.0 &&
            w.cfg.max_position_embeddings == kPosFull + 1,
        "K2-Thinking's config: yarn x64 to 262,144 (got %s x%g to %d)", w.cfg.rope_scaling.type.c_str(),
        w.cfg.rope_scaling.factor, w.cfg.max_position_embeddings);
  w.cfg.num_attention_heads = kHeads;
  w.cfg.kv_lora_rank = kRank;
  w.cfg.num_hidden_layers = kLayers;
  w.P = w.cfg.qk_rope_head_dim;
  w.row = kRank + w.P;
  w.rope = Rope::from_config(w.cfg);
  w.yarn = yarn_ref(w.cfg);

  // 2. YaRN at K2-Thinking's size: frequencies and the softmax scale with mscale².
  for (int i = 0; i < w.P / 2; ++i)
    CHECK(std::fabs(w.rope.inv_freq[size_t(i)] - w.yarn.inv_freq[size_t(i)]) <= kFreqRelErr * w.yarn.inv_freq[size_t(i)],
          "inv_freq[%d] = %.9g, float64 %.9g", i, w.rope.inv_freq[size_t(i)], w.yarn.inv_freq[size_t(i)]);
  CHECK(std::fabs(w.rope.softmax_scale - w.yarn.softmax_scale) <= 1e-7 * w.yarn.softmax_scale,
        "softmax scale %.9g, float64 qk_head_dim^-0.5 * mscale^2 = %.9g", w.rope.softmax_scale, w.yarn.softmax_scale);
  CHECK(std::fabs(w.rope.attention_factor - w.yarn.attention_factor) <= 1e-7, "attention factor %g, want %g",
        w.rope.attention_factor, w.yarn.attention_factor);

  for (int dtype : {KK_KV_F32, KK_KV_BF16, KK_KV_FP8}) {
    World d;
    d.cfg = w.cfg;
    d.rope = w.rope;
    d.yarn = w.yarn;
    d.P = w.P;
    d.row = w.row;
    d.dtype = dtype;
    scenario(d);
  }
  return kk_test::finish("test_long_context");
}
