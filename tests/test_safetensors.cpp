// The safetensors reader: round trip, half-precision widening, and a clear error naming
// the file and tensor for every kind of bad file.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "core/random.hpp"
#include "core/safetensors.hpp"

using namespace aigc;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir = fs::temp_directory_path() / ("aigc_st_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(dir); }
  ~TempDir() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

// A file from a raw JSON header and raw data bytes, for the cases the writer cannot make.
void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  std::ofstream(path, std::ios::binary) << out << header << data;
}

std::string bytes_of(std::initializer_list<std::uint16_t> values) {
  std::string s;
  for (std::uint16_t v : values) s += {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
  return s;
}

}  // namespace

TEST_CASE("tensors written as safetensors read back exactly, with their shapes") {
  TempDir tmp;
  const std::map<std::string, NamedTensor> tensors{
      {"transformer.wte.weight", {{7, 5}, random_uniform(35, 1)}},
      {"transformer.h.0.attn.c_attn.bias", {{15}, random_uniform(15, 2)}},
      {"scalar", {{}, {3.5f}}}};
  write_safetensors(tmp.file("m.safetensors"), tensors);
  const SafetensorsFile f(tmp.file("m.safetensors"));
  CHECK(f.tensors().size() == 3);
  for (const auto& [name, t] : tensors) {
    INFO(name);
    CHECK(f.read_f32(name, t.shape) == t.data);
  }
}

TEST_CASE("F16 and BF16 tensors are widened to fp32 exactly") {
  TempDir tmp;
  // F16: 1, -2, 0.5, 65504 (largest), 2^-24 (smallest subnormal); BF16: 1, -3.
  const std::string header =
      R"({"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]}})";
  write_raw(tmp.file("h.safetensors"), header,
            bytes_of({0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001}) + bytes_of({0x3F80, 0xC040}));
  const SafetensorsFile f(tmp.file("h.safetensors"));
  CHECK(f.read_f32("h", {5}) ==
        std::vector<float>{1.0f, -2.0f, 0.5f, 65504.0f, 5.9604644775390625e-08f});
  CHECK(f.read_f32("b", {2}) == std::vector<float>{1.0f, -3.0f});
}

TEST_CASE("a missing tensor or a wrong shape is an error naming the tensor") {
  TempDir tmp;
  write_safetensors(tmp.file("m.safetensors"), {{"a", {{2, 3}, random_uniform(6, 3)}}});
  const SafetensorsFile f(tmp.file("m.safetensors"));
  CHECK_THROWS_WITH(f.read_f32("transformer.ln_f.weight", {3}),
                    Catch::Contains("tensor 'transformer.ln_f.weight' is missing"));
  CHECK_THROWS_WITH(f.read_f32("a", {3, 2}),
                    Catch::Contains("tensor 'a' has shape [2, 3], expected [3, 2]"));
}

TEST_CASE("a truncated, malformed or missing file is an error naming the file and tensor") {
  TempDir tmp;
  const std::string good = tmp.file("good.safetensors");
  write_safetensors(good, {{"w", {{4, 4}, random_uniform(16, 4)}}});

  const std::string cut = tmp.file("cut.safetensors");
  fs::copy_file(good, cut);
  fs::resize_file(cut, fs::file_size(good) - 4);
  CHECK_THROWS_WITH(SafetensorsFile(cut), Catch::Contains(cut) && Catch::Contains("tensor 'w'") &&
                                              Catch::Contains("truncated"));

  const std::string tiny = tmp.file("tiny.safetensors");
  std::ofstream(tiny) << "abc";
  CHECK_THROWS_WITH(SafetensorsFile(tiny), Catch::Contains("truncated"));

  const std::string long_header = tmp.file("long.safetensors");
  write_raw(long_header, "{}", "");
  fs::resize_file(long_header, 4);
  CHECK_THROWS_AS(SafetensorsFile(long_header), SafetensorsError);

  const std::string not_json = tmp.file("notjson.safetensors");
  write_raw(not_json, "{not json", "");
  CHECK_THROWS_WITH(SafetensorsFile(not_json), Catch::Contains("not JSON"));

  const std::string bad_dtype = tmp.file("dtype.safetensors");
  write_raw(bad_dtype, R"({"w":{"dtype":"F8X","shape":[1],"data_offsets":[0,1]}})", "x");
  CHECK_THROWS_WITH(SafetensorsFile(bad_dtype),
                    Catch::Contains("tensor 'w'") && Catch::Contains("unknown dtype"));

  const std::string bad_size = tmp.file("size.safetensors");
  write_raw(bad_size, R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
            std::string(8, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(bad_size),
                    Catch::Contains("tensor 'w'") && Catch::Contains("8 bytes for shape [3]"));

  const std::string no_offsets = tmp.file("entry.safetensors");
  write_raw(no_offsets, R"({"w":{"dtype":"F32","shape":[1]}})", "");
  CHECK_THROWS_WITH(SafetensorsFile(no_offsets), Catch::Contains("tensor 'w': malformed entry"));

  CHECK_THROWS_WITH(SafetensorsFile(tmp.file("absent.safetensors")),
                    Catch::Contains("cannot open"));
}

TEST_CASE("shapes and offsets must be non-negative integers that fit, or the file is refused") {
  TempDir tmp;
  const std::string p = tmp.file("bad.safetensors");
  const std::string four(4, '\0');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"t":{"dtype":"F32","shape":[1e302],"data_offsets":[0,4]}})",
       "not a non-negative integer"},
      {R"({"t":{"dtype":"F32","shape":[2.5],"data_offsets":[0,4]}})", "not a non-negative integer"},
      {R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "not a non-negative integer"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,1e30]}})",
       "not a non-negative integer"},
      {R"({"t":{"dtype":"F32","shape":[4611686018427387904,97,64],"data_offsets":[0,4]}})",
       "overflows 64 bits"},
      {R"({"t":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})",
       "bytes for shape"},
      {R"({"t":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "shape is not an array"},
  };
  for (const auto& [header, message] : cases) {
    INFO(header);
    write_raw(p, header, four);
    CHECK_THROWS_WITH(SafetensorsFile(p),
                      Catch::Contains(p) && Catch::Contains("'t'") && Catch::Contains(message));
  }
}

TEST_CASE("data the tensors do not cover exactly, or cover twice, is refused") {
  TempDir tmp;
  const std::string p = tmp.file("bad.safetensors");
  // One byte past the last tensor: what a header length off by one produces.
  write_raw(p, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(5, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p),
                    Catch::Contains("bytes [4, 5)") && Catch::Contains("belong to no tensor"));
  // A gap between two tensors.
  write_raw(p,
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
            std::string(12, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p), Catch::Contains("before tensor 'b'"));
  // Two tensors over the same bytes.
  write_raw(p,
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
            std::string(8, '\0'));
  CHECK_THROWS_WITH(SafetensorsFile(p), Catch::Contains("overlap"));
}

TEST_CASE("a tensor of zero elements reads back empty") {
  TempDir tmp;
  const std::string p = tmp.file("empty.safetensors");
  write_raw(p,
            R"({"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},)"
            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            std::string(4, '\0'));
  const SafetensorsFile f(p);
  CHECK(f.read_f32("e", {0, 3}).empty());
  CHECK(f.read_f32("a", {1}) == std::vector<float>{0.0f});
}
