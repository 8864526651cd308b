// The data set loaders (fixq/io/gzip.hpp, dataset.hpp, mnist.hpp, cifar10.hpp):
// small IDX and CIFAR-10 files written here, raw and gzip-compressed (with zlib's
// deflate, independent of the reader), round-trip pixel for pixel; every malformed
// case fails with a message naming the file and the problem. The data sets bundled
// in examples/data/ load with their known counts and label histograms, and so do
// the real ones when FIXQ_DATA_DIR points at them (skipped otherwise).
#include <catch2/catch.hpp>

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <fixq/io/cifar10.hpp>
#include <fixq/io/dataset.hpp>
#include <fixq/io/gzip.hpp>
#include <fixq/io/mnist.hpp>

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using Catch::Contains;
using Catch::Equals;
using Catch::StartsWith;

/// A fresh folder for one test case, removed afterwards.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("fixq_datasets_test_" + std::to_string(::getpid()) + "_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path operator/(const std::string& f) const { return path / f; }
};

void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  REQUIRE(out);
}

Bytes read_raw(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

/// One gzip member of `data`, compressed by zlib's deflate.
Bytes gzip(const Bytes& data, int level = 6) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int r = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  REQUIRE(r == Z_STREAM_END);
  out.resize(zs.total_out);
  return out;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void put_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

/// The pixel of image i at (y, x) in the IDX test files.
std::uint8_t idx_pixel(std::size_t i, std::size_t y, std::size_t x) {
  return static_cast<std::uint8_t>((i * 89 + y * 13 + x * 7 + 5) % 256);
}

Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::uint32_t magic = 0x803) {
  Bytes b;
  put_be32(b, magic);
  put_be32(b, n);
  put_be32(b, rows);
  put_be32(b, cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t y = 0; y < rows; ++y)
      for (std::uint32_t x = 0; x < cols; ++x) b.push_back(idx_pixel(i, y, x));
  return b;
}

Bytes idx_labels(const Bytes& labels) {
  Bytes b;
  put_be32(b, 0x801);
  put_be32(b, static_cast<std::uint32_t>(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

/// Channel c (0 R, 1 G, 2 B) of CIFAR record r at (y, x) in the test files.
std::uint8_t cifar_pixel(std::size_t r, std::size_t c, std::size_t y, std::size_t x) {
  return static_cast<std::uint8_t>((r * 31 + c * 85 + y * 7 + x * 3) % 256);
}

/// `n` CIFAR-10 records written as the format says: the label, then the R, G and B planes.
Bytes cifar_records(std::size_t n, std::size_t first_record = 0) {
  Bytes b;
  for (std::size_t r = first_record; r < first_record + n; ++r) {
    b.push_back(static_cast<std::uint8_t>(r % 10));
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t y = 0; y < 32; ++y)
        for (std::size_t x = 0; x < 32; ++x) b.push_back(cifar_pixel(r, c, y, x));
  }
  return b;
}

/// Checks every pixel of images made by cifar_records, in NHWC order.
void check_cifar_pixels(const fixq::Dataset& d, std::size_t first_record = 0) {
  REQUIRE(d.images.shape == fixq::Shape{static_cast<std::int64_t>(d.size()), 32, 32, 3});
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    CHECK(d.labels[i] == (first_record + i) % 10);
    for (std::size_t y = 0; y < 32; ++y)
      for (std::size_t x = 0; x < 32; ++x)
        for (std::size_t c = 0; c < 3; ++c)
          wrong += d.images.data[((i * 32 + y) * 32 + x) * 3 + c] != cifar_pixel(first_record + i, c, y, x);
  }
  CHECK(wrong == 0);
}

std::array<std::size_t, 10> histogram(const std::vector<std::uint8_t>& labels) {
  std::array<std::size_t, 10> h{};
  for (const std::uint8_t l : labels) ++h.at(l);
  return h;
}

std::uint64_t pixel_sum(const fixq::Dataset& d, std::size_t first, std::size_t count) {
  const std::size_t per = d.images.data.size() / d.size();
  std::uint64_t s = 0;
  for (std::size_t k = first * per; k < (first + count) * per; ++k) s += d.images.data[k];
  return s;
}

}  // namespace

