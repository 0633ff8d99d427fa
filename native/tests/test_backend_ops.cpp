// test_backend_ops.cpp — every CPU kernel variant against the plain oracle, and every op against
// a naive double-precision composition, on random inputs with odd sizes and thread counts.
//
// Tolerances (relative to the magnitude m = Σ|w·x| of the dot product, so cancellation is fair):
//   exact kernels vs fp64 reference and SIMD vs plain: 1e-5·m (fp32 accumulation over ≤7168 terms)
//   q4_q8 vs fp64 reference: the int8 rounding bound Σ_b Σ_j |w_j|·d_b/2 plus 1e-5·m
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/q4x16.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels.h"
#include "cpu/kernels_variants.h"
#include "cpu/ops.h"
#include "backend/backend.h"
#include "cpu/weight_view.h"
#include "test_util.h"

using namespace kk;
using namespace kk::cpu;

namespace {

std::mt19937 rng(1234);
float urand(float a = -1.f, float b = 1.f) { return std::uniform_real_distribution<float>(a, b)(rng); }

struct Q4Matrix {
  int64_t rows, cols;
  std::vector<block_q4> q;
  std::vector<double> deq;  // dequantized, for references
};

Q4Matrix random_q4(int64_t rows, int64_t cols) {
  Q4Matrix m{rows, cols, std::vector<block_q4>(rows * cols / 32), std::vector<double>(rows * cols)};
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < cols / 32; ++b) {
      block_q4& blk = m.q[r * (cols / 32) + b];
      blk.scale_bf16 = f32_to_bf16(urand(0.001f, 0.05f));
      const double s = bf16_to_f32(blk.scale_bf16);
      for (int j = 0; j < 16; ++j) {
        blk.qs[j] = uint8_t(rng() & 0xff);
        m.deq[r * cols + b * 32 + j] = ((blk.qs[j] & 0xf) - 8) * s;
        m.deq[r * cols + b * 32 + j + 16] = ((blk.qs[j] >> 4) - 8) * s;
      }
    }
  return m;
}

std::vector<float> random_vec(int64_t n, float lo = -1.f, float hi = 1.f) {
  std::vector<float> v(n);
  for (auto& x : v) x = urand(lo, hi);
  return v;
}

// Reference y and magnitude for a dense double matrix.
void ref_matmul(const std::vector<double>& W, int64_t rows, int64_t cols, const float* x, int64_t n,
                std::vector<double>& y, std::vector<double>& mag) {
  y.assign(n * rows, 0.0);
  mag.assign(n * rows, 0.0);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0, m = 0;
      for (int64_t c = 0; c < cols; ++c) { s += W[r * cols + c] * x[t * cols + c]; m += std::fabs(W[r * cols + c] * x[t * cols + c]); }
      y[t * rows + r] = s;
      mag[t * rows + r] = m;
    }
}

int count_bad(const float* got, const std::vector<double>& want, const std::vector<double>& tol) {
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol[i] + 1e-30)) {
      if (bad < 3) std::printf("    [%zu] got %.9g want %.9g tol %.3g\n", i, got[i], want[i], tol[i]);
      ++bad;
    }
  return bad;
}

std::vector<double> scaled(const std::vector<double>& mag, double rel) {
  std::vector<double> t(mag.size());
  for (size_t i = 0; i < mag.size(); ++i) t[i] = rel * mag[i];
  return t;
}

Tensor make_tensor(DType type, std::vector<int64_t> shape, void* data) {
  Tensor t;
  t.name = "test";
  t.type = type;
  t.shape = std::move(shape);
  t.data = data;
  return t;
}

constexpr double kExactRel = 1e-5;

