// Runs a libFuzzer target's LLVMFuzzerTestOneInput on every file of the folders
// (or on the files) given as arguments, in name order: the fuzz targets' corpus
// as a regression test, in builds without libFuzzer. A crash, a sanitizer report
// or an escaping exception fails the run; the file being run is printed first
// when FIXQ_REPLAY_VERBOSE is set, and always named on an escaping exception.
//
// Each input runs on a thread with a 1 MiB stack (a main thread has 8): recursion
// as deep as an input is long then overflows it with inputs of a few hundred
// kilobytes, as it would on a worker thread with a small stack.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <pthread.h>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

struct Job {
  const std::vector<char>* bytes;
  std::string error;  ///< what an escaping exception said
};

void* run_job(void* arg) {
  Job& job = *static_cast<Job*>(arg);
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(job.bytes->data()), job.bytes->size());
  } catch (const std::exception& e) {
    job.error = e.what();
  } catch (...) {
    job.error = "an exception not derived from std::exception";
  }
  return nullptr;
}

/// Runs one input on a thread with a 1 MiB stack; false with `error` set when an
/// exception escaped.
bool run_input(const std::vector<char>& bytes, std::string& error) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, std::size_t{1} << 20);
  Job job{&bytes, {}};
  pthread_t thread;
  if (pthread_create(&thread, &attr, run_job, &job) != 0) {
    std::fprintf(stderr, "cannot start a thread\n");
    std::exit(2);
  }
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  error = job.error;
  return error.empty();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FOLDER_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p = argv[i];
    if (fs::is_directory(p)) {
      for (const fs::directory_entry& e : fs::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(p)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or folder\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no input files\n");
    return 2;
  }
  const bool verbose = std::getenv("FIXQ_REPLAY_VERBOSE") != nullptr;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      std::fprintf(stderr, "%s: read error\n", f.c_str());
      return 2;
    }
    if (verbose) std::fprintf(stderr, "%s\n", f.c_str());
    std::string error;
    if (!run_input(bytes, error)) {
      std::fprintf(stderr, "%s: uncaught exception: %s\n", f.c_str(), error.c_str());
      return 1;
    }
  }
  std::printf("%zu inputs replayed\n", files.size());
  return 0;
}
