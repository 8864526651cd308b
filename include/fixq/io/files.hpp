// fixq/io/files.hpp - checks and writes on the file system that readers and writers share.
//
//   fixq::require_regular_file(p, "input file");   // before opening: no folder, FIFO, device, socket
//   fs::path w = fixq::resolve_inside(model_dir, "conv1_w.npy");   // no absolute path, no ../ escape
//   if (fixq::same_file(input, output)) ...        // one file under two names (or a symlink)
//   fixq::FileNames names;                          // output names of one folder
//   names.claim("conv.npy", "layer 'conv'");        // throws if "Conv.npy" was claimed
//   fixq::AtomicFile f("out.npy");                  // writes a temporary beside out.npy
//   f.stream() << ...;
//   f.commit();                                     // out.npy appears whole, or not at all
//   fixq::AtomicGroup g;                            // many files, all or none
//   write(g.add("a.hex").stream()); write(g.add("b.hex").stream());
//   g.commit();
//
// Why: an input that is a FIFO blocks the reader forever on open, and a folder or a
// device gives confusing errors later, so readers check the type first. A file named
// by another file (a weight file of model.json) must stay inside that file's folder.
// A writer that fails half-way (disk full, an exception while computing the next
// batch) must not leave a short file that looks valid, nor destroy the previous
// version: AtomicFile writes `.<name>.tmp-<pid>-<n>` in the target's folder and
// renames it over the target on commit() (rename within one folder is atomic on
// POSIX file systems); a temporary that was not committed is removed by the
// destructor. A target that exists and is not a regular file (/dev/null, /dev/full,
// a FIFO) is written directly, since a device cannot be replaced by renaming; a
// symbolic link is followed and the file it names is replaced.
//
// Every error is fixq::file_error naming the file and the problem, with the system's
// reason ("No space left on device") where there is one; FileNames and AtomicGroup
// throw std::invalid_argument for a name claimed twice.
#ifndef FIXQ_IO_FILES_HPP
#define FIXQ_IO_FILES_HPP

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <process.h>
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace fixq {

/// A file that cannot be read or written, or whose content is malformed; the
/// message names the file and the problem: "FILE: [PLACE: ]PROBLEM". Errors made
/// with the three-part constructor also carry the parts as fields (PLACE: where in
/// the file, e.g. "layer 'conv1'"), for callers that build their own message.
class file_error : public std::runtime_error {
 public:
  explicit file_error(const std::string& what) : std::runtime_error(what), problem_(what) {}
  file_error(std::filesystem::path file, std::string place, std::string problem)
      : std::runtime_error(file.string() + ": " + (place.empty() ? "" : place + ": ") + problem), file_(std::move(file)),
        place_(std::move(place)), problem_(std::move(problem)) {}
  /// The file ("" when only the message was given), the place in it, the problem.
  const std::filesystem::path& file() const { return file_; }
  const std::string& place() const { return place_; }
  const std::string& problem() const { return problem_; }

 private:
  std::filesystem::path file_;
  std::string place_, problem_;
};

namespace detail {

/// The system's text for an errno value ("No such file or directory").
inline std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

/// What a file type is called in messages.
inline std::string_view file_type_name(std::filesystem::file_type t) {
  using std::filesystem::file_type;
  switch (t) {
    case file_type::directory: return "a folder";
    case file_type::fifo: return "a FIFO";
    case file_type::character: return "a character device";
    case file_type::block: return "a block device";
    case file_type::socket: return "a socket";
    default: return "a special file";
  }
}

/// ASCII lower case: how file names compare on case-insensitive file systems
/// (macOS and Windows by default).
inline std::string fold_case(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

inline unsigned long process_id() {
#if defined(_WIN32)
  return static_cast<unsigned long>(_getpid());
#else
  return static_cast<unsigned long>(::getpid());
#endif
}

/// A number not given before in this process (temporary file names).
inline unsigned long long next_temp_number() {
  static std::atomic<unsigned long long> n{0};
  return n.fetch_add(1, std::memory_order_relaxed);
}

/// An output stream buffer over a C FILE that keeps the first system error (errno),
/// which std::ofstream does not report. Unbuffered FILE, 64 KiB buffer here.
class FileOutBuf : public std::streambuf {
 public:
  FileOutBuf() : buf_(new char[size]) { setp(buf_.get(), buf_.get() + size); }
  FileOutBuf(const FileOutBuf&) = delete;
  FileOutBuf& operator=(const FileOutBuf&) = delete;
  ~FileOutBuf() override {
    if (f_) std::fclose(f_);
  }

  /// Opens with fopen's `mode`; returns 0 or the errno value.
  int open(const std::filesystem::path& p, const char* mode) {
    errno = 0;
    f_ = std::fopen(p.string().c_str(), mode);
    if (!f_) return errno ? errno : EIO;
    std::setvbuf(f_, nullptr, _IONBF, 0);
    return 0;
  }
  bool is_open() const { return f_ != nullptr; }
  /// The first error so far (0: none).
  int error() const { return error_; }
  /// Writes what is buffered and closes; returns the first error of the file's
  /// life (0: none).
  int close() {
    if (!f_) return error_;
    drain();
    errno = 0;
    if (std::fclose(f_) != 0 && !error_) error_ = errno ? errno : EIO;
    f_ = nullptr;
    return error_;
  }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (n >= static_cast<std::streamsize>(size)) {  // large blocks bypass the buffer
      if (!drain() || !put(s, static_cast<std::size_t>(n))) return 0;
      return n;
    }
    return std::streambuf::xsputn(s, n);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  static constexpr std::size_t size = std::size_t{1} << 16;
  bool put(const char* p, std::size_t n) {
    if (error_ || !f_) return false;
    errno = 0;
    if (n && std::fwrite(p, 1, n, f_) != n) {
      error_ = errno ? errno : EIO;
      return false;
    }
    return true;
  }
  bool drain() {
    const bool ok = put(pbase(), static_cast<std::size_t>(pptr() - pbase()));
    setp(buf_.get(), buf_.get() + size);
    return ok;
  }

  std::unique_ptr<char[]> buf_;
  std::FILE* f_ = nullptr;
  int error_ = 0;
};

}  // namespace detail

/// Throws file_error unless `p` is a regular file (or a symbolic link to one). Call it
/// before opening: opening a FIFO for reading blocks until a writer comes. `what`
/// names the file's role in the message when it does not exist:
/// "<p>: cannot open the <what>: No such file or directory"; otherwise
/// "<p>: is a FIFO, not a regular file" (a folder, a character device, ...).
inline void require_regular_file(const std::filesystem::path& p, std::string_view what) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(p, ec);
  if (st.type() == std::filesystem::file_type::not_found)
    throw file_error(p.string() + ": cannot open the " + std::string(what) + ": " + detail::errno_text(ENOENT));
  if (ec) throw file_error(p.string() + ": cannot open the " + std::string(what) + ": " + ec.message());
  if (st.type() != std::filesystem::file_type::regular)
    throw file_error(p.string() + ": is " + std::string(detail::file_type_name(st.type())) + ", not a regular file");
}

/// The file `relative` names relative to the folder `dir`, symbolic links resolved;
/// throws file_error unless it lies inside `dir` (also resolved): an absolute path, a
/// "../" escape or a link that leads out is refused, with one message whether or not
/// the outside file exists.
inline std::filesystem::path resolve_inside(const std::filesystem::path& dir, const std::string& relative) {
  namespace fs = std::filesystem;
  const fs::path rel(relative);
  const std::string shown = (dir / rel).string();
  if (relative.empty()) throw file_error(dir.string() + ": an empty file name");
  if (rel.is_absolute() || rel.has_root_name() || rel.has_root_directory())
    throw file_error(relative + ": an absolute path; a file name must be relative to the folder " + dir.string());
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(dir.empty() ? fs::path(".") : dir, ec);
  if (ec) throw file_error(dir.string() + ": cannot resolve the folder: " + ec.message());
  const fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) throw file_error(shown + ": cannot resolve the path: " + ec.message());
  const fs::path inside = full.lexically_relative(base);
  if (inside.empty() || inside == "." || *inside.begin() == "..")
    throw file_error(shown + ": names a file outside the folder " + dir.string());
  return full;
}

