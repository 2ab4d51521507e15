// A small CUDA program with a known shape, profiled by profile_e2e_test.sh:
// two streams, an H2D copy, NVTX ranges "outer" containing "inner", three
// kernels on stream A, an event recorded on A and waited for on B, two
// kernels on B, a stream and a device synchronization. Every launch shape
// below is checked against the trace; keep the two in step.
//
//   nvtx push "outer"
//     cudaMemcpyAsync H2D, kCopyBytes, stream A        op "outer"
//     k_a1 <<<(4,2,1),  (128,1,1), 0,    A>>>          op "outer"
//     nvtx push "inner"
//       k_a2 <<<(8,1,1),  (64,2,1),  1024, A>>>        op "inner"
//       k_a3 <<<(16,1,1), (256,1,1), 4096, A>>>        op "inner"
//     nvtx pop
//     cudaEventRecord(ev, A); cudaStreamWaitEvent(B, ev)
//     k_b1 <<<(2,1,1),  (32,1,1),  0,    B>>>          op "outer"
//   nvtx pop
//   k_b2 <<<(1,1,1),  (512,1,1), 8192, B>>>            no op
//   cudaStreamSynchronize(B); cudaDeviceSynchronize()
//
// Exits 77 (the CTest skip code) with the reason when there is no CUDA device
// or no usable driver, 1 when a CUDA call fails, 0 otherwise. Nothing else
// touches the GPU, so the trace holds exactly the work listed above.
#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kSkip = 77;
constexpr size_t kCopyFloats = 262144;  // 1 MiB
constexpr size_t kCopyBytes = kCopyFloats * sizeof(float);

#define CHECK_CUDA(call)                                                                          \
  do {                                                                                            \
    const cudaError_t err_ = (call);                                                              \
    if (err_ != cudaSuccess) {                                                                    \
      std::fprintf(stderr, "two_streams: %s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #call, \
                   cudaGetErrorString(err_), cudaGetErrorName(err_));                             \
      std::exit(1);                                                                               \
    }                                                                                             \
  } while (0)

}  // namespace

// extern "C" so the trace shows the names unmangled. No kernel uses static
// shared memory: the traced `smem` is exactly the dynamic size.
extern "C" __global__ void k_a1(float* x, int n) {
  const int i = (blockIdx.y * gridDim.x + blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] = x[i] * 2.0f + 1.0f;
}

extern "C" __global__ void k_a2(float* x, int n) {
  extern __shared__ float tile[];
  const int t = threadIdx.y * blockDim.x + threadIdx.x;
  const int i = blockIdx.x * blockDim.x * blockDim.y + t;
  if (t < 256) tile[t] = i < n ? x[i] : 0.0f;
  __syncthreads();
  if (i < n && t < 256) x[i] = tile[t] + 1.0f;
}

extern "C" __global__ void k_a3(float* x, int n) {
  extern __shared__ float tile[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  tile[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  if (i < n) x[i] = tile[blockDim.x - 1 - threadIdx.x] * 0.5f;
}

extern "C" __global__ void k_b1(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] + 3.0f;
}

extern "C" __global__ void k_b2(float* y, int n) {
  extern __shared__ float tile[];
  tile[threadIdx.x] = threadIdx.x < n ? y[threadIdx.x] : 0.0f;
  __syncthreads();
  if (threadIdx.x < n) y[threadIdx.x] = tile[threadIdx.x] - 1.0f;
}

int main() {
  int devices = 0;
  const cudaError_t count_err = cudaGetDeviceCount(&devices);
  if (count_err != cudaSuccess) {
    std::printf("two_streams: no CUDA device: cudaGetDeviceCount: %s (%s)\n",
                cudaGetErrorString(count_err), cudaGetErrorName(count_err));
    return kSkip;
  }
  if (devices == 0) {
    std::printf("two_streams: no CUDA device: cudaGetDeviceCount found 0 devices\n");
    return kSkip;
  }
  CHECK_CUDA(cudaSetDevice(0));

  cudaStream_t a = nullptr, b = nullptr;
  CHECK_CUDA(cudaStreamCreateWithFlags(&a, cudaStreamNonBlocking));
  CHECK_CUDA(cudaStreamCreateWithFlags(&b, cudaStreamNonBlocking));
  cudaEvent_t ev = nullptr;
  CHECK_CUDA(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));

  float* host = nullptr;
  float *x = nullptr, *y = nullptr;
  CHECK_CUDA(cudaMallocHost(&host, kCopyBytes));  // pinned, so the copy is asynchronous
  CHECK_CUDA(cudaMalloc(&x, kCopyBytes));
  CHECK_CUDA(cudaMalloc(&y, kCopyBytes));
  for (size_t i = 0; i < kCopyFloats; ++i) host[i] = 1.0f;
  const int n = static_cast<int>(kCopyFloats);

  nvtxRangePushA("outer");
  CHECK_CUDA(cudaMemcpyAsync(x, host, kCopyBytes, cudaMemcpyHostToDevice, a));
  k_a1<<<dim3(4, 2, 1), dim3(128, 1, 1), 0, a>>>(x, n);
  CHECK_CUDA(cudaGetLastError());
  nvtxRangePushA("inner");
  k_a2<<<dim3(8, 1, 1), dim3(64, 2, 1), 1024, a>>>(x, n);
  CHECK_CUDA(cudaGetLastError());
  k_a3<<<dim3(16, 1, 1), dim3(256, 1, 1), 4096, a>>>(x, n);
  CHECK_CUDA(cudaGetLastError());
  nvtxRangePop();
  CHECK_CUDA(cudaEventRecord(ev, a));
  CHECK_CUDA(cudaStreamWaitEvent(b, ev, 0));
  k_b1<<<dim3(2, 1, 1), dim3(32, 1, 1), 0, b>>>(x, y, n);
  CHECK_CUDA(cudaGetLastError());
  nvtxRangePop();
  k_b2<<<dim3(1, 1, 1), dim3(512, 1, 1), 8192, b>>>(y, n);
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaStreamSynchronize(b));
  CHECK_CUDA(cudaDeviceSynchronize());

  CHECK_CUDA(cudaFree(y));
  CHECK_CUDA(cudaFree(x));
  CHECK_CUDA(cudaFreeHost(host));
  CHECK_CUDA(cudaEventDestroy(ev));
  CHECK_CUDA(cudaStreamDestroy(b));
  CHECK_CUDA(cudaStreamDestroy(a));
  std::printf("two_streams: 5 kernels on 2 streams, 1 copy of %zu bytes\n", kCopyBytes);
  return 0;
}
