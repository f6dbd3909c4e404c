#include "core/host_backend.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

Buffer HostBackend::allocate(std::size_t bytes) {
  constexpr std::size_t kAlignment = 64;
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
  return Buffer(p, bytes, [](void* q) { std::free(q); });
}

void HostBackend::upload(Buffer& dst, std::span<const float> src) {
  if (src.size_bytes() > dst.bytes()) {
    throw std::length_error(
        fmt::format("upload of {} bytes into a buffer of {} bytes", src.size_bytes(), dst.bytes()));
  }
  std::memcpy(dst.data(), src.data(), src.size_bytes());
}

void HostBackend::download(const Buffer& src, std::span<float> dst) {
  if (dst.size_bytes() > src.bytes()) {
    throw std::length_error(fmt::format("download of {} bytes from a buffer of {} bytes",
                                        dst.size_bytes(), src.bytes()));
  }
  std::memcpy(dst.data(), src.data(), dst.size_bytes());
}

void HostBackend::embed(std::span<const std::int32_t> ids, std::int64_t pos0, std::int64_t dim,
                        const Buffer& wte, const Buffer& wpe, Buffer& x) {
  const auto T = static_cast<std::int64_t>(ids.size());
  require_floats(x, T * dim, "embed output");
  require_floats(wpe, (pos0 + T) * dim, "embed positions");
  const float* pte = wte.as<const float>();
  const float* ppe = wpe.as<const float>();
  float* px = x.as<float>();
  for (std::int64_t t = 0; t < T; ++t) {
    require_floats(wte, (std::int64_t{ids[t]} + 1) * dim, "embed token");
    const float* e = pte + std::int64_t{ids[t]} * dim;
    const float* p = ppe + (pos0 + t) * dim;
    float* out = px + t * dim;
    for (std::int64_t c = 0; c < dim; ++c) out[c] = e[c] + p[c];
  }
}

void HostBackend::split_heads(const HeadsShape& s, std::int64_t pos0, const Buffer& qkv,
                              Buffer& q, Buffer& k_cache, Buffer& v_cache) {
  const std::int64_t T = s.tokens, H = s.heads, D = s.head_dim, C = H * D;
  require_floats(qkv, T * 3 * C, "split_heads input");
  require_floats(q, H * T * D, "split_heads queries");
  require_floats(k_cache, ((H - 1) * s.capacity + pos0 + T) * D, "split_heads key cache");
  require_floats(v_cache, ((H - 1) * s.capacity + pos0 + T) * D, "split_heads value cache");
  const float* src = qkv.as<const float>();
  float* pq = q.as<float>();
  float* pk = k_cache.as<float>();
  float* pv = v_cache.as<float>();
  const std::size_t row = static_cast<std::size_t>(D) * sizeof(float);
  for (std::int64_t t = 0; t < T; ++t) {
    const float* r = src + t * 3 * C;
    for (std::int64_t h = 0; h < H; ++h) {
      std::memcpy(pq + (h * T + t) * D, r + h * D, row);
      std::memcpy(pk + (h * s.capacity + pos0 + t) * D, r + C + h * D, row);
      std::memcpy(pv + (h * s.capacity + pos0 + t) * D, r + 2 * C + h * D, row);
    }
  }
}

void HostBackend::merge_heads(const HeadsShape& s, const Buffer& o, Buffer& y) {
  const std::int64_t T = s.tokens, H = s.heads, D = s.head_dim;
  require_floats(o, H * T * D, "merge_heads input");
  require_floats(y, T * H * D, "merge_heads output");
  const float* src = o.as<const float>();
  float* dst = y.as<float>();
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t t = 0; t < T; ++t) {
      std::memcpy(dst + (t * H + h) * D, src + (h * T + t) * D,
                  static_cast<std::size_t>(D) * sizeof(float));
    }
  }
}

void HostBackend::copy(const Buffer& src, std::size_t src_offset, Buffer& dst,
                       std::size_t dst_offset, std::size_t count) {
  require_floats(src, static_cast<std::int64_t>(src_offset + count), "copy source");
  require_floats(dst, static_cast<std::int64_t>(dst_offset + count), "copy destination");
  std::memcpy(dst.as<float>() + dst_offset, src.as<const float>() + src_offset,
              count * sizeof(float));
}

}  // namespace aigc