// --- kernel level: every variant, direct calls with odd row ranges -------------------------
void test_kernels(const std::vector<const Kernels*>& variants) {
  const Kernels& plain = kernels_plain();
  const int64_t rows_list[] = {1, 7, 37};
  // 8224 = 257 blocks: wider than the AVX-512 prepared-activation limit, odd block count.
  const int64_t cols_list[] = {32, 96, 224, 7168, 8224};
  const int64_t n_list[] = {1, 2, 3, 5, 8, 17};
  int cases = 0;
  for (int64_t rows : rows_list)
    for (int64_t cols : cols_list)
      for (int64_t n : n_list) {
        if (cols >= 7168 && n > 5 && rows > 7) continue;  // keep the test fast
        Q4Matrix W = random_q4(rows, cols);
        std::vector<float> x = random_vec(n * cols);
        std::vector<double> want, mag;
        ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
        const int64_t nb = cols / 32;
        std::vector<block_q8> xq(n * nb);
        for (int64_t t = 0; t < n; ++t) plain.quantize_q8(&x[t * cols], cols, &xq[t * nb]);
        // int8 rounding bound for q4_q8 vs the exact product.
        std::vector<double> q8tol(n * rows);
        for (int64_t t = 0; t < n; ++t)
          for (int64_t r = 0; r < rows; ++r) {
            double b = 0;
            // Two int8 digits: |x - d·(hi + lo/128)| <= d/256.
            for (int64_t c = 0; c < cols; ++c) b += std::fabs(W.deq[r * cols + c]) * xq[t * nb + c / 32].d * (0.5 / KK_Q8_LO_SCALE);
            q8tol[t * rows + r] = b * 1.0001 + kExactRel * mag[t * rows + r];
          }
        std::vector<float> yplain_q8(n * rows);
        plain.q4_q8(W.q.data(), cols, 0, rows, xq.data(), n, yplain_q8.data(), rows);

        // bf16 and f32 weights with the same shape.
        std::vector<uint16_t> wb(rows * cols);
        std::vector<double> wbd(rows * cols);
        std::vector<float> wf(rows * cols);
        std::vector<double> wfd(rows * cols);
        for (int64_t i = 0; i < rows * cols; ++i) {
          wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]);
          wf[i] = urand(); wfd[i] = wf[i];
        }
        std::vector<double> want_b, mag_b, want_f, mag_f;
        ref_matmul(wbd, rows, cols, x.data(), n, want_b, mag_b);
        ref_matmul(wfd, rows, cols, x.data(), n, want_f, mag_f);

        for (const Kernels* k : variants) {
          std::vector<float> y(n * rows, NAN);
          // Split the rows in two odd ranges to exercise r0 != 0.
          const int64_t mid = rows / 3;
          k->q4_f32(W.q.data(), cols, 0, mid, x.data(), cols, n, y.data(), rows);
          k->q4_f32(W.q.data(), cols, mid, rows, x.data(), cols, n, y.data(), rows);
          int bad = count_bad(y.data(), want, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4_f32 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);

          std::vector<block_q8> xq2(n * nb);
          for (int64_t t = 0; t < n; ++t) k->quantize_q8(&x[t * cols], cols, &xq2[t * nb]);
          CHECK(std::memcmp(xq2.data(), xq.data(), xq.size() * sizeof(block_q8)) == 0,
                "%s quantize_q8 differs from plain (cols=%lld)", k->name, (long long)cols);

          std::fill(y.begin(), y.end(), NAN);
          k->q4_q8(W.q.data(), cols, 0, mid, xq.data(), n, y.data(), rows);
          k->q4_q8(W.q.data(), cols, mid, rows, xq.data(), n, y.data(), rows);
          bad = count_bad(y.data(), want, q8tol);
          CHECK(bad == 0, "%s q4_q8 vs exact rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);
          std::vector<double> yp(yplain_q8.begin(), yplain_q8.end());
          bad = count_bad(y.data(), yp, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4_q8 vs plain q4_q8 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);

          std::fill(y.begin(), y.end(), NAN);
          k->bf16_f32(wb.data(), cols, 0, mid, x.data(), cols, n, y.data(), rows);
          k->bf16_f32(wb.data(), cols, mid, rows, x.data(), cols, n, y.data(), rows);
          bad = count_bad(y.data(), want_b, scaled(mag_b, kExactRel));
          CHECK(bad == 0, "%s bf16_f32 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);

          std::fill(y.begin(), y.end(), NAN);
          k->f32_f32(wf.data(), cols, 0, mid, x.data(), cols, n, y.data(), rows);
          k->f32_f32(wf.data(), cols, mid, rows, x.data(), cols, n, y.data(), rows);
          bad = count_bad(y.data(), want_f, scaled(mag_f, kExactRel));
          CHECK(bad == 0, "%s f32_f32 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);
          ++cases;
        }
      }
  std::printf("kernels: %d (variant, shape) cases: q4_f32, q4_q8, quantize_q8, bf16_f32, f32_f32\n", cases);

  // Dense weights may have any width: odd column counts exercise the SIMD tails.
  int dense_cases = 0;
  for (int64_t cols : {1, 5, 17, 33, 100, 515})
    for (int64_t n : {1, 3, 6}) {
      const int64_t rows = 9;
      std::vector<float> x = random_vec(n * cols), wf(rows * cols);
      std::vector<uint16_t> wb(rows * cols);
      std::vector<double> wbd(rows * cols), wfd(rows * cols);
      for (int64_t i = 0; i < rows * cols; ++i) {
        wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]);
        wf[i] = urand(); wfd[i] = wf[i];
      }
      std::vector<double> want_b, mag_b, want_f, mag_f;
      ref_matmul(wbd, rows, cols, x.data(), n, want_b, mag_b);
      ref_matmul(wfd, rows, cols, x.data(), n, want_f, mag_f);
      for (const Kernels* k : variants) {
        std::vector<float> y(n * rows, NAN);
        k->bf16_f32(wb.data(), cols, 0, rows, x.data(), cols, n, y.data(), rows);
        int bad = count_bad(y.data(), want_b, scaled(mag_b, kExactRel));
        CHECK(bad == 0, "%s bf16_f32 odd cols=%lld n=%lld: %d bad", k->name, (long long)cols, (long long)n, bad);
        std::fill(y.begin(), y.end(), NAN);
        k->f32_f32(wf.data(), cols, 0, rows, x.data(), cols, n, y.data(), rows);
        bad = count_bad(y.data(), want_f, scaled(mag_f, kExactRel));
        CHECK(bad == 0, "%s f32_f32 odd cols=%lld n=%lld: %d bad", k->name, (long long)cols, (long long)n, bad);
        ++dense_cases;
      }
    }
  std::printf("kernels: %d (variant, shape) dense cases with odd widths\n", dense_cases);
}

