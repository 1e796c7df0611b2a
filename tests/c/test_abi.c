/*
 * test_abi.c: the C front door of sora, driven through include/sora.h and
 * libsora.so. Built and run by tests/c/run.sh (under Valgrind or ASan).
 *
 * Part 1 needs no model: version, NULL pointers, UTF-8, model-folder errors,
 * request keys and values, free(NULL), cancel handles, the physics report,
 * and the embedded default model (a NULL folder).
 * Part 2 needs the tiny Wan 2.1 fixture (env SORA_TEST_MODEL, default
 * target/fixtures/wan_pipeline/t2v_21/model); it is skipped with a loud
 * message when the folder is missing (env SORA_C_REQUIRE_FIXTURE=1 makes that a failure).
 */
#include "sora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_failed = 0;
static int g_passed = 0;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (cond) {                                                           \
            g_passed++;                                                       \
        } else {                                                              \
            g_failed++;                                                       \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, " (last error: \"%s\")\n", sora_last_error());   \
        }                                                                     \
    } while (0)

/* Checks that a call returned `want` and, on failure, that the message is not
 * empty and contains `needle` (when not NULL). */
static void expect_status(const char *what, int line, sora_status got, sora_status want,
                          const char *needle) {
    const char *msg = sora_last_error();
    int ok = got == want;
    if (ok && want != SORA_OK) {
        ok = msg != NULL && msg[0] != 0 && (needle == NULL || strstr(msg, needle) != NULL);
    }
    if (ok) {
        g_passed++;
        return;
    }
    g_failed++;
    fprintf(stderr, "FAIL line %d: %s returned %s, wanted %s%s%s (last error: \"%s\")\n", line,
            what, sora_status_name(got), sora_status_name(want),
            needle ? " with a message containing " : "", needle ? needle : "",
            msg ? msg : "(null)");
}

#define EXPECT(call, want, needle) expect_status(#call, __LINE__, (call), (want), (needle))

#define INVALID SORA_ERR_INVALID_ARGUMENT

static void test_version(void) {
    const char *v = sora_version();
    CHECK(v != NULL && strlen(v) > 0, "sora_version empty");
    CHECK(strchr(v, '.') != NULL, "version \"%s\" has no dot", v);
    CHECK(strcmp(sora_status_name(SORA_OK), "SORA_OK") == 0, "status name");
    CHECK(strcmp(sora_status_name(SORA_ERR_PANIC), "SORA_ERR_PANIC") == 0, "status name");
    CHECK(strcmp(sora_status_name(1234), "SORA_ERR_UNKNOWN") == 0, "unknown status name");
    CHECK(SORA_OK == 0, "SORA_OK is 0");
    const char *e = sora_last_error();
    CHECK(e != NULL, "sora_last_error never NULL");
}

static void test_free_null(void) {
    sora_pipeline_free(NULL);
    sora_request_free(NULL);
    sora_clip_free(NULL);
    sora_cancel_free(NULL);
    g_passed++;
}

static void test_null_pointers(void) {
    sora_pipeline *p = (sora_pipeline *)0x1; /* must be reset to NULL on failure */
    EXPECT(sora_pipeline_new(NULL, "no-such-device", "float32", 0, &p), INVALID, "device");
    CHECK(p == NULL, "out not cleared on failure");
    EXPECT(sora_pipeline_new("/nonexistent", "cpu", "float32", 0, NULL), INVALID, "out");
    const char *name = NULL;
    EXPECT(sora_pipeline_family(NULL, &name), INVALID, "pipeline");

    sora_request *r = NULL;
    EXPECT(sora_request_new_text(NULL, &r), INVALID, "prompt");
    CHECK(r == NULL, "request out stays NULL");
    EXPECT(sora_request_new_text("x", NULL), INVALID, "out");
    EXPECT(sora_request_set_int(NULL, "steps", 2), INVALID, "request");
    EXPECT(sora_request_set_float(NULL, "guidance", 2.0), INVALID, "request");
    EXPECT(sora_request_set_string(NULL, "negative_prompt", "x"), INVALID, "request");
    EXPECT(sora_request_set_image_path(NULL, "a.png"), INVALID, "request");
    EXPECT(sora_request_set_video_path(NULL, "a.mp4", 0.5f), INVALID, "request");
    EXPECT(sora_request_set_extend_path(NULL, "a.mp4", 1.0f), INVALID, "request");
    EXPECT(sora_request_set_image_rgb(NULL, NULL, 2, 2), INVALID, "request");
    EXPECT(sora_request_set_video_rgb(NULL, NULL, 1, 2, 2, 16.0f, 0.5f), INVALID, "request");
    EXPECT(sora_request_set_extend_rgb(NULL, NULL, 1, 2, 2, 16.0f, 1.0f), INVALID, "request");
    EXPECT(sora_request_set_text_mode(NULL), INVALID, "request");

    EXPECT(sora_request_new_text("a cat", &r), SORA_OK, NULL);
    CHECK(r != NULL, "request made");
    CHECK(strcmp(sora_last_error(), "") == 0, "success clears the message");
    EXPECT(sora_request_set_int(r, NULL, 2), INVALID, "key");
    EXPECT(sora_request_set_float(r, NULL, 2.0), INVALID, "key");
    EXPECT(sora_request_set_string(r, NULL, "x"), INVALID, "key");
    EXPECT(sora_request_set_string(r, "negative_prompt", NULL), INVALID, "value");
    EXPECT(sora_request_set_image_path(r, NULL), INVALID, "path");
    EXPECT(sora_request_set_video_path(r, NULL, 0.5f), INVALID, "path");
    EXPECT(sora_request_set_extend_path(r, NULL, 1.0f), INVALID, "path");
    EXPECT(sora_request_set_image_path(r, "/nonexistent/sora-test.png"), SORA_ERR_IO,
           "/nonexistent/sora-test.png");
    EXPECT(sora_request_set_video_path(r, "/nonexistent/sora-test.mp4", 0.5f), SORA_ERR_IO,
           "/nonexistent/sora-test.mp4");
    EXPECT(sora_request_set_image_rgb(r, NULL, 2, 2), INVALID, "data");
    EXPECT(sora_request_set_video_rgb(r, NULL, 1, 2, 2, 16.0f, 0.5f), INVALID, "data");
    EXPECT(sora_request_set_extend_rgb(r, NULL, 1, 2, 2, 16.0f, 1.0f), INVALID, "data");

    sora_clip *c = (sora_clip *)0x1;
    EXPECT(sora_generate(NULL, r, NULL, NULL, NULL, &c), INVALID, "pipeline");
    CHECK(c == NULL, "clip out cleared");
    EXPECT(sora_generate(NULL, r, NULL, NULL, NULL, NULL), INVALID, "out");

    const uint8_t *frames = NULL;
    size_t t = 0, h = 0, w = 0;
    EXPECT(sora_clip_frames(NULL, &frames, &t, &h, &w), INVALID, "clip");
    EXPECT(sora_clip_frames(NULL, NULL, &t, &h, &w), INVALID, "data");
    EXPECT(sora_clip_frames(NULL, &frames, NULL, &h, &w), INVALID, "`t`");
    EXPECT(sora_clip_frames(NULL, &frames, &t, NULL, &w), INVALID, "`h`");
    EXPECT(sora_clip_frames(NULL, &frames, &t, &h, NULL), INVALID, "`w`");
    float fps = 0;
    EXPECT(sora_clip_fps(NULL, &fps), INVALID, "clip");
    const float *audio = NULL;
    size_t ch = 0, ns = 0;
    EXPECT(sora_clip_audio(NULL, &audio, &ch, &ns), INVALID, "clip");
    EXPECT(sora_clip_audio(NULL, NULL, &ch, &ns), INVALID, "data");
    uint32_t rate = 0;
    EXPECT(sora_clip_sample_rate(NULL, &rate), INVALID, "clip");
    const char *json = NULL;
    EXPECT(sora_clip_meta_json(NULL, &json), INVALID, "clip");
    EXPECT(sora_clip_save(NULL, "x.mp4"), INVALID, "clip");

    EXPECT(sora_cancel_new(NULL), INVALID, "out");
    EXPECT(sora_cancel_trigger(NULL), INVALID, "cancel");
    EXPECT(sora_cancel_reset(NULL), INVALID, "cancel");
    int trig = 0;
    EXPECT(sora_cancel_is_triggered(NULL, &trig), INVALID, "cancel");

    sora_request_free(r);
}

