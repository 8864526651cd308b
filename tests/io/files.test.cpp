// The file-system primitives of fixq/io/files.hpp: regular-file checks (a FIFO never
// blocks), paths kept inside a folder, one file under two names, case-insensitive
// name claims, atomic files and groups (all or nothing, the system's reason on
// failure), and a random walk over regular files, symbolic links, hard links, FIFOs
// and folders checking every primitive against what the walk knows.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <random>
#include <string>
#include <vector>

#include <fixq/io/files.hpp>
#include <fixq/io/npy.hpp>

namespace {

namespace fs = std::filesystem;

/// A fresh empty folder for one test.
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("fixq_files_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void put(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::string get(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Files in `d` whose name holds ".tmp-" (temporaries left behind).
int temporaries(const fs::path& d) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(d))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
  return n;
}

}  // namespace

TEST_CASE("files: require_regular_file refuses what is not a regular file, before opening", "[io][files]") {
  const fs::path d = fresh_dir("regular");
  put(d / "a.npy", "x");
  fs::create_symlink("a.npy", d / "link.npy");
  fs::create_symlink("gone.npy", d / "dangling.npy");
  fs::create_directory(d / "folder");
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);
  CHECK_NOTHROW(fixq::require_regular_file(d / "a.npy", "input file"));
  CHECK_NOTHROW(fixq::require_regular_file(d / "link.npy", "input file"));
  const std::string s = d.string() + "/";
  CHECK_THROWS_WITH(fixq::require_regular_file(d / "none.npy", "input file"),
                    s + "none.npy: cannot open the input file: No such file or directory");
  CHECK_THROWS_WITH(fixq::require_regular_file(d / "dangling.npy", "input file"),
                    s + "dangling.npy: cannot open the input file: No such file or directory");
  CHECK_THROWS_WITH(fixq::require_regular_file(d / "folder", "model file"), s + "folder: is a folder, not a regular file");
  CHECK_THROWS_WITH(fixq::require_regular_file(d / "fifo", "input file"), s + "fifo: is a FIFO, not a regular file");
  CHECK_THROWS_WITH(fixq::require_regular_file("/dev/null", "input file"), "/dev/null: is a character device, not a regular file");
  // A socket.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock = (d / "sock").string();
  if (sock.size() < sizeof addr.sun_path) {
    std::memcpy(addr.sun_path, sock.c_str(), sock.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    CHECK_THROWS_WITH(fixq::require_regular_file(sock, "input file"), sock + ": is a socket, not a regular file");
  }
  ::close(fd);
  // The .npy reader checks first: a FIFO with no writer would block it forever.
  CHECK_THROWS_WITH(fixq::read_npy<float>(d / "fifo"), s + "fifo: is a FIFO, not a regular file");
  CHECK_THROWS_WITH(fixq::read_npy<float>(d / "folder"), s + "folder: is a folder, not a regular file");
  fs::remove_all(d);
}

TEST_CASE("files: resolve_inside keeps a file name inside its folder", "[io][files]") {
  const fs::path d = fresh_dir("inside");
  const fs::path outside = fresh_dir("inside_outside");
  put(outside / "secret.npy", "s");
  fs::create_directories(d / "model" / "sub");
  const fs::path m = d / "model";
  put(m / "w.npy", "w");
  put(m / "sub" / "v.npy", "v");
  fs::create_symlink(outside / "secret.npy", m / "out_link.npy");
  fs::create_symlink(outside, m / "out_dir");
  fs::create_symlink("sub/v.npy", m / "in_link.npy");
  const fs::path base = fs::canonical(m);
  CHECK(fixq::resolve_inside(m, "w.npy") == base / "w.npy");
  CHECK(fixq::resolve_inside(m, "sub/v.npy") == base / "sub" / "v.npy");
  CHECK(fixq::resolve_inside(m, "sub/../w.npy") == base / "w.npy");
  CHECK(fixq::resolve_inside(m, "./sub/./v.npy") == base / "sub" / "v.npy");
  CHECK(fixq::resolve_inside(m, "in_link.npy") == base / "sub" / "v.npy");  // links resolved
  CHECK(fixq::resolve_inside(m, "new.npy") == base / "new.npy");           // need not exist
  CHECK(fixq::resolve_inside(m, "../model/w.npy") == base / "w.npy");      // out and back in
  // Refused, with one message whether or not the outside file exists.
  const auto outside_msg = [&](const std::string& rel) {
    return Catch::Matchers::Equals((m / rel).string() + ": names a file outside the folder " + m.string());
  };
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "../../fixq_files_test_inside_outside/secret.npy"),
                    outside_msg("../../fixq_files_test_inside_outside/secret.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "../../fixq_files_test_inside_outside/nothing.npy"),
                    outside_msg("../../fixq_files_test_inside_outside/nothing.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "out_link.npy"), outside_msg("out_link.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "out_dir/secret.npy"), outside_msg("out_dir/secret.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "out_dir/nothing.npy"), outside_msg("out_dir/nothing.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "sub/../../x.npy"), outside_msg("sub/../../x.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "nothing/../../x.npy"), outside_msg("nothing/../../x.npy"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "."), outside_msg("."));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, (outside / "secret.npy").string()),
                    Catch::Contains("an absolute path") && Catch::Contains("secret.npy") && !Catch::Contains("outside the folder"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, "/nothing/x.npy"), Catch::StartsWith("/nothing/x.npy: an absolute path"));
  CHECK_THROWS_WITH(fixq::resolve_inside(m, ""), Catch::Contains("an empty file name"));
  // The folder itself may be reached through a link.
  fs::create_symlink(m, d / "model_link");
  CHECK(fixq::resolve_inside(d / "model_link", "w.npy") == base / "w.npy");
  CHECK_THROWS_WITH(fixq::resolve_inside(d / "model_link", "../x.npy"), Catch::Contains("outside the folder"));
  fs::remove_all(d);
  fs::remove_all(outside);
}