// --- dense prefill GEMM on packed panels (gemm_panel_avx512.cpp: from kPanelMinTokens = 17 tokens;
// fewer take the small-batch kernel) --
// Ragged everything: rows that do not fill a 32-row panel, widths that are not a multiple of a
// 16-column transpose or of a 256-column panel, token counts that leave a partial 12-token tile,
// and row ranges split at odd rows, for bf16 and f32 weights, every variant against fp64.
void test_dense_panels(const std::vector<const Kernels*>& variants) {
  struct Shape { int64_t rows, cols, n; };
  const Shape shapes[] = {{1, 1, 8}, {33, 17, 9}, {70, 257, 25}, {37, 600, 13}, {64, 512, 24}, {5, 1030, 31}, {96, 48, 12}};
  int cases = 0;
  for (const Shape& sh : shapes) {
    std::vector<float> x = random_vec(sh.n * sh.cols), wf(sh.rows * sh.cols);
    std::vector<uint16_t> wb(sh.rows * sh.cols);
    std::vector<double> wbd(sh.rows * sh.cols), wfd(sh.rows * sh.cols);
    for (int64_t i = 0; i < sh.rows * sh.cols; ++i) {
      wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]);
      wf[i] = urand(); wfd[i] = wf[i];
    }
    std::vector<double> want_b, mag_b, want_f, mag_f;
    ref_matmul(wbd, sh.rows, sh.cols, x.data(), sh.n, want_b, mag_b);
    ref_matmul(wfd, sh.rows, sh.cols, x.data(), sh.n, want_f, mag_f);
    const int64_t mid = sh.rows / 3;
    for (const Kernels* k : variants) {
      std::vector<float> y(sh.n * sh.rows, NAN);
      k->bf16_f32(wb.data(), sh.cols, 0, mid, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      k->bf16_f32(wb.data(), sh.cols, mid, sh.rows, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      int bad = count_bad(y.data(), want_b, scaled(mag_b, kExactRel));
      CHECK(bad == 0, "%s bf16_f32 (panels) rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
            (long long)sh.cols, (long long)sh.n, bad);
      std::fill(y.begin(), y.end(), NAN);
      k->f32_f32(wf.data(), sh.cols, 0, mid, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      k->f32_f32(wf.data(), sh.cols, mid, sh.rows, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      bad = count_bad(y.data(), want_f, scaled(mag_f, kExactRel));
      CHECK(bad == 0, "%s f32_f32 (panels) rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
            (long long)sh.cols, (long long)sh.n, bad);
      ++cases;
    }
  }
  std::printf("dense panels: %d (variant, ragged GEMM shape) cases, bf16_f32 and f32_f32\n", cases);
}

// --- q4x16: the 16-row interleaved layout, every variant vs fp64 and the row-layout oracle ---
std::vector<block_q4x16> pack_q4x16(const Q4Matrix& W) {
  const int64_t nb = W.cols / 32, groups = W.rows / 16;
  std::vector<block_q4x16> out(groups * nb);
  for (int64_t g = 0; g < groups; ++g) q4x16_pack(&W.q[g * 16 * nb], nb, &out[g * nb]);
  return out;
}

// bf16 GEMMs on tile-sized problems. bf16_f32 (exact mode), every variant: the AMX variant's
// runs on tiles with three bf16 digits per activation, which must equal fp32 up to the order of
// sums. Kernels::bf16_fast (fast mode, two bf16 digits; AMX tiles where usable): against fp64
// and, on whole tiles, against its plain oracle. Shapes cover whole tiles, two column chunks,
// several token tiles, and ragged rows / tokens / widths (which go to the fp32 fallback), with
// the row range split at a row that is not a multiple of 16.
void test_bf16_tiles(const std::vector<const Kernels*>& variants) {
  // Two bf16 digits keep each activation within 2^-17 of it: 2^-14 of Σ|w·x| is ample.
  constexpr double kTwoDigitRel = 1.0 / 16384;
  struct Shape { int64_t rows, cols, n; };
  const Shape shapes[] = {{16, 32, 16}, {32, 64, 32}, {48, 1056, 48}, {37, 96, 35}, {64, 2080, 70}, {20, 40, 17}, {9, 64, 5}};
  int exact_cases = 0, fast_cases = 0;
  std::string with;
  for (const Shape& sh : shapes) {
    std::vector<float> x = random_vec(sh.n * sh.cols);
    std::vector<uint16_t> wb(sh.rows * sh.cols);
    std::vector<double> wbd(sh.rows * sh.cols);
    for (int64_t i = 0; i < sh.rows * sh.cols; ++i) { wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]); }
    std::vector<double> want, mag;
    ref_matmul(wbd, sh.rows, sh.cols, x.data(), sh.n, want, mag);
    std::vector<float> oracle(sh.n * sh.rows);
    bf16_bf16_plain(wb.data(), sh.cols, 0, sh.rows, x.data(), sh.cols, sh.n, oracle.data(), sh.rows);
    const std::vector<double> oracle_d(oracle.begin(), oracle.end());
    const bool whole = sh.rows % 16 == 0 && sh.n % 16 == 0 && sh.cols % 32 == 0;
    const int64_t mid = sh.rows > 20 ? 19 : sh.rows;
    // y = kernel over rows [0, mid) then [mid, rows), or all rows at once.
    auto run = [&](decltype(Kernels::bf16_f32) fn, bool split) {
      std::vector<float> y(sh.n * sh.rows, NAN);
      const int64_t cut = split ? mid : sh.rows;
      fn(wb.data(), sh.cols, 0, cut, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      fn(wb.data(), sh.cols, cut, sh.rows, x.data(), sh.cols, sh.n, y.data(), sh.rows);
      return y;
    };
    for (const Kernels* k : variants) {
      int bad = count_bad(run(k->bf16_f32, true).data(), want, scaled(mag, kExactRel));
      CHECK(bad == 0, "%s bf16_f32 (tile shapes) rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
            (long long)sh.cols, (long long)sh.n, bad);
      ++exact_cases;
      if (!k->bf16_fast) continue;
      if (&sh == shapes) with += std::string(" ") + k->name;
      bad = count_bad(run(k->bf16_fast, true).data(), want, scaled(mag, kTwoDigitRel));
      CHECK(bad == 0, "%s bf16_fast vs fp64 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
            (long long)sh.cols, (long long)sh.n, bad);
      if (whole) {  // the tile path alone: the oracle's math up to the order of fp32 sums
        bad = count_bad(run(k->bf16_fast, false).data(), oracle_d, scaled(mag, kExactRel));
        CHECK(bad == 0, "%s bf16_fast vs bf16_bf16_plain rows=%lld cols=%lld n=%lld: %d bad", k->name,
              (long long)sh.rows, (long long)sh.cols, (long long)sh.n, bad);
      }
      ++fast_cases;
    }
  }
  // Exactness that a tolerance cannot see: with one weight 1 per row (the rest 0), y must be the
  // activation itself, bit for bit, whatever its low mantissa bits — which a path keeping fewer
  // than 24 bits of each activation (two bf16 digits, say) loses.
  {
    const int64_t rows = 32, cols = 64, n = 32;
    std::vector<uint16_t> wb(rows * cols, 0);
    for (int64_t r = 0; r < rows; ++r) wb[r * cols + (r * 7) % cols] = f32_to_bf16(1.f);
    std::vector<float> x = random_vec(n * cols);
    for (auto& v : x) v *= 1.f + std::ldexp(1.f, -20);  // low mantissa bits set
    for (const Kernels* k : variants) {
      std::vector<float> y(n * rows, NAN);
      k->bf16_f32(wb.data(), cols, 0, rows, x.data(), cols, n, y.data(), rows);
      int bad = 0;
      for (int64_t t = 0; t < n; ++t)
        for (int64_t r = 0; r < rows; ++r) bad += y[t * rows + r] != x[t * cols + (r * 7) % cols];
      CHECK(bad == 0, "%s bf16_f32 does not keep fp32 activations exactly: %d of %lld outputs differ", k->name, bad,
            (long long)(n * rows));
      ++exact_cases;
    }
  }
  std::printf("bf16_f32: %d (variant, tile-sized shape) cases vs fp64, and exact fp32 activations\n", exact_cases);
  if (with.empty()) std::printf("bf16_fast: skipped, no variant on this CPU has one (it needs usable AMX-BF16)\n");
  else std::printf("bf16_fast: %d (variant, shape) cases:%s\n", fast_cases, with.c_str());
}

void test_q4x16_kernels(const std::vector<const Kernels*>& variants) {
  const Kernels& plain = kernels_plain();
  int cases = 0;
  for (int64_t rows : {16, 48, 80})
    for (int64_t cols : {32, 96, 224, 7168, 8224})
      for (int64_t n : {1, 2, 3, 5, 8, 16, 21}) {  // 16, 21: whole and partial tile-kernel token tiles
        if (cols >= 7168 && (n > 3 || rows > 48)) continue;  // keep the test fast
        Q4Matrix W = random_q4(rows, cols);
        const int64_t nb = cols / 32, groups = rows / 16;
        std::vector<block_q4x16> P = pack_q4x16(W);
        // Round trip: every row unpacks to the original blocks, bit for bit.
        bool same = true;
        std::vector<block_q4> row(nb);
        for (int64_t r = 0; r < rows; ++r) {
          q4x16_unpack_row(&P[(r / 16) * nb], nb, int(r % 16), row.data());
          same = same && std::memcmp(row.data(), &W.q[r * nb], nb * sizeof(block_q4)) == 0;
        }
        CHECK(same, "q4x16 pack/unpack round trip rows=%lld cols=%lld", (long long)rows, (long long)cols);

        std::vector<float> x = random_vec(n * cols);
        std::vector<double> want, mag;
        ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
        std::vector<block_q8> xq(n * nb);
        for (int64_t t = 0; t < n; ++t) plain.quantize_q8(&x[t * cols], cols, &xq[t * nb]);
        std::vector<float> yrow(n * rows);
        plain.q4_q8(W.q.data(), cols, 0, rows, xq.data(), n, yrow.data(), rows);
        const std::vector<double> yrow_d(yrow.begin(), yrow.end());
        for (const Kernels* k : variants) {
          std::vector<float> y(n * rows, NAN);
          k->q4x16_f32(P.data(), cols, 0, 1, x.data(), cols, n, y.data(), rows);
          k->q4x16_f32(P.data(), cols, 1, groups, x.data(), cols, n, y.data(), rows);
          int bad = count_bad(y.data(), want, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4x16_f32 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);
          std::fill(y.begin(), y.end(), NAN);
          k->q4x16_q8(P.data(), cols, 0, 1, xq.data(), n, y.data(), rows);
          k->q4x16_q8(P.data(), cols, 1, groups, xq.data(), n, y.data(), rows);
          // Same integers as the row layout: only the fp32 order of the block sums differs.
          bad = count_bad(y.data(), yrow_d, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4x16_q8 vs plain q4_q8 rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows, (long long)cols, (long long)n, bad);
          ++cases;
        }
      }
  std::printf("q4x16: %d (variant, shape) cases: pack/unpack, q4x16_f32 vs fp64, q4x16_q8 vs q4_q8\n", cases);

  // q4x16_repack: in place when the tensor owns its bytes; a read-only mapped view (no owner)
  // is copied and left untouched; ineligible tensors are refused and left as they were.
  {
    Q4Matrix W = random_q4(32, 96);
    const std::vector<block_q4> original = W.q;
    Tensor view = make_tensor(DType::Q4, {2, 16, 96}, W.q.data());  // stacked [E=2, 16, 96]
    CHECK(q4x16_repack(&view, nullptr).ok(), "q4x16_repack of a view");
    CHECK(view.type == DType::Q4X16 && view.owner && view.data != W.q.data(), "a view is repacked into a new buffer");
    CHECK(std::memcmp(W.q.data(), original.data(), original.size() * sizeof(block_q4)) == 0, "the viewed bytes are untouched");
    const std::vector<block_q4x16> want = pack_q4x16(W);
    CHECK(std::memcmp(view.data, want.data(), want.size() * sizeof(block_q4x16)) == 0, "the copy holds the packed groups");
    Tensor odd = make_tensor(DType::Q4, {24, 96}, W.q.data());  // 24 rows: not a multiple of 16
    CHECK(!q4x16_repack(&odd, nullptr).ok() && odd.type == DType::Q4 && odd.data == W.q.data(), "24 rows are refused, unchanged");
  }

  // matmul_rows over Q4X16 with row ranges that cut groups (the partial-group path).
  int ranges = 0;
  for (const Kernels* k : variants) {
    const int64_t rows = 64, cols = 96, n = 3;
    Q4Matrix W = random_q4(rows, cols);
    std::vector<block_q4x16> P = pack_q4x16(W);
    std::vector<float> x = random_vec(n * cols);
    std::vector<double> want, mag;
    ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
    WeightView v{DType::Q4X16, P.data(), rows, cols, nullptr};
    std::vector<float> scratch;
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{3, 13}, {5, 40}, {16, 37}, {0, 48}, {17, 64}, {31, 33}}) {
      std::vector<float> y(n * rows, NAN);
      Activations a{x.data(), cols, nullptr};
      matmul_rows(*k, v, a, n, y.data(), rows, r0, r1, scratch);
      int bad = 0;
      for (int64_t t = 0; t < n; ++t)
        for (int64_t r = 0; r < rows; ++r) {
          const float got = y[t * rows + r];
          const bool inside = r >= r0 && r < r1;
          if (inside ? !(std::fabs(got - want[t * rows + r]) <= kExactRel * mag[t * rows + r]) : !std::isnan(got)) ++bad;
        }
      CHECK(bad == 0, "%s matmul_rows Q4X16 rows [%lld, %lld): %d bad (outside the range must stay untouched)", k->name, (long long)r0, (long long)r1, bad);
      ++ranges;
    }
  }
  std::printf("q4x16: %d partial-group row ranges through matmul_rows\n", ranges);
}

