/* The LTX-2 front-door request through the C ABI: generates it on the model
 * folder argv[1] and writes the frames (raw RGB, [T, H, W, 3]) to argv[2] and
 * the audio (little-endian float32, [channels, samples]) to argv[3], for the
 * Python suite to compare with the Rust API and Python (byte for byte).
 * The request is sora-cli/tests/cli.rs's LTX2_FRONTDOOR.
 * With argv[4..6]: the clip is saved as a PNG folder (frames and a float WAV)
 * at argv[4], extended from there by 0.5 s (`sora_request_extend`), and the
 * extension's frames and audio written to argv[5] and argv[6], for Python to
 * compare with its own extension of the same clip. With argv[7..8] as well:
 * a long-form request (41 frames in windows of 25 holding 2 latent frames, a
 * timed prompt at 1 s: two windows, the second holding the first's video and
 * audio latents), its frames and audio written there for Python to compare
 * with its own run of the same request. Exit 0 on success. */
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

/* Writes a clip's frames and audio (which it must have) to the two paths. */
static int write_clip(const sora_clip *clip, const char *rgb, const char *f32) {
    const uint8_t *frames = NULL;
    size_t t = 0, h = 0, w = 0;
    if (!ok(sora_clip_frames(clip, &frames, &t, &h, &w), "frames")) return 0;
    const float *audio = NULL;
    size_t ch = 0, ns = 0;
    if (!ok(sora_clip_audio(clip, &audio, &ch, &ns), "audio")) return 0;
    if (!audio || ch == 0 || ns == 0) {
        fprintf(stderr, "frontdoor_ltx2: the clip has no audio\n");
        return 0;
    }
    if (!write_file(rgb, frames, t * h * w * 3) || !write_file(f32, audio, ch * ns * sizeof(float))) {
        fprintf(stderr, "frontdoor_ltx2: cannot write the outputs\n");
        return 0;
    }
    printf("frontdoor_ltx2: %zu frames %zux%zu, audio %zu x %zu\n", t, w, h, ch, ns);
    return 1;
}

/* The front door's text request of `frames` frames: 96x64 at 24 fps, 2 steps,
 * seed 7, prompts of up to 24 tokens. */
static int front_request(sora_request **r, int64_t frames) {
    return ok(sora_request_new_text("a red ball bounces on a wooden floor", r), "request") &&
           ok(sora_request_set_int(*r, "width", 96), "width") &&
           ok(sora_request_set_int(*r, "height", 64), "height") &&
           ok(sora_request_set_int(*r, "frames", frames), "frames") &&
           ok(sora_request_set_int(*r, "fps", 24), "fps") &&
           ok(sora_request_set_int(*r, "steps", 2), "steps") &&
           ok(sora_request_set_int(*r, "seed", 7), "seed") &&
           ok(sora_request_set(*r, "max_sequence_length", "24"), "max_sequence_length");
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 7 && argc != 9) {
        fprintf(stderr, "usage: frontdoor_ltx2 MODEL_DIR FRAMES_OUT AUDIO_OUT [CLIP_DIR EXT_FRAMES_OUT "
                        "EXT_AUDIO_OUT [LONG_FRAMES_OUT LONG_AUDIO_OUT]]\n");
        return 2;
    }
    int rc = 1;
    sora_pipeline *p = NULL;
    sora_request *r = NULL;
    sora_clip *clip = NULL;
    sora_request *ext = NULL;
    sora_clip *longer = NULL;
    sora_request *lr = NULL;
    sora_clip *lclip = NULL;
    if (!ok(sora_pipeline_new(argv[1], "cpu", "float32", 0, &p), "sora_pipeline_new")) goto done;
    if (!front_request(&r, 9) ||
        !ok(sora_request_set(r, "spatio_temporal_guidance_blocks", "1"), "stg blocks"))
        goto done;
    if (!ok(sora_generate(p, r, NULL, NULL, NULL, &clip), "sora_generate")) goto done;
    if (!write_clip(clip, argv[2], argv[3])) goto done;
    if (argc >= 7) {
        /* Extension from the saved clip: its frames and sound read back. */
        if (!ok(sora_clip_save(clip, argv[4]), "sora_clip_save")) goto done;
        if (!ok(sora_request_new_text("the ball keeps bouncing", &ext), "extend request") ||
            !ok(sora_request_extend(ext, argv[4], 0.5f), "sora_request_extend") ||
            !ok(sora_request_set_int(ext, "steps", 2), "steps") ||
            !ok(sora_request_set_int(ext, "seed", 7), "seed") ||
            !ok(sora_request_set(ext, "max_sequence_length", "24"), "max_sequence_length") ||
            !ok(sora_request_set(ext, "spatio_temporal_guidance_blocks", "1"), "stg blocks"))
            goto done;
        if (!ok(sora_generate(p, ext, NULL, NULL, NULL, &longer), "sora_generate (extend)")) goto done;
        if (!write_clip(longer, argv[5], argv[6])) goto done;
    }
    if (argc == 9) {
        if (!front_request(&lr, 41) ||
            !ok(sora_request_set_int(lr, "window_frames", 25), "window_frames") ||
            !ok(sora_request_set_int(lr, "window_overlap", 2), "window_overlap") ||
            !ok(sora_request_prompt_at(lr, 1.0f, "a blue box falls on a metal floor"), "sora_request_prompt_at"))
            goto done;
        if (!ok(sora_generate(p, lr, NULL, NULL, NULL, &lclip), "sora_generate (long-form)")) goto done;
        if (!write_clip(lclip, argv[7], argv[8])) goto done;
    }
    rc = 0;
done:
    sora_clip_free(lclip);
    sora_request_free(lr);
    sora_clip_free(longer);
    sora_request_free(ext);
    sora_clip_free(clip);
    sora_request_free(r);
    sora_pipeline_free(p);
    return rc;
}
