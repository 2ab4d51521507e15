#!/usr/bin/env bash
# The fleet pool across process counts (tests/fleet/mpi_pool_check.cpp):
#   mpi_check.sh single CHECK            alone, no mpirun: the threads path,
#                                        and a failing job's exit code
#   mpi_check.sh mpi CHECK MPIEXEC       1, then 2 and 3 processes under
#                                        mpirun (oversubscribed): the same
#                                        digest everywhere
#   mpi_check.sh mpi-fail CHECK MPIEXEC  every rank throws the same InputError:
#                                        exit 1, one message per rank, no
#                                        MPI abort, no hang; and when one rank
#                                        fails alone, the run ends (MPI_Abort)
#   mpi_check.sh fleet COTENANT MPIEXEC FLEET
#                                        cotenant fleet: the same report from 1
#                                        process and 2 ranks; a bad fleet's error
# Exits 77 (ctest: skipped) with the reason when mpirun is missing.
set -uo pipefail
mode=$1 check=$2 mpiexec=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "mpi_check: FAIL: $*"; for f in "$tmp"/*; do echo "--- $f"; cat "$f"; done; exit 1; }

# Alone: no launcher variables, whatever the caller's environment.
alone() { env -u OMPI_COMM_WORLD_SIZE -u PMIX_RANK -u PMI_RANK -u PMI_SIZE "$check" "$@"; }

mpi() {
  local np=$1; shift
  local flags=(-np "$np")
  # Open MPI refuses to run as root (even for --version) without these.
  if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  if "$mpiexec" --version 2>&1 | grep -qiE 'open ?mpi|open-mpi|openrte'; then
    # More ranks than cores (CI has 2).
    flags+=(--oversubscribe)
    # Containers often forbid the cross-process memory copy (ptrace); use plain shared memory.
    export OMPI_MCA_btl_vader_single_copy_mechanism=none
  fi
  timeout 120 "$mpiexec" "${flags[@]}" "$check" "$@"
}

if [[ $mode != single ]]; then
  if [[ -z $mpiexec || $mpiexec == *NOTFOUND* ]] || ! command -v "$mpiexec" >/dev/null; then
    echo "mpi_check: skipped: no mpirun (install openmpi-bin)"
    exit 77
  fi
fi

case $mode in
  single)
    alone --expect-ranks 1 >"$tmp/out" 2>&1 || fail "alone: exit $?"
    grep -q '^rank 0/1: default digest ' "$tmp/out" || fail "alone: no digest"
    alone --expect-ranks 1 --fail >"$tmp/fail" 2>&1
    rc=$?
    [[ $rc -eq 1 ]] || fail "alone --fail: exit $rc, expected 1"
    [[ $(cat "$tmp/fail") == "mpi_pool_check: error: jobs.json: job 3: expected a plan, found 42" ]] ||
      fail "alone --fail: unexpected output"
    ;;
  mpi)
    alone --expect-ranks 1 >"$tmp/np1" 2>&1 || fail "1 process: exit $?"
    want=$(sed -n 's/^rank 0\/1: default digest //p' "$tmp/np1")
    [[ -n $want ]] || fail "1 process: no digest"
    for np in 2 3; do
      mpi "$np" --expect-ranks "$np" >"$tmp/np$np" 2>&1 || fail "$np ranks: exit $?"
      # Every rank, both pools (default exchange, 7-byte rounds): the 1-process digest.
      n=$(grep -c " digest $want\$" "$tmp/np$np")
      [[ $n -eq $((2 * np)) ]] || fail "$np ranks: $n of $((2 * np)) digests equal the 1-process one"
      ! grep -q FAIL "$tmp/np$np" || fail "$np ranks: a check failed"
      echo "mpi_check: $np ranks: same results as 1 process ($want)"
    done
    ;;
  mpi-fail)
    mpi 2 --expect-ranks 2 --fail >"$tmp/out" 2>&1
    rc=$?
    [[ $rc -ne 124 ]] || fail "2 ranks --fail: hung (killed after 120 s)"
    [[ $rc -eq 1 ]] || fail "2 ranks --fail: exit $rc, expected 1"
    n=$(grep -c '^mpi_pool_check: error: jobs.json: job 3: expected a plan, found 42$' "$tmp/out")
    [[ $n -eq 2 ]] || fail "2 ranks --fail: $n error lines, expected one per rank"
    ! grep -qiE 'MPI_ABORT|signal|core dumped|MPI_Finalize' "$tmp/out" ||
      fail "2 ranks --fail: MPI abort or finalize trouble"
    echo "mpi_check: 2 ranks --fail: exit 1, the same error on both ranks"
    mpi 2 --expect-ranks 2 --diverge >"$tmp/diverge" 2>&1
    rc=$?
    [[ $rc -ne 124 ]] || fail "2 ranks --diverge: hung (killed after 120 s)"
    [[ $rc -ne 0 ]] || fail "2 ranks --diverge: exit 0"
    grep -q '^mpi_pool_check: error: jobs.json: no such file on this node$' "$tmp/diverge" ||
      fail "2 ranks --diverge: no error line"
    echo "mpi_check: 2 ranks --diverge: rank 1 failing alone ends the run (exit $rc)"
    ;;
  fleet)
    # CHECK is the cotenant binary, $4 a fleet file: `cotenant fleet` alone with one
    # thread and under 2 ranks writes the same cotenant.fleet-result/1 bytes; a fleet
    # whose model no GPU holds fails on both ranks with one error line and exit 1.
    fleet_file=$4
    alone fleet "$fleet_file" -j 1 --json "$tmp/alone.json" >"$tmp/alone.out" 2>&1 ||
      fail "fleet alone: exit $?"
    mpi 2 fleet "$fleet_file" --json "$tmp/np2.json" >"$tmp/np2.out" 2>&1 ||
      fail "fleet 2 ranks: exit $?"
    cmp -s "$tmp/alone.json" "$tmp/np2.json" || fail "fleet: 2 ranks differ from 1 process"
    grep -q '2 MPI ranks x 1 thread' "$tmp/np2.out" || fail "fleet 2 ranks: not over MPI"
    data=$(cd "$(dirname "$fleet_file")" && pwd)
    sed -e 's/"memory_gib": 1}/"memory_gib": 900}/' -e "s|\"\.\./|\"$data/../|" "$fleet_file" \
      >"$tmp/bad.json"
    mpi 2 fleet "$tmp/bad.json" >"$tmp/bad.out" 2>&1
    rc=$?
    [[ $rc -eq 1 ]] || fail "fleet bad: exit $rc, expected 1"
    n=$(grep -c 'cotenant: error: .*models\[0\]\.memory_gib: resnet50 needs 900\.0 GiB per replica' "$tmp/bad.out")
    [[ $n -eq 1 ]] || fail "fleet bad: $n error lines, expected 1 (rank 0 says why)"
    echo "mpi_check: fleet: 2 ranks write the same report as 1 process; a bad fleet fails once"
    ;;
  *)
    echo "usage: mpi_check.sh single|mpi|mpi-fail CHECK [MPIEXEC] | fleet COTENANT MPIEXEC FLEET" >&2
    exit 64
    ;;
esac
echo "mpi_check: $mode: ok"