TEST_CASE("gzip: inflates what zlib deflates", "[io][datasets][gzip]") {
  std::mt19937 rng(7);
  Bytes random(300000);
  for (auto& b : random) b = static_cast<std::uint8_t>(rng());
  Bytes text;
  for (int i = 0; i < 100000; ++i) text.push_back(static_cast<std::uint8_t>("fixq "[i % 5]));
  for (const Bytes* data : {&random, &text}) {
    for (const int level : {0, 1, 9}) CHECK(fixq::gunzip(gzip(*data, level), "x.gz") == *data);
  }
  CHECK(fixq::gunzip(gzip({}), "empty.gz").empty());
  CHECK(fixq::gunzip(gzip({42}), "one.gz") == Bytes{42});

  // Concatenated members inflate to the concatenation, as `cat a.gz b.gz` and gzip -d give.
  CHECK(fixq::gunzip(cat(cat(gzip(text), gzip({})), gzip(random)), "multi.gz") == cat(text, random));

  // maybe_gunzip passes other data through; is_gzip looks at the two magic bytes only.
  CHECK(fixq::maybe_gunzip(text, "t") == text);
  CHECK(fixq::maybe_gunzip(gzip(text), "t") == text);
  CHECK(fixq::is_gzip(Bytes{0x1f, 0x8b}));
  CHECK_FALSE(fixq::is_gzip(Bytes{0x1f}));
  CHECK_FALSE(fixq::is_gzip(Bytes{0x8b, 0x1f}));

  // The cap: exactly max_size bytes inflate; one more is an error.
  CHECK(fixq::gunzip(gzip(text), "cap.gz", text.size()) == text);
  CHECK_THROWS_WITH(fixq::gunzip(gzip(text), "cap.gz", text.size() - 1),
                    StartsWith("cap.gz: inflates to more than 99999 bytes (the limit"));
  CHECK(fixq::maybe_gunzip(text, "raw", text.size()) == text);
  CHECK_THROWS_WITH(fixq::maybe_gunzip(text, "raw", 1000), StartsWith("raw: 100000 bytes: larger than the limit of 1000 bytes"));
  CHECK(fixq::default_max_file_size == std::size_t{1} << 30);

  // Files: raw and compressed.
  TempDir dir("gzip");
  write_file(dir / "t.gz", gzip(text));
  write_file(dir / "t.bin", text);
  CHECK(fixq::read_file_maybe_gzip(dir / "t.gz") == text);
  CHECK(fixq::read_file_maybe_gzip(dir / "t.bin") == text);
  CHECK(fixq::read_file_bytes(dir / "t.gz") == gzip(text));
}

TEST_CASE("gzip: malformed streams, missing files, zip bombs", "[io][datasets][gzip]") {
  Bytes text;
  for (int i = 0; i < 50000; ++i) text.push_back(static_cast<std::uint8_t>((i % 251) * (i % 251) % 251));
  const Bytes z = gzip(text);
  REQUIRE(z.size() > 100);

  SECTION("corrupt data") {
    Bytes bad = z;
    bad[3] = 0xe0;  // reserved header flag bits
    CHECK_THROWS_WITH(fixq::gunzip(bad, "f.gz"), StartsWith("f.gz: corrupt gzip data: "));
    bad = z;
    bad[2] = 7;  // compression method other than deflate
    CHECK_THROWS_WITH(fixq::gunzip(bad, "f.gz"), StartsWith("f.gz: corrupt gzip data: unknown compression method"));
    bad = z;
    for (std::size_t i = 12; i < 40; ++i) bad[i] = 0xff;  // the deflate data
    CHECK_THROWS_WITH(fixq::gunzip(bad, "f.gz"), StartsWith("f.gz: corrupt gzip data: "));
    bad = z;
    bad[bad.size() - 6] ^= 1;  // the CRC-32 in the trailer
    CHECK_THROWS_WITH(fixq::gunzip(bad, "f.gz"), Contains("f.gz: corrupt gzip data: incorrect data check"));
    bad = z;
    bad[bad.size() - 2] ^= 1;  // the length in the trailer
    CHECK_THROWS_WITH(fixq::gunzip(bad, "f.gz"), Contains("f.gz: corrupt gzip data: incorrect length check"));
  }
  SECTION("truncated streams") {
    for (const std::size_t keep : {std::size_t{2}, std::size_t{5}, std::size_t{10}, z.size() / 2, z.size() - 8, z.size() - 1}) {
      INFO("kept " << keep << " of " << z.size() << " bytes");
      const Bytes cut(z.begin(), z.begin() + static_cast<std::ptrdiff_t>(keep));
      CHECK_THROWS_WITH(fixq::gunzip(cut, "f.gz"), Equals("f.gz: truncated gzip stream (the data ends inside a member)"));
    }
    // A second member cut short.
    CHECK_THROWS_WITH(fixq::gunzip(cat(z, Bytes(z.begin(), z.begin() + 20)), "f.gz"), Contains("f.gz: truncated gzip stream"));
  }
  SECTION("trailing bytes") {
    CHECK_THROWS_WITH(fixq::gunzip(cat(z, {0, 0, 0, 0}), "f.gz"),
                      Equals("f.gz: 4 bytes after the end of the gzip stream (not another gzip member)"));
    CHECK_THROWS_WITH(fixq::gunzip(cat(z, {'x'}), "f.gz"), Contains("f.gz: 1 byte after the end of the gzip stream"));
  }
  SECTION("not gzip") {
    CHECK_THROWS_WITH(fixq::gunzip(text, "f"), Equals("f: not gzip data (no 1f 8b magic bytes)"));
    CHECK_THROWS_WITH(fixq::gunzip({}, "f"), Equals("f: not gzip data (no 1f 8b magic bytes)"));
  }
  SECTION("zip bomb") {
    // 64 MiB of zeros in about 64 KB, and the same member 16 times: 1 GiB from 1 MB.
    const Bytes zeros(std::size_t{64} << 20, 0);
    const Bytes member = gzip(zeros, 9);
    REQUIRE(member.size() < 100000);
    Bytes bomb;
    for (int i = 0; i < 16; ++i) bomb = cat(bomb, member);
    CHECK_THROWS_WITH(fixq::gunzip(bomb, "bomb.gz", std::size_t{8} << 20),
                      Equals("bomb.gz: inflates to more than 8 MiB (the limit; a corrupt or hostile file?)"));
    CHECK_THROWS_WITH(fixq::gunzip(member, "bomb.gz", (std::size_t{64} << 20) - 1),
                      StartsWith("bomb.gz: inflates to more than"));
    CHECK(fixq::gunzip(member, "bomb.gz", std::size_t{64} << 20).size() == std::size_t{64} << 20);
    TempDir dir("bomb");
    write_file(dir / "t10k-images-idx3-ubyte.gz", bomb);
    CHECK_THROWS_WITH(fixq::read_idx_images(dir / "t10k-images-idx3-ubyte.gz", std::size_t{8} << 20),
                      Equals((dir / "t10k-images-idx3-ubyte.gz").string() +
                             ": inflates to more than 8 MiB (the limit; a corrupt or hostile file?)"));
  }
  SECTION("files") {
    TempDir dir("gzip_files");
    CHECK_THROWS_WITH(fixq::read_file_maybe_gzip(dir / "none.gz"), Equals((dir / "none.gz").string() + ": no such file"));
    fs::create_directory(dir / "sub.gz");
    CHECK_THROWS_WITH(fixq::read_file_maybe_gzip(dir / "sub.gz"),
                      Equals((dir / "sub.gz").string() + ": is a directory, not a file"));
    write_file(dir / "big.bin", text);
    CHECK_THROWS_WITH(fixq::read_file_bytes(dir / "big.bin", 4096),
                      Equals((dir / "big.bin").string() + ": 50000 bytes: larger than the limit of 4096 bytes"));
    write_file(dir / "cut.gz", Bytes(z.begin(), z.end() - 3));
    CHECK_THROWS_WITH(fixq::read_file_maybe_gzip(dir / "cut.gz"),
                      Equals((dir / "cut.gz").string() + ": truncated gzip stream (the data ends inside a member)"));
  }
}

