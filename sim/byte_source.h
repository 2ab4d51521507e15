// The bytes of an input document, read in chunks so that a reader never
// needs the whole text in memory: text already in memory, a file, or a
// gzip file inflated as it is read.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace cotenant {

/// A document's bytes, chunk by chunk, from the start.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// The next chunk, valid until the next call; empty at the end. Throws
  /// InputError (unreadable file, corrupt gzip data, over MaxInputBytes()).
  virtual std::string_view Next() = 0;
  /// The whole document read again from its start, for messages that need
  /// the text around an error (line and column). Throws as Next().
  virtual std::string WholeText() = 0;
  /// The document's size in bytes when known before reading it (a plain
  /// file, text in memory), else -1 (gzip, a pipe).
  virtual int64_t SizeHint() const { return -1; }
  /// Reads to the end, so that an error of the source itself (a corrupt or
  /// oversized gzip file) is raised before one found in what was read.
  void Drain() {
    while (!Next().empty()) {
    }
  }
};

/// Text already in memory, as one chunk (not copied: `text` must outlive
/// the source).
class TextSource : public ByteSource {
 public:
  explicit TextSource(std::string_view text) : text_(text) {}
  std::string_view Next() override;
  std::string WholeText() override { return std::string(text_); }
  int64_t SizeHint() const override { return static_cast<int64_t>(text_.size()); }

 private:
  std::string_view text_;
  bool done_ = false;
};

/// A file, read in chunks of `kChunkBytes`; a `.gz` file (one or more
/// concatenated members) is inflated as it is read. The size limit
/// (MaxInputBytes()) applies to the file and to the inflated text.
class FileSource : public ByteSource {
 public:
  /// Bytes read (or inflated) per chunk.
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  /// Opens `path`. Throws InputError `path: cannot open: REASON` for a
  /// missing or unreadable file or a folder, and `path: file too large`.
  explicit FileSource(std::string path);
  ~FileSource() override;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::string_view Next() override;
  std::string WholeText() override;
  /// A `.gz` file: the inflated size its trailer states (ISIZE, exact for
  /// one member under 4 GiB).
  int64_t SizeHint() const override { return gz_ ? inflated_hint_ : file_size_; }
  /// The rest of the file, inflated, in one string (ReadFileText()).
  std::string ReadAll();

 private:
  /// Up to `room` bytes of the file (raw, or inflated for `.gz`) into `out`;
  /// 0 at the end.
  size_t Read(char* out, size_t room);
  size_t ReadRaw(char* out, size_t room);
  size_t Inflate(char* out, size_t room);
  [[noreturn]] void Corrupt(const std::string& why);

  std::string path_;
  FILE* file_ = nullptr;
  bool gz_ = false;
  bool file_end_ = false;       ///< the raw file is read to its end
  bool done_ = false;           ///< the last gzip member ended with the file
  bool cut_ = false;            ///< the file ends inside a gzip member
  int64_t file_size_ = -1;      ///< from stat, or -1 when unknown (a pipe)
  int64_t delivered_ = 0;       ///< bytes handed out so far (after inflating)
  int64_t inflated_hint_ = -1;  ///< `.gz`: ISIZE of the trailer, or -1
  z_stream zs_{};
  bool zs_open_ = false;
  std::vector<char> packed_;  ///< compressed input (`.gz`)
  std::vector<char> chunk_;   ///< the chunk Next() returns
};

}  // namespace cotenant
