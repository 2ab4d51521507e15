// libFuzzer target: the CUPTI record normaliser (profiler/cupti/
// cupti_records.h), fed as the injection library feeds it: buffers of
// activity records walked by CUPTI's cuptiActivityGetNextRecord, then
// RecordNormaliser::Finish and BuildTrace. The bytes are decoded into 1-3
// buffers of records: per record one byte picks the kind (every kind the
// normaliser reads, plus one it ignores), the record's bytes come from the
// input as they are (any field value, timestamps included), and only the
// name pointers (kernel, NVTX marker) are set to strings this target owns
// (a pointer from the input would be a crash of the harness, not a
// finding) and the enum fields the normaliser reads are kept inside their
// enum's range (CUPTI's FORCE_INT = 0x7fffffff). A last byte per buffer may
// cut it inside a record.
// Checks: no crash, sanitizer report or failed internal check; BuildTrace
// returns a trace or throws InputError; a built trace is one the trace
// reader accepts and reads back unchanged (what `cotenant profile` writes
// must be readable).
// Built only with CUPTI (the CUDA toolkit); no GPU needed.
#include <cupti.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "profiler/capture.h"
#include "profiler/cupti/cupti_check.h"
#include "profiler/cupti/cupti_records.h"
#include "profiler/cupti/cupti_version.h"
#include "sim/trace.h"
#include "tests/fuzz/fuzz_util.h"

using namespace cotenant;
using namespace cotenant::profiler;
using namespace cotenant::profiler::cupti;

namespace {

/// Reads bytes one at a time; zeros once they run out.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  void Fill(void* out, size_t n) {
    auto* p = static_cast<uint8_t*>(out);
    for (size_t i = 0; i < n; ++i) p[i] = Next();
  }
  bool Empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

const char* const kNames[] = {"sm90_xmma_gemm_f16f16", "aten::addmm", "ProfilerStep#1",
                              "aten::linear, seq = 12, op_id = 3", ""};

const char* Name(Bytes& in) {
  const uint8_t b = in.Next();
  return b % 6 == 5 ? nullptr : kNames[b % 6];
}

/// CUPTI's enums end in a FORCE_INT = 0x7fffffff member: a value with the
/// top bit set is out of the enum's range (UBSan's -fsanitize=enum), which
/// CUPTI never writes. Unknown values below it stay possible.
template <typename Enum>
void InRange(Enum& e) {
  static_assert(sizeof(Enum) == sizeof(uint32_t), "a 32-bit CUPTI enum");
  uint32_t raw;
  std::memcpy(&raw, &e, sizeof raw);
  raw &= 0x7fffffffu;
  std::memcpy(&e, &raw, sizeof raw);
}

/// Appends one record of type T with the input's bytes and the given kind.
template <typename T>
T& Append(std::vector<uint64_t>& buffer, Bytes& in, CUpti_ActivityKind kind) {
  static_assert(sizeof(T) % sizeof(uint64_t) == 0, "records are 8-byte aligned");
  const size_t at = buffer.size();
  buffer.resize(at + sizeof(T) / sizeof(uint64_t));
  T* r = reinterpret_cast<T*>(buffer.data() + at);
  in.Fill(r, sizeof(T));
  r->kind = kind;
  return *r;
}

void AppendRecord(std::vector<uint64_t>& buffer, Bytes& in) {
  switch (in.Next() % 12) {
    case 0:
      Append<KernelRecord>(buffer, in, CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL).name = Name(in);
      break;
    case 1:
      Append<KernelRecord>(buffer, in, CUPTI_ACTIVITY_KIND_KERNEL).name = Name(in);
      break;
    case 2:
      Append<MemcpyRecord>(buffer, in, CUPTI_ACTIVITY_KIND_MEMCPY);
      break;
    case 3:
      Append<PeerCopyRecord>(buffer, in, CUPTI_ACTIVITY_KIND_MEMCPY2);
      break;
    case 4:
      Append<MemsetRecord>(buffer, in, CUPTI_ACTIVITY_KIND_MEMSET);
      break;
    case 5: {  // (callback ids mostly known ones: an unknown one prints a line)
      ApiRecord& a = Append<ApiRecord>(buffer, in, CUPTI_ACTIVITY_KIND_RUNTIME);
      a.cbid %= CUPTI_RUNTIME_TRACE_CBID_SIZE + 4;
      break;
    }
    case 6: {
      ApiRecord& a = Append<ApiRecord>(buffer, in, CUPTI_ACTIVITY_KIND_DRIVER);
      a.cbid %= CUPTI_DRIVER_TRACE_CBID_SIZE + 4;
      break;
    }
    case 7:
      InRange(Append<SyncRecord>(buffer, in, CUPTI_ACTIVITY_KIND_SYNCHRONIZATION).type);
      break;
    case 8:
      Append<CudaEventRecord>(buffer, in, CUPTI_ACTIVITY_KIND_CUDA_EVENT);
      break;
    case 9: {
      MarkerRecord& m = Append<MarkerRecord>(buffer, in, CUPTI_ACTIVITY_KIND_MARKER);
      m.name = Name(in);
      InRange(m.flags);
      InRange(m.objectKind);
      break;
    }
    case 10:
      InRange(
          Append<ExternalCorrelationRecord>(buffer, in, CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION)
              .externalKind);
      break;
    default:  // a kind the normaliser does not read
      Append<CUpti_ActivityStream>(buffer, in, CUPTI_ACTIVITY_KIND_STREAM);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Problems().Clear();  // process-wide; the normaliser adds to it
  Bytes in(data, size);
  Capture capture;
  capture.source = "fuzz";
  RecordNormaliser normaliser(&capture);
  const int buffers = 1 + in.Next() % 3;
  for (int b = 0; b < buffers && !in.Empty(); ++b) {
    std::vector<uint64_t> buffer;
    const int records = 1 + in.Next() % 16;
    for (int r = 0; r < records && !in.Empty(); ++r) AppendRecord(buffer, in);
    size_t valid = buffer.size() * sizeof(uint64_t);
    const uint8_t cut = in.Next();
    if (cut >= 240 && valid > 0) valid -= 1 + (cut - 240) * 8 % valid;  // inside a record
    normaliser.HandleBuffer(reinterpret_cast<const uint8_t*>(buffer.data()), valid);
  }
  normaliser.Finish();
  if (capture.api.empty() && capture.gpu.empty()) return 0;  // (the session writes an empty trace)
  BuildOptions options;
  options.tenant = "fuzz";
  BuildReport report;
  Trace trace;
  if (!fuzz::Reads("", [&] { trace = BuildTrace(capture, options, &report); })) return 0;
  std::string first;
  fuzz::MustWork("TraceToJsonText", [&] { first = TraceToJsonText(trace); });
  Trace again;
  try {
    again = ParseTrace(first, "profiled.json");
  } catch (const InputError& e) {
    fuzz::Finding(std::string("the trace reader rejects the built trace: ") + e.what());
  }
  fuzz::SameText("built trace", first, TraceToJsonText(again));
  Problems().Clear();
  return 0;
}