static void test_utf8(void) {
    sora_request *r = NULL;
    const char bad[] = {'a', (char)0xff, (char)0xfe, 'b', 0};
    EXPECT(sora_request_new_text(bad, &r), INVALID, "UTF-8");
    CHECK(r == NULL, "no request for bad UTF-8");
    EXPECT(sora_request_new_text("une tasse de caf\xc3\xa9", &r), SORA_OK, NULL);
    EXPECT(sora_request_set_string(r, "negative_prompt", bad), INVALID, "UTF-8");
    EXPECT(sora_request_set_int(r, bad, 1), INVALID, "UTF-8");
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(bad, NULL, NULL, 0, &p), INVALID, "UTF-8");
    EXPECT(sora_pipeline_new("/nonexistent", bad, NULL, 0, &p), INVALID, "UTF-8");
    sora_request_free(r);
}

static void test_model_folder_errors(void) {
    sora_pipeline *p = NULL;
    const char *missing = "/nonexistent/sora-c-test/model-folder";
    EXPECT(sora_pipeline_new(missing, "cpu", "float32", 0, &p), SORA_ERR_WEIGHTS, missing);
    CHECK(p == NULL, "no pipeline for a missing folder");

    char dir[] = "/tmp/sora_c_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char index[512];
    snprintf(index, sizeof index, "%s/model_index.json", dir);
    FILE *f = fopen(index, "w");
    CHECK(f != NULL, "write model_index.json");
    if (f) {
        fputs("{\"_class_name\": \"FrobnicatorPipeline\", \"_diffusers_version\": \"0.42.1\"}\n", f);
        fclose(f);
    }
    EXPECT(sora_pipeline_new(dir, "cpu", "float32", 0, &p), SORA_ERR_WEIGHTS, "FrobnicatorPipeline");
    CHECK(p == NULL, "no pipeline for an unknown class");

    /* Bad device / dtype / threads are argument errors. */
    EXPECT(sora_pipeline_new(dir, "tpu", NULL, 0, &p), INVALID, "tpu");
    EXPECT(sora_pipeline_new(dir, NULL, "int3", 0, &p), INVALID, "int3");
    EXPECT(sora_pipeline_new(dir, NULL, NULL, -2, &p), INVALID, "threads");
    unlink(index);
    rmdir(dir);
}

/* Pipeline options by name: argument checks, unknown keys, bad values, and a
 * build that fails on a missing folder (no model needed). */
static void test_pipeline_builder(void) {
    sora_pipeline_builder *b = (sora_pipeline_builder *)0x1;
    EXPECT(sora_pipeline_builder_new(NULL, &b), SORA_OK, NULL); /* the default model */
    CHECK(b != NULL && b != (sora_pipeline_builder *)0x1, "a builder for the default model");
    sora_pipeline_builder_free(b);
    b = NULL;
    EXPECT(sora_pipeline_builder_new("/nonexistent", NULL), INVALID, "out");
    const char *missing = "/nonexistent/sora-c-test/builder-folder";
    EXPECT(sora_pipeline_builder_new(missing, &b), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(NULL, "dtype", "float32"), INVALID, "builder");
    EXPECT(sora_pipeline_builder_set(b, NULL, "float32"), INVALID, "key");
    EXPECT(sora_pipeline_builder_set(b, "dtype", NULL), INVALID, "value");
    EXPECT(sora_pipeline_builder_set(b, "colour", "blue"), INVALID, "colour");
    EXPECT(sora_pipeline_builder_set(b, "threads", "0"), INVALID, "threads");
    EXPECT(sora_pipeline_builder_set(b, "batch_guidance", "perhaps"), INVALID, "batch_guidance");
    EXPECT(sora_pipeline_builder_set(b, "dtype", "int3"), INVALID, "int3");
    EXPECT(sora_pipeline_builder_set(b, "batch_guidance", "false"), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "threads", "1"), SORA_OK, NULL);
    sora_pipeline *p = (sora_pipeline *)0x1;
    EXPECT(sora_pipeline_builder_build(b, &p), SORA_ERR_WEIGHTS, missing);
    CHECK(p == NULL, "no pipeline for a missing folder");
    EXPECT(sora_pipeline_builder_build(NULL, &p), INVALID, "builder");
    EXPECT(sora_pipeline_builder_build(b, NULL), INVALID, "out");
    sora_pipeline_builder_free(b);
    sora_pipeline_builder_free(NULL);

    /* Offload is checked before the folder: refused on the CPU, named when unknown. */
    EXPECT(sora_pipeline_builder_new(missing, &b), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "offload", "disk"), INVALID, "none, model or sequential");
    EXPECT(sora_pipeline_builder_set(b, "offload", "sequential"), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_build(b, &p), SORA_ERR_UNSUPPORTED, "host memory");
    CHECK(p == NULL, "no pipeline with offload on the CPU");
    sora_pipeline_builder_free(b);
}

