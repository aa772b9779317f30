// safetensors: reading a file written by an independent writer, round trips, and every kind of
// malformed file rejected with a clear error.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <cstdio>
#include <fstream>

#include "engine/io/safetensors.h"

using namespace lumen;

namespace {
std::string temp_path(const std::string& name) {
  return std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/lumen_test_" +
         std::to_string(::getpid()) + "_" + name;
}
void write_raw(const std::string& path, const std::string& header, const std::string& data = "",
               uint64_t declared = UINT64_MAX) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = declared == UINT64_MAX ? header.size() : declared;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header << data;
}
}  // namespace

TEST_CASE("reads a file written by the fixture script") {
  SafetensorsFile f = load_safetensors("fixtures/safetensors_sample.safetensors");
  CHECK(f.metadata.at("format") == "pt");
  CHECK(f.metadata.at("note") == "q\"uote");
  const std::vector<double> values{-1.5, 0.0, 2.25, 3.0, -4.0, 1e-3};
  CHECK(f.tensors.at("f32").shape() == Shape{2, 3});
  testing::check_close(f.tensors.at("f32"), Tensor::from_vector(values, {2, 3}), 1e-7, "f32");
  CHECK(f.tensors.at("f64").to_doubles() == f.tensors.at("f32").to_doubles());  // f32 widened
  testing::check_close(f.tensors.at("bf16"), Tensor::from_vector(values, {2, 3}), 1e-2, "bf16");
  testing::check_close(f.tensors.at("f16"), Tensor::from_vector(values, {2, 3}), 1e-3, "f16");
  CHECK(f.tensors.at("u8").to_doubles() == std::vector<double>{0, 7, 255});
  CHECK(f.tensors.at("i32").to_doubles() == std::vector<double>{-3, 0, 2147483647});
  CHECK(f.tensors.at("i64").to_doubles() == std::vector<double>{1099511627776.0, -1});
  CHECK(f.tensors.at("empty").shape() == Shape{0, 4});
}

TEST_CASE("round trip keeps names, dtypes, shapes, values and metadata") {
  const std::string path = temp_path("roundtrip.safetensors");
  std::map<std::string, Tensor> tensors;
  for (DType t : {DType::f32, DType::f64, DType::bf16, DType::f16, DType::i64}) {
    tensors[std::string("w_") + dtype_name(t)] = Tensor::normal({3, 5}, 1, 0, 1, DType::f32).to(t);
  }
  tensors["layer1.0.bn1.num_batches_tracked"] = Tensor::full({}, 12, DType::i64);
  save_safetensors(path, tensors, {{"step", "42"}, {"config", "lr=0.1\nseed=3"}});
  SafetensorsFile back = load_safetensors(path);
  CHECK(back.metadata.at("step") == "42");
  CHECK(back.metadata.at("config") == "lr=0.1\nseed=3");
  REQUIRE(back.tensors.size() == tensors.size());
  for (const auto& [name, t] : tensors) {
    CAPTURE(name);
    CHECK(back.tensors.at(name).dtype() == t.dtype());
    CHECK(back.tensors.at(name).shape() == t.shape());
    CHECK(back.tensors.at(name).to_doubles() == t.to_doubles());
  }
  std::remove(path.c_str());
}

TEST_CASE("malformed files are rejected with an error naming the file and the problem") {
  const std::string path = temp_path("bad.safetensors");
  auto rejects = [&](const char* expected) {
    CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(expected), Error);
  };
  { std::ofstream(path, std::ios::binary) << "abc"; }
  rejects("only 3 bytes");
  write_raw(path, "{}", "", uint64_t(1) << 40);
  rejects("larger than");
  write_raw(path, "{}", "", 100);
  rejects("runs past the end");
  write_raw(path, "{\"a\": ");
  rejects("malformed safetensors header");
  write_raw(path, "[1, 2]");
  rejects("not a JSON object");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234");
  rejects("outside the 4-byte data section");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678");
  rejects("needs 12 bytes");
  write_raw(path, R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", "12345678");
  rejects("dtype C64");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})");
  rejects("invalid dimension");
  write_raw(path,
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
            "12345678");
  rejects("overlap");
  write_raw(path,
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}})",
            "1234567890");
  rejects("2 unused bytes at offset 4");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "12345678");
  rejects("4 bytes after the last tensor");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[1]}})");
  rejects("lacks dtype, shape or data_offsets");
  CHECK_THROWS_WITH_AS(load_safetensors(temp_path("missing")), doctest::Contains("cannot open"),
                       Error);
  std::remove(path.c_str());
}