TEST_CASE("mnist: IDX files round-trip, raw and gzip", "[io][datasets][mnist]") {
  const Bytes images = idx_images(3, 4, 5);
  const Bytes labels = idx_labels({7, 0, 9});

  const fixq::NDArray<std::uint8_t> a = fixq::parse_idx_images(images, "i");
  REQUIRE(a.shape == fixq::Shape{3, 4, 5, 1});
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t y = 0; y < 4; ++y)
      for (std::size_t x = 0; x < 5; ++x) CHECK(a.data[(i * 4 + y) * 5 + x] == idx_pixel(i, y, x));
  CHECK(fixq::parse_idx_labels(labels, "l") == Bytes{7, 0, 9});
  // Empty sets are well-formed files.
  CHECK(fixq::parse_idx_images(idx_images(0, 28, 28), "i").shape == fixq::Shape{0, 28, 28, 1});
  CHECK(fixq::parse_idx_labels(idx_labels({}), "l").empty());

  TempDir dir("mnist");
  // Test split: images compressed, labels raw; training split: the dot-named variant.
  write_file(dir / "t10k-images-idx3-ubyte.gz", gzip(images));
  write_file(dir / "t10k-labels-idx1-ubyte", labels);
  write_file(dir / "train-images.idx3-ubyte", idx_images(2, 28, 28));
  write_file(dir / "train-labels.idx1-ubyte.gz", gzip(idx_labels({1, 2})));

  CHECK(fixq::read_idx_images(dir / "t10k-images-idx3-ubyte.gz") == a);
  CHECK(fixq::read_idx_labels(dir / "t10k-labels-idx1-ubyte") == Bytes{7, 0, 9});

  const fixq::Dataset test = fixq::load_mnist(dir.path, fixq::MnistSplit::Test);
  CHECK(test.images == a);
  CHECK(test.labels == Bytes{7, 0, 9});
  CHECK(test.size() == 3);
  CHECK(test.class_names == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});

  const fixq::Dataset train = fixq::load_mnist(dir.path, fixq::MnistSplit::Train);
  REQUIRE(train.images.shape == fixq::Shape{2, 28, 28, 1});
  CHECK(train.images.data[28 * 28 + 3 * 28 + 17] == idx_pixel(1, 3, 17));
  CHECK(train.labels == Bytes{1, 2});

  // The plain name wins over the .gz one when both are there.
  write_file(dir / "t10k-labels-idx1-ubyte.gz", gzip(idx_labels({1, 1, 1})));
  CHECK(fixq::load_mnist(dir.path, fixq::MnistSplit::Test).labels == Bytes{7, 0, 9});
}