/// True when both paths exist and are one file (hard links, symbolic links, other
/// spellings), of any type; never throws. (std::filesystem::equivalent, except that
/// libstdc++'s refuses FIFOs, devices and sockets: POSIX compares device and inode.)
inline bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
#if defined(_WIN32)
  std::error_code ec;
  const bool same = std::filesystem::equivalent(a, b, ec);
  return !ec && same;
#else
  struct ::stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
#endif
}

/// Output file names claimed within one folder, so that two writers never write
/// one file. Names are compared case-insensitively (ASCII), as macOS and Windows
/// file systems do: layers "Conv" and "conv" collide there.
class FileNames {
 public:
  /// Claims `file` for `owner` (a description: "layer 'conv'"); throws
  /// std::invalid_argument naming both owners and the file when it was claimed.
  void claim(const std::string& file, const std::string& owner) {
    const auto [at, fresh] = claimed_.emplace(detail::fold_case(file), std::make_pair(file, owner));
    if (!fresh) {
      const auto& [prev_file, prev_owner] = at->second;
      throw std::invalid_argument("fixq: " + prev_owner + " and " + owner + " would both write " + prev_file +
                                  (prev_file == file ? "" : " (as " + file + "; file names differ only in case)"));
    }
  }
  bool contains(const std::string& file) const { return claimed_.count(detail::fold_case(file)) != 0; }
  std::size_t size() const { return claimed_.size(); }

