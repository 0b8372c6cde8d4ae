#!/usr/bin/env bash
# Writes the seed corpora of the fuzz targets (fuzz/): one folder per target, each holding valid
# inputs of that reader, made here with printf and with nnlab itself (a short training run gives a
# model, a checkpoint and a history; `data synth` gives .nnds files). Each seed starts with the
# option bytes its target reads first (see fuzz/fuzz_*.cpp).
#   bash scripts/fuzz-corpus.sh OUT_DIR NNLAB_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
nnlab=$(realpath "$2")
rm -rf "$out"
mkdir -p "$out"/{idx,csv,safetensors,checkpoint,nnds,experiment,history,onnx}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# IDX: 3 images of 2x2 and their 3 labels; the images file is 28 bytes (0x001c).
images='\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xff'
labels='\x00\x00\x08\x01\x00\x00\x00\x03\x01\x07\x09'
for opt in '\x00' '\x01' '\x02' '\x03'; do
  printf "$opt\\x00\\x1c$images$labels" >"$out/idx/seed-$(printf "$opt" | od -An -tx1 | tr -d ' ')"
done

# CSV: the option byte, then a Kaggle-style file with a label column (and one without a header).
printf '\x01label,p1,p2,p3,p4\n3,0,255,17,4\n1,8,9,10,11\n3,1,2,3,4\n' >"$out/csv/header"
printf '\x00%s\n%s\n' '0,12,13,14,15' '2,200,100,50,25' >"$out/csv/no-header"
printf '\x45%s\n%s\n' 'p1;label;p2' '1.5;a;2' >"$out/csv/semicolons"
printf '\xa1label,a,b,c,d\n1,1,2,3,4\n0,5,6,7,8\n' >"$out/csv/standardised"

# A short run on a 3-feature CSV whose model matches fuzz_checkpoint's: model, checkpoint, history,
# the experiment as JSON (config.json).
{
  echo "label,a,b,c"
  for i in $(seq 1 24); do echo "$((i % 2)),$((i * 7 % 256)),$((i * 13 % 256)),$((i * 29 % 256))"; done
} >"$work/train.csv"
cat >"$work/exp.toml" <<TOML
name = "fuzz-seed"
seed = 1
threads = 1
[data]
dataset = "file"
train = "$work/train.csv"
[model]
layers = [
  { type = "dense", units = 4, activation = "relu" },
  { type = "batch_norm" },
  { type = "dense", units = 2, activation = "softmax" },
]
[train]
loss = "sparse_categorical_crossentropy"
optimizer = "adam"
epochs = 3
batch_size = 8
[schedule]
type = "cosine"
[early_stopping]
monitor = "loss"
patience = 5
restore_best_weights = true
TOML
OMP_NUM_THREADS=1 "$nnlab" train "$work/exp.toml" --quiet --out "$work/run" >/dev/null
cp "$work/run/model.safetensors" "$out/safetensors/model"
"$nnlab" export "$work/run" --format onnx --out "$out/onnx/model.onnx" >/dev/null
cp tests/data/onnx/torch_mlp.onnx "$out/onnx/torch_mlp.onnx"
cp tests/data/onnx/keras_cnn.onnx tests/data/onnx/torch_cnn.onnx "$out/onnx/"
# A CNN's ONNX file (Transposes, Conv, pooling, BatchNormalization of images): a one-epoch run on
# 4x4 images of the same rows' values.
{
  echo "label,$(seq -s, -f 'p%g' 1 16)"
  for i in $(seq 1 16); do echo "$((i % 2)),$(for j in $(seq 1 16); do printf '%d,' $((i * j * 7 % 256)); done | sed 's/,$//')"; done
} >"$work/images.csv"
cat >"$work/cnn.toml" <<TOML
name = "fuzz-seed-cnn"
seed = 1
threads = 1
[data]
dataset = "file"
train = "$work/images.csv"
[model]
input_shape = [4, 4, 1]
layers = [
  { type = "conv2d", filters = 2, kernel_size = 3, padding = "same", strides = 2, activation = "relu" },
  { type = "batch_norm" },
  { type = "max_pool2d", pool_size = 2, padding = "same" },
  { type = "conv2d", filters = 3, kernel_size = 1, use_bias = false },
  { type = "average_pool2d", pool_size = 1 },
  { type = "global_average_pool2d" },
  { type = "dense", units = 2, activation = "softmax" },
]
[train]
loss = "sparse_categorical_crossentropy"
optimizer = "adam"
epochs = 1
batch_size = 8
TOML
OMP_NUM_THREADS=1 "$nnlab" train "$work/cnn.toml" --quiet --out "$work/cnn" >/dev/null
"$nnlab" export "$work/cnn" --format onnx --out "$out/onnx/cnn.onnx" >/dev/null
cp "$work/run/checkpoint.safetensors" "$out/checkpoint/checkpoint"
cp "$work/run/history.csv" "$out/history/history.csv"
printf 'epoch,loss,val_loss\n0,1.5,\n1,0.5,0.7\n' >"$out/history/gaps.csv"

# .nnds: f32 and u8 files, each opened streamed (option byte 0) and in memory (1).
"$nnlab" data synth --samples 12 --features 5 --classes 3 --out "$work/f32.nnds" >/dev/null
"$nnlab" data synth --samples 12 --features 5 --classes 3 --dtype u8 --out "$work/u8.nnds" >/dev/null
for f in f32 u8; do
  for opt in '\x00' '\x01'; do
    { printf "$opt"; cat "$work/$f.nnds"; } >"$out/nnds/$f-$(printf "$opt" | od -An -tx1 | tr -d ' ')"
  done
done

# Experiments: every built-in TOML (option byte 0) and the run's config.json (1).
for f in experiments/*.toml; do { printf '\x00'; cat "$f"; } >"$out/experiment/$(basename "$f")"; done
{ printf '\x01'; cat "$work/run/config.json"; } >"$out/experiment/config.json"
echo "fuzz seeds: $(find "$out" -type f | wc -l) files in $out"