static void test_request_keys(void) {
    sora_request *r = NULL;
    EXPECT(sora_request_new_text("a red ball bounces", &r), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "width", 32), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "height", 32), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "frames", 5), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "fps", 16), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "steps", 2), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "seed", 7), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "audio", 0), SORA_OK, NULL);
    EXPECT(sora_request_set_float(r, "seconds", 1.5), SORA_OK, NULL);
    EXPECT(sora_request_set_float(r, "guidance", 5.0), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "guidance", 4), SORA_OK, NULL);
    EXPECT(sora_request_set_string(r, "negative_prompt", "blurry"), SORA_OK, NULL);
    EXPECT(sora_request_set_string(r, "prompt", "a blue ball bounces"), SORA_OK, NULL);

    /* Unknown keys name the key. */
    EXPECT(sora_request_set_int(r, "stepz", 2), INVALID, "stepz");
    EXPECT(sora_request_set_float(r, "guidanse", 2.0), INVALID, "guidanse");
    EXPECT(sora_request_set_string(r, "negative", "x"), INVALID, "negative");
    /* Wrong value types name the setter to use. */
    EXPECT(sora_request_set_float(r, "steps", 2.0), INVALID, "sora_request_set_int");
    EXPECT(sora_request_set_string(r, "width", "32"), INVALID, "sora_request_set_int");
    EXPECT(sora_request_set_int(r, "negative_prompt", 1), INVALID, "sora_request_set_string");

    /* Bad values. */
    EXPECT(sora_request_set_int(r, "steps", 0), INVALID, "steps");
    EXPECT(sora_request_set_int(r, "steps", -3), INVALID, "steps");
    EXPECT(sora_request_set_int(r, "width", 0), INVALID, "size");
    EXPECT(sora_request_set_int(r, "height", 5000000000LL), INVALID, "height");
    EXPECT(sora_request_set_int(r, "frames", 0), INVALID, "frames");
    EXPECT(sora_request_set_int(r, "fps", 0), INVALID, "fps");
    EXPECT(sora_request_set_int(r, "seed", -1), INVALID, "seed");
    EXPECT(sora_request_set_int(r, "audio", 2), INVALID, "audio");
    EXPECT(sora_request_set_float(r, "guidance", -1.0), INVALID, "guidance");
    EXPECT(sora_request_set_float(r, "guidance", 0.0 / 0.0), INVALID, "guidance");

    /* sora_request_set: diffusers' keywords (and sora's names) from text, parsed by the core. */
    EXPECT(sora_request_set(r, "guidance_scale", "3.5"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "num_inference_steps", "4"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "num_frames", "9"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "frame_rate", "24"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "audio", "false"), SORA_OK, NULL);
    /* Sizes and shapes: preset names checked when set (the size is decided at resolve). */
    EXPECT(sora_request_set(r, "aspect", "9:16"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "resolution", "480p"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "fit", "crop"), SORA_OK, NULL);
    EXPECT(sora_request_set_string(r, "fit", "pad"), SORA_OK, NULL);
    EXPECT(sora_request_set(r, "aspect", "3:2"), INVALID, "21:9");
    EXPECT(sora_request_set(r, "resolution", "4k"), INVALID, "1080p");
    EXPECT(sora_request_set(r, "fit", "stretch"), INVALID, "fit");
    EXPECT(sora_request_set(r, "no_such_key", "1"), INVALID, "no_such_key");
    EXPECT(sora_request_set(r, "num_inference_steps", "2.5"), INVALID, "num_inference_steps");
    EXPECT(sora_request_set(r, "guidance_scale", "lots"), INVALID, "guidance_scale");
    EXPECT(sora_request_set(r, "strength", "0.5"), INVALID, "video");
    EXPECT(sora_request_set(r, "steps", NULL), INVALID, "value");
    EXPECT(sora_request_set(NULL, "steps", "2"), INVALID, "request");

    /* Media inputs. */
    uint8_t px[2 * 4 * 4 * 3];
    memset(px, 128, sizeof px);
    EXPECT(sora_request_set_image_rgb(r, px, 4, 4), SORA_OK, NULL);
    EXPECT(sora_request_set_image_rgb(r, px, 0, 4), INVALID, "empty");
    EXPECT(sora_request_set_video_rgb(r, px, 2, 4, 4, 16.0f, 0.6f), SORA_OK, NULL);
    EXPECT(sora_request_set_video_rgb(r, px, 2, 4, 4, 16.0f, 0.0f), INVALID, "strength");
    EXPECT(sora_request_set_video_rgb(r, px, 2, 4, 4, 16.0f, 1.5f), INVALID, "strength");
    EXPECT(sora_request_set_video_rgb(r, px, 0, 4, 4, 16.0f, 0.5f), INVALID, "no frames");
    EXPECT(sora_request_set_extend_rgb(r, px, 2, 4, 4, 16.0f, 1.0f), SORA_OK, NULL);
    EXPECT(sora_request_set_extend_rgb(r, px, 2, 4, 4, 16.0f, -1.0f), INVALID, "seconds");
    EXPECT(sora_request_set_video_rgb(r, px, (size_t)-1, (size_t)-1, 4, 16.0f, 0.5f), INVALID,
           "overflow");
    EXPECT(sora_request_set_text_mode(r), SORA_OK, NULL);
    sora_request_free(r);
}

static void test_cancel_lifecycle(void) {
    sora_cancel *c = NULL;
    EXPECT(sora_cancel_new(&c), SORA_OK, NULL);
    CHECK(c != NULL, "cancel made");
    int trig = -1;
    EXPECT(sora_cancel_is_triggered(c, &trig), SORA_OK, NULL);
    CHECK(trig == 0, "fresh token is not triggered");
    EXPECT(sora_cancel_is_triggered(c, NULL), INVALID, "triggered");
    EXPECT(sora_cancel_trigger(c), SORA_OK, NULL);
    EXPECT(sora_cancel_trigger(c), SORA_OK, NULL);
    EXPECT(sora_cancel_is_triggered(c, &trig), SORA_OK, NULL);
    CHECK(trig == 1, "token triggered");
    EXPECT(sora_cancel_reset(c), SORA_OK, NULL);
    EXPECT(sora_cancel_is_triggered(c, &trig), SORA_OK, NULL);
    CHECK(trig == 0, "token reset");
    sora_cancel_free(c);
}

/* ---- Part 2: generation with the tiny Wan 2.1 fixture ---- */

struct progress_log {
    int calls;
    int last_step;
    int total;
    int stop_at; /* return 0 (cancel) at this step; 0 = never */
};