TEST_CASE("saving into a folder that does not exist fails clearly and leaves nothing behind") {
  std::map<std::string, Tensor> t{{"x", Tensor::zeros({2})}};
  CHECK_THROWS_WITH_AS(save_safetensors("/nonexistent-dir/x.safetensors", t),
                       doctest::Contains("check that the folder exists"), Error);
}

TEST_CASE("hostile headers are refused by the JSON reader, naming what is wrong") {
  const std::string path = temp_path("hostile.safetensors");
  auto rejects = [&](const std::string& header, const char* expected) {
    CAPTURE(header.substr(0, 80));
    write_raw(path, header);
    CHECK_THROWS_WITH_AS(load_safetensors(path), doctest::Contains(expected), Error);
  };
  const std::string entry = R"({"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
  // A key given twice: nlohmann alone would keep the last, another reader the first.
  rejects(R"({"a":)" + entry + R"(,"a":)" + entry + "}", "duplicate key \"a\"");
  rejects(R"({"a":{"dtype":"F32","dtype":"F64","shape":[0],"data_offsets":[0,0]}})",
          "duplicate key \"dtype\"");
  // Nesting without bound (a stack-depth attack on recursive readers).
  rejects(std::string(100000, '[') + std::string(100000, ']'), "nested deeper than 64 levels");
  rejects(R"({"a":)" + std::string(70, '[') + std::string(70, ']') + "}", "nested deeper");
  // Malformed text: the reader's message names the position.
  rejects(R"({"a":[1,]})", "malformed safetensors header: invalid JSON");
  rejects(R"({"a":1} trailing)", "invalid JSON");
  rejects(R"({"a":"\ud83d"})", "invalid JSON");      // a lone surrogate
  rejects("{\"a\":\"\xff\xfe\"}", "invalid JSON");   // not UTF-8
  rejects("{\"a\":\"tab\there\"}", "invalid JSON");  // a raw control character
  // Well-formed JSON of the wrong shape.
  rejects(R"({"__metadata__":[1]})", "__metadata__ is not an object");
  rejects(R"({"__metadata__":{"k":3}})", "metadata 'k' is not a string");
  rejects(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})",
          "a shape entry is not an integer (2.0)");
  rejects(R"({"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,8]}})", "invalid JSON");
  rejects(R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}})",
          "invalid dimension");
  rejects(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})",
          "data_offsets is not an integer");
  rejects(R"({"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", "dtype is not a string");
  rejects(R"({"a":{"dtype":"F32","shape":{"n":1},"data_offsets":[0,4]}})", "shape is not an array");
  std::remove(path.c_str());
}

TEST_CASE("the header written is compact JSON, metadata first, escaped, aligned to 8 bytes") {
  const std::string path = temp_path("written.safetensors");
  save_safetensors(path, {{"b", Tensor::zeros({2})}, {"a\"q", Tensor::zeros({1, 3}, DType::i64)}},
                   {{"note", "line\nnext \xc3\xa9"}});
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  in.read(header.data(), std::streamsize(n));
  CHECK(n % 8 == 0);
  // UTF-8 stays as it is; the newline and the quote are escaped.
  CHECK(header.rfind(std::string(R"({"__metadata__":{"note":"line\nnext )") + "\xc3\xa9" +
                         R"("},"a\"q":{"dtype":"I64","shape":[1,3],"data_offsets":[0,24]},)"
                         R"("b":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})",
                     0) == 0);
  CHECK(load_safetensors(path).metadata.at("note") == "line\nnext \xc3\xa9");
  std::remove(path.c_str());
}
