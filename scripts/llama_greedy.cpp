// llama.cpp's greedy tokens on a GGUF file, for scripts/make_llama_cpp_fixtures.py: the peer's
// own arithmetic (each tensor in its stored format, activations rounded as ggml rounds them,
// the KV cache in f32 as ours)
// on the prompt ids given, one decode step per token, with the margin of its two best logits
// at every step (so a test can tell a near-tie from a wrong token). Built against the llama.cpp
// that scripts/peers.py --build puts in .cache/llama.cpp (the same sdist as llama-bench).
//
//   llama_greedy MODEL STEPS THREADS ID,ID,...   ->   {"generated_ids": [...], "margins": [...]}
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "llama.h"

namespace {

void set_tokens(llama_batch_ext* batch, const std::vector<llama_token>& ids, llama_pos pos0) {
  llama_batch_ext_clear(batch);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const int32_t idx = llama_batch_ext_add_token(batch, 0, ids[i]);
    const llama_pos pos = pos0 + llama_pos(i);
    llama_batch_ext_set_pos(batch, idx, &pos);
  }
  llama_batch_ext_set_output_logits(batch, int32_t(ids.size()) - 1, true);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s MODEL STEPS THREADS ID,ID,...\n", argv[0]);
    return 2;
  }
  const int steps = std::atoi(argv[2]), threads = std::atoi(argv[3]);
  std::vector<llama_token> prompt;
  std::stringstream in(argv[4]);
  for (std::string id; std::getline(in, id, ',');) prompt.push_back(std::atoi(id.c_str()));
  if (steps < 1 || threads < 1 || prompt.empty()) {
    std::fprintf(stderr, "STEPS and THREADS must be >= 1 and the prompt not empty\n");
    return 2;
  }
  llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  llama_backend_init();
  llama_model* model = llama_model_load_from_file(argv[1], llama_model_default_params());
  if (model == nullptr) {
    std::fprintf(stderr, "cannot load %s\n", argv[1]);
    return 1;
  }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  llama_context_params params = llama_context_default_params();
  params.n_ctx = uint32_t(prompt.size()) + uint32_t(steps) + 8;
  params.n_batch = params.n_ctx;
  params.n_threads = threads;
  params.n_threads_batch = threads;
  // The KV cache in f32 (llama.cpp's default is f16), as ours holds it: the comparison is then
  // of the weights' arithmetic alone.
  params.type_k = GGML_TYPE_F32;
  params.type_v = GGML_TYPE_F32;
  llama_context* ctx = llama_init_from_model(model, params);
  llama_batch_ext* batch = llama_batch_ext_init(ctx);
  std::vector<llama_token> generated;
  std::vector<float> margins;
  set_tokens(batch, prompt, 0);
  llama_pos pos = llama_pos(prompt.size());
  for (int s = 0; s < steps; ++s) {
    if (llama_process(ctx, LLAMA_PROCESS_TYPE_DECODE, batch) != 0) {
      std::fprintf(stderr, "decode failed at step %d\n", s);
      return 1;
    }
    const float* logits = llama_get_logits_ith(ctx, -1);
    int best = 0, second = 1;
    if (logits[second] > logits[best]) std::swap(best, second);
    for (int v = 2; v < n_vocab; ++v) {
      if (logits[v] > logits[best]) {
        second = best;
        best = v;
      } else if (logits[v] > logits[second]) {
        second = v;
      }
    }
    generated.push_back(best);
    margins.push_back(logits[best] - logits[second]);
    set_tokens(batch, {best}, pos++);
  }
  std::printf("{\"generated_ids\": [");
  for (std::size_t i = 0; i < generated.size(); ++i)
    std::printf("%s%d", i ? ", " : "", generated[i]);
  std::printf("], \"margins\": [");
  for (std::size_t i = 0; i < margins.size(); ++i) std::printf("%s%.6g", i ? ", " : "", margins[i]);
  std::printf("]}\n");
  llama_batch_ext_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
