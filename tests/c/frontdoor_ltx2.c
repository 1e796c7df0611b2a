/* The LTX-2 front-door request through the C ABI: generates it on the model
 * folder argv[1] and writes the frames (raw RGB, [T, H, W, 3]) to argv[2] and
 * the audio (little-endian float32, [channels, samples]) to argv[3], for the
 * Python suite to compare with the Rust API and Python (byte for byte).
 * The request is sora-cli/tests/cli.rs's LTX2_FRONTDOOR. Exit 0 on success. */
#include <stdio.h>
#include <stdlib.h>

#include "sora.h"

static int ok(enum sora_status s, const char *what) {
    if (s != SORA_OK) {
        fprintf(stderr, "frontdoor_ltx2: %s failed (%d): %s\n", what, (int)s, sora_last_error());
        return 0;
    }
    return 1;
}

static int write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t put = fwrite(data, 1, n, f);
    return fclose(f) == 0 && put == n;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: frontdoor_ltx2 MODEL_DIR FRAMES_OUT AUDIO_OUT\n");
        return 2;
    }
    int rc = 1;
    sora_pipeline *p = NULL;
    sora_request *r = NULL;
    sora_clip *clip = NULL;
    if (!ok(sora_pipeline_new(argv[1], "cpu", "float32", 0, &p), "sora_pipeline_new")) goto done;
    if (!ok(sora_request_new_text("a red ball bounces on a wooden floor", &r), "request")) goto done;
    if (!ok(sora_request_set_int(r, "width", 96), "width") ||
        !ok(sora_request_set_int(r, "height", 64), "height") ||
        !ok(sora_request_set_int(r, "frames", 9), "frames") ||
        !ok(sora_request_set_int(r, "fps", 24), "fps") ||
        !ok(sora_request_set_int(r, "steps", 2), "steps") ||
        !ok(sora_request_set_int(r, "seed", 7), "seed") ||
        !ok(sora_request_set(r, "max_sequence_length", "24"), "max_sequence_length") ||
        !ok(sora_request_set(r, "spatio_temporal_guidance_blocks", "1"), "stg blocks"))
        goto done;
    if (!ok(sora_generate(p, r, NULL, NULL, NULL, &clip), "sora_generate")) goto done;
    const uint8_t *frames = NULL;
    size_t t = 0, h = 0, w = 0;
    if (!ok(sora_clip_frames(clip, &frames, &t, &h, &w), "frames")) goto done;
    const float *audio = NULL;
    size_t ch = 0, ns = 0;
    if (!ok(sora_clip_audio(clip, &audio, &ch, &ns), "audio")) goto done;
    if (!audio || ch == 0 || ns == 0) {
        fprintf(stderr, "frontdoor_ltx2: the clip has no audio\n");
        goto done;
    }
    if (!write_file(argv[2], frames, t * h * w * 3) ||
        !write_file(argv[3], audio, ch * ns * sizeof(float))) {
        fprintf(stderr, "frontdoor_ltx2: cannot write the outputs\n");
        goto done;
    }
    printf("frontdoor_ltx2: %zu frames %zux%zu, audio %zu x %zu\n", t, w, h, ch, ns);
    rc = 0;
done:
    sora_clip_free(clip);
    sora_request_free(r);
    sora_pipeline_free(p);
    return rc;
}