TEST_CASE("mnist: malformed IDX files", "[io][datasets][mnist]") {
  const Bytes good = idx_images(3, 4, 5);
  const auto images_fail = [](const Bytes& b, const std::string& what) {
    CHECK_THROWS_WITH(fixq::parse_idx_images(b, "img.idx"), StartsWith("img.idx: ") && Contains(what));
  };
  const auto labels_fail = [](const Bytes& b, const std::string& what) {
    CHECK_THROWS_WITH(fixq::parse_idx_labels(b, "lab.idx"), StartsWith("lab.idx: ") && Contains(what));
  };

  // Truncated header, truncated data, trailing bytes.
  images_fail({}, "empty file (an IDX image file starts with a 16-byte header)");
  images_fail(Bytes(good.begin(), good.begin() + 3), "truncated header: 3 bytes, an IDX image file's header is 16");
  images_fail(Bytes(good.begin(), good.begin() + 10), "truncated header: 10 bytes, an IDX image file's header is 16");
  labels_fail(Bytes{0, 0, 8, 1, 0, 0}, "truncated header: 6 bytes, an IDX label file's header is 8");
  images_fail(Bytes(good.begin(), good.end() - 1),
              "truncated: the header announces 3 images of 4 x 5 pixels (60 bytes of data), the file has 59");
  images_fail(Bytes(good.begin(), good.begin() + 16),
              "truncated: the header announces 3 images of 4 x 5 pixels (60 bytes of data), the file has 0");
  images_fail(cat(good, {0, 0, 0}), "3 bytes after the data of 3 images of 4 x 5 pixels");
  labels_fail(cat(idx_labels({1, 2}), {0}), "1 byte after the data of 2 labels");
  const Bytes two_labels = idx_labels({1, 2});
  labels_fail(Bytes(two_labels.begin(), two_labels.end() - 1),
              "truncated: the header announces 2 labels (2 bytes of data), the file has 1");

  // Wrong magic numbers: a label file as images and back, another element type, not IDX, gzip.
  images_fail(idx_labels({1, 2}), "wrong magic number 0x00000801, expected 0x00000803 for an IDX image file; 1 dimension, "
                                  "an IDX image file has 3 (a label file?)");
  labels_fail(good, "wrong magic number 0x00000803, expected 0x00000801 for an IDX label file; 3 dimensions, "
                    "an IDX label file has 1 (an image file?)");
  images_fail(idx_images(1, 1, 1, 0x0d03), "wrong magic number 0x00000d03, expected 0x00000803 for an IDX image file; "
                                           "element type 0d, fixq reads unsigned bytes (08)");
  images_fail(idx_images(1, 1, 1, 0x01000803), "wrong magic number 0x01000803, expected 0x00000803 for an IDX image file; "
                                               "not an IDX file");
  images_fail(gzip(good), "; gzip data: inflate it first");

  // Wrong dimensions: two of them, an empty image, and extents whose product is absurd
  // (refused from the header, with nothing allocated: ASan would report a huge allocation).
  images_fail(idx_images(1, 4, 5, 0x802), "wrong magic number 0x00000802, expected 0x00000803 for an IDX image file; 2 dimensions");
  images_fail(idx_images(3, 0, 5), "the header announces 3 images of 0 x 5 pixels: an image needs at least one row and column");
  images_fail(idx_images(3, 4, 0), "the header announces 3 images of 4 x 0 pixels");
  Bytes huge;
  for (const std::uint32_t v : {0x803u, 0xffffffffu, 0xffffffffu, 0xffffffffu}) put_be32(huge, v);
  images_fail(huge, "truncated: the header announces 4294967295 images of 4294967295 x 4294967295 pixels, more than 2^64 "
                    "bytes; the file has 0 bytes of data");
  Bytes big;
  for (const std::uint32_t v : {0x803u, 0xffffffffu, 65535u, 65535u}) put_be32(big, v);
  big.resize(big.size() + 100);
  images_fail(big, "truncated: the header announces 4294967295 images of 65535 x 65535 pixels (18446181123756261375 bytes "
                   "of data), the file has 100");
  Bytes many_labels;
  put_be32(many_labels, 0x801);
  put_be32(many_labels, 0xffffffffu);
  labels_fail(many_labels, "truncated: the header announces 4294967295 labels (4294967295 bytes of data), the file has 0");
}

