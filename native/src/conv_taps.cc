// moveTapsF32(geometry, cols, colOff, map, mapOff, toCols), geometry = Int32Array [C, H, W, kh, kw, sh, sw, ph, pw,
// dh, dw, oh, ow]: between one image's (C·kh·kw, oh·ow) patch matrix and its (C, H, W) map, for every tap that
// reads inside the map, copies map → patches (toCols) or adds patches onto the map. The loop order is moveTaps's,
// so a pixel's sums come out bit for bit as in TypeScript.
#include "conv_taps.h"

#include "js_args.h"

namespace pixelllm {
namespace {

index_t ceil_div(index_t a, index_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
index_t floor_div(index_t a, index_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

napi_value MoveTapsF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "moveTapsF32", 6);
  const I32Array geo = r.i32(0, "geometry");
  const F32Array cols = r.f32(1, "cols");
  const index_t col_off = r.integer(2, "colOff");
  const F32Array map = r.f32(3, "map");
  const index_t map_off = r.integer(4, "mapOff");
  const bool to_cols = r.boolean(5, "toCols");
  if (!r.ok()) return nullptr;
  if (geo.length != 13) {
    r.range_error("geometry has %td values, expected 13 (C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)", geo.length);
    return nullptr;
  }
  const index_t C = geo.data[0], H = geo.data[1], W = geo.data[2], kh = geo.data[3], kw = geo.data[4];
  const index_t sh = geo.data[5], sw = geo.data[6], ph = geo.data[7], pw = geo.data[8], dh = geo.data[9], dw = geo.data[10];
  const index_t oh = geo.data[11], ow = geo.data[12];
  for (int i = 0; i < 13; i++) {
    const bool positive = i < 7 || i > 8;  // everything but the padding must be at least 1
    if (geo.data[i] < (positive ? 1 : 0)) {
      r.range_error("geometry[%d] = %d is out of range", i, geo.data[i]);
      return nullptr;
    }
  }
  const index_t L = oh * ow;
  if (col_off > cols.length || C * kh * kw * L > cols.length - col_off)
    r.range_error("cols (length %td) is too short for %td×%td values at colOff %td", cols.length, C * kh * kw, L, col_off);
  else if (map_off > map.length || C * H * W > map.length - map_off)
    r.range_error("map (length %td) is too short for %td×%td×%td values at mapOff %td", map.length, C, H, W, map_off);
  if (!r.ok()) return nullptr;

  float* cs = cols.data;
  float* ms = map.data;
  for (index_t c = 0; c < C; c++) {
    for (index_t i = 0; i < kh; i++) {
      for (index_t j = 0; j < kw; j++) {
        const index_t row = col_off + ((c * kh + i) * kw + j) * L;
        const index_t shift = j * dw - pw;  // output columns x with 0 <= x·sw + shift < W
        const index_t x0 = shift >= 0 ? 0 : ceil_div(-shift, sw);
        index_t x1 = floor_div(W - 1 - shift, sw) + 1;
        if (x1 > ow) x1 = ow;
        if (x1 <= x0) continue;
        for (index_t y = 0; y < oh; y++) {
          const index_t ih = y * sh - ph + i * dh;
          if (ih < 0 || ih >= H) continue;
          float* at = cs + row + y * ow;
          float* px = ms + map_off + (c * H + ih) * W + shift;
          if (to_cols) {
            for (index_t x = x0; x < x1; x++) at[x] = px[x * sw];
          } else {
            for (index_t x = x0; x < x1; x++) px[x * sw] += at[x];
          }
        }
      }
    }
  }
  return undefined(env);
}

}  // namespace

void register_conv_taps(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"moveTapsF32", nullptr, MoveTapsF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace pixelllm
