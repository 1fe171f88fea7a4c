# The measurements of the GPU benchmark, sourced by bench/gpu/run-bundle.sh (our benchmark unpacked from a bundle) and
# bench/run-gpu.sh (a local build with the CUDA TorchSharp package). The caller sets bench_cmd (the command that runs
# featureaug-bench), OUT, WORK (Phase-I checkpoints), start (epoch seconds) and the settings below; see
# run-bundle.sh for their meaning. Every other Phase-I setting is the accuracy benchmark's default, which is the
# issue's protocol (ResNet-20, step schedule, 1 warm-up epoch, lr 0.1, wd 2e-4, batch 128, crop padding 2, 2 threads).
DEVICE="${DEVICE:-cuda}"
BACKBONES="${BACKBONES-10:0 10:1 10:2 50:0 50:1 50:2 200:0 200:1 200:2 100:0 100:1 100:2}"
ROUNDS="${ROUNDS:-2}" EPOCHS="${EPOCHS:-30}" MILESTONES="${MILESTONES:-20,25}" STEPS="${STEPS:-100}" ITERATIONS="${ITERATIONS:-6400}"
TOTAL_S="${TOTAL_S:-520}"
bench() { timeout "${BENCH_TIMEOUT_S:-150}" "${bench_cmd[@]}" "$@"; }

if [ "${SKIP_SPEED:-0}" != 1 ]; then
  echo "=== speed on $DEVICE, $ROUNDS round(s), ours then PyTorch's twin loop (bench/pytorch_phase1.py) per row"
  : > "$OUT/speed-cuda.jsonl"
  for round in $(seq 1 "$ROUNDS"); do
    for spec in "resnet18 3 32 128" "resnet18 3 32 512" "resnet20 1 28 128"; do
      read -r model channels size batch <<< "$spec"
      row=(--device "$DEVICE" --model "$model" --channels "$channels" --size "$size" --batch-size "$batch" --threads 8 --steps "$STEPS" --warmup 10)
      fsa=(--skip-fsa); [ "$model" = resnet20 ] && fsa=(--finetune-iterations "$ITERATIONS")
      bench speed "${row[@]}" "${fsa[@]}" | tee -a "$OUT/speed-cuda.jsonl"
      python3 bench/pytorch_phase1.py "${row[@]}" | tee -a "$OUT/speed-cuda.jsonl"
    done
  done
fi

if [ -n "$BACKBONES" ]; then
  t=$(date +%s)
  deadline=$(( TOTAL_S - (t - start) - 15 ))
  [ "$deadline" -ge 30 ] || { echo "no time left for the backbones"; exit 4; }
  echo "=== Phase-I backbones on $DEVICE: $BACKBONES (deadline ${deadline} s)"
  mkdir -p "$WORK/logs"
  pids=()
  for spec in $BACKBONES; do
    imbalance="${spec%%:*}"; seed="${spec##*:}"
    timeout "$deadline" "${bench_cmd[@]}" accuracy --phase1-only --phase1-device "$DEVICE" \
      --imbalance-factors "$imbalance" --seeds "$seed" --epochs "$EPOCHS" --milestones "$MILESTONES" \
      --work "$WORK" > "$WORK/logs/phase1-if$imbalance-s$seed.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"  # not a bare wait: that would also wait for the log's tee
  echo "backbones finished in $(( $(date +%s) - t )) s"
  tail -n 2 "$WORK"/logs/phase1-*.txt
  # One tar per IF: the device tool returns files of at most 16 MiB.
  for dir in "$WORK"/if*; do echo "${dir##*/}" | sed 's/-.*//'; done | sort -u | while read -r group; do
    (cd "$WORK" && tar -cf "$OUT/backbones-$group.tar" "$group"-*)
  done
  tar -C "$WORK" -cf "$OUT/backbones-logs.tar" logs
fi