TEST_CASE("mnist: malformed folders", "[io][datasets][mnist]") {
  TempDir dir("mnist_bad");
  const fs::path images = dir / "t10k-images-idx3-ubyte", labels = dir / "t10k-labels-idx1-ubyte";
  const auto load = [&] { return fixq::load_mnist(dir.path, fixq::MnistSplit::Test); };

  // Missing files and folders.
  CHECK_THROWS_WITH(load(), Equals(dir.path.string() + ": no MNIST test images (looked for t10k-images-idx3-ubyte, "
                                   "t10k-images-idx3-ubyte.gz, t10k-images.idx3-ubyte, t10k-images.idx3-ubyte.gz)"));
  write_file(images, idx_images(3, 4, 5));
  CHECK_THROWS_WITH(load(), Equals(dir.path.string() + ": no MNIST test labels (looked for t10k-labels-idx1-ubyte, "
                                   "t10k-labels-idx1-ubyte.gz, t10k-labels.idx1-ubyte, t10k-labels.idx1-ubyte.gz)"));
  CHECK_THROWS_WITH(fixq::load_mnist(dir / "nowhere", fixq::MnistSplit::Train),
                    Equals((dir / "nowhere").string() + ": no such directory"));
  CHECK_THROWS_WITH(fixq::load_mnist(images, fixq::MnistSplit::Train), Equals(images.string() + ": not a directory"));
  CHECK_THROWS_WITH(fixq::read_idx_labels(labels), Equals(labels.string() + ": no such file"));

  // A directory where the file should be.
  fs::create_directory(labels);
  CHECK_THROWS_WITH(load(), Equals(labels.string() + ": is a directory, not a file"));
  fs::remove(labels);

  // Label out of range, counts that differ.
  write_file(labels, idx_labels({7, 9, 10}));
  CHECK_THROWS_WITH(load(), Equals(labels.string() + ": label 10 at index 2 is out of range (MNIST's classes are 0..9)"));
  write_file(labels, idx_labels({7, 9}));
  CHECK_THROWS_WITH(load(), Equals(labels.string() + ": 2 labels, but " + images.string() + " holds 3 images"));
  write_file(labels, idx_labels({7, 9, 1, 1}));
  CHECK_THROWS_WITH(load(), Equals(labels.string() + ": 4 labels, but " + images.string() + " holds 3 images"));

  // Errors inside a compressed file name the .gz file.
  fs::remove(images);
  write_file(labels, idx_labels({7, 9, 1}));
  const fs::path gz = dir / "t10k-images-idx3-ubyte.gz";
  const Bytes z = gzip(idx_images(3, 4, 5));
  write_file(gz, Bytes(z.begin(), z.end() - 4));
  CHECK_THROWS_WITH(load(), Equals(gz.string() + ": truncated gzip stream (the data ends inside a member)"));
  Bytes corrupt = z;
  for (std::size_t i = 10; i < corrupt.size() - 8; ++i) corrupt[i] = 0xff;
  write_file(gz, corrupt);
  CHECK_THROWS_WITH(load(), StartsWith(gz.string() + ": corrupt gzip data: "));
  const Bytes short_data = idx_images(3, 4, 5);
  write_file(gz, gzip(Bytes(short_data.begin(), short_data.end() - 2)));
  CHECK_THROWS_WITH(load(), Equals(gz.string() + ": truncated: the header announces 3 images of 4 x 5 pixels (60 bytes of "
                                                 "data), the file has 58"));
  write_file(gz, z);
  CHECK(load().size() == 3);
}