// --- small batches (2..16 tokens: batched decode): the GEMV-over-T-tokens kernels -----------
// Dense (bf16, f32) at every token count 2..16 (whole and partial 8-token tiles, R = 4/2/1
// row streams and their leftover rows), odd rows and widths, row ranges split at odd rows;
// Q4X16 exact and fast at 2..8 tokens with odd group counts (the leftover group after the two
// streams); then matmul over the same kernels at 1-4 threads. Every variant against fp64
// (dense, q4x16 exact) and against plain q4_q8 (q4x16 fast: the same integers).
void test_small_batch(const std::vector<const Kernels*>& variants) {
  const Kernels& plain = kernels_plain();
  int dense_cases = 0, q4_cases = 0, op_cases = 0;
  struct Shape { int64_t rows, cols; };
  for (const Shape& sh : {Shape{1, 17}, Shape{5, 100}, Shape{37, 515}, Shape{70, 1030}, Shape{19, 64}})
    for (int64_t n = 2; n <= 16; ++n) {
      std::vector<float> x = random_vec(n * sh.cols), wf(sh.rows * sh.cols);
      std::vector<uint16_t> wb(sh.rows * sh.cols);
      std::vector<double> wbd(sh.rows * sh.cols), wfd(sh.rows * sh.cols);
      for (int64_t i = 0; i < sh.rows * sh.cols; ++i) {
        wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]);
        wf[i] = urand(); wfd[i] = wf[i];
      }
      std::vector<double> want_b, mag_b, want_f, mag_f;
      ref_matmul(wbd, sh.rows, sh.cols, x.data(), n, want_b, mag_b);
      ref_matmul(wfd, sh.rows, sh.cols, x.data(), n, want_f, mag_f);
      const int64_t mid = sh.rows / 3;
      for (const Kernels* k : variants) {
        std::vector<float> y(n * sh.rows, NAN);
        k->bf16_f32(wb.data(), sh.cols, 0, mid, x.data(), sh.cols, n, y.data(), sh.rows);
        k->bf16_f32(wb.data(), sh.cols, mid, sh.rows, x.data(), sh.cols, n, y.data(), sh.rows);
        int bad = count_bad(y.data(), want_b, scaled(mag_b, kExactRel));
        CHECK(bad == 0, "%s bf16_f32 small batch rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
              (long long)sh.cols, (long long)n, bad);
        std::fill(y.begin(), y.end(), NAN);
        k->f32_f32(wf.data(), sh.cols, 0, mid, x.data(), sh.cols, n, y.data(), sh.rows);
        k->f32_f32(wf.data(), sh.cols, mid, sh.rows, x.data(), sh.cols, n, y.data(), sh.rows);
        bad = count_bad(y.data(), want_f, scaled(mag_f, kExactRel));
        CHECK(bad == 0, "%s f32_f32 small batch rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)sh.rows,
              (long long)sh.cols, (long long)n, bad);
        ++dense_cases;
      }
    }
  for (int64_t rows : {16, 48, 80, 112})
    for (int64_t cols : {96, 224, 2080})
      for (int64_t n = 2; n <= 8; ++n) {
        Q4Matrix W = random_q4(rows, cols);
        const int64_t nb = cols / 32, groups = rows / 16;
        std::vector<block_q4x16> P = pack_q4x16(W);
        std::vector<float> x = random_vec(n * cols);
        std::vector<double> want, mag;
        ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
        std::vector<block_q8> xq(n * nb);
        for (int64_t t = 0; t < n; ++t) plain.quantize_q8(&x[t * cols], cols, &xq[t * nb]);
        std::vector<float> yrow(n * rows);
        plain.q4_q8(W.q.data(), cols, 0, rows, xq.data(), n, yrow.data(), rows);
        const std::vector<double> yrow_d(yrow.begin(), yrow.end());
        const int64_t gmid = groups / 2;
        for (const Kernels* k : variants) {
          std::vector<float> y(n * rows, NAN);
          k->q4x16_f32(P.data(), cols, 0, gmid, x.data(), cols, n, y.data(), rows);
          k->q4x16_f32(P.data(), cols, gmid, groups, x.data(), cols, n, y.data(), rows);
          int bad = count_bad(y.data(), want, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4x16_f32 small batch rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows,
                (long long)cols, (long long)n, bad);
          std::fill(y.begin(), y.end(), NAN);
          k->q4x16_q8(P.data(), cols, 0, gmid, xq.data(), n, y.data(), rows);
          k->q4x16_q8(P.data(), cols, gmid, groups, xq.data(), n, y.data(), rows);
          bad = count_bad(y.data(), yrow_d, scaled(mag, kExactRel));
          CHECK(bad == 0, "%s q4x16_q8 small batch rows=%lld cols=%lld n=%lld: %d bad", k->name, (long long)rows,
                (long long)cols, (long long)n, bad);
          ++q4_cases;
        }
      }
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (const Kernels* k : variants)
      for (auto [rows, cols, n] : {std::tuple<int64_t, int64_t, int64_t>{131, 96, 2}, {257, 515, 5},
                                    {70, 7168, 8}, {33, 2080, 13}, {160, 1024, 16}, {48, 2048, 6}, {80, 7168, 3}}) {
        std::vector<float> x = random_vec(n * cols);
        std::vector<uint16_t> wb(rows * cols);
        std::vector<double> wbd(rows * cols);
        for (int64_t i = 0; i < rows * cols; ++i) { wb[i] = f32_to_bf16(urand()); wbd[i] = bf16_to_f32(wb[i]); }
        std::vector<double> want, mag;
        ref_matmul(wbd, rows, cols, x.data(), n, want, mag);
        Tensor t = make_tensor(DType::BF16, {rows, cols}, wb.data());
        for (bool fast : {false, true}) {
          OpContext ctx{&pool, k, fast};
          std::vector<float> y(n * rows, NAN);
          matmul(ctx, t, x.data(), n, y.data());
          const int bad = count_bad(y.data(), want, scaled(mag, kExactRel));
          CHECK(bad == 0, "matmul bf16 small batch %s %s threads=%d %lldx%lld n=%lld: %d bad", fast ? "fast" : "exact",
                k->name, threads, (long long)rows, (long long)cols, (long long)n, bad);
        }
        if (rows % 16 == 0 && cols % 32 == 0 && n <= 8) {  // Q4X16 through the op, exact and fast
          Q4Matrix W = random_q4(rows, cols);
          ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
          Tensor tx = make_tensor(DType::Q4, {rows, cols}, W.q.data());
          tx.owner = std::shared_ptr<void>(W.q.data(), [](void*) {});
          CHECK(q4x16_repack(&tx, &pool).ok() && tx.type == DType::Q4X16, "q4x16_repack %lldx%lld", (long long)rows, (long long)cols);
          for (bool fast : {false, true}) {
            OpContext ctx{&pool, k, fast};
            std::vector<float> y(n * rows, NAN);
            matmul(ctx, tx, x.data(), n, y.data());
            const int bad = count_bad(y.data(), want, scaled(mag, fast ? 1e-3 : kExactRel));
            CHECK(bad == 0, "matmul q4x16 small batch %s %s threads=%d %lldx%lld n=%lld: %d bad", fast ? "fast" : "exact",
                  k->name, threads, (long long)rows, (long long)cols, (long long)n, bad);
          }
        }
        ++op_cases;
      }
  }
  std::printf("small batches: %d dense (variant, shape, 2..16 tokens), %d q4x16 (2..8 tokens), %d matmul (1-4 threads) cases\n",
              dense_cases, q4_cases, op_cases);
}

