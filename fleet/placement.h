// Placing a fleet's models on its GPUs: cotenant's interference-aware
// placement (groups judged by simulation, each GPU's plan by search) beside
// the placements a user would otherwise use (one model per GPU; bin packing
// by utilisation alone, blind to interference), and the `cotenant.fleet-result/1`
// report.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fleet/group.h"
#include "fleet/pool.h"

namespace cotenant::fleet {

/// One GPU of a placement.
struct GpuAssignment {
  int32_t kind = 0;               ///< index into FleetSpec::gpus
  std::vector<Replica> replicas;  ///< in the order they were placed
  GroupVerdict verdict;           ///< the group's simulation (and plan)
  double util = 0.0;              ///< sum of the replicas' sm_busy alone (what bin packing adds)
  double occupancy = 0.0;         ///< sum of the replicas' SM occupancy alone
};

struct Placement {
  std::string name;         ///< "cotenant", "one-per-gpu", "bin-packing", "bin-packing-tightened"
  std::string description;  ///< one line
  double util_cap = 0.0;    ///< bin packing: the cap on summed utilisation
  std::vector<GpuAssignment> gpus;
  std::vector<Replica> unplaced;  ///< replicas no GPU was left for
  /// Whether it was made at all (bin-packing-tightened: no cap met every SLO).
  bool exists = true;
  std::string missing;  ///< why not

  /// Every replica placed, on GPUs whose verdicts meet every SLO.
  bool AllSlosMet() const;
  /// GPUs of kind `kind` in use.
  int32_t Used(int32_t kind) const;
};

/// What placement found out about each model alone.
struct ModelAlone {
  int32_t replicas = 1;  ///< copies, each at rate / replicas, the fewest that meet the SLO alone
  /// [kind]: one replica alone on the kind (the verdict at `replicas`).
  std::vector<GroupVerdict> alone;
  int32_t preferred = -1;  ///< the first kind where it meets its SLO alone
};

struct FleetResult {
  std::vector<ModelAlone> models;
  std::vector<Placement> placements;  ///< cotenant first, then the baselines
  int64_t evaluations = 0;            ///< group evaluations (each one or more simulations)
  int64_t simulations = 0;
  double seconds = 0.0;  ///< wall clock
  std::string pool;      ///< Pool::Describe()
};

struct PlaceOptions {
  /// Called on rank 0's progress: phase ("alone", "placing", "baselines"), done, total.
  std::function<void(const std::string& phase, int64_t done, int64_t total)> on_progress;
};

/// Places the fleet (docs/models.md "Fleet placement"). Every process of `pool`
/// calls it and gets the same result. Throws InputError naming the model for
/// one that no GPU of the fleet can hold (memory) and one whose SLO no GPU can
/// meet even with its load split over max_replicas copies.
FleetResult PlaceFleet(const LoadedFleet& f, Pool& pool, const PlaceOptions& options = {});

/// The `cotenant.fleet-result/1` document (docs/formats.md).
nlohmann::json FleetResultToJson(const FleetResult& r, const LoadedFleet& f);

}  // namespace cotenant::fleet