 private:
  std::map<std::string, std::pair<std::string, std::string>> claimed_;  // folded -> (file, owner)
};

class AtomicGroup;

/// A file written whole or not at all: a temporary in the target's folder, renamed
/// over the target by commit(); the destructor removes a temporary not committed,
/// so an exception while writing leaves the previous target as it was.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)), out_(&buf_) {
    namespace fs = std::filesystem;
    std::error_code ec;
    // A symbolic link is followed to the file it names, which need not exist yet.
    real_ = target_;
    for (int depth = 0; fs::symlink_status(real_, ec).type() == fs::file_type::symlink; ++depth) {
      const fs::path to = fs::read_symlink(real_, ec);
      if (ec) fail("cannot read the symbolic link: " + ec.message());
      if (depth == 40) fail("cannot resolve the symbolic link: " + detail::errno_text(ELOOP));
      real_ = to.is_absolute() ? to : real_.parent_path() / to;
    }
    const fs::file_status st = fs::status(real_, ec);
    if (st.type() == fs::file_type::directory) fail("is a folder; cannot write a file over it");
    if (st.type() != fs::file_type::not_found && st.type() != fs::file_type::regular && st.type() != fs::file_type::none &&
        st.type() != fs::file_type::unknown) {
      direct_ = true;  // /dev/null, /dev/full, a FIFO: written in place
      if (const int e = buf_.open(real_, "wb")) fail("cannot open for writing: " + detail::errno_text(e));
      return;
    }
    existed_ = st.type() == fs::file_type::regular;
    // The temporary's name: hidden, unique in this process (counter) and among
    // processes (pid); "x" (C11) refuses to reuse an existing file.
    const std::string name = real_.filename().string().substr(0, 100);
    for (int attempt = 0;; ++attempt) {
      temp_ = real_.parent_path() / ("." + name + ".tmp-" + std::to_string(detail::process_id()) + "-" +
                                     std::to_string(detail::next_temp_number()));
      const int e = buf_.open(temp_, "wbx");
      if (e == 0) break;
      if (e != EEXIST || attempt > 100) fail("cannot create the file: " + detail::errno_text(e));
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() { discard(); }

  /// Where to write. A write error shows in commit(), with the system's reason.
  std::ostream& stream() { return out_; }
  /// The path given to the constructor.
  const std::filesystem::path& target() const { return target_; }
  bool committed() const { return committed_; }

  /// Flushes and closes the file, checks that every write succeeded and renames it
  /// over the target. Throws file_error (the temporary removed, the target as it
  /// was) on failure.
  void commit() {
    finish();
    publish();
  }
  /// The writes are complete: flushes and closes the temporary now, checking it
  /// (file_error on failure); commit() (or the group's) renames it later. A writer
  /// of many files in one AtomicGroup closes each when written, so that one file
  /// is open at a time. Nothing may be written after close().
  void close() { finish(); }
  /// Throws file_error (removing the temporary) if a write has failed so far: long
  /// writers call it now and then, so that a full disk stops them early.
  void check() {
    if (out_) return;
    const int e = buf_.error();
    discard();
    fail("write error" + (e ? ": " + detail::errno_text(e) : std::string()));
  }

 private:
  friend class AtomicGroup;

  [[noreturn]] void fail(const std::string& what) const { throw file_error(target_.string() + ": " + what); }

  /// Flush, close, check: after it only publish() is left.
  void finish() {
    if (committed_ || finished_) return;
    out_.flush();
    const int e = buf_.close();
    if (e || !out_) {
      discard();
      fail("write error" + (e ? ": " + detail::errno_text(e) : std::string()));
    }
    finished_ = true;
  }
  void publish() {
    if (committed_) return;
    if (!direct_) {
      std::error_code ec;
      if (existed_) std::filesystem::permissions(temp_, std::filesystem::status(real_, ec).permissions(), ec);
      ec.clear();
      std::filesystem::rename(temp_, real_, ec);
      if (ec) {
        discard();
        fail("cannot replace the file: " + ec.message());
      }
    }
    committed_ = true;
  }
  void discard() noexcept {
    if (committed_) return;
    buf_.close();
    if (!direct_ && !temp_.empty()) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
      temp_.clear();
    }
  }

  std::filesystem::path target_, real_, temp_;
  detail::FileOutBuf buf_;
  std::ostream out_;
  bool direct_ = false, existed_ = false, finished_ = false, committed_ = false;
};

