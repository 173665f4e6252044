// Replays a fuzz target's corpus as GoogleTest tests, one test per file, so every build (g++
// included) runs the corpus through the target. Files or directories given as arguments are
// replayed instead of the built-in corpus (CATALYST_FUZZ_CORPUS_DIR).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

// Defined by the fuzz target linked with this file.
// NOLINTNEXTLINE(readability-identifier-naming): the entry point libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace catalyst::fuzz {
namespace {

// The files under each of `paths` (a file stands for itself), sorted, so test names are stable.
std::vector<std::filesystem::path> collectInputs(const std::vector<std::filesystem::path>& paths) {
  std::vector<std::filesystem::path> inputs;
  for (const auto& path : paths) {
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
        if (entry.is_regular_file()) {
          inputs.push_back(entry.path());
        }
      }
    } else {
      inputs.push_back(path);
    }
  }
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

// A test name from a file name: letters and digits kept, anything else becomes '_'.
std::string testName(const std::filesystem::path& path) {
  std::string name = path.filename().string();
  std::replace_if(
      name.begin(), name.end(),
      [](char c) {
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
      },
      '_');
  return name;
}

class ReplayTest : public ::testing::Test {
public:
  explicit ReplayTest(std::filesystem::path input) : input_(std::move(input)) {}

  void TestBody() override {
    std::ifstream file(input_, std::ios::binary);
    ASSERT_TRUE(file) << "cannot open " << input_;
    const std::vector<char> bytes{std::istreambuf_iterator<char>(file),
                                  std::istreambuf_iterator<char>()};
    SCOPED_TRACE(input_.string());
    // The cast only reinterprets the bytes; libFuzzer hands targets unsigned bytes.
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    EXPECT_EQ(LLVMFuzzerTestOneInput(data, bytes.size()), 0);
  }

private:
  std::filesystem::path input_;
};

// Guards against a corpus directory that moved or emptied: replaying nothing passes silently.
class CorpusNotEmptyTest : public ::testing::Test {
public:
  explicit CorpusNotEmptyTest(std::size_t count) : count_(count) {}

  void TestBody() override { EXPECT_GT(count_, 0U) << "no corpus files found"; }

private:
  std::size_t count_;
};

} // namespace
} // namespace catalyst::fuzz

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::vector<std::filesystem::path> paths;
  for (int i = 1; i < argc; ++i) {
    paths.emplace_back(argv[i]);
  }
  if (paths.empty()) {
    paths.emplace_back(CATALYST_FUZZ_CORPUS_DIR);
  }
  const auto inputs = catalyst::fuzz::collectInputs(paths);
  ::testing::RegisterTest("FuzzReplay", "CorpusIsNotEmpty", nullptr, nullptr, __FILE__, __LINE__,
                          [count = inputs.size()]() -> ::testing::Test* {
                            return new catalyst::fuzz::CorpusNotEmptyTest(count);
                          });
  for (const auto& input : inputs) {
    ::testing::RegisterTest(
        "FuzzReplay", catalyst::fuzz::testName(input).c_str(), nullptr, input.string().c_str(),
        __FILE__, __LINE__,
        [input]() -> ::testing::Test* { return new catalyst::fuzz::ReplayTest(input); });
  }
  return RUN_ALL_TESTS();
}
