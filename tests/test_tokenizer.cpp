// The byte-level BPE tokenizer: against Hugging Face's (transformers reading the same GGUF file,
// committed by scripts/make_model_fixtures.py) on a few hundred strings, round trips of any
// bytes, and clear errors for files it cannot read.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "decoder/known_models.hpp"
#include "decoder/sentencepiece.hpp"
#include "decoder/tokenizer.hpp"
#include "tests/test_data.hpp"

using namespace aigc;

namespace {

// A real model's tokenizer (by its config name), or nothing (with the reason) where its file
// is not installed. Read once per model.
const Tokenizer* file_tokenizer(const std::string& model, std::string& why) {
  static std::map<std::string, std::pair<std::unique_ptr<Tokenizer>, std::string>> cache;
  auto& [tokenizer, reason] = cache[model];
  if (!tokenizer && reason.empty()) {
    try {
      tokenizer = std::make_unique<Tokenizer>(Tokenizer::from_gguf(GgufFile(*model_file(model))));
    } catch (const InvalidArgument& e) {
      reason = e.what();
    }
  }
  why = reason;
  return tokenizer.get();
}

const Tokenizer* smollm2_tokenizer(std::string& why) { return file_tokenizer("smollm2-135m", why); }

nlohmann::json fixture(const std::string& name, const std::string& folder = "smollm2") {
  std::ifstream in(test_data_dir() + "/" + folder + "/" + name);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("tokenizer: each real file's encodes every fixture string as Hugging Face's does") {
  // The model, and the folder of its fixtures (scripts/make_model_fixtures.py --which).
  const auto [model, folder] =
      GENERATE(std::pair<std::string, std::string>{"smollm2-135m", "smollm2"},
               std::pair<std::string, std::string>{"qwen2.5-coder-0.5b", "qwen2"},
               std::pair<std::string, std::string>{"gemma3-270m", "gemma3"});
  INFO(model);
  std::string why;
  const Tokenizer* t = file_tokenizer(model, why);
  if (t == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  const nlohmann::json cases = fixture("tokenizer.json", folder).at("cases");
  REQUIRE(cases.size() >= 300);
  int same = 0;
  for (const auto& c : cases) {
    const std::string text = c.at("text");
    INFO("text: " << nlohmann::json(text).dump());
    const auto want = c.at("ids").get<std::vector<std::int32_t>>();
    const auto got = t->encode(text);
    CHECK(got == want);
    same += got == want;
    CHECK(t->decode(got) == text);
  }
  CHECK(same == int(cases.size()));
}

TEST_CASE("tokenizer: any UTF-8 text round-trips, token by token too, and cut characters") {
  std::string why;
  const Tokenizer* t = smollm2_tokenizer(why);
  if (t == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  // Characters cut short and stray continuation bytes: not valid UTF-8, but bytes the
  // vocabulary has tokens for.
  std::vector<std::string> texts = {"a\x80z",
                                    "\xc3",
                                    "ok \xe6\x97 cut",
                                    "\xf0\x9f\x98",
                                    std::string("nul\0byte", 8),
                                    "<|im_end|>\xbf<|im_start|>"};
  // Random code points of every UTF-8 length (surrogates left out: not characters), up to plane
  // 3, without C0 controls but tab, newline and return: SmolLM2's vocabulary has no token for
  // the bytes 0x04, 0x06, 0x13, 0x14, 0x16 and 0x1d, nor for the lead bytes 0xf1 and 0xf2 of
  // planes 4..11 (its trainer never saw them; Hugging Face's tokenizer drops such bytes).
  std::mt19937 rng(5);
  for (int i = 0; i < 200; ++i) {
    std::string s;
    for (std::size_t n = rng() % 16; n > 0; --n) {
      const std::uint32_t limits[] = {0x80, 0x800, 0x10000, 0x40000};
      std::uint32_t cp = rng() % limits[rng() % 4];
      if ((cp >= 0xD800 && cp < 0xE000) || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r'))
        cp = ' ';
      if (cp < 0x80) {
        s += char(cp);
      } else if (cp < 0x800) {
        s += char(0xC0 | (cp >> 6)), s += char(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        s += char(0xE0 | (cp >> 12)), s += char(0x80 | ((cp >> 6) & 0x3F)),
            s += char(0x80 | (cp & 0x3F));
      } else {
        s += char(0xF0 | (cp >> 18)), s += char(0x80 | ((cp >> 12) & 0x3F)),
            s += char(0x80 | ((cp >> 6) & 0x3F)), s += char(0x80 | (cp & 0x3F));
      }
    }
    texts.push_back(s);
  }
  for (const std::string& s : texts) {
    INFO("bytes: " << nlohmann::json(s).dump(-1, ' ', true,
                                             nlohmann::json::error_handler_t::replace));
    const auto ids = t->encode(s);
    for (const auto id : ids) REQUIRE((id >= 0 && id < t->vocab_size()));
    CHECK(t->decode(ids) == s);
    // Token by token, the bytes concatenate (what streaming output relies on).
    std::string streamed;
    for (const auto id : ids) streamed += t->decode_one(id);
    CHECK(streamed == s);
  }
  CHECK(t->encode("").empty());
  // A byte that has no token is refused by value, not dropped.
  CHECK_THROWS_WITH(t->encode("bad \xff byte"), Catch::Contains("no token for the byte 0xff"));
}

TEST_CASE("tokenizer: specials are matched whole and the chat template wraps a prompt") {
  std::string why;
  const Tokenizer* t = smollm2_tokenizer(why);
  if (t == nullptr) {
    WARN("test skipped: " << why);
    return;
  }
  CHECK(t->eos() == 2);
  CHECK(t->bos() == 1);
  CHECK(t->is_special(2));
  CHECK_FALSE(t->is_special(100));
  const auto ids = t->encode("<|im_start|>user<|im_end|>");
  REQUIRE(ids.size() == 3);
  CHECK(ids.front() == 1);
  CHECK(ids.back() == 2);
  CHECK(t->apply_chat_template("Hi") ==
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
        "Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST_CASE(
    "tokenizer: Qwen2's ChatML keeps its default system turn, Gemma 3 adds BOS and has no "
    "template") {
  std::string why;
  if (const Tokenizer* qwen = file_tokenizer("qwen2.5-coder-0.5b", why)) {
    CHECK_FALSE(qwen->adds_bos());
    CHECK(qwen->apply_chat_template("Hi") ==
          "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
          "assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  } else {
    WARN("Qwen2 skipped: " << why);
  }
  if (const Tokenizer* gemma = file_tokenizer("gemma3-270m", why)) {
    CHECK(gemma->adds_bos());
    CHECK(gemma->encode_prompt("Hi").front() == *gemma->bos());
    CHECK(gemma->encode("<start_of_turn>user\n").front() == *gemma->find("<start_of_turn>"));
    CHECK_THROWS_WITH(gemma->apply_chat_template("Hi"), Catch::Contains("no chat template"));
  } else {
    WARN("Gemma 3 skipped: " << why);
  }
}

TEST_CASE("tokenizer: SentencePiece merges the best-scored pair first, bytes where no piece is") {
  // Pieces with scores; U+2581 is the space. "ab" outscores "bc", so "abc" is "ab" + "c".
  std::vector<std::string> tokens = {"<unk>",
                                     "a",
                                     "b",
                                     "c",
                                     "ab",
                                     "bc",
                                     "\xe2\x96\x81"
                                     "a"};
  std::vector<float> scores = {0, -5, -5, -5, -1, -2, -1};
  for (int b = 0; b < 256; ++b) {
    tokens.push_back(fmt::format("<0x{:02X}>", b));
    scores.push_back(0);
  }
  PieceIds vocabulary;
  for (std::size_t i = 0; i < tokens.size(); ++i) vocabulary.emplace(tokens[i], std::int32_t(i));
  const SentencePiece sp(vocabulary, scores, /*add_space_prefix=*/false);
  std::vector<std::int32_t> ids;
  sp.encode("abc", vocabulary, ids);
  CHECK(ids == std::vector<std::int32_t>{4, 3});
  ids.clear();
  sp.encode("bc a", vocabulary, ids);  // the space joins the a after it
  CHECK(ids == std::vector<std::int32_t>{5, 6});
  ids.clear();
  sp.encode("\xc3\xa9", vocabulary, ids);  // no piece for the character: its two bytes
  CHECK(ids == std::vector<std::int32_t>{7 + 0xc3, 7 + 0xa9});
  CHECK(sp.piece_text("\xe2\x96\x81"
                      "a") == " a");
  CHECK(sp.piece_text("<0x41>") == "A");
  vocabulary.erase("<0xFF>");  // <0xFF> gone
  CHECK_THROWS_WITH(SentencePiece(vocabulary, scores, false), Catch::Contains("<0xFF>"));
}

TEST_CASE("tokenizer: a small vocabulary's merges apply in rank order") {
  // Bytes as their own tokens ('Ġ' is the space), then merges: "a b" before "b c".
  std::vector<std::string> tokens = {"a", "b", "c", "\xc4\xa0", "ab", "bc", "abc", "<|end|>"};
  const Tokenizer t(tokens, {"a b", "b c", "ab c"}, {7}, std::nullopt, 7);
  CHECK(t.encode("abc") == std::vector<std::int32_t>{6});
  CHECK(t.encode("bc") == std::vector<std::int32_t>{5});
  CHECK(t.encode("cab") == std::vector<std::int32_t>{2, 4});
  CHECK(t.encode("ab<|end|>c") == std::vector<std::int32_t>{4, 7, 2});
  CHECK(t.decode({4, 7, 2}) == "ab<|end|>c");
  // A byte no token stands for is an error naming it, not a silent drop.
  CHECK_THROWS_WITH(t.encode("z"), Catch::Contains("no token for the byte 0x7a"));
  CHECK_THROWS_AS(t.decode({8}), std::out_of_range);
}

namespace {

// The merge rule as the merge list defines it, done the slow way: merge the best-ranked adjacent
// pair, leftmost first, until none is ranked. Words of letters only (mapped bytes are the bytes).
std::vector<std::string> naive_bpe(const std::string& word,
                                   const std::map<std::string, int>& rank) {
  std::vector<std::string> symbols;
  for (const char c : word) symbols.emplace_back(1, c);
  for (;;) {
    int best_rank = 1 << 30;
    std::size_t best = 0;
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = rank.find(symbols[i] + " " + symbols[i + 1]);
      if (it != rank.end() && it->second < best_rank) best_rank = it->second, best = i;
    }
    if (best_rank == 1 << 30) return symbols;
    symbols[best] += symbols[best + 1];
    symbols.erase(symbols.begin() + std::ptrdiff_t(best) + 1);
  }
}

// A vocabulary over {a, b, c} with merges of every pair of its tokens up to length 4, ranked
// at random: overlapping and competing merges everywhere.
struct RandomMerges {
  std::vector<std::string> tokens{"a", "b", "c"};
  std::vector<std::string> merges;
  std::map<std::string, int> rank;
  explicit RandomMerges(std::mt19937& rng) {
    for (std::size_t length = 2; length <= 4; ++length) {
      const std::size_t known = tokens.size();
      for (std::size_t i = 0; i < known; ++i) {
        for (std::size_t j = 0; j < known; ++j) {
          if (tokens[i].size() + tokens[j].size() != length || rng() % 3 == 0) continue;
          merges.push_back(tokens[i] + " " + tokens[j]);
          tokens.push_back(tokens[i] + tokens[j]);
        }
      }
    }
    std::shuffle(merges.begin(), merges.end(), rng);
    for (std::size_t r = 0; r < merges.size(); ++r) rank.emplace(merges[r], int(r));
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  }
};

}  // namespace

TEST_CASE("tokenizer: byte-level BPE merges as the slow rule does, on random words and merges") {
  std::mt19937 rng(20261207);
  for (int trial = 0; trial < 20; ++trial) {
    const RandomMerges m(rng);
    const Tokenizer t(m.tokens, m.merges, {}, std::nullopt, std::nullopt);
    for (int w = 0; w < 50; ++w) {
      std::string word(1 + rng() % 40, 'a');
      for (char& c : word) c = char('a' + rng() % 3);
      std::vector<std::int32_t> expected;
      for (const std::string& piece : naive_bpe(word, m.rank)) expected.push_back(*t.find(piece));
      INFO("word " << word << ", " << m.merges.size() << " merges");
      REQUIRE(t.encode(word) == expected);
    }
  }
}

TEST_CASE("tokenizer: a 200 KB word, run of spaces or string of specials encodes in linear time") {
  // Each of these hung the quadratic merge loop (or the specials' search) for minutes; the
  // bound is generous (sanitizers, a loaded CI machine) and still far below quadratic time.
  std::vector<std::string> tokens = {"a", "\xc4\xa0", "aa", "aaaa", "<|end|>"};
  const Tokenizer t(tokens, {"a a", "aa aa"}, {4}, std::nullopt, 4);
  std::string specials;
  for (int i = 0; i < 30000; ++i) specials += "<|end|>a";
  for (const std::string& text :
       {std::string(200000, 'a'), std::string(200000, ' ') + "a", specials}) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::int32_t> ids = t.encode(text);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    INFO(text.size() << " bytes took " << seconds << " s");
    CHECK(seconds < 5.0);
    CHECK(t.decode(ids) == text);
  }
  CHECK(t.encode(std::string(200000, 'a')).size() == 50000);  // all "aaaa"
  // Before encoding, the context is held to the fewest tokens the text could be.
  CHECK(t.fewest_tokens(200000) == 28572);  // 7 bytes of "<|end|>" at most per token
}

TEST_CASE("tokenizer: a GGUF file with a tokenizer this does not read is refused by name") {
  const GgufArray one_token{GgufType::string, {{GgufType::string, std::string("a")}}};
  TempFile f;
  write_gguf(f.path,
             {{"tokenizer.ggml.model", {GgufType::string, std::string("bert")}},
              {"tokenizer.ggml.tokens", {GgufType::array, one_token}}},
             {});
  CHECK_THROWS_WITH(Tokenizer::from_gguf(GgufFile(f.path)),
                    Catch::Contains("tokenizer.ggml.model 'bert'") &&
                        Catch::Contains("valid: gpt2") && Catch::Contains(f.path));
  // SentencePiece without its pieces' scores: the key named.
  TempFile s;
  write_gguf(s.path,
             {{"tokenizer.ggml.model", {GgufType::string, std::string("llama")}},
              {"tokenizer.ggml.tokens", {GgufType::array, one_token}}},
             {});
  CHECK_THROWS_WITH(Tokenizer::from_gguf(GgufFile(s.path)),
                    Catch::Contains("tokenizer.ggml.scores") && Catch::Contains(s.path));
  // A token id past the vocabulary, even one that 32 bits would cut into it (2^32 + 0 -> 0).
  const GgufArray two_tokens{
      GgufType::string,
      {{GgufType::string, std::string("a")}, {GgufType::string, std::string("b")}}};
  for (const std::uint64_t id : {std::uint64_t(2), (std::uint64_t(1) << 32) + 0}) {
    TempFile e;
    write_gguf(e.path,
               {{"tokenizer.ggml.model", {GgufType::string, std::string("gpt2")}},
                {"tokenizer.ggml.tokens", {GgufType::array, two_tokens}},
                {"tokenizer.ggml.merges", {GgufType::array, GgufArray{GgufType::string, {}}}},
                {"tokenizer.ggml.eos_token_id", {GgufType::u64, id}}},
               {});
    CHECK_THROWS_WITH(Tokenizer::from_gguf(GgufFile(e.path)),
                      Catch::Contains("tokenizer.ggml.eos_token_id is " + std::to_string(id)) &&
                          Catch::Contains("valid: 0..1"));
  }
  TempFile g;
  write_gguf(g.path, {{"general.architecture", {GgufType::string, std::string("llama")}}}, {});
  CHECK_THROWS_WITH(Tokenizer::from_gguf(GgufFile(g.path)),
                    Catch::Contains("tokenizer.ggml.model"));
}
