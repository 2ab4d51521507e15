#include "fleet/synth_sources.h"

#include "profiler/serving_run.h"
#include "profiler/synth.h"

namespace cotenant::fleet {

FleetSources SynthSources() {
  FleetSources s;
  s.zoo = [](const FleetModel& m, const GpuSpec& spec) {
    profiler::SynthRequest r;
    r.model = m.zoo;
    r.batch = m.batch;
    r.seq = m.seq;
    r.dtype = m.dtype;
    return profiler::Synthesize(r, spec);
  };
  s.llm = profiler::SynthLlmModels();
  return s;
}

}  // namespace cotenant::fleet