static int on_progress(void *user, int step, int total, double elapsed_s, double eta_s) {
    struct progress_log *log = (struct progress_log *)user;
    log->calls++;
    log->last_step = step;
    log->total = total;
    if (elapsed_s < 0 || eta_s < 0) log->calls = -1000;
    return (log->stop_at != 0 && step >= log->stop_at) ? 0 : 1;
}

static sora_request *small_request(void) {
    sora_request *r = NULL;
    EXPECT(sora_request_new_text("a red ball bounces on a wooden floor", &r), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "width", 32), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "height", 32), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "frames", 5), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "steps", 2), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "seed", 7), SORA_OK, NULL);
    return r;
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t put = fwrite(data, 1, n, f);
    return fclose(f) == 0 && put == n;
}

/* A NULL model folder is the embedded default model: a tiny LTX-2 pipeline
 * that generates sound with the picture, at its own default size. */
static void test_default_model(void) {
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(NULL, "cpu", "float32", 1, &p), SORA_OK, NULL);
    if (!p) return;
    const char *family = NULL;
    EXPECT(sora_pipeline_family(p, &family), SORA_OK, NULL);
    CHECK(family && strcmp(family, "ltx2") == 0, "family is \"%s\"", family ? family : "(null)");
    sora_request *r = NULL;
    EXPECT(sora_request_new_text("a red ball bounces on a wooden floor", &r), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "frames", 9), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "steps", 2), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "seed", 3), SORA_OK, NULL);
    sora_clip *clip = NULL;
    EXPECT(sora_generate(p, r, NULL, NULL, NULL, &clip), SORA_OK, NULL);
    if (clip) {
        const uint8_t *data = NULL;
        size_t t = 0, h = 0, w = 0;
        EXPECT(sora_clip_frames(clip, &data, &t, &h, &w), SORA_OK, NULL);
        CHECK(t == 9 && h == 64 && w == 64, "frames are %zux%zux%zu", t, h, w);
        const float *audio = NULL;
        size_t ch = 0, ns = 0;
        EXPECT(sora_clip_audio(clip, &audio, &ch, &ns), SORA_OK, NULL);
        CHECK(audio != NULL && ch == 2 && ns > 0, "audio %zu x %zu", ch, ns);
        sora_clip_free(clip);
    }
    sora_request_free(r);
    sora_pipeline_free(p);
}

static void test_generation(const char *model) {
    struct stat sb;
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        const char *req = getenv("SORA_C_REQUIRE_FIXTURE");
        fprintf(stderr,
                "\n**************************************************************\n"
                "*** SKIPPED generation (fixture missing): %s\n"
                "**************************************************************\n\n",
                model);
        if (req && strcmp(req, "1") == 0) {
            g_failed++;
            fprintf(stderr, "FAIL: SORA_C_REQUIRE_FIXTURE=1 but the fixture is missing\n");
        }
        return;
    }
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(model, "cpu", "float32", 0, &p), SORA_OK, NULL);
    if (!p) return;
    const char *family = NULL;
    EXPECT(sora_pipeline_family(p, &family), SORA_OK, NULL);
    CHECK(family && strcmp(family, "wan") == 0, "family is \"%s\"", family ? family : "(null)");

    /* A value no model accepts is refused when set. */
    sora_request *r = small_request();
    EXPECT(sora_request_set_int(r, "steps", 0), INVALID, "steps");

    /* Generate. */
    struct progress_log log = {0, 0, 0, 0};
    sora_clip *clip = NULL;
    EXPECT(sora_generate(p, r, on_progress, &log, NULL, &clip), SORA_OK, NULL);
    CHECK(log.calls == 2 && log.last_step == 2 && log.total == 2,
          "progress calls=%d last=%d total=%d", log.calls, log.last_step, log.total);
    if (clip) {
        const uint8_t *data = NULL;
        size_t t = 0, h = 0, w = 0;
        EXPECT(sora_clip_frames(clip, &data, &t, &h, &w), SORA_OK, NULL);
        CHECK(data != NULL, "frames pointer");
        CHECK(t == 5 && h == 32 && w == 32, "frames are %zux%zux%zu", t, h, w);
        size_t n = t * h * w * 3;
        unsigned long sum = 0;
        for (size_t i = 0; data && i < n; i++) sum += data[i];
        CHECK(sum > 0, "frames are all black");
        const char *out = getenv("SORA_C_FRAMES_OUT");
        if (out && *out && data) CHECK(write_file(out, data, n), "write %s", out);

        float fps = 0;
        EXPECT(sora_clip_fps(clip, &fps), SORA_OK, NULL);
        CHECK(fps > 0, "fps %f", fps);
        const float *audio = (const float *)0x1;
        size_t ch = 9, ns = 9;
        EXPECT(sora_clip_audio(clip, &audio, &ch, &ns), SORA_OK, NULL);
        CHECK(audio == NULL && ch == 0 && ns == 0, "Wan 2.1 has no audio");
        uint32_t rate = 1;
        EXPECT(sora_clip_sample_rate(clip, &rate), SORA_OK, NULL);
        CHECK(rate == 0, "no sample rate without audio");
        const char *json = NULL;
        EXPECT(sora_clip_meta_json(clip, &json), SORA_OK, NULL);
        CHECK(json && strstr(json, "\"seed\":7") != NULL, "meta json: %s", json ? json : "(null)");

        char mp4[] = "/tmp/sora_c_test_XXXXXX.mp4";
        int fd = mkstemps(mp4, 4);
        if (fd >= 0) close(fd);
        EXPECT(sora_clip_save(clip, mp4), SORA_OK, NULL);
        struct stat ms;
        CHECK(stat(mp4, &ms) == 0 && ms.st_size > 0, "saved %s", mp4);
        unlink(mp4);

        /* Same seed, same bytes. */
        sora_clip *again = NULL;
        EXPECT(sora_generate(p, r, NULL, NULL, NULL, &again), SORA_OK, NULL);
        if (again) {
            const uint8_t *d2 = NULL;
            size_t t2, h2, w2;
            EXPECT(sora_clip_frames(again, &d2, &t2, &h2, &w2), SORA_OK, NULL);
            CHECK(d2 && t2 == t && memcmp(d2, data, n) == 0, "same seed gives the same frames");
            sora_clip_free(again);
        }

        /* One parameter path: guidance_scale as text equals guidance as a number,
         * and differs from the default guidance (so the value was used). */
        sora_request *by_key = small_request();
        sora_request *by_name = small_request();
        EXPECT(sora_request_set(by_key, "guidance_scale", "3.5"), SORA_OK, NULL);
        EXPECT(sora_request_set_float(by_name, "guidance", 3.5), SORA_OK, NULL);
        sora_clip *ck = NULL, *cn = NULL;
        EXPECT(sora_generate(p, by_key, NULL, NULL, NULL, &ck), SORA_OK, NULL);
        EXPECT(sora_generate(p, by_name, NULL, NULL, NULL, &cn), SORA_OK, NULL);
        if (ck && cn) {
            const uint8_t *dk = NULL, *dn = NULL;
            size_t tk, hk, wk, tn, hn, wn;
            EXPECT(sora_clip_frames(ck, &dk, &tk, &hk, &wk), SORA_OK, NULL);
            EXPECT(sora_clip_frames(cn, &dn, &tn, &hn, &wn), SORA_OK, NULL);
            CHECK(dk && dn && tk == t && tn == t && memcmp(dk, dn, n) == 0,
                  "guidance_scale=3.5 gives the frames of guidance 3.5");
            CHECK(dk && tk == t && memcmp(dk, data, n) != 0,
                  "guidance_scale=3.5 differs from the default guidance");
        }
        sora_clip_free(ck);
        sora_clip_free(cn);
        sora_request_free(by_key);
        sora_request_free(by_name);
        sora_clip_free(clip);
    }

    /* Cancellation by the callback: return 0 at step 1. */
    struct progress_log stop = {0, 0, 0, 1};
    sora_clip *c2 = (sora_clip *)0x1;
    EXPECT(sora_generate(p, r, on_progress, &stop, NULL, &c2), SORA_ERR_CANCELLED, "cancel");
    CHECK(c2 == NULL, "no clip when cancelled");
    CHECK(stop.calls == 1, "callback called %d times before cancelling", stop.calls);

    /* Cancellation by a token triggered before the run. */
    sora_cancel *tok = NULL;
    EXPECT(sora_cancel_new(&tok), SORA_OK, NULL);
    EXPECT(sora_cancel_trigger(tok), SORA_OK, NULL);
    EXPECT(sora_generate(p, r, NULL, NULL, tok, &c2), SORA_ERR_CANCELLED, "cancel");
    EXPECT(sora_cancel_reset(tok), SORA_OK, NULL);
    sora_clip *c3 = NULL;
    EXPECT(sora_generate(p, r, NULL, NULL, tok, &c3), SORA_OK, NULL);
    sora_clip_free(c3);
    sora_cancel_free(tok);

    /* The same request through a pipeline made by the options builder, with
     * sequential guidance: the same frames within a rounding step. */
    sora_pipeline_builder *b = NULL;
    EXPECT(sora_pipeline_builder_new(model, &b), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "batch_guidance", "false"), SORA_OK, NULL);
    sora_pipeline *p2 = NULL;
    EXPECT(sora_pipeline_builder_build(b, &p2), SORA_OK, NULL);
    sora_pipeline_builder_free(b);
    if (p2) {
        sora_clip *a = NULL, *s = NULL;
        EXPECT(sora_generate(p, r, NULL, NULL, NULL, &a), SORA_OK, NULL);
        EXPECT(sora_generate(p2, r, NULL, NULL, NULL, &s), SORA_OK, NULL);
        if (a && s) {
            const uint8_t *da = NULL, *ds = NULL;
            size_t ta, ha, wa, ts, hs, ws;
            EXPECT(sora_clip_frames(a, &da, &ta, &ha, &wa), SORA_OK, NULL);
            EXPECT(sora_clip_frames(s, &ds, &ts, &hs, &ws), SORA_OK, NULL);
            int close_enough = da && ds && ta == ts && ha == hs && wa == ws;
            for (size_t i = 0; close_enough && i < ta * ha * wa * 3; i++) {
                int d = (int)da[i] - (int)ds[i];
                if (d > 1 || d < -1) close_enough = 0;
            }
            CHECK(close_enough, "batched and sequential guidance give the same frames");
        }
        sora_clip_free(a);
        sora_clip_free(s);
        sora_pipeline_free(p2);
    }

    sora_request_free(r);
    sora_pipeline_free(p);
}

