//! Streaming output: `Pipeline::generate_to_file` decodes chunk by chunk
//! straight into an MP4, a PNG folder or an image, byte-identical to
//! `generate` + `Clip::save`; `io::ClipWriter` fed a clip in pieces writes the
//! same bytes as the whole-clip writers (MP4 with audio, WAV, PNG); a
//! cancelled or failed streaming run leaves nothing behind; a bad output path
//! is a typed error before any work.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{s, Array2, Array4};
use sora_core::io::{self, ClipSpec, ClipWriter};
use sora_core::{Error, Phase, Pipeline, Progress, Request};
use sora_tests::{fixture, workspace};

/// A fresh empty folder under `target/streaming-tests/`.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = workspace()
        .join("target")
        .join("streaming-tests")
        .join(format!(
            "{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn pipeline(case: &str) -> Pipeline {
    Pipeline::builder()
        .model(fixture("wan_pipeline").join(case).join("model"))
        .build()
        .unwrap()
}

/// 9 frames = 3 latent frames: three decoded chunks (1 + 4 + 4 frames).
fn request() -> Request {
    Request::text("a red fox runs through fresh snow")
        .size(32, 32)
        .frames(9)
        .steps(2)
        .seed(11)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Asserts that the files of two folders have the same names and bytes.
fn assert_same_folder(a: &Path, b: &Path) {
    let (na, nb) = (names(a), names(b));
    assert_eq!(na, nb, "file names differ");
    for n in na {
        let (x, y) = (
            std::fs::read(a.join(&n)).unwrap(),
            std::fs::read(b.join(&n)).unwrap(),
        );
        assert!(x == y, "{n} differs");
    }
}

#[test]
fn streamed_mp4_is_byte_identical_to_generate_then_save() {
    for case in ["t2v_21", "t2v_22_ti2v"] {
        let dir = scratch("mp4");
        let pipe = pipeline(case);
        let clip = pipe.generate(&request(), &mut Progress::none()).unwrap();
        assert_eq!(clip.frames.shape(), &[9, 32, 32, 3]);
        let whole = dir.join("whole.mp4");
        clip.save(&whole).unwrap();
        let streamed = dir.join("streamed.mp4");
        let meta = pipe
            .generate_to_file(&request(), &mut Progress::none(), &streamed)
            .unwrap();
        // Byte for byte but for the content-credentials manifest (randomly salted).
        assert!(
            sora_tests::same_outside_manifest(&whole, &streamed),
            "{case}: streamed MP4 differs from Clip::save's"
        );
        assert_eq!(names(&dir), vec!["streamed.mp4", "whole.mp4"], "{case}");
        assert_eq!(meta.frames, 9);
        assert_eq!((meta.width, meta.height, meta.fps), (32, 32, clip.meta.fps));
        assert_eq!(meta.seed, 11);
        assert!(!meta.has_audio);
        assert!(meta.peak_rss_mb > 0.0);
        assert_eq!(meta.timings.steps_s.len(), 2);
        assert!(meta.timings.decode_s >= 0.0 && meta.timings.total_s >= meta.timings.decode_s);
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn streamed_png_folder_and_image_are_byte_identical_to_save() {
    let dir = scratch("png");
    let pipe = pipeline("t2v_21");
    let clip = pipe.generate(&request(), &mut Progress::none()).unwrap();
    let whole = dir.join("whole");
    clip.save(&whole).unwrap();
    let streamed = dir.join("streamed");
    pipe.generate_to_file(&request(), &mut Progress::none(), &streamed)
        .unwrap();
    // Nine frames and sora's marker file.
    assert_eq!(names(&streamed).len(), 10);
    assert!(io::is_sora_output(&streamed).unwrap());
    assert_same_folder(&whole, &streamed);
    // Streaming again over the frame folder replaces it.
    pipe.generate_to_file(&request(), &mut Progress::none(), &streamed)
        .unwrap();
    assert_same_folder(&whole, &streamed);

    // A one-frame clip into a single image.
    let one = request().frames(1);
    let clip = pipe.generate(&one, &mut Progress::none()).unwrap();
    clip.save(dir.join("whole.png")).unwrap();
    pipe.generate_to_file(&one, &mut Progress::none(), dir.join("streamed.png"))
        .unwrap();
    assert_eq!(
        std::fs::read(dir.join("whole.png")).unwrap(),
        std::fs::read(dir.join("streamed.png")).unwrap()
    );
    assert_eq!(
        names(&dir),
        vec!["streamed", "streamed.png", "whole", "whole.png"]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn decode_reports_progress_per_chunk_in_both_paths() {
    let dir = scratch("progress");
    let pipe = pipeline("t2v_21");
    for to_file in [false, true] {
        let mut events = Vec::new();
        {
            let mut p = Progress::with_callback(|s| {
                if s.phase == Phase::Decode {
                    events.push((s.step, s.total));
                }
                true
            });
            if to_file {
                pipe.generate_to_file(&request(), &mut p, dir.join("x.mp4"))
                    .unwrap();
            } else {
                pipe.generate(&request(), &mut p).unwrap();
            }
        }
        assert_eq!(events, vec![(1, 9), (5, 9), (9, 9)], "to_file={to_file}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `generate_to_file` into `out` with a callback that cancels at the
/// `n`-th event of `phase`; asserts `Cancelled` and an empty folder after.
fn cancel_at(pipe: &Pipeline, dir: &Path, out: &Path, phase: Phase, n: usize) {
    let mut seen = 0;
    let mut p = Progress::with_callback(|s| {
        if s.phase == phase {
            seen += 1;
            return seen < n;
        }
        true
    });
    let r = pipe.generate_to_file(&request(), &mut p, out);
    assert!(matches!(r, Err(Error::Cancelled)), "{:?}", r.err());
    assert!(!out.exists(), "{} was left behind", out.display());
    assert_eq!(names(dir), Vec::<String>::new(), "temporary files left");
}

#[test]
fn cancelled_streaming_runs_leave_nothing() {
    let dir = scratch("cancel");
    let pipe = pipeline("t2v_21");
    for out in [dir.join("clip.mp4"), dir.join("frames")] {
        // Mid-decode: after the second of three chunks (frames already written).
        cancel_at(&pipe, &dir, &out, Phase::Decode, 2);
        // After the last chunk, before the file is completed.
        cancel_at(&pipe, &dir, &out, Phase::Decode, 3);
        // Mid-denoise.
        cancel_at(&pipe, &dir, &out, Phase::Denoise, 1);
    }
    // A token cancelled before the run.
    let token = sora_core::CancelToken::new();
    token.cancel();
    let out = dir.join("clip.mp4");
    let r = pipe.generate_to_file(&request(), &mut Progress::none().token(token), &out);
    assert!(matches!(r, Err(Error::Cancelled)));
    assert_eq!(names(&dir), Vec::<String>::new());
    // The pipeline still works after cancelled runs.
    pipe.generate_to_file(&request(), &mut Progress::none(), &out)
        .unwrap();
    assert!(io::read_mp4(&out).unwrap().frames.shape()[0] == 9);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_output_paths_fail_before_any_work() {
    let dir = scratch("badpath");
    let pipe = pipeline("t2v_21");
    let taken = dir.join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), b"keep me").unwrap();
    let folder_mp4 = dir.join("folder.mp4");
    std::fs::create_dir(&folder_mp4).unwrap();
    type Check = fn(&Error) -> bool;
    let cases: Vec<(PathBuf, Check)> = vec![
        (dir.join("clip.avi"), |e| {
            matches!(e, Error::InvalidRequest(_))
        }),
        (dir.join("no/such/clip.mp4"), |e| {
            matches!(e, Error::Io { .. })
        }),
        (dir.join("no/such/frames"), |e| {
            matches!(e, Error::Io { .. })
        }),
        // Wan makes no audio.
        (dir.join("clip.wav"), |e| {
            matches!(e, Error::InvalidRequest(_))
        }),
        // An image file takes one frame; the request makes 9.
        (dir.join("clip.png"), |e| {
            matches!(e, Error::InvalidRequest(_))
        }),
        // A folder sora did not write is never replaced.
        (taken.clone(), |e| matches!(e, Error::InvalidRequest(_))),
        // Nor is a folder where a file should go.
        (folder_mp4.clone(), |e| {
            matches!(e, Error::InvalidRequest(_))
        }),
    ];
    for (out, check) in cases {
        let mut events = 0;
        let r = {
            let mut p = Progress::with_callback(|_| {
                events += 1;
                true
            });
            pipe.generate_to_file(&request(), &mut p, &out)
        };
        let e = r.expect_err(&out.display().to_string());
        assert!(check(&e), "{}: {e}", out.display());
        assert_eq!(
            events,
            0,
            "{}: work started before the error",
            out.display()
        );
    }
    assert_eq!(names(&dir), vec!["folder.mp4", "taken"]);
    assert_eq!(names(&taken), vec!["notes.txt"]);
    assert_eq!(names(&folder_mp4), Vec::<String>::new());
    // Odd sizes cannot be H.264: refused before work too (the frame folder takes them).
    let e = io::ClipWriter::create(
        &dir.join("odd.mp4"),
        &ClipSpec {
            width: 33,
            height: 32,
            frames: 9,
            fps: 16.0,
            audio: false,
        },
    )
    .err()
    .unwrap();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    assert!(!dir.join("odd.mp4").exists());
    let _ = std::fs::remove_dir_all(dir);
}

/// `[C, S]` test audio: two sines.
fn tone(channels: usize, samples: usize, sample_rate: u32) -> Array2<f32> {
    Array2::from_shape_fn((channels, samples), |(c, i)| {
        let t = i as f32 / sample_rate as f32;
        0.4 * (2.0 * std::f32::consts::PI * (330.0 + 110.0 * c as f32) * t).sin()
    })
}

/// A moving pattern `[T, H, W, 3]`.
fn frames(t: usize, h: usize, w: usize) -> Array4<u8> {
    Array4::from_shape_fn((t, h, w, 3), |(f, y, x, c)| {
        ((x * 3 + y * 5 + f * 7 + c * 50) % 256) as u8
    })
}

/// Feeds `video` and `audio` to a writer for `path` in uneven pieces.
fn write_in_pieces(path: &Path, video: &Array4<u8>, audio: Option<(&Array2<f32>, u32)>) {
    let (t, h, w, _) = video.dim();
    let spec = ClipSpec {
        width: w as u32,
        height: h as u32,
        frames: t as u32,
        fps: 12.0,
        audio: audio.is_some(),
    };
    let mut writer = ClipWriter::create(path, &spec).unwrap();
    let mut at = 0;
    for (i, n) in [1usize, 4, 2, 4, 100].iter().enumerate() {
        let end = (at + n).min(t);
        if at < end {
            writer
                .write_frames(video.slice(s![at..end, .., .., ..]))
                .unwrap();
        }
        at = end;
        if let Some((a, sr)) = audio {
            // Audio pieces of odd lengths, interleaved with the frames.
            let len = a.ncols();
            let (from, to) = (len * i / 5, len * (i + 1) / 5);
            writer.write_audio(a.slice(s![.., from..to]), sr).unwrap();
        }
    }
    assert_eq!(
        writer.frames_written(),
        if path.extension().is_some_and(|e| e == "wav") {
            0
        } else {
            t
        }
    );
    writer.finish().unwrap();
}

#[test]
fn clip_writer_in_pieces_equals_the_whole_clip_writers() {
    let dir = scratch("pieces");
    let video = frames(11, 48, 64);
    for (channels, rate) in [(2usize, 44_100u32), (1, 24_000)] {
        let audio = tone(channels, 11 * rate as usize / 12 + 37, rate);
        let whole = dir.join("whole.mp4");
        io::write_mp4(&whole, video.view(), 12.0, Some((audio.view(), rate))).unwrap();
        let pieces = dir.join("pieces.mp4");
        write_in_pieces(&pieces, &video, Some((&audio, rate)));
        assert!(
            std::fs::read(&whole).unwrap() == std::fs::read(&pieces).unwrap(),
            "MP4 with {channels}-channel audio at {rate} Hz differs"
        );
        let back = io::read_mp4(&pieces).unwrap();
        assert_eq!(back.audio.unwrap().dim(), (channels, audio.ncols()));

        let whole = dir.join("whole.wav");
        io::write_wav_as(&whole, audio.view(), rate, io::WavFormat::Float32).unwrap();
        let pieces = dir.join("pieces.wav");
        write_in_pieces(&pieces, &video, Some((&audio, rate)));
        assert_eq!(
            std::fs::read(&whole).unwrap(),
            std::fs::read(&pieces).unwrap()
        );
    }
    // Without audio (the filler silence).
    let whole = dir.join("silent-whole.mp4");
    io::write_mp4(&whole, video.view(), 12.0, None).unwrap();
    let pieces = dir.join("silent-pieces.mp4");
    write_in_pieces(&pieces, &video, None);
    assert!(std::fs::read(&whole).unwrap() == std::fs::read(&pieces).unwrap());
    // PNG folder, with and without its audio.wav.
    for (case, audio) in [("a", Some(tone(2, 9_000, 24_000))), ("s", None)] {
        let clip = sora_core::Clip {
            frames: video.clone(),
            audio: audio.clone(),
            fps: 12.0,
            sample_rate: if audio.is_some() { 24_000 } else { 0 },
            meta: Default::default(),
        };
        let whole = dir.join(format!("whole-{case}"));
        io::save_clip(&clip, &whole).unwrap();
        let pieces = dir.join(format!("pieces-{case}"));
        write_in_pieces(&pieces, &video, audio.as_ref().map(|a| (a, 24_000)));
        assert_same_folder(&whole, &pieces);
        assert_eq!(whole.join("audio.wav").exists(), audio.is_some());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn clip_writers_refuse_bad_pieces_and_leave_nothing() {
    let dir = scratch("badpieces");
    let spec = ClipSpec {
        width: 64,
        height: 48,
        frames: 4,
        fps: 12.0,
        audio: true,
    };
    for name in ["clip.mp4", "frames", "clip.wav"] {
        let path = dir.join(name);
        // Dropped without finish: nothing stays.
        let mut w = ClipWriter::create(&path, &spec).unwrap();
        w.write_frames(frames(2, 48, 64).view()).unwrap();
        w.write_audio(tone(1, 5000, 48_000).view(), 48_000).unwrap();
        drop(w);
        assert_eq!(names(&dir), Vec::<String>::new(), "{name}");
    }
    // Frames of another size than announced / than the first.
    let mut w = ClipWriter::create(&dir.join("clip.mp4"), &spec).unwrap();
    let e = w.write_frames(frames(1, 32, 64).view()).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    drop(w);
    let mut w = ClipWriter::create(&dir.join("frames"), &spec).unwrap();
    w.write_frames(frames(1, 48, 64).view()).unwrap();
    let e = w.write_frames(frames(1, 32, 64).view()).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    drop(w);
    // Audio that changes rate or channels mid-clip.
    for name in ["clip.mp4", "clip.wav"] {
        let mut w = ClipWriter::create(&dir.join(name), &spec).unwrap();
        w.write_audio(tone(1, 500, 48_000).view(), 48_000).unwrap();
        let e = w
            .write_audio(tone(1, 500, 24_000).view(), 24_000)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{name}: {e}");
        let e = w
            .write_audio(tone(2, 500, 48_000).view(), 48_000)
            .unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{name}: {e}");
    }
    // Nothing written: finishing is an error, and leaves nothing.
    for name in ["clip.mp4", "frames", "clip.wav"] {
        let w = ClipWriter::create(&dir.join(name), &spec).unwrap();
        let e = w.finish().unwrap_err();
        assert!(matches!(e, Error::InvalidRequest(_)), "{name}: {e}");
    }
    // An image path takes exactly one frame.
    let one = ClipSpec { frames: 1, ..spec };
    let mut w = ClipWriter::create(&dir.join("one.png"), &one).unwrap();
    let e = w.write_frames(frames(2, 48, 64).view()).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    assert_eq!(names(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(dir);
}