/// Files committed together: commit() writes and checks all of them before it
/// renames the first, so a failure while writing any leaves none of the targets
/// changed. (A rename failing after others succeeded - rare, as each renames within
/// its own folder - leaves the earlier ones in place; the error names the file.)
/// The destructor removes the temporaries of a group not committed.
class AtomicGroup {
 public:
  AtomicGroup() = default;
  AtomicGroup(const AtomicGroup&) = delete;
  AtomicGroup& operator=(const AtomicGroup&) = delete;

  /// Opens the temporary of one more file; the reference stays valid for the
  /// group's life. Throws std::invalid_argument for a target added twice.
  AtomicFile& add(std::filesystem::path target) {
    if (!targets_.insert(target.lexically_normal().string()).second)
      throw std::invalid_argument("fixq: " + target.string() + " is written twice");
    files_.push_back(std::make_unique<AtomicFile>(std::move(target)));
    return *files_.back();
  }
  std::size_t size() const { return files_.size(); }
  AtomicFile& operator[](std::size_t i) { return *files_.at(i); }

  void commit() {
    for (auto& f : files_) f->finish();  // throws before any rename
    for (auto& f : files_) f->publish();
  }

 private:
  std::vector<std::unique_ptr<AtomicFile>> files_;
  std::set<std::string> targets_;
};

}  // namespace fixq

#endif  // FIXQ_IO_FILES_HPP