/* sora_generate_to_file: the same frames as sora_generate, written as they are
 * decoded; nothing left behind on a failure or a cancel. */
static void test_generate_to_file(const char *model) {
    struct stat sb;
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(model, "cpu", "float32", 0, &p), SORA_OK, NULL);
    if (!p) return;
    sora_request *r = small_request();
    char dir[] = "/tmp/sora-c-tofile-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char mp4[256], pngs[256], png0[300], nowhere[300];
    snprintf(mp4, sizeof mp4, "%s/clip.mp4", dir);
    snprintf(pngs, sizeof pngs, "%s/frames", dir);
    snprintf(png0, sizeof png0, "%s/frames/0000.png", dir);
    snprintf(nowhere, sizeof nowhere, "%s/no/such/dir/clip.mp4", dir);

    EXPECT(sora_generate_to_file(NULL, r, mp4, NULL, NULL, NULL, NULL), INVALID, "pipeline");
    EXPECT(sora_generate_to_file(p, NULL, mp4, NULL, NULL, NULL, NULL), INVALID, "request");
    EXPECT(sora_generate_to_file(p, r, NULL, NULL, NULL, NULL, NULL), INVALID, "path");

    char *meta = (char *)0x1;
    struct progress_log log = {0, 0, 0, 0};
    EXPECT(sora_generate_to_file(p, r, mp4, on_progress, &log, NULL, &meta), SORA_OK, NULL);
    CHECK(stat(mp4, &sb) == 0 && sb.st_size > 1000, "the MP4 was written");
    CHECK(log.calls == 2 && log.total == 2, "progress called %d times", log.calls);
    CHECK(meta != NULL && strstr(meta, "\"steps\":2") != NULL, "meta JSON: %s", meta ? meta : "(null)");
    CHECK(meta != NULL && strstr(meta, "\"credentials\":{\"enabled\":true") != NULL, "meta JSON: %s",
          meta ? meta : "(null)");
    sora_string_free(meta);
    sora_string_free(NULL);

    /* The MP4 carries content credentials that verify (signed by the local identity: not trusted). */
    char *report = NULL;
    EXPECT(sora_verify_json(mp4, &report), SORA_OK, NULL);
    CHECK(report && strstr(report, "\"credentials\":{\"present\":true,\"valid\":true") &&
              strstr(report, "\"trusted\":false") && strstr(report, "trainedAlgorithmicMedia"),
          "verify JSON: %s", report ? report : "(null)");
    sora_string_free(report);

    /* A PNG folder holds the same frames as the clip in memory. */
    EXPECT(sora_generate_to_file(p, r, pngs, NULL, NULL, NULL, NULL), SORA_OK, NULL);
    CHECK(stat(png0, &sb) == 0 && sb.st_size > 0, "the first PNG was written");

    /* An output that cannot be written fails before any work and leaves nothing. */
    struct progress_log none = {0, 0, 0, 0};
    EXPECT(sora_generate_to_file(p, r, nowhere, on_progress, &none, NULL, NULL), SORA_ERR_IO, "no/such/dir");
    CHECK(none.calls == 0, "no step ran for an unwritable output");

    /* A cancel leaves no file. */
    char cancelled[300];
    snprintf(cancelled, sizeof cancelled, "%s/cancelled.mp4", dir);
    struct progress_log stop = {0, 0, 0, 1};
    EXPECT(sora_generate_to_file(p, r, cancelled, on_progress, &stop, NULL, NULL), SORA_ERR_CANCELLED, "cancel");
    CHECK(stat(cancelled, &sb) != 0, "nothing left after a cancel");

    /* A file sora did not write is never replaced, unless SORA_WRITE_OVERWRITE. */
    char mine[300];
    snprintf(mine, sizeof mine, "%s/mine.mp4", dir);
    FILE *f = fopen(mine, "wb");
    CHECK(f != NULL, "write a user's file");
    if (f) { fputs("a user's own bytes", f); fclose(f); }
    struct progress_log untouched = {0, 0, 0, 0};
    EXPECT(sora_generate_to_file(p, r, mine, on_progress, &untouched, NULL, NULL), INVALID, "not written by sora");
    CHECK(untouched.calls == 0, "no step ran for a refused output");
    CHECK(stat(mine, &sb) == 0 && sb.st_size == 18, "the user's file is intact");
    EXPECT(sora_generate_to_file_ex(p, r, mine, 0x80, NULL, NULL, NULL, NULL), INVALID, "unknown write flags");
    EXPECT(sora_generate_to_file_ex(p, r, mine, SORA_WRITE_OVERWRITE, NULL, NULL, NULL, NULL), SORA_OK, NULL);
    CHECK(stat(mine, &sb) == 0 && sb.st_size > 1000, "overwritten with an MP4");
    /* Our own output is replaced without the flag. */
    EXPECT(sora_generate_to_file_ex(p, r, mine, 0, NULL, NULL, NULL, NULL), SORA_OK, NULL);

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "clean up");
    sora_request_free(r);
    sora_pipeline_free(p);
}

