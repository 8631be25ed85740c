// The fuzz input as a file: the readers under test open files (and a bundle
// is read through its fd), so each input is written to one memfd, reused
// across inputs.  Shared by the fuzz targets that need a file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace lt::fuzz {

class InputFile {
public:
    explicit InputFile(const char* name)
    {
        fd_ = memfd_create(name, MFD_CLOEXEC);
        if (fd_ < 0) { perror("memfd_create"); abort(); }
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    // Replaces the file's contents with the input and rewinds it.
    void set(const uint8_t* data, size_t size)
    {
        if (ftruncate(fd_, 0) != 0) abort();
        size_t done = 0;
        while (done < size) {
            ssize_t w = pwrite(fd_, data + done, size - done, off_t(done));
            if (w <= 0) abort();
            done += size_t(w);
        }
        lseek(fd_, 0, SEEK_SET);
    }
    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

} // namespace lt::fuzz