// --- op level: matmul over every dtype, variants x thread counts ---------------------------
void test_matmul(const std::vector<const Kernels*>& variants) {
  int cases = 0;
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (const Kernels* k : variants)
      for (auto [rows, cols, n] : {std::tuple<int64_t, int64_t, int64_t>{1, 32, 1}, {131, 96, 3},
                                    {257, 256, 17}, {70, 7168, 2}, {33, 320, 8}, {48, 224, 5},
                                    {160, 7168, 1}, {32, 2048, 9}}) {
        std::vector<float> x = random_vec(n * cols);
        std::vector<double> want, mag;
        // Q4 exact and fast.
        Q4Matrix W = random_q4(rows, cols);
        ref_matmul(W.deq, rows, cols, x.data(), n, want, mag);
        Tensor t = make_tensor(DType::Q4, {rows, cols}, W.q.data());
        std::vector<float> y(n * rows, NAN);
        OpContext ctx{&pool, k, false};
        matmul(ctx, t, x.data(), n, y.data());
        int bad = count_bad(y.data(), want, scaled(mag, kExactRel));
        CHECK(bad == 0, "matmul q4 exact %s threads=%d %lldx%lld n=%lld: %d bad", k->name, threads, (long long)rows, (long long)cols, (long long)n, bad);
        ctx.fast = true;
        std::fill(y.begin(), y.end(), NAN);
        matmul(ctx, t, x.data(), n, y.data());
        // Fast tolerance: 1e-3 of the magnitude, ~16x the two-digit int8 bound for |x| ~ U(-1,1).
        bad = count_bad(y.data(), want, scaled(mag, 1e-3));
        CHECK(bad == 0, "matmul q4 fast %s threads=%d %lldx%lld n=%lld: %d bad", k->name, threads, (long long)rows, (long long)cols, (long long)n, bad);
        ctx.fast = false;
        if (rows % 16 == 0) {  // the same matrix repacked to Q4X16, exact and fast
          std::vector<block_q4> copy = W.q;
          Tensor tx = make_tensor(DType::Q4, {rows, cols}, copy.data());
          tx.owner = std::shared_ptr<void>(copy.data(), [](void*) {});
          CHECK(q4x16_repack(&tx, &pool).ok() && tx.type == DType::Q4X16, "q4x16_repack %lldx%lld", (long long)rows, (long long)cols);
          for (bool fast : {false, true}) {
            ctx.fast = fast;
            std::fill(y.begin(), y.end(), NAN);
            matmul(ctx, tx, x.data(), n, y.data());
            bad = count_bad(y.data(), want, scaled(mag, fast ? 1e-3 : kExactRel));
            CHECK(bad == 0, "matmul q4x16 %s %s threads=%d %lldx%lld n=%lld: %d bad", fast ? "fast" : "exact", k->name, threads, (long long)rows, (long long)cols, (long long)n, bad);
          }
          ctx.fast = false;
        }

        // F16 and F8 (with 128x128 tile scales on a shape that is not a multiple of 128).
        std::vector<uint16_t> wh(rows * cols);
        std::vector<double> whd(rows * cols);
        for (int64_t i = 0; i < rows * cols; ++i) { wh[i] = f32_to_f16(urand()); whd[i] = f16_to_f32(wh[i]); }
        ref_matmul(whd, rows, cols, x.data(), n, want, mag);
        t = make_tensor(DType::F16, {rows, cols}, wh.data());
        matmul(ctx, t, x.data(), n, y.data());
        bad = count_bad(y.data(), want, scaled(mag, kExactRel));
        CHECK(bad == 0, "matmul f16 %s threads=%d: %d bad", k->name, threads, bad);

        const int64_t tr = (rows + 127) / 128, tc = (cols + 127) / 128;
        std::vector<uint8_t> w8(rows * cols);
        std::vector<float> sinv(tr * tc);
        for (auto& s : sinv) s = urand(0.5f, 2.f);
        std::vector<double> w8d(rows * cols);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            uint8_t v;
            do { v = uint8_t(rng()); } while ((v & 0x7f) == 0x7f);  // e4m3 NaN encodings
            w8[r * cols + c] = v;
            // Independent decoding: e4m3 = (-1)^s 2^(e-7) (1 + m/8), subnormal 2^-6 m/8.
            const int s = v >> 7, e = (v >> 3) & 15, m = v & 7;
            const double mag8 = e ? std::ldexp(1.0 + m / 8.0, e - 7) : std::ldexp(m / 8.0, -6);
            w8d[r * cols + c] = (s ? -mag8 : mag8) * sinv[(r / 128) * tc + c / 128];
          }
        ref_matmul(w8d, rows, cols, x.data(), n, want, mag);
        t = make_tensor(DType::F8_E4M3, {rows, cols}, w8.data());
        t.fp8_scale_inv = sinv.data();
        matmul(ctx, t, x.data(), n, y.data());
        bad = count_bad(y.data(), want, scaled(mag, kExactRel));
        CHECK(bad == 0, "matmul fp8 %s threads=%d: %d bad", k->name, threads, bad);
        ++cases;
      }
  }
  std::printf("matmul: %d (threads, variant, shape) cases over Q4 (and Q4X16) exact/fast, F16, F8_E4M3\n", cases);
}