/* Memory estimates as JSON: before loading (the builder's folder and options)
 * and with a loaded pipeline; sequential offload for a GPU estimates less. */
static double total_mb(const char *json) {
    /* The estimate's own total is the last "total_mb" (each phase has one before it). */
    const char *key = "\"total_mb\":", *last = NULL;
    for (const char *k = json; k && (k = strstr(k, key)) != NULL; k++) last = k;
    return last ? atof(last + strlen(key)) : -1.0;
}

static void test_estimates(const char *model) {
    struct stat sb;
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) return; /* reported by test_generation */
    sora_request *r = NULL;
    EXPECT(sora_request_new_text("a red ball bounces", &r), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "width", 64), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "height", 48), SORA_OK, NULL);
    EXPECT(sora_request_set_int(r, "frames", 9), SORA_OK, NULL);
    sora_pipeline_builder *b = NULL;
    EXPECT(sora_pipeline_builder_new(model, &b), SORA_OK, NULL);
    char *plain = (char *)0x1, *seq = NULL, *loaded = NULL;
    EXPECT(sora_pipeline_builder_estimate_json(NULL, r, &plain), INVALID, "builder");
    CHECK(plain == NULL, "no estimate without a builder");
    EXPECT(sora_pipeline_builder_estimate_json(b, r, NULL), INVALID, "json");
    EXPECT(sora_pipeline_builder_estimate_json(b, r, &plain), SORA_OK, NULL);
    CHECK(plain && strstr(plain, "\"peak_phase\"") && strstr(plain, "\"load\""),
          "estimate JSON with phases: %s", plain ? plain : "(null)");
    EXPECT(sora_pipeline_builder_set(b, "device", "cuda"), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "offload", "sequential"), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_estimate_json(b, r, &seq), SORA_OK, NULL);
    CHECK(seq && strstr(seq, "\"device\":\"cuda:0\""), "estimate for cuda: %s", seq ? seq : "(null)");
    EXPECT(sora_request_set_int(r, "width", 30), SORA_OK, NULL);
    char *bad = (char *)0x1;
    EXPECT(sora_pipeline_builder_estimate_json(b, r, &bad), INVALID, "width");
    CHECK(bad == NULL, "no estimate for a size the model cannot take");
    EXPECT(sora_request_set_int(r, "width", 64), SORA_OK, NULL);
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(model, "cpu", "float32", 0, &p), SORA_OK, NULL);
    EXPECT(sora_pipeline_estimate_json(p, r, &loaded), SORA_OK, NULL);
    CHECK(total_mb(loaded) > 0 && total_mb(loaded) <= total_mb(plain),
          "loaded estimate %.1f within the folder's %.1f (no loading phase)",
          total_mb(loaded), total_mb(plain));
    sora_string_free(plain);
    sora_string_free(seq);
    sora_string_free(loaded);
    sora_pipeline_free(p);
    sora_pipeline_builder_free(b);
    sora_request_free(r);
}

/* The physics report of frames in memory (no model needed): a static clip has
 * no flicker, a moving one some; bad input is refused with a message. */
static double json_number(const char *json, const char *key) {
    const char *k = json ? strstr(json, key) : NULL;
    return k ? atof(k + strlen(key)) : -1.0;
}