TEST_CASE("cifar10: batches round-trip in NHWC order, raw and gzip", "[io][datasets][cifar10]") {
  // A known pattern: record 0 is pure (255, 0, 128) everywhere; the R, G and B planes
  // must land in the last axis of each pixel.
  Bytes rec(fixq::cifar10_record_bytes);
  rec[0] = 4;
  for (std::size_t p = 0; p < 1024; ++p) {
    rec[1 + p] = 255;
    rec[1 + 1024 + p] = 0;
    rec[1 + 2048 + p] = 128;
  }
  // Record 1: R = row, G = column, B = row + column.
  Bytes rec1(fixq::cifar10_record_bytes);
  rec1[0] = 9;
  for (std::size_t y = 0; y < 32; ++y)
    for (std::size_t x = 0; x < 32; ++x) {
      rec1[1 + y * 32 + x] = static_cast<std::uint8_t>(y);
      rec1[1 + 1024 + y * 32 + x] = static_cast<std::uint8_t>(x);
      rec1[1 + 2048 + y * 32 + x] = static_cast<std::uint8_t>(y + x);
    }
  const fixq::Dataset two = fixq::parse_cifar10_batch(cat(rec, rec1), "b.bin");
  REQUIRE(two.images.shape == fixq::Shape{2, 32, 32, 3});
  CHECK(two.labels == Bytes{4, 9});
  for (std::size_t p = 0; p < 1024; ++p) {
    CHECK(two.images.data[3 * p] == 255);
    CHECK(two.images.data[3 * p + 1] == 0);
    CHECK(two.images.data[3 * p + 2] == 128);
  }
  const std::uint8_t* img1 = two.images.data.data() + 32 * 32 * 3;
  CHECK(img1[(5 * 32 + 17) * 3 + 0] == 5);
  CHECK(img1[(5 * 32 + 17) * 3 + 1] == 17);
  CHECK(img1[(5 * 32 + 17) * 3 + 2] == 22);
  CHECK(two.class_names == fixq::cifar10_class_names());
  CHECK(two.class_names.size() == 10);
  CHECK(two.class_names[3] == "cat");

  check_cifar_pixels(fixq::parse_cifar10_batch(cifar_records(13), "b.bin"));

  TempDir dir("cifar");
  // Training batches of different sizes, some compressed; the test batch compressed.
  std::size_t first = 0;
  for (int k = 1; k <= 5; ++k) {
    const Bytes b = cifar_records(static_cast<std::size_t>(k + 1), first);
    first += static_cast<std::size_t>(k + 1);
    if (k % 2) write_file(dir / ("data_batch_" + std::to_string(k) + ".bin"), b);
    else write_file(dir / ("data_batch_" + std::to_string(k) + ".bin.gz"), gzip(b));
  }
  write_file(dir / "test_batch.bin.gz", gzip(cifar_records(7, 100)));

  const fixq::Dataset train = fixq::load_cifar10(dir.path, fixq::Cifar10Split::Train);
  CHECK(train.size() == 2 + 3 + 4 + 5 + 6);
  check_cifar_pixels(train);
  CHECK(train.class_names == fixq::cifar10_class_names());
  const fixq::Dataset test = fixq::load_cifar10(dir.path, fixq::Cifar10Split::Test);
  CHECK(test.size() == 7);
  check_cifar_pixels(test, 100);
  check_cifar_pixels(fixq::read_cifar10_batch(dir / "test_batch.bin.gz"), 100);
  check_cifar_pixels(fixq::read_cifar10_batch(dir / "data_batch_1.bin"), 0);

  // Class names from batches.meta.txt: blank lines, spaces and CRLF line ends are fine.
  const std::string meta = "plane\r\ncar\n\n bird \nc\nd\ne\nf\ng\nh\ni\n\n";
  write_file(dir / "batches.meta.txt", Bytes(meta.begin(), meta.end()));
  CHECK(fixq::load_cifar10(dir.path, fixq::Cifar10Split::Test).class_names ==
        std::vector<std::string>{"plane", "car", "bird", "c", "d", "e", "f", "g", "h", "i"});
}

TEST_CASE("cifar10: malformed batches and folders", "[io][datasets][cifar10]") {
  const auto fail = [](const Bytes& b, const std::string& what) {
    CHECK_THROWS_WITH(fixq::parse_cifar10_batch(b, "x.bin"), Equals("x.bin: " + what));
  };
  fail({}, "empty file (a CIFAR-10 batch holds records of 3073 bytes)");
  fail(Bytes(3072), "3072 bytes: not a whole number of 3073-byte records (0 records and 3072 bytes)");
  fail(cat(cifar_records(2), {0, 1, 2, 3, 4}), "6151 bytes: not a whole number of 3073-byte records (2 records and 5 bytes)");
  fail(Bytes(3074 * 2),
       "6148 bytes: not a whole number of 3073-byte records (2 records and 2 bytes); records of 3074 bytes are CIFAR-100's, "
       "which fixq does not read");
  Bytes bad_label = cifar_records(3);
  bad_label[2 * 3073] = 10;
  fail(bad_label, "record 2: label 10 is out of range (CIFAR-10's classes are 0..9)");
  bad_label[2 * 3073] = 255;
  fail(bad_label, "record 2: label 255 is out of range (CIFAR-10's classes are 0..9)");

  const auto names_fail = [](const std::string& text, const std::string& what) {
    CHECK_THROWS_WITH(fixq::parse_cifar10_class_names(Bytes(text.begin(), text.end()), "m.txt"), Equals("m.txt: " + what));
  };
  names_fail("", "0 class names, CIFAR-10 has ten");
  names_fail("a\nb\nc\nd\ne\nf\ng\nh\ni\n", "9 class names, CIFAR-10 has ten");
  names_fail("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n", "more than ten class names (line 11)");
  names_fail("a\nb\x01\n", "line 2 holds a control character: not a text file");

  TempDir dir("cifar_bad");
  const auto train = [&] { return fixq::load_cifar10(dir.path, fixq::Cifar10Split::Train); };
  const auto test = [&] { return fixq::load_cifar10(dir.path, fixq::Cifar10Split::Test); };
  CHECK_THROWS_WITH(test(), Equals(dir.path.string() + ": no CIFAR-10 test batch test_batch (looked for test_batch.bin, "
                                   "test_batch.bin.gz)"));
  CHECK_THROWS_WITH(fixq::load_cifar10(dir / "none", fixq::Cifar10Split::Test),
                    Equals((dir / "none").string() + ": no such directory"));
  for (const int k : {1, 2, 4, 5}) write_file(dir / ("data_batch_" + std::to_string(k) + ".bin"), cifar_records(1));
  CHECK_THROWS_WITH(train(), Equals(dir.path.string() + ": no CIFAR-10 training batch data_batch_3 (looked for "
                                    "data_batch_3.bin, data_batch_3.bin.gz)"));
  fs::create_directory(dir / "data_batch_3.bin");
  CHECK_THROWS_WITH(train(), Equals((dir / "data_batch_3.bin").string() + ": is a directory, not a file"));
  fs::remove(dir / "data_batch_3.bin");
  write_file(dir / "data_batch_3.bin", {});
  CHECK_THROWS_WITH(train(), Equals((dir / "data_batch_3.bin").string() +
                                    ": empty file (a CIFAR-10 batch holds records of 3073 bytes)"));
  write_file(dir / "data_batch_3.bin", bad_label);
  CHECK_THROWS_WITH(train(), Equals((dir / "data_batch_3.bin").string() +
                                    ": record 2: label 255 is out of range (CIFAR-10's classes are 0..9)"));
  write_file(dir / "data_batch_3.bin", cifar_records(1));
  CHECK(train().size() == 5);

  // Compressed files: errors name the .gz file.
  const Bytes z = gzip(cifar_records(2));
  write_file(dir / "test_batch.bin.gz", Bytes(z.begin(), z.begin() + z.size() / 2));
  CHECK_THROWS_WITH(test(), Equals((dir / "test_batch.bin.gz").string() +
                                   ": truncated gzip stream (the data ends inside a member)"));
  write_file(dir / "test_batch.bin.gz", gzip(Bytes(3073 + 1, 1)));
  CHECK_THROWS_WITH(test(), Equals((dir / "test_batch.bin.gz").string() +
                                   ": 3074 bytes: not a whole number of 3073-byte records (1 record and 1 byte); "
                                   "records of 3074 bytes are CIFAR-100's, which fixq does not read"));

  // A malformed batches.meta.txt is an error, not silently the official names.
  write_file(dir / "test_batch.bin.gz", z);
  CHECK(test().size() == 2);
  const std::string meta = "a\nb\n";
  write_file(dir / "batches.meta.txt", Bytes(meta.begin(), meta.end()));
  CHECK_THROWS_WITH(test(), Equals((dir / "batches.meta.txt").string() + ": 2 class names, CIFAR-10 has ten"));
}

