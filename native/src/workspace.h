// Per-thread scratch memory for packed panels and GEMV accumulators. Each thread (the JS thread and every
// pool worker) owns its buffers, so no locking is needed; they grow on demand and are reused across calls.
#pragma once
#include <cstddef>

namespace pixelllm {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer();
  // At least `count` floats, 64-byte aligned; nullptr if the allocation fails.
  float* get(std::size_t count);

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

struct Workspace {
  AlignedBuffer a;     // packed A block
  AlignedBuffer b;     // packed B panel
  AlignedBuffer work;  // GEMV accumulator (row-streaming kernel)
  AlignedBuffer x;     // GEMV input vector gathered from a strided column
  AlignedBuffer keys;    // attention: packed keys of one item
  AlignedBuffer values;  // attention: packed values of one item
  AlignedBuffer scores;  // attention: one block of query rows' scores
  AlignedBuffer bias;    // attention: relative-position terms of the task's query rows
};

Workspace& thread_workspace();

}  // namespace pixelllm
