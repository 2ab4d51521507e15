#include "sim/models/contention_model.h"

#include "sim/error.h"
#include "sim/json_util.h"
#include "sim/models/block.h"
#include "sim/models/fluid.h"

namespace cotenant {

std::vector<std::string> ContentionModelNames() { return {"fluid", "block"}; }

std::unique_ptr<ContentionModel> MakeContentionModel(const std::string& name, const GpuSpec& spec,
                                                     const SmPartitions& partitions) {
  if (name == "fluid") return MakeFluidModel(spec, partitions);
  if (name == "block") return MakeBlockModel(spec, partitions);
  std::string hint = ClosestMatch(name, ContentionModelNames());
  throw InputError("--model: expected one of fluid, block, found \"" + name + "\"" +
                   (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
}

}  // namespace cotenant