static void test_physics_score(void) {
    enum { T = 5, H = 24, W = 32 };
    static uint8_t still[T * H * W * 3], moving[T * H * W * 3];
    for (int t = 0; t < T; t++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < 3; c++) {
                    size_t i = (((size_t)t * H + y) * W + x) * 3 + c;
                    still[i] = (uint8_t)((x * 7 + y * 13 + c * 50) % 256);
                    moving[i] = (uint8_t)(((x + 2 * t) * 7 + y * 13 + c * 50) % 256);
                }
    static float audio[2 * 4000];
    for (int i = 0; i < 2 * 4000; i++) audio[i] = (float)((i % 40) - 20) / 40.0f;
    char *json = (char *)0x1;
    EXPECT(sora_physics_score_json(still, T, H, W, 8.0f, NULL, 0, 0, 0, &json), SORA_OK, NULL);
    CHECK(json && json_number(json, "\"flicker\":") == 0.0 &&
              json_number(json, "\"dynamic_degree\":") == 0.0 && strstr(json, "\"findings\":["),
          "static clip's report: %s", json ? json : "(null)");
    sora_string_free(json);
    json = NULL;
    EXPECT(sora_physics_score_json(moving, T, H, W, 8.0f, audio, 2, 4000, 8000, &json), SORA_OK,
           NULL);
    CHECK(json && json_number(json, "\"flicker\":") > 0.0 && strstr(json, "\"warping_error\":"),
          "moving clip's report: %s", json ? json : "(null)");
    sora_string_free(json);
    json = (char *)0x1;
    EXPECT(sora_physics_score_json(NULL, T, H, W, 8.0f, NULL, 0, 0, 0, &json), INVALID, "frames");
    CHECK(json == NULL, "no report on failure");
    EXPECT(sora_physics_score_json(still, T, H, W, 8.0f, NULL, 0, 0, 0, NULL), INVALID, "json_out");
    EXPECT(sora_physics_score_json(still, 0, H, W, 8.0f, NULL, 0, 0, 0, &json), INVALID, "frames");
    EXPECT(sora_physics_score_json(still, T, H, W, 0.0f, NULL, 0, 0, 0, &json), INVALID, "fps");
    EXPECT(sora_physics_score_json(still, T, H, W, 8.0f, audio, 0, 4000, 8000, &json), INVALID,
           "audio");
    EXPECT(sora_physics_score_json(still, T, H, W, 8.0f, audio, 2, 4000, 0, &json), INVALID,
           "sample rate");
}

/* The prompt gate: allowed (0), refused with the decision still written,
 * a consent opening it, a protected character, bad arguments. */
static void test_check_prompt(void) {
    const char *reg = "tests/it/data/safety_registry.json";
    char *json = (char *)0x1;
    EXPECT(sora_check_prompt(reg, "a rose garden at dawn", NULL, NULL, &json), SORA_OK, NULL);
    CHECK(json && strstr(json, "\"allowed\":true"), "allowed: %s", json ? json : "(null)");
    sora_string_free(json);
    json = NULL;
    EXPECT(sora_check_prompt(reg, "t.o.m h-a-n-l-e-y on a boat", NULL, "studio-a", &json),
           SORA_ERR_CONSENT_REQUIRED, "Tom Hanley");
    CHECK(json && strstr(json, "\"allowed\":false") && strstr(json, "\"entry\":\"Tom Hanley\""),
          "refused: %s", json ? json : "(null)");
    sora_string_free(json);
    json = NULL;
    EXPECT(sora_check_prompt(reg, "Tom Hanley on a boat", "tom-studio", "studio-a", &json), SORA_OK,
           NULL);
    CHECK(json && strstr(json, "\"consent\":\"tom-studio\""), "consent: %s",
          json ? json : "(null)");
    sora_string_free(json);
    json = NULL;
    EXPECT(sora_check_prompt(reg, "Glimmerpup", "tom-studio", "studio-a", &json),
           SORA_ERR_PROTECTED_CONTENT, "Glimmerpup");
    sora_string_free(json);
    CHECK(strcmp(sora_status_name(SORA_ERR_CONSENT_REQUIRED), "SORA_ERR_CONSENT_REQUIRED") == 0,
          "status name");
    json = (char *)0x1;
    EXPECT(sora_check_prompt(NULL, "x", NULL, NULL, &json), INVALID, "registry_path");
    CHECK(json == NULL, "no decision on failure");
    EXPECT(sora_check_prompt(reg, NULL, NULL, NULL, &json), INVALID, "text");
    EXPECT(sora_check_prompt(reg, "x", NULL, NULL, NULL), INVALID, "json_out");
    EXPECT(sora_check_prompt("/nonexistent/registry.json", "x", NULL, NULL, &json), SORA_ERR_IO,
           "/nonexistent/registry.json");
}

/* The gate inside a pipeline: registry and owner key as builder options, the
 * consent as a request key. */
static void test_gate_in_pipeline(const char *model) {
    struct stat sb;
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) return; /* reported by test_generation */
    sora_pipeline_builder *b = NULL;
    EXPECT(sora_pipeline_builder_new(model, &b), SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "safety_registry", "tests/it/data/safety_registry.json"),
           SORA_OK, NULL);
    EXPECT(sora_pipeline_builder_set(b, "owner_key", "studio-a"), SORA_OK, NULL);
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_builder_build(b, &p), SORA_OK, NULL);
    sora_pipeline_builder_free(b);
    if (!p) return;
    sora_request *r = small_request();
    EXPECT(sora_request_set_string(r, "prompt", "Z e n d r i k a sings"), SORA_OK, NULL);
    sora_clip *clip = (sora_clip *)0x1;
    EXPECT(sora_generate(p, r, NULL, NULL, NULL, &clip), SORA_ERR_CONSENT_REQUIRED, "Zendrika");
    CHECK(clip == NULL, "no clip when refused");
    EXPECT(sora_request_set_string(r, "consent", "zendrika-studio"), SORA_OK, NULL);
    EXPECT(sora_generate(p, r, NULL, NULL, NULL, &clip), SORA_OK, NULL);
    sora_clip_free(clip);
    sora_request_free(r);
    sora_pipeline_free(p);
}

/* Extending our own MP4 through sora_request_extend: the clip's frames come
 * back (within the codec's tolerance), then the new ones, at its rate. */
