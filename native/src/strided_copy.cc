// copyStridedF32(view, offView, dims, steps, flat, offFlat, mode): between the view of `view` with sizes dims
// and element strides steps (Int32Arrays of one length, strides non-negative) from offView, in row-major order,
// and the contiguous values of `flat` from offFlat, by mode: 0 flat ← view (a contiguous copy), 1 view ← flat
// (a slice's backward writing its gradient into place), 2 flat += view (autograd summing a transposed gradient
// into a contiguous one). The caller merges dims that are contiguous with each
// other first, so the innermost run is as long as it can be; a run with step 1 is one memcpy.
#include "strided_copy.h"

#include <cstring>
#include <vector>

#include "js_args.h"

namespace pixelllm {
namespace {

napi_value CopyStridedF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "copyStridedF32", 7);
  const F32Array src = r.f32(0, "view");
  const index_t off_src = r.integer(1, "offView");
  const I32Array dims = r.i32(2, "dims");
  const I32Array steps = r.i32(3, "steps");
  const F32Array dst = r.f32(4, "flat");
  const index_t off_dst = r.integer(5, "offFlat");
  const index_t mode = r.integer(6, "mode");
  if (r.ok() && mode > 2) r.range_error("argument 'mode' (%td) must be 0, 1 or 2", mode);
  if (!r.ok()) return nullptr;
  if (dims.length != steps.length || dims.length == 0) {
    r.range_error("dims (%td) and steps (%td) must have one length, at least 1", dims.length, steps.length);
    return nullptr;
  }
  const index_t nd = dims.length;
  index_t count = 1, last = off_src;  // elements, and the furthest source element read
  for (index_t d = 0; d < nd; d++) {
    if (dims.data[d] < 0 || steps.data[d] < 0) {
      r.range_error("dims[%td] = %d and steps[%td] = %d must be non-negative", d, dims.data[d], d, steps.data[d]);
      return nullptr;
    }
    count *= dims.data[d];
    last += static_cast<index_t>(dims.data[d] > 0 ? dims.data[d] - 1 : 0) * steps.data[d];
  }
  if (count == 0) return undefined(env);
  if (last >= src.length) r.range_error("view (length %td) is too short for the view (reaches %td)", src.length, last);
  else if (off_dst > dst.length || count > dst.length - off_dst) r.range_error("flat (length %td) is too short for %td values at offFlat %td", dst.length, count, off_dst);
  if (!r.ok()) return nullptr;

  const index_t len = dims.data[nd - 1], step = steps.data[nd - 1];
  std::vector<index_t> idx(nd, 0);
  float* v = src.data;
  float* flat = dst.data + off_dst;
  index_t base = off_src;
  for (index_t done = 0; done < count; done += len) {
    if (mode == 2) {
      for (index_t j = 0; j < len; j++) flat[j] += v[base + j * step];
    } else if (step == 1) {
      if (mode == 1) std::memcpy(v + base, flat, sizeof(float) * len);
      else std::memcpy(flat, v + base, sizeof(float) * len);
    } else if (mode == 1) {
      for (index_t j = 0; j < len; j++) v[base + j * step] = flat[j];
    } else {
      for (index_t j = 0; j < len; j++) flat[j] = v[base + j * step];
    }
    flat += len;
    for (index_t d = nd - 2; d >= 0; d--) {  // the next run: an odometer over the outer dims
      base += steps.data[d];
      if (++idx[d] < dims.data[d]) break;
      base -= static_cast<index_t>(steps.data[d]) * dims.data[d];
      idx[d] = 0;
    }
  }
  return undefined(env);
}

}  // namespace

void register_strided_copy(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"copyStridedF32", nullptr, CopyStridedF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace pixelllm