// --- MoE op vs naive per-token composition --------------------------------------------------
void test_moe(const std::vector<const Kernels*>& variants) {
  const int64_t E = 6, inter = 64, hidden = 96;
  const int top_k = 3;
  int cases = 0;
  for (DType type : {DType::Q4, DType::Q4X16, DType::BF16, DType::F32}) {
    // Stacked weights, plus dequantized copies per expert.
    std::vector<std::vector<double>> gd(E), ud(E), dd(E);
    std::vector<block_q4> gq, uq, dq;
    std::vector<uint16_t> gb, ub, db;
    std::vector<float> gf, uf, df;
    auto fill = [&](int64_t rows, int64_t cols, std::vector<double>* deq, std::vector<block_q4>& q,
                    std::vector<uint16_t>& b, std::vector<float>& f) {
      for (int64_t e = 0; e < E; ++e) {
        if (is_q4(type)) {
          Q4Matrix m = random_q4(rows, cols);
          for (auto& v : m.deq) v *= 1.0;
          q.insert(q.end(), m.q.begin(), m.q.end());
          deq[e] = m.deq;
        } else {
          deq[e].resize(rows * cols);
          for (int64_t i = 0; i < rows * cols; ++i) {
            const float v = urand(-0.2f, 0.2f);
            if (type == DType::BF16) { b.push_back(f32_to_bf16(v)); deq[e][i] = bf16_to_f32(b.back()); }
            else { f.push_back(v); deq[e][i] = v; }
          }
        }
      }
    };
    fill(inter, hidden, gd.data(), gq, gb, gf);
    fill(inter, hidden, ud.data(), uq, ub, uf);
    fill(hidden, inter, dd.data(), dq, db, df);
    auto data = [&](std::vector<block_q4>& q, std::vector<uint16_t>& b, std::vector<float>& f) -> void* {
      return is_q4(type) ? (void*)q.data() : type == DType::BF16 ? (void*)b.data() : (void*)f.data();
    };
    const DType stored = type == DType::Q4X16 ? DType::Q4 : type;
    Tensor G = make_tensor(stored, {E, inter, hidden}, data(gq, gb, gf));
    Tensor U = make_tensor(stored, {E, inter, hidden}, data(uq, ub, uf));
    Tensor D = make_tensor(stored, {E, hidden, inter}, data(dq, db, df));
    if (type == DType::Q4X16)  // stacked experts repacked as the engine does at load
      for (Tensor* t : {&G, &U, &D}) {
        t->owner = std::shared_ptr<void>(t->data, [](void*) {});
        CHECK(q4x16_repack(t, nullptr).ok() && t->type == DType::Q4X16, "q4x16_repack of stacked %s", t->name.c_str());
      }

    for (int64_t n : {1, 3, 8}) {
      std::vector<float> x = random_vec(n * hidden);
      std::vector<int32_t> ids(n * top_k);
      std::vector<float> w(n * top_k);
      for (int64_t t = 0; t < n; ++t)
        for (int k = 0; k < top_k; ++k) {
          ids[t * top_k + k] = int32_t((t * 5 + k * 2 + (t % 2)) % E);  // distinct within a token
          w[t * top_k + k] = urand(0.1f, 1.f);
        }
      std::vector<uint8_t> mask(E, 1);
      mask[1] = 0;
      for (bool use_mask : {false, true}) {
        std::vector<double> want(n * hidden, 0.0), mag(n * hidden, 0.0);
        for (int64_t t = 0; t < n; ++t)
          for (int k = 0; k < top_k; ++k) {
            const int e = ids[t * top_k + k];
            if (use_mask && !mask[e]) continue;
            std::vector<double> h(inter);
            for (int64_t i = 0; i < inter; ++i) {
              double g = 0, u = 0;
              for (int64_t c = 0; c < hidden; ++c) { g += gd[e][i * hidden + c] * x[t * hidden + c]; u += ud[e][i * hidden + c] * x[t * hidden + c]; }
              h[i] = g / (1 + std::exp(-g)) * u;
            }
            for (int64_t d = 0; d < hidden; ++d) {
              double s = 0, m = 0;
              for (int64_t i = 0; i < inter; ++i) { s += dd[e][d * inter + i] * h[i]; m += std::fabs(dd[e][d * inter + i] * h[i]); }
              want[t * hidden + d] += w[t * top_k + k] * s;
              mag[t * hidden + d] += w[t * top_k + k] * m;
            }
          }
        for (int threads : {1, 2, 3, 4})
          for (const Kernels* k : variants)
            for (bool fast : {false, true}) {
              if (fast && !is_q4(type)) continue;
              ThreadPool pool(threads);
              OpContext ctx{&pool, k, fast};
              std::vector<float> y(n * hidden, NAN);
              moe(ctx, G, U, D, x.data(), n, top_k, ids.data(), w.data(), y.data(), use_mask ? mask.data() : nullptr);
              // Exact: 1e-4 of magnitude (two chained fp32 matmuls + silu). Fast: 3e-3, as the
              // activation rounding of gate/up propagates through silu and down.
              const int bad = count_bad(y.data(), want, scaled(mag, fast ? 3e-3 : 1e-4));
              CHECK(bad == 0, "moe %s %s %s n=%lld threads=%d mask=%d: %d bad", dtype_name(type), k->name,
                    fast ? "fast" : "exact", (long long)n, threads, int(use_mask), bad);
              ++cases;
            }
      }
    }
  }
  std::printf("moe: %d cases (Q4/Q4X16/BF16/F32 stacked experts, masks, exact/fast) vs naive composition\n", cases);
}

