// cpp_example.cpp: using libsora from C++17 through a small RAII wrapper.
//
//   g++ -std=c++17 -Iinclude docs/examples/cpp_example.cpp -Ltarget/debug -lsora
//       -Wl,-rpath,$PWD/target/debug -o cpp_example     (one line)
//   ./cpp_example path/to/Wan2.1-T2V-1.3B-Diffusers out.mp4
//
// Errors become `sora::Error` exceptions carrying the status and message; every
// handle is freed by its unique_ptr; the progress lambda may cancel the run.
#include "sora.h"

#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace sora {

/// A failed sora call: its status and sora_last_error() at the time.
class Error : public std::runtime_error {
public:
    Error(sora_status status, const char* message)
        : std::runtime_error(std::string(sora_status_name(status)) + ": " + message),
          status_(status) {}
    sora_status status() const { return status_; }

private:
    sora_status status_;
};

inline void check(sora_status st) {
    if (st != SORA_OK) throw Error(st, sora_last_error());
}

template <class T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};

/// Request options, set with the key/value setters.
class Request {
public:
    explicit Request(const std::string& prompt) {
        sora_request* r = nullptr;
        check(sora_request_new_text(prompt.c_str(), &r));
        ptr_.reset(r);
    }
    Request& set(const char* key, int64_t v) { check(sora_request_set_int(ptr_.get(), key, v)); return *this; }
    Request& set(const char* key, int v) { return set(key, static_cast<int64_t>(v)); }
    Request& set(const char* key, double v) { check(sora_request_set_float(ptr_.get(), key, v)); return *this; }
    Request& set(const char* key, const std::string& v) {
        check(sora_request_set_string(ptr_.get(), key, v.c_str()));
        return *this;
    }
    const sora_request* get() const { return ptr_.get(); }

private:
    std::unique_ptr<sora_request, Deleter<sora_request, sora_request_free>> ptr_;
};

/// A generated clip; the frame pointer lives as long as the Clip.
class Clip {
public:
    explicit Clip(sora_clip* c) : ptr_(c) {}
    struct Frames {
        const uint8_t* data;
        size_t t, h, w;
    };
    Frames frames() const {
        Frames f{nullptr, 0, 0, 0};
        check(sora_clip_frames(ptr_.get(), &f.data, &f.t, &f.h, &f.w));
        return f;
    }
    float fps() const {
        float v = 0;
        check(sora_clip_fps(ptr_.get(), &v));
        return v;
    }
    std::string meta_json() const {
        const char* j = nullptr;
        check(sora_clip_meta_json(ptr_.get(), &j));
        return j;
    }
    void save(const std::string& path) const { check(sora_clip_save(ptr_.get(), path.c_str())); }

private:
    std::unique_ptr<sora_clip, Deleter<sora_clip, sora_clip_free>> ptr_;
};

/// Return false from the progress function to cancel.
using ProgressFn = std::function<bool(int step, int total, double elapsed_s, double eta_s)>;

class Pipeline {
public:
    explicit Pipeline(const std::string& model_dir, const char* device = "cpu",
                      const char* dtype = "float32", int threads = 0) {
        sora_pipeline* p = nullptr;
        check(sora_pipeline_new(model_dir.c_str(), device, dtype, threads, &p));
        ptr_.reset(p);
    }

    Clip generate(const Request& req, ProgressFn progress = nullptr) const {
        struct Ctx {
            ProgressFn* fn;
            std::exception_ptr error;
        } ctx{progress ? &progress : nullptr, nullptr};
        // No exception may cross the C callback: keep it and rethrow after the call.
        auto trampoline = [](void* user, int step, int total, double el, double eta) -> int {
            auto* c = static_cast<Ctx*>(user);
            try {
                return (*c->fn)(step, total, el, eta) ? 1 : 0;
            } catch (...) {
                c->error = std::current_exception();
                return 0;
            }
        };
        sora_clip* out = nullptr;
        sora_status st = sora_generate(ptr_.get(), req.get(), ctx.fn ? +trampoline : nullptr,
                                       &ctx, nullptr, &out);
        if (ctx.error) std::rethrow_exception(ctx.error);
        check(st);
        return Clip(out);
    }

private:
    std::unique_ptr<sora_pipeline, Deleter<sora_pipeline, sora_pipeline_free>> ptr_;
};

}  // namespace sora

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL_DIR [OUT.mp4]\n", argv[0]);
        return 2;
    }
    std::printf("sora %s\n", sora_version());
    try {
        sora::Pipeline pipe(argv[1]);
        sora::Request req("a red ball bounces on a wooden floor");
        req.set("width", 32).set("height", 32).set("frames", 5).set("steps", 2).set("seed", 7);
        sora::Clip clip = pipe.generate(req, [](int step, int total, double, double eta) {
            std::printf("step %d/%d, about %.1f s left\n", step, total, eta);
            return true;
        });
        auto f = clip.frames();
        std::printf("%zu frames of %zux%zu at %.1f fps\n", f.t, f.w, f.h, clip.fps());
        std::printf("%s\n", clip.meta_json().c_str());
        if (argc > 2) clip.save(argv[2]);
    } catch (const sora::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
