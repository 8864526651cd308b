// fixq/io/gzip.hpp - whole files as bytes, inflated when they are gzip-compressed.
//
//   std::vector<std::uint8_t> b = fixq::read_file_maybe_gzip("train-images-idx3-ubyte.gz");
//   std::vector<std::uint8_t> raw = fixq::read_file_bytes("test_batch.bin");
//   std::vector<std::uint8_t> out = fixq::gunzip(bytes, "name.gz");   // from memory
//
// A file is gzip when it starts with the magic bytes 1f 8b; it is inflated with
// zlib (CMake: link fixq::io, which adds ZLIB::ZLIB). A stream of several gzip
// members (as `cat a.gz b.gz` makes) inflates to their contents one after the
// other. Every result is capped (`max_size`, 1 GiB by default): a file, or an
// inflated stream, that would be larger is an error, so a small compressed file
// that inflates to terabytes (a "zip bomb") fails cleanly instead of exhausting
// memory. Errors are fixq::file_error naming the file and the problem: a missing
// file, a directory, a read error, a truncated gzip stream, corrupt data (a bad
// header, invalid deflate data, a CRC or length mismatch), bytes after the last
// member that are not another member, or the cap.
#ifndef FIXQ_IO_GZIP_HPP
#define FIXQ_IO_GZIP_HPP

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include <fixq/io/npy.hpp>

namespace fixq {

/// The default cap on a file's bytes, or on what a gzip stream inflates to: 1 GiB
/// (the largest standard data set file fixq reads, MNIST's training images, is 47 MB).
inline constexpr std::size_t default_max_file_size = std::size_t{1} << 30;

/// True when `bytes` start with the gzip magic bytes 1f 8b.
inline bool is_gzip(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

namespace detail {

/// Ends a zlib inflate stream however the function that owns it is left.
struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

/// "1 byte", "2 bytes": `n` and the word, plural unless n is 1.
inline std::string count_text(std::uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

/// A size for messages: "8 MiB" when it is a whole number of MiB, else "1000 bytes".
inline std::string size_text(std::size_t n) {
  if (n >= (std::size_t{1} << 20) && n % (std::size_t{1} << 20) == 0) return std::to_string(n >> 20) + " MiB";
  return count_text(n, "byte");
}

}  // namespace detail

/// Inflates gzip data held in memory: one member or several concatenated ones.
/// `name` is used in error messages; the result may hold at most `max_size` bytes.
inline std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> bytes, const std::string& name,
                                        std::size_t max_size = default_max_file_size) {
  const auto fail = [&](const std::string& what) { throw file_error(name + ": " + what); };
  if (!is_gzip(bytes)) fail("not gzip data (no 1f 8b magic bytes)");

  z_stream zs{};
  // 16 + MAX_WBITS: a gzip header and trailer (CRC-32 and length) around the deflate data.
  const int init = inflateInit2(&zs, 16 + MAX_WBITS);
  if (init != Z_OK) fail(init == Z_MEM_ERROR ? "out of memory starting zlib" : "cannot start zlib");
  const detail::InflateGuard guard{&zs};

  std::vector<std::uint8_t> out;
  std::size_t produced = 0;  // bytes of `out` written
  std::size_t in_pos = 0;    // bytes of input handed to zlib
  std::uint8_t probe = 0;    // one byte of room past the cap: is there more?
  const auto input_done = [&] { return zs.avail_in == 0 && in_pos == bytes.size(); };
  for (;;) {
    if (zs.avail_in == 0 && in_pos < bytes.size()) {
      // avail_in is 32 bits: inputs of 4 GiB and more go in pieces.
      const std::size_t piece = std::min<std::size_t>(bytes.size() - in_pos, UINT_MAX);
      zs.next_in = const_cast<Bytef*>(bytes.data() + in_pos);  // zlib does not write through next_in
      zs.avail_in = static_cast<uInt>(piece);
      in_pos += piece;
    }
    if (produced == out.size() && out.size() < max_size) {
      // Grow by half (at least 64 KiB, and a few times the input at first) without
      // trusting the length field of the stream's trailer.
      const std::size_t want = std::max({produced + produced / 2, std::size_t{1} << 16, bytes.size() * 4});
      out.resize(std::min(max_size, want));
    }
    const bool at_cap = produced == out.size();
    const std::size_t room = at_cap ? 1 : std::min<std::size_t>(out.size() - produced, UINT_MAX);
    zs.next_out = at_cap ? &probe : out.data() + produced;
    zs.avail_out = static_cast<uInt>(room);
    const int r = inflate(&zs, Z_NO_FLUSH);
    const std::size_t written = room - zs.avail_out;
    if (at_cap && written != 0)
      fail("inflates to more than " + detail::size_text(max_size) + " (the limit; a corrupt or hostile file?)");
    produced += written;
    if (r == Z_STREAM_END) {
      // A member ended: what follows must be nothing, or another member.
      const std::size_t consumed = in_pos - zs.avail_in;
      if (consumed == bytes.size()) break;
      if (!is_gzip(bytes.subspan(consumed)))
        fail(detail::count_text(bytes.size() - consumed, "byte") +
             " after the end of the gzip stream (not another gzip member)");
      if (inflateReset(&zs) != Z_OK) fail("cannot restart zlib");
      continue;
    }
    if (r == Z_DATA_ERROR || r == Z_NEED_DICT)
      fail(std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "a preset dictionary is required"));
    if (r == Z_MEM_ERROR) fail("out of memory while inflating");
    if (r != Z_OK && r != Z_BUF_ERROR) fail("zlib error " + std::to_string(r));
    // Z_BUF_ERROR: no progress was possible. With output room left, zlib needs input.
    if (r == Z_BUF_ERROR && zs.avail_out != 0 && input_done())
      fail("truncated gzip stream (the data ends inside a member)");
  }
  out.resize(produced);
  return out;
}

/// The bytes of a file as they are, at most `max_size` of them.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path,
                                                 std::size_t max_size = default_max_file_size) {
  const auto fail = [&](const std::string& what) { throw file_error(path.string() + ": " + what); };
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) fail("no such file");
  if (ec) fail("cannot access the file: " + ec.message());
  if (std::filesystem::is_directory(status)) fail("is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open the file");
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail("cannot read the file size: " + ec.message());
  if (size > max_size) fail(std::to_string(size) + " bytes: larger than the limit of " + detail::size_text(max_size));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::size_t>(in.gcount()) != bytes.size()) fail("read error (the file shrank while it was read?)");
  return bytes;
}

/// `bytes` inflated when they are gzip data, else returned as they are.
inline std::vector<std::uint8_t> maybe_gunzip(std::vector<std::uint8_t> bytes, const std::string& name,
                                              std::size_t max_size = default_max_file_size) {
  if (!is_gzip(bytes)) {
    if (bytes.size() > max_size)
      throw file_error(name + ": " + std::to_string(bytes.size()) + " bytes: larger than the limit of " +
                       detail::size_text(max_size));
    return bytes;
  }
  return gunzip(bytes, name, max_size);
}

/// A whole file, inflated when it is gzip (whatever its name), else as it is; at
/// most `max_size` bytes either way.
inline std::vector<std::uint8_t> read_file_maybe_gzip(const std::filesystem::path& path,
                                                      std::size_t max_size = default_max_file_size) {
  return maybe_gunzip(read_file_bytes(path, max_size), path.string(), max_size);
}

}  // namespace fixq

#endif  // FIXQ_IO_GZIP_HPP