// --- MLA attention through a block table --------------------------------------------------------
// The cache rows copied into blocks of kTestBlock tokens placed in reverse order in one buffer,
// so a kernel that ignored the block table (read rows contiguously) would read the wrong rows.
constexpr int64_t kTestBlock = 64;
struct PagedCache {
  std::vector<float> storage;
  std::vector<const uint8_t*> blocks;
  KvPages pages;
  PagedCache(const std::vector<float>& rows, int64_t n_ctx, int64_t row) {
    const int64_t nb = (n_ctx + kTestBlock - 1) / kTestBlock;
    storage.assign(size_t(nb * kTestBlock * row), NAN);
    blocks.resize(nb);
    for (int64_t b = 0; b < nb; ++b) {
      float* dst = &storage[size_t((nb - 1 - b) * kTestBlock * row)];
      blocks[b] = reinterpret_cast<const uint8_t*>(dst);
      const int64_t m = std::min(kTestBlock, n_ctx - b * kTestBlock);
      std::copy(rows.begin() + b * kTestBlock * row, rows.begin() + (b * kTestBlock + m) * row, dst);
    }
    pages = KvPages{blocks.data(), kTestBlock, row, KK_KV_F32, row * int64_t(sizeof(float))};
  }
};

// --- MLA decode attention vs naive softmax ---------------------------------------------------
// The CPU backend's MLA prefill attention (key blocks with an online softmax) against the
// naive causal softmax in fp64: contexts shorter and longer than a key block, new tokens that
// start at 0 and after a cached prefix, 1-4 threads.
void test_mla_prefill() {
  int cases = 0;
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    for (int64_t n_ctx : {7, 256, 300, 700})
      for (int64_t n : {int64_t(1), int64_t(5), n_ctx / 2, n_ctx}) {
        if (n < 1 || n > n_ctx) continue;
        MlaPrefillArgs a{3, 16, 12, 20, 8, n, n_ctx, 0.25f};
        const int H = a.n_heads, D = a.dn + a.P;
        std::vector<float> q = random_vec(n * H * D), kv = random_vec(n_ctx * H * (a.dn + a.dv)),
                           cache = random_vec(n_ctx * (a.R + a.P)), out(n * H * a.dv, NAN);
        OpContext ctx{&pool, nullptr, false};
        const PagedCache paged(cache, n_ctx, a.R + a.P);
        backend_cpu().mla_prefill_attention(ctx, a, q.data(), kv.data(), paged.pages, out.data());
        int bad = 0;
        const int64_t first = n_ctx - n;
        for (int64_t i = 0; i < n; ++i)
          for (int h = 0; h < H; ++h) {
            const int64_t keys = first + i + 1;
            std::vector<double> sc(keys);
            double mx = -1e300, sum = 0;
            for (int64_t t = 0; t < keys; ++t) {
              double d = 0;
              for (int j = 0; j < a.dn; ++j) d += double(q[(i * H + h) * D + j]) * kv[(t * H + h) * (a.dn + a.dv) + j];
              for (int j = 0; j < a.P; ++j) d += double(q[(i * H + h) * D + a.dn + j]) * cache[t * (a.R + a.P) + a.R + j];
              sc[t] = d * a.scale;
              mx = std::max(mx, sc[t]);
            }
            for (auto& v : sc) { v = std::exp(v - mx); sum += v; }
            for (int j = 0; j < a.dv; ++j) {
              double o = 0;
              for (int64_t t = 0; t < keys; ++t) o += sc[t] / sum * kv[(t * H + h) * (a.dn + a.dv) + a.dn + j];
              if (!(std::fabs(out[(i * H + h) * a.dv + j] - o) <= 1e-5)) ++bad;
            }
          }
        CHECK(bad == 0, "mla_prefill threads=%d n_ctx=%lld n=%lld: %d bad", threads, (long long)n_ctx, (long long)n, bad);
        ++cases;
      }
  }
  std::printf("mla_prefill_attention: %d cases vs fp64 causal softmax (abs err <= 1e-5)\n", cases);
}