TEST_CASE("dataset: subset and to_float", "[io][datasets]") {
  fixq::Dataset d = fixq::parse_cifar10_batch(cifar_records(5), "b");
  d.class_names = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};

  const fixq::Dataset s = fixq::subset(d, 1, 3);
  check_cifar_pixels(s, 1);
  CHECK(s.class_names == d.class_names);
  CHECK(fixq::subset(d, 3, 100).size() == 2);  // clamped at the end
  CHECK(fixq::subset(d, 5, 1).size() == 0);
  CHECK(fixq::subset(d, 5, 1).images.shape == fixq::Shape{0, 32, 32, 3});
  CHECK_THROWS_AS(fixq::subset(d, 6, 1), std::out_of_range);

  const fixq::NDArray<float> x = fixq::to_float(d, 2, 2, 1.0 / 255, -0.5);
  REQUIRE(x.shape == fixq::Shape{2, 32, 32, 3});
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < x.data.size(); ++i) {
    const double v = d.images.data[2 * 3072 + i];
    wrong += x.data[i] != static_cast<float>(v * (1.0 / 255) + -0.5);
  }
  CHECK(wrong == 0);
  CHECK(x.data[0] == static_cast<float>(cifar_pixel(2, 0, 0, 0) / 255.0 - 0.5));
  const fixq::NDArray<float> raw = fixq::to_float(d, 4, 10);
  REQUIRE(raw.shape == fixq::Shape{1, 32, 32, 3});
  CHECK(raw.data[(3 * 32 + 4) * 3 + 2] == cifar_pixel(4, 2, 3, 4));
  CHECK(fixq::to_float(d, 5, 10).data.empty());
  CHECK_THROWS_AS(fixq::to_float(d, 6, 1), std::out_of_range);

  fixq::Dataset broken = d;
  broken.labels.pop_back();
  CHECK_THROWS_AS(fixq::to_float(broken, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(fixq::subset(broken, 0, 1), std::invalid_argument);
}

TEST_CASE("datasets: the bundled demo data (examples/data)", "[io][datasets][bundled]") {
  const fs::path root = FIXQ_SOURCE_DIR;
  const fixq::Dataset mnist = fixq::load_mnist(root / "examples/data/mnist", fixq::MnistSplit::Test);
  REQUIRE(mnist.images.shape == fixq::Shape{10000, 28, 28, 1});
  CHECK(mnist.labels[0] == 7);
  CHECK(histogram(mnist.labels) == std::array<std::size_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
  // The sum of all pixels, and of the first and last images (Python's gzip module on the same files).
  CHECK(pixel_sum(mnist, 0, 10000) == 264923200);
  CHECK(pixel_sum(mnist, 0, 1) == 18454);
  CHECK(pixel_sum(mnist, 9999, 1) == 41833);

  const fs::path cifar_dir = root / "examples/data/cifar10";
  const fixq::Dataset cifar = fixq::load_cifar10(cifar_dir, fixq::Cifar10Split::Test);
  REQUIRE(cifar.images.shape == fixq::Shape{932, 32, 32, 3});
  CHECK(cifar.class_names == fixq::cifar10_class_names());
  CHECK(histogram(cifar.labels) == std::array<std::size_t, 10>{97, 78, 94, 95, 85, 84, 105, 96, 98, 100});
  CHECK(std::vector<std::uint8_t>(cifar.labels.begin(), cifar.labels.begin() + 10) ==
        std::vector<std::uint8_t>{3, 8, 8, 0, 6, 6, 1, 6, 3, 1});
  // The first pixel of the first test image (a cat): R, G, B.
  CHECK(cifar.images.data[0] == 158);
  CHECK(cifar.images.data[1] == 112);
  CHECK(cifar.images.data[2] == 49);
  CHECK(pixel_sum(cifar, 0, 932) == 350516334);
}

TEST_CASE("datasets: the real data sets (FIXQ_DATA_DIR)", "[io][datasets][real]") {
  const char* env = std::getenv("FIXQ_DATA_DIR");
  if (!env || !*env) {
    WARN("FIXQ_DATA_DIR is not set: the real MNIST and CIFAR-10 files are not checked");
    return;
  }
  const fs::path root = env;

  const fixq::Dataset train = fixq::load_mnist(root / "mnist", fixq::MnistSplit::Train);
  REQUIRE(train.images.shape == fixq::Shape{60000, 28, 28, 1});
  CHECK(histogram(train.labels) == std::array<std::size_t, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
  CHECK(train.labels[0] == 5);
  CHECK(pixel_sum(train, 0, 60000) == 1567298545);
  CHECK(pixel_sum(train, 0, 1) == 27525);
  const fixq::Dataset test = fixq::load_mnist(root / "mnist", fixq::MnistSplit::Test);
  REQUIRE(test.images.shape == fixq::Shape{10000, 28, 28, 1});
  CHECK(test.labels[0] == 7);
  CHECK(histogram(test.labels) == std::array<std::size_t, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
  CHECK(pixel_sum(test, 0, 10000) == 264923200);

  // CIFAR-10: as many records as the files hold (10000 per file in the official set),
  // each pixel where the channel-planar record puts it, and the first labels and
  // pixels of the official files.
  const fs::path cdir = root / "cifar-10-batches-bin";
  const auto raw_batch = [&](const std::string& stem) {
    const fs::path p = cdir / (stem + ".bin");
    return fs::exists(p) ? read_raw(p) : fixq::gunzip(read_raw(cdir / (stem + ".bin.gz")), stem);
  };
  const auto check_batch = [](const fixq::Dataset& d, std::size_t first, const Bytes& raw) {
    REQUIRE(raw.size() % 3073 == 0);
    const std::size_t n = raw.size() / 3073;
    REQUIRE(d.size() >= first + n);
    std::size_t wrong = 0;
    for (std::size_t r = 0; r < n; ++r) {
      wrong += d.labels[first + r] != raw[r * 3073];
      for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t p = 0; p < 1024; ++p)
          wrong += d.images.data[((first + r) * 1024 + p) * 3 + c] != raw[r * 3073 + 1 + c * 1024 + p];
    }
    CHECK(wrong == 0);
    return n;
  };
  const fixq::Dataset ctest = fixq::load_cifar10(cdir, fixq::Cifar10Split::Test);
  CHECK(check_batch(ctest, 0, raw_batch("test_batch")) == ctest.size());
  CHECK(ctest.class_names == fixq::cifar10_class_names());
  CHECK(std::vector<std::uint8_t>(ctest.labels.begin(), ctest.labels.begin() + 5) == std::vector<std::uint8_t>{3, 8, 8, 0, 6});
  CHECK(ctest.images.data[0] == 158);
  CHECK(ctest.images.data[1] == 112);
  CHECK(ctest.images.data[2] == 49);
  const fixq::Dataset ctrain = fixq::load_cifar10(cdir, fixq::Cifar10Split::Train);
  std::size_t records = 0;
  for (int k = 1; k <= 5; ++k) records += check_batch(ctrain, records, raw_batch("data_batch_" + std::to_string(k)));
  CHECK(records == ctrain.size());
  CHECK(std::vector<std::uint8_t>(ctrain.labels.begin(), ctrain.labels.begin() + 5) == std::vector<std::uint8_t>{6, 9, 9, 4, 1});
  CHECK(ctrain.images.data[0] == 59);
  CHECK(ctrain.images.data[1] == 62);
  CHECK(ctrain.images.data[2] == 63);
}
