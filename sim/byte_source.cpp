#include "sim/byte_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

[[noreturn]] void FailFile(const std::string& path, const std::string& what, int err) {
  throw InputError(path + ": " + what + ": " + std::strerror(err));
}

[[noreturn]] void TooLarge(const std::string& path) {
  throw InputError(path + ": file too large: over " + std::to_string(MaxInputBytes()) + " bytes");
}

}  // namespace

std::string_view TextSource::Next() {
  if (done_) return {};
  done_ = true;
  return text_;
}

FileSource::FileSource(std::string path) : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) FailFile(path_, "cannot open", errno);
  struct stat st {};
  if (fstat(fileno(file_), &st) != 0) {
    const int err = errno;
    std::fclose(file_);
    FailFile(path_, "cannot open", err);
  }
  if (S_ISDIR(st.st_mode)) {
    std::fclose(file_);
    FailFile(path_, "cannot open", EISDIR);
  }
  if (st.st_size > MaxInputBytes()) {
    std::fclose(file_);
    TooLarge(path_);
  }
  file_size_ = S_ISREG(st.st_mode) ? static_cast<int64_t>(st.st_size) : -1;
  gz_ = EndsWith(path_, ".gz");
  if (gz_) {
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
      std::fclose(file_);
      throw InputError(path_ + ": cannot decompress: zlib initialisation failed");
    }
    zs_open_ = true;
    // The gzip trailer's ISIZE: the inflated size (mod 2^32) of the last
    // member, a hint only (one member is the common case).
    unsigned char isize[4];
    if (file_size_ >= 18 && std::fseek(file_, -4, SEEK_END) == 0 &&
        std::fread(isize, 1, 4, file_) == 4) {
      inflated_hint_ = int64_t{isize[0]} | int64_t{isize[1]} << 8 | int64_t{isize[2]} << 16 |
                       int64_t{isize[3]} << 24;
    }
    std::rewind(file_);
  }
}

FileSource::~FileSource() {
  if (zs_open_) inflateEnd(&zs_);
  if (file_ != nullptr) std::fclose(file_);
}

size_t FileSource::ReadRaw(char* out, size_t room) {
  if (file_end_ || room == 0) return 0;
  const size_t n = std::fread(out, 1, room, file_);
  if (n < room) {
    if (std::ferror(file_) != 0) FailFile(path_, "cannot read", errno);
    file_end_ = true;
  }
  return n;
}

void FileSource::Corrupt(const std::string& why) {
  throw InputError(path_ + ": corrupt gzip data: " + why);
}

size_t FileSource::Inflate(char* out, size_t room) {
  if (cut_) Corrupt("unexpected end of compressed data");
  if (done_ || room == 0) return 0;
  room = std::min<size_t>(room, std::numeric_limits<uInt>::max());
  zs_.next_out = reinterpret_cast<Bytef*>(out);
  zs_.avail_out = static_cast<uInt>(room);
  auto feed = [this] {
    if (zs_.avail_in != 0 || file_end_) return;
    packed_.resize(kChunkBytes);
    zs_.next_in = reinterpret_cast<Bytef*>(packed_.data());
    zs_.avail_in = static_cast<uInt>(ReadRaw(packed_.data(), packed_.size()));
  };
  while (zs_.avail_out != 0) {
    feed();
    const int rc = inflate(&zs_, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      feed();
      if (zs_.avail_in == 0 && file_end_) {
        done_ = true;
        break;
      }
      inflateReset(&zs_);  // another gzip member follows
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR) {
      if (zs_.avail_in == 0 && !file_end_) continue;
      // A file cut short: hand out what was inflated, fail on the next read.
      cut_ = true;
      if (zs_.avail_out < room) break;
      Corrupt("unexpected end of compressed data");
    }
    Corrupt(zs_.msg != nullptr ? zs_.msg : "error " + std::to_string(rc));
  }
  return room - zs_.avail_out;
}

size_t FileSource::Read(char* out, size_t room) {
  const size_t n = gz_ ? Inflate(out, room) : ReadRaw(out, room);
  delivered_ += static_cast<int64_t>(n);
  if (delivered_ > MaxInputBytes()) TooLarge(path_);
  return n;
}

std::string_view FileSource::Next() {
  chunk_.resize(kChunkBytes);
  return std::string_view(chunk_.data(), Read(chunk_.data(), chunk_.size()));
}

std::string FileSource::ReadAll() {
  std::string data;
  // A plain file in one read of its size; then to the end (pipes, /proc,
  // inflated text), doubling the room.
  size_t used = 0;
  data.resize(gz_ || file_size_ < 0 ? kChunkBytes : static_cast<size_t>(file_size_) + 1);
  for (;;) {
    if (used == data.size()) data.resize(data.size() * 2);
    const size_t n = Read(&data[used], data.size() - used);
    if (n == 0) break;
    used += n;
  }
  data.resize(used);
  if (data.capacity() > used + used / 4 + kChunkBytes) data.shrink_to_fit();
  return data;
}

std::string FileSource::WholeText() { return FileSource(path_).ReadAll(); }

}  // namespace cotenant
