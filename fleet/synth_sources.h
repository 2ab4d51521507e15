// The fleet's model sources from profiler's synth: zoo models synthesised for
// each GPU kind, llm models priced by synth (what the CLI and the Python
// module both use).
#pragma once

#include "fleet/group.h"

namespace cotenant::fleet {

/// Zoo models from profiler::Synthesize (model, batch, seq, dtype; the default
/// framework), llm models from profiler::SynthLlmModels().
FleetSources SynthSources();

}  // namespace cotenant::fleet
