#include "workspace.h"

#include <cstdlib>

namespace pixelllm {

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

float* AlignedBuffer::get(std::size_t count) {
  if (count <= capacity_ && data_ != nullptr) return data_;
  std::free(data_);
  data_ = nullptr;
  capacity_ = 0;
  // Round up to whole cache lines (aligned_alloc requires a multiple of the alignment) plus one spare line
  // so vector loops may touch a full last vector of the accumulator.
  const std::size_t bytes = ((count * sizeof(float) + 63) / 64 + 1) * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_ != nullptr) capacity_ = count;
  return data_;
}

Workspace& thread_workspace() {
  thread_local Workspace ws;
  return ws;
}

}  // namespace pixelllm