TEST_CASE("files: same_file sees one file under two names", "[io][files]") {
  const fs::path d = fresh_dir("same");
  put(d / "a", "x");
  put(d / "b", "x");
  fs::create_symlink("a", d / "link");
  fs::create_hard_link(d / "a", d / "hard");
  fs::create_directory(d / "sub");
  CHECK(fixq::same_file(d / "a", d / "a"));
  CHECK(fixq::same_file(d / "a", d / "sub" / ".." / "a"));
  CHECK(fixq::same_file(d / "a", d / "." / "a"));
  CHECK(fixq::same_file(d / "a", d / "link"));
  CHECK(fixq::same_file(d / "hard", d / "link"));
  CHECK_FALSE(fixq::same_file(d / "a", d / "b"));
  CHECK_FALSE(fixq::same_file(d / "a", d / "missing"));
  CHECK_FALSE(fixq::same_file(d / "missing", d / "missing"));
  fs::remove_all(d);
}

TEST_CASE("files: FileNames refuses a name claimed twice, in any case", "[io][files]") {
  fixq::FileNames names;
  names.claim("conv.npy", "layer 'conv'");
  names.claim("conv2.npy", "layer 'conv2'");
  CHECK(names.contains("CONV.npy"));
  CHECK_THROWS_AS(names.claim("Conv.npy", "layer 'Conv'"), std::invalid_argument);
  CHECK_THROWS_WITH(names.claim("Conv.npy", "layer 'Conv'"),
                    Catch::Contains("layer 'conv'") && Catch::Contains("layer 'Conv'") && Catch::Contains("conv.npy") &&
                        Catch::Contains("differ only in case"));
  CHECK_THROWS_WITH(names.claim("conv.npy", "layer 'a/conv'"), "fixq: layer 'conv' and layer 'a/conv' would both write conv.npy");
  CHECK(names.size() == 2);
}