static void test_extend(const char *model) {
    struct stat sb;
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) return;
    sora_pipeline *p = NULL;
    EXPECT(sora_pipeline_new(model, "cpu", "float32", 0, &p), SORA_OK, NULL);
    if (!p) return;
    sora_request *r = small_request();
    EXPECT(sora_request_set_int(r, "frames", 9), SORA_OK, NULL);
    sora_clip *src = NULL;
    EXPECT(sora_generate(p, r, NULL, NULL, NULL, &src), SORA_OK, NULL);
    sora_request_free(r);
    char dir[] = "/tmp/sora-c-extend-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char mp4[256], longer[256];
    snprintf(mp4, sizeof mp4, "%s/first.mp4", dir);
    snprintf(longer, sizeof longer, "%s/longer.mp4", dir);
    if (src) EXPECT(sora_clip_save(src, mp4), SORA_OK, NULL);

    sora_request *e = NULL;
    EXPECT(sora_request_new_text("a red ball bounces on a wooden floor", &e), SORA_OK, NULL);
    EXPECT(sora_request_extend(NULL, mp4, 1.0f), INVALID, "request");
    EXPECT(sora_request_extend(e, NULL, 1.0f), INVALID, "clip_path");
    EXPECT(sora_request_extend(e, "/nonexistent/clip.mp4", 1.0f), SORA_ERR_IO, NULL);
    EXPECT(sora_request_extend(e, mp4, 1.0f), SORA_OK, NULL);
    EXPECT(sora_request_set_int(e, "steps", 2), SORA_OK, NULL);
    EXPECT(sora_request_set_int(e, "seed", 3), SORA_OK, NULL);
    sora_clip *out = NULL;
    EXPECT(sora_generate(p, e, NULL, NULL, NULL, &out), SORA_OK, NULL);
    if (src && out) {
        const uint8_t *a = NULL, *b = NULL;
        size_t t0 = 0, h0 = 0, w0 = 0, t1 = 0, h1 = 0, w1 = 0;
        EXPECT(sora_clip_frames(src, &a, &t0, &h0, &w0), SORA_OK, NULL);
        EXPECT(sora_clip_frames(out, &b, &t1, &h1, &w1), SORA_OK, NULL);
        /* 9 frames + 1 s at 16 fps: 16 added. */
        CHECK(t0 == 9 && t1 == 25 && h1 == h0 && w1 == w0, "extended %zux%zux%zu from %zux%zux%zu",
              t1, h1, w1, t0, h0, w0);
        float fps = 0;
        EXPECT(sora_clip_fps(out, &fps), SORA_OK, NULL);
        CHECK(fps == 16.0f, "fps %f", fps);
        size_t n = t0 * h0 * w0 * 3;
        double diff = 0, added = 0;
        for (size_t i = 0; i < n && t1 >= t0; i++) diff += abs((int)a[i] - (int)b[i]);
        for (size_t i = n; i < t1 * h1 * w1 * 3; i++) added += b[i];
        diff /= (double)(n ? n : 1);
        printf("extend: mean |delta| of the source's frames after the MP4 round trip %.3f/255\n", diff);
        /* One H.264 encode of the tiny fixture's noise-like 32x32 frames costs ~5/255. */
        CHECK(diff < 8.0, "the source's frames changed by %.3f/255", diff);
        CHECK(added > 0, "the added frames are black");
        const float *au = NULL;
        size_t ch = 0, samples = 0;
        uint32_t rate = 0;
        EXPECT(sora_clip_audio(out, &au, &ch, &samples), SORA_OK, NULL);
        EXPECT(sora_clip_sample_rate(out, &rate), SORA_OK, NULL);
        if (au && rate) {
            double secs = (double)samples / rate, want = (double)t1 / fps;
            CHECK(secs > want - 0.03 && secs < want + 0.03, "audio %.3f s for %.3f s of frames", secs, want);
        }
        /* From a PNG folder (lossless) the source's frames come back exactly. */
        char pngs[256];
        snprintf(pngs, sizeof pngs, "%s/frames", dir);
        EXPECT(sora_clip_save(src, pngs), SORA_OK, NULL);
        sora_request *q = NULL;
        EXPECT(sora_request_new_text("a red ball bounces on a wooden floor", &q), SORA_OK, NULL);
        EXPECT(sora_request_extend(q, pngs, 0.5f), SORA_OK, NULL);
        EXPECT(sora_request_set_int(q, "steps", 1), SORA_OK, NULL);
        sora_clip *exact = NULL;
        EXPECT(sora_generate(p, q, NULL, NULL, NULL, &exact), SORA_OK, NULL);
        const uint8_t *c = NULL;
        size_t t2 = 0, h2 = 0, w2 = 0;
        if (exact) EXPECT(sora_clip_frames(exact, &c, &t2, &h2, &w2), SORA_OK, NULL);
        CHECK(c && t2 == 17 && memcmp(a, c, n) == 0, "PNG source frames exact (%zu frames)", t2);
        sora_clip_free(exact);
        sora_request_free(q);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", pngs);
        CHECK(system(cmd) == 0, "rm %s", pngs);
        /* Written to a file, as sora_generate_to_file streams it. */
        EXPECT(sora_generate_to_file(p, e, longer, NULL, NULL, NULL, NULL), SORA_OK, NULL);
        CHECK(stat(longer, &sb) == 0 && sb.st_size > 1000, "the extended MP4 was written");
    }
    /* Timed prompts (long-form): checked, then generated as a chain of
       windows (17 frames in windows of 9, the prompt changing at 0.5 s). */
    sora_request *lf = small_request();
    EXPECT(sora_request_prompt_at(lf, -1.0f, "x"), INVALID, "seconds");
    EXPECT(sora_request_prompt_at(lf, 5.0f, NULL), INVALID, "text");
    EXPECT(sora_request_prompt_at(lf, 0.5f, "the fox sleeps"), SORA_OK, NULL);
    EXPECT(sora_request_set_int(lf, "frames", 17), SORA_OK, NULL);
    EXPECT(sora_request_set_int(lf, "window_frames", 9), SORA_OK, NULL);
    EXPECT(sora_request_set_int(lf, "window_overlap", 1), SORA_OK, NULL);
    sora_clip *long_clip = NULL;
    EXPECT(sora_generate(p, lf, NULL, NULL, NULL, &long_clip), SORA_OK, NULL);
    {
        const uint8_t *lf_frames = NULL;
        size_t lt = 0, lh = 0, lw = 0;
        if (long_clip) EXPECT(sora_clip_frames(long_clip, &lf_frames, &lt, &lh, &lw), SORA_OK, NULL);
        CHECK(lt == 17 && lh == 32 && lw == 32, "long-form clip of %zu frames", lt);
    }
    sora_clip_free(long_clip);
    sora_request_free(lf);
    sora_clip_free(out);
    sora_clip_free(src);
    sora_request_free(e);
    sora_pipeline_free(p);
    unlink(longer);
    unlink(mp4);
    rmdir(dir);
}

int main(void) {
    const char *model = getenv("SORA_TEST_MODEL");
    if (!model || !*model) model = "target/fixtures/wan_pipeline/t2v_21/model";

    printf("sora %s\n", sora_version());
    test_version();
    test_free_null();
    test_null_pointers();
    test_utf8();
    test_model_folder_errors();
    test_pipeline_builder();
    test_request_keys();
    test_cancel_lifecycle();
    test_physics_score();
    test_check_prompt();
    /* SORA_C_SCOPE=boundary: the argument, error and lifetime checks above
     * only (what the slow memory checker, Valgrind, runs; the generation
     * checks below run in full under AddressSanitizer, see run.sh). */
    const char *scope = getenv("SORA_C_SCOPE");
    if (scope && strcmp(scope, "boundary") == 0) {
        printf("%d passed, %d failed (boundary checks only)\n", g_passed, g_failed);
        return g_failed == 0 ? 0 : 1;
    }
    test_default_model();
    test_generation(model);
    test_gate_in_pipeline(model);
    test_generate_to_file(model);
    test_estimates(model);
    test_extend(model);

    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