void test_mla() {
  int cases = 0;
  for (int threads : {1, 2, 3, 4}) {
    ThreadPool pool(threads);
    for (int heads : {1, 3, 8})
      for (int64_t n_ctx : {1, 5, 128, 129, 300}) {
        const int R = 64, P = 16;
        std::vector<float> ql = random_vec(heads * R), qp = random_vec(heads * P);
        std::vector<float> cache = random_vec(n_ctx * (R + P));
        const float scale = 0.3f;
        std::vector<float> out(heads * R, NAN);
        OpContext ctx{&pool, nullptr, false};
        const PagedCache paged(cache, n_ctx, R + P);
        mla_decode_attention(ctx, ql.data(), qp.data(), paged.pages, n_ctx, heads, R, P, scale, out.data());
        int bad = 0;
        for (int h = 0; h < heads; ++h) {
          std::vector<double> s(n_ctx);
          double m = -1e300;
          for (int64_t t = 0; t < n_ctx; ++t) {
            double v = 0;
            for (int i = 0; i < R; ++i) v += double(ql[h * R + i]) * cache[t * (R + P) + i];
            for (int i = 0; i < P; ++i) v += double(qp[h * P + i]) * cache[t * (R + P) + R + i];
            s[t] = v * scale;
            m = std::max(m, s[t]);
          }
          double l = 0;
          for (auto& v : s) { v = std::exp(v - m); l += v; }
          for (int i = 0; i < R; ++i) {
            double o = 0;
            for (int64_t t = 0; t < n_ctx; ++t) o += s[t] / l * cache[t * (R + P) + i];
            if (!(std::fabs(out[h * R + i] - o) <= 1e-5)) {
              if (bad < 3) std::printf("    h=%d i=%d got %.8g want %.8g\n", h, i, out[h * R + i], o);
              ++bad;
            }
          }
        }
        CHECK(bad == 0, "mla threads=%d heads=%d n_ctx=%lld: %d bad", threads, heads, (long long)n_ctx, bad);
        ++cases;
      }
  }
  std::printf("mla_decode_attention: %d cases vs naive softmax (abs err <= 1e-5)\n", cases);
}

void test_rmsnorm() {
  for (int64_t d : {1, 7, 512, 7168}) {
    const int64_t n = 3;
    std::vector<float> x = random_vec(n * d, -3.f, 3.f), w = random_vec(d), y(n * d);
    rmsnorm(x.data(), w.data(), n, d, 1e-6f, y.data());
    int bad = 0;
    for (int64_t t = 0; t < n; ++t) {
      double ss = 0;
      for (int64_t i = 0; i < d; ++i) ss += double(x[t * d + i]) * x[t * d + i];
      const double inv = 1.0 / std::sqrt(ss / d + 1e-6);
      for (int64_t i = 0; i < d; ++i) {
        const double want = x[t * d + i] * inv * w[i];
        if (!(std::fabs(y[t * d + i] - want) <= 1e-6 * (1 + std::fabs(want)))) ++bad;
      }
    }
    CHECK(bad == 0, "rmsnorm d=%lld: %d bad", (long long)d, bad);
  }
  std::printf("rmsnorm: checked d in {1,7,512,7168} vs double\n");
}

void test_conversions() {
  // f16 round trip of every half value, and f32->f16 against exact rounding of chosen values.
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) { bad += !((h & 0x7c00) == 0x7c00 && (h & 0x3ff)); continue; }
    bad += f32_to_f16(f) != h;
  }
  CHECK(bad == 0, "f16 round trip: %d values", bad);
  CHECK(f16_to_f32(0x3c00) == 1.f && f16_to_f32(0xc000) == -2.f && f16_to_f32(0x0001) == std::ldexp(1.f, -24),
        "f16 known values");
  CHECK(f32_to_f16(1.f + std::ldexp(1.f, -11)) == 0x3c00, "tie rounds to even");
  CHECK(f32_to_f16(1.f + 3 * std::ldexp(1.f, -11)) == 0x3c02, "tie rounds to even (up)");
  CHECK(f32_to_f16(70000.f) == 0x7c00, "overflow to inf");
  CHECK(f32_to_f16(std::ldexp(1.f, -25)) == 0 && f32_to_f16(std::ldexp(1.5f, -25)) == 1, "subnormal rounding");
  CHECK(std::string(dtype_name(DType::Q4)) == "Q4" && dtype_row_bytes(DType::Q4, 64) == 36 &&
        dtype_row_bytes(DType::BF16, 3) == 6, "dtype names and sizes");
  std::printf("conversions: f16 (all 65536 values), dtype sizes\n");
}

}  // namespace

int main() {
  // KK_CPU_KERNELS picks a variant by name: ask for the second best (if there is one) before
  // the first kernels_best() call, and check it is honoured.
  const char* forced = nullptr;
  if (!std::getenv("KK_CPU_KERNELS") && kernels_available().size() > 1) {
    forced = kernels_available()[kernels_available().size() - 2]->name;
    setenv("KK_CPU_KERNELS", forced, 1);
  }
  const auto variants = kernels_available();
  std::printf("cpu: %s\nvariants:", cpu_features().describe().c_str());
  for (auto* k : variants) std::printf(" %s", k->name);
  std::printf(" (best: %s)\n", kernels_best().name);
  if (forced) CHECK(std::strcmp(kernels_best().name, forced) == 0, "KK_CPU_KERNELS=%s gave %s", forced, kernels_best().name);
  // A variant whose ISA is present but whose probe fails would drop out of every test below
  // unnoticed (the AMX one, say, on a machine with AMX): that is a failure, not a skip.
  for (const std::string& name : kernels_probe_failures())
    CHECK(false, "variant %s: cpuid reports its instructions but its probe failed", name.c_str());
  test_conversions();
  test_kernels(variants);
  test_q4x16_kernels(variants);
  test_bf16_tiles(variants);
  test_dense_panels(variants);
  test_small_batch(variants);
  test_matmul(variants);
  test_moe(variants);
  test_mla();
  test_mla_prefill();
  test_rmsnorm();
  return kk_test::finish("test_backend_ops");
}