TEST_CASE("files: AtomicFile publishes whole files only", "[io][files]") {
  const fs::path d = fresh_dir("atomic");
  const fs::path p = d / "out.txt";
  {
    fixq::AtomicFile f(p);
    f.stream() << "hello";
    CHECK_FALSE(fs::exists(p));  // not before commit()
    f.commit();
    CHECK(f.committed());
  }
  CHECK(get(p) == "hello");
  // Not committed (an exception half-way): the previous file stays, no temporary.
  {
    fixq::AtomicFile f(p);
    f.stream() << "half";
  }
  CHECK(get(p) == "hello");
  CHECK(temporaries(d) == 0);
  // The previous file's permissions are kept.
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  {
    fixq::AtomicFile f(p);
    f.stream() << std::string(200000, 'z');  // more than the buffer
    f.commit();
  }
  CHECK(get(p) == std::string(200000, 'z'));
  CHECK(fs::status(p).permissions() == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  // A symbolic link stays a link; the file it names is replaced.
  put(d / "real.txt", "old");
  fs::create_symlink("real.txt", d / "link.txt");
  {
    fixq::AtomicFile f(d / "link.txt");
    f.stream() << "new";
    f.commit();
  }
  CHECK(fs::is_symlink(d / "link.txt"));
  CHECK(get(d / "real.txt") == "new");
  // Errors name the target and give the system's reason.
  CHECK_THROWS_WITH(fixq::AtomicFile(d / "no" / "x.txt"),
                    (d / "no" / "x.txt").string() + ": cannot create the file: No such file or directory");
  fs::create_directory(d / "folder");
  CHECK_THROWS_WITH(fixq::AtomicFile(d / "folder"), Catch::StartsWith((d / "folder").string() + ": is a folder"));
  {
    fixq::AtomicFile f("/dev/full");
    f.stream() << "x";
    CHECK_THROWS_WITH(f.commit(), "/dev/full: write error: No space left on device");
  }
  {
    fixq::AtomicFile f("/dev/full");
    f.stream() << std::string(100000, 'x');  // fails while writing: check() says so at once
    CHECK_THROWS_WITH(f.check(), "/dev/full: write error: No space left on device");
  }
  {
    fixq::AtomicFile f("/dev/null");  // a device is written in place, not replaced
    f.stream() << "x";
    f.commit();
  }
  CHECK(fs::is_character_file("/dev/null"));
  // A read-only folder (not for root, who may write anyway).
  if (::geteuid() != 0) {
    fs::create_directory(d / "ro");
    fs::permissions(d / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THROWS_WITH(fixq::AtomicFile(d / "ro" / "x"), Catch::Contains("Permission denied"));
    fs::permissions(d / "ro", fs::perms::owner_all);
  }
  CHECK(temporaries(d) == 0);
  fs::remove_all(d);
}

TEST_CASE("files: AtomicGroup publishes all files or none", "[io][files]") {
  const fs::path d = fresh_dir("group");
  put(d / "b.txt", "old b");
  {
    fixq::AtomicGroup g;
    for (const char* name : {"a.txt", "b.txt", "c.txt"}) g.add(d / name).stream() << name;
    CHECK_FALSE(fs::exists(d / "a.txt"));
    g.commit();
  }
  CHECK((get(d / "a.txt") == "a.txt" && get(d / "b.txt") == "b.txt" && get(d / "c.txt") == "c.txt"));
  // One file fails: none is published, the previous ones stay.
  {
    fixq::AtomicGroup g;
    g.add(d / "a.txt").stream() << "A";
    g.add("/dev/full").stream() << "x";
    g.add(d / "d.txt").stream() << "D";
    CHECK_THROWS_WITH(g.commit(), "/dev/full: write error: No space left on device");
  }
  CHECK(get(d / "a.txt") == "a.txt");
  CHECK_FALSE(fs::exists(d / "d.txt"));
  // Never committed.
  {
    fixq::AtomicGroup g;
    g.add(d / "e.txt").stream() << "E";
  }
  CHECK_FALSE(fs::exists(d / "e.txt"));
  // One target twice.
  {
    fixq::AtomicGroup g;
    g.add(d / "f.txt");
    CHECK_THROWS_AS(g.add(d / "." / "f.txt"), std::invalid_argument);
  }
  CHECK(temporaries(d) == 0);
  fs::remove_all(d);
}

TEST_CASE("files: a random walk over files, links, FIFOs and folders", "[io][files]") {
  // Entries of one folder: regular files (some hard links of others), symbolic links
  // (to files, to nothing, to folders, to themselves), folders and FIFOs. Random
  // operations on random entries check every primitive against a model of the
  // folder. No FIFO is ever opened: as a write target it would wait for a reader
  // (AtomicFile writes what is not a regular file in place).
  for (unsigned seed = 1; seed <= 20; ++seed) {
    const fs::path d = fresh_dir("walk");
    std::mt19937 g(seed);
    std::map<std::string, int> inode;        // regular files: name -> file identity
    std::map<int, std::string> content;      // by identity
    std::map<std::string, std::string> link;  // symbolic links: name -> the name they hold
    std::set<std::string> folders, fifos;
    int next_inode = 0;
    enum class Kind { Missing, Regular, Folder, Fifo, Loop };
    // What `n` finally names (following links) and what that is.
    const std::function<std::pair<Kind, std::string>(const std::string&, int)> resolve = [&](const std::string& n, int depth) {
      if (inode.count(n)) return std::make_pair(Kind::Regular, n);
      if (folders.count(n)) return std::make_pair(Kind::Folder, n);
      if (fifos.count(n)) return std::make_pair(Kind::Fifo, n);
      if (link.count(n)) return depth > 20 ? std::make_pair(Kind::Loop, n) : resolve(link[n], depth + 1);
      return std::make_pair(Kind::Missing, n);
    };
    const auto name = [](int i) { return "e" + std::to_string(i); };
    for (int i = 0; i < 24; ++i) {
      const std::string n = name(i);
      const fs::path p = d / n;
      switch (g() % 8) {
        case 0: break;  // missing
        case 1: case 2:
          put(p, n);
          inode[n] = next_inode, content[next_inode++] = n;
          break;
        case 3: {  // a symbolic or hard link to an earlier entry
          const std::string t = name(static_cast<int>(g() % static_cast<unsigned>(i + 1)));
          if (g() % 2 && inode.count(t) && t != n) {
            fs::create_hard_link(d / t, p);
            inode[n] = inode[t];
          } else {
            fs::create_symlink(t, p);
            link[n] = t;
          }
          break;
        }
        case 4: fs::create_symlink("nothing_" + n, p), link[n] = "nothing_" + n; break;
        case 5:
          if (g() % 2) {
            fs::create_directory(p);
            folders.insert(n);
          } else {
            fs::create_directory(d / (n + "_dir"));
            folders.insert(n + "_dir");
            fs::create_directory_symlink(n + "_dir", p);
            link[n] = n + "_dir";
          }
          break;
        case 6:
          REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
          fifos.insert(n);
          break;
        default: fs::create_symlink(n, p), link[n] = n; break;  // a link to itself
      }
    }
    const bool e0_folder = resolve("e0", 0).first == Kind::Folder;
    for (int step = 0; step < 400; ++step) {
      const std::string a = name(static_cast<int>(g() % 24)), b = name(static_cast<int>(g() % 24));
      const auto [ka, ra] = resolve(a, 0);
      const auto [kb, rb] = resolve(b, 0);
      INFO("seed " << seed << ", step " << step << ": " << a << " -> " << ra << " (" << static_cast<int>(ka) << "), " << b << " -> " << rb << " ("
                   << static_cast<int>(kb) << ")");
      switch (g() % 4) {
        case 0:
          if (ka == Kind::Regular) CHECK_NOTHROW(fixq::require_regular_file(d / a, "file"));
          else CHECK_THROWS_AS(fixq::require_regular_file(d / a, "file"), fixq::file_error);
          break;
        case 1:
          if (ka == Kind::Regular && kb == Kind::Regular) CHECK(fixq::same_file(d / a, d / b) == (inode[ra] == inode[rb]));
          else if (ka == Kind::Missing || ka == Kind::Loop || kb == Kind::Missing || kb == Kind::Loop) CHECK_FALSE(fixq::same_file(d / a, d / b));
          else CHECK(fixq::same_file(d / a, d / b) == (ra == rb));  // folders and FIFOs too
          if (ka == Kind::Regular) CHECK(fixq::same_file(d / a, d / "e0" / ".." / a) == e0_folder);  // another spelling
          break;
        case 2: {  // write a (the file it finally names is replaced), read it back
          if (ka == Kind::Fifo) break;
          if (ka == Kind::Folder || ka == Kind::Loop) {
            CHECK_THROWS_AS(fixq::AtomicFile(d / a), fixq::file_error);
            break;
          }
          const std::string text = "step " + std::to_string(step);
          fixq::AtomicFile f(d / a);
          f.stream() << text;
          if (g() % 4 == 0) break;  // not committed: nothing changes
          f.commit();
          inode[ra] = next_inode, content[next_inode++] = text;  // a new file (hard links keep the old one)
          CHECK(get(d / a) == text);
          CHECK(fs::is_symlink(d / a) == (link.count(a) != 0));
          break;
        }
        default: {  // resolve_inside: a result is always inside the folder
          static const char* parts[] = {"e1", "e2", "..", ".", "e3", "x", "e4", "e5"};
          std::string rel;
          for (int k = 0, n = 1 + static_cast<int>(g() % 4); k < n; ++k) rel += (k ? "/" : "") + std::string(parts[g() % 8]);
          INFO(rel);
          // Every link here names an entry of the folder: without "..", nothing leads out.
          const bool stays = rel.find("..") == std::string::npos && fs::path(rel).lexically_normal() != ".";
          try {
            const fs::path r = fixq::resolve_inside(d, rel);
            const fs::path inside = r.lexically_relative(fs::canonical(d));
            CHECK((!inside.empty() && *inside.begin() != ".."));
          } catch (const fixq::file_error& e) {
            CHECK_THAT(e.what(), Catch::Contains("outside the folder") || Catch::Contains("cannot resolve"));
            if (stays) CHECK_THAT(e.what(), !Catch::Contains("outside the folder"));
          }
          break;
        }
      }
    }
    // Every regular file holds what was last written to it; no temporary is left.
    for (const auto& [n, id] : inode) CHECK(get(d / n) == content[id]);
    CHECK(temporaries(d) == 0);
    fs::remove_all(d);
  }
}
