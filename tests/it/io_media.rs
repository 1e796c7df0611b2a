//! Media I/O: MP4 (H.264 + AAC), PNG sequences, WAV and `Clip::save` round
//! trips; typed errors for bad inputs; and an independent check of our MP4
//! files by PyAV (FFmpeg) plus reading MP4 files written by PyAV/libx264
//! (`tests/py/check_media.py`).

use std::f32::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{s, Array2, Array4, ArrayView4, Axis};
use sora_core::io::{
    is_sora_output, read_image, read_mp4, read_png_sequence, read_video, read_wav, save_clip,
    write_mp4, write_png_sequence, write_wav, write_wav_as, WavFormat,
};
use sora_core::{Clip, ClipMeta, Error};
use sora_tests::workspace;

/// A fresh empty folder under `target/io-tests/`.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = workspace().join("target").join("io-tests").join(format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The smooth moving test pattern (same formula as `pattern()` in check_media.py).
fn pattern(t: usize, h: usize, w: usize) -> Array4<u8> {
    Array4::from_shape_fn((1, h, w, 3), |(_, y, x, c)| {
        let (xf, yf) = (x as f64, y as f64);
        let v = match c {
            0 => 255.0 * xf / (w - 1) as f64,
            1 => 255.0 * yf / (h - 1) as f64,
            _ => {
                128.0
                    + 100.0
                        * (2.0 * std::f64::consts::PI * (xf + yf + 3.0 * t as f64) / w as f64).sin()
            }
        };
        v.round().clamp(0.0, 255.0) as u8
    })
}

fn video(frames: usize, h: usize, w: usize) -> Array4<u8> {
    let views: Vec<Array4<u8>> = (0..frames).map(|t| pattern(t, h, w)).collect();
    let views: Vec<ArrayView4<u8>> = views.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(0), &views).unwrap()
}

/// `[C, S]`: a 440 Hz sine on channel 0, a 660 Hz one on channel 1, fading in.
fn tone(channels: usize, samples: usize, sample_rate: u32) -> Array2<f32> {
    Array2::from_shape_fn((channels, samples), |(c, i)| {
        let t = i as f32 / sample_rate as f32;
        let f = 440.0 * (1.0 + 0.5 * c as f32);
        0.5 * (t * 4.0).min(1.0) * (2.0 * PI * f * t).sin()
    })
}

fn mean_abs_diff(a: &Array4<u8>, b: &Array4<u8>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// Root-mean-square of `a − b` over the part where the fade-in is done.
fn rms_err(a: &Array2<f32>, b: &Array2<f32>, skip: usize) -> f32 {
    assert_eq!(a.shape(), b.shape());
    let d = &a.slice(s![.., skip..]) - &b.slice(s![.., skip..]);
    (d.mapv(|v| v * v).mean().unwrap()).sqrt()
}

fn python() -> PathBuf {
    workspace().join(".venv").join("bin").join("python")
}

fn check_media_script() -> PathBuf {
    workspace().join("tests").join("py").join("check_media.py")
}

/// Runs `check_media.py` on `file`; returns (exit ok, stdout + stderr).
fn pyav_check(
    file: &Path,
    frames: usize,
    fps: f32,
    sample_rate: u32,
    duration: f64,
) -> (bool, String) {
    let out = Command::new(python())
        .arg(check_media_script())
        .arg(file)
        .args(["--frames", &frames.to_string()])
        .args(["--fps", &fps.to_string()])
        .args(["--sample-rate", &sample_rate.to_string()])
        .args(["--duration", &duration.to_string()])
        .output()
        .expect("cannot run .venv/bin/python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn mp4_round_trip(t: usize, h: usize, w: usize, channels: usize, sr: u32) {
    let dir = scratch("mp4rt");
    let path = dir.join("clip.mp4");
    let frames = video(t, h, w);
    let n = (t as f64 / 16.0 * f64::from(sr)).round() as usize;
    let audio = tone(channels, n, sr);
    write_mp4(&path, frames.view(), 16.0, Some((audio.view(), sr))).unwrap();
    let back = read_mp4(&path).unwrap();
    assert_eq!(back.frames.shape(), frames.shape());
    let mad = mean_abs_diff(&back.frames, &frames);
    eprintln!("{w}x{h}: mean abs diff {mad:.3}");
    assert!(mad < 3.0, "{w}x{h}: mean abs diff {mad}");
    assert_eq!(back.fps, 16.0);
    assert_eq!(back.sample_rate, sr);
    let a = back.audio.expect("audio track");
    assert_eq!(
        a.shape(),
        audio.shape(),
        "audio length must survive exactly"
    );
    // Aligned (priming trimmed): the lossy AAC error is small next to the 0.35 RMS signal.
    let err = rms_err(&a, &audio, sr as usize / 4);
    eprintln!("audio rms err {err:.4}");
    assert!(err < 0.02, "audio rms error {err}");
    // Shifted by a few samples the error is much larger: alignment is exact.
    let shifted = rms_err(
        &a.slice(s![.., 5..]).to_owned(),
        &audio.slice(s![.., ..n - 5]).to_owned(),
        sr as usize / 4,
    );
    assert!(shifted > 5.0 * err, "aligned {err} vs shifted {shifted}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_round_trip_64x48_stereo_48k() {
    mp4_round_trip(17, 48, 64, 2, 48_000);
}

#[test]
fn mp4_round_trip_256x192_mono_24k() {
    mp4_round_trip(17, 192, 256, 1, 24_000);
}

#[test]
fn mp4_round_trip_size_not_multiple_of_16() {
    let dir = scratch("mp4crop");
    let path = dir.join("c.mp4");
    let frames = video(5, 38, 70);
    write_mp4(&path, frames.view(), 24.0, None).unwrap();
    let back = read_mp4(&path).unwrap();
    assert_eq!(back.frames.shape(), frames.shape());
    assert!(mean_abs_diff(&back.frames, &frames) < 3.0);
    assert_eq!(back.fps, 24.0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_without_audio_has_a_silent_track_that_reads_back_as_none() {
    let dir = scratch("mp4silent");
    let path = dir.join("v.mp4");
    let frames = video(17, 48, 64);
    write_mp4(&path, frames.view(), 16.0, None).unwrap();
    let back = read_mp4(&path).unwrap();
    assert!(back.audio.is_none());
    assert_eq!(back.sample_rate, 0);
    assert_eq!(back.frames.shape()[0], 17);
    // Other tools see both streams: 48 kHz silence as long as the video.
    let (ok, log) = pyav_check(&path, 17, 16.0, 48_000, 17.0 / 16.0);
    assert!(ok, "PyAV check failed:\n{log}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_is_read_correctly_by_pyav() {
    let dir = scratch("mp4pyav");
    for (t, fps, h, w, ch, sr) in [
        (17usize, 16.0f32, 48usize, 64usize, 1usize, 24_000u32),
        (25, 24.0, 192, 256, 2, 44_100),
        (12, 23.976, 48, 64, 2, 48_000),
        (1, 16.0, 48, 64, 1, 48_000),
    ] {
        let path = dir.join(format!("c{t}.mp4"));
        let n = (t as f64 / f64::from(fps) * f64::from(sr)).round() as usize;
        write_mp4(
            &path,
            video(t, h, w).view(),
            fps,
            Some((tone(ch, n, sr).view(), sr)),
        )
        .unwrap();
        let (ok, log) = pyav_check(&path, t, fps, sr, n as f64 / f64::from(sr));
        assert!(ok, "PyAV check failed for {path:?}:\n{log}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pyav_check_fails_on_wrong_expectations() {
    // The independent check must be able to fail.
    let dir = scratch("mp4pyavneg");
    let path = dir.join("c.mp4");
    write_mp4(&path, video(17, 48, 64).view(), 16.0, None).unwrap();
    assert!(
        !pyav_check(&path, 16, 16.0, 48_000, 17.0 / 16.0).0,
        "frame count"
    );
    assert!(!pyav_check(&path, 17, 15.0, 48_000, 17.0 / 16.0).0, "fps");
    assert!(
        !pyav_check(&path, 17, 16.0, 44_100, 17.0 / 16.0).0,
        "sample rate"
    );
    assert!(!pyav_check(&path, 17, 16.0, 48_000, 1.2).0, "duration");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn reads_h264_written_by_pyav_libx264() {
    let dir = scratch("pyavh264");
    for profile in ["baseline", "main", "high"] {
        let path = dir.join(format!("{profile}.mp4"));
        let (t, fps, h, w, sr) = (17usize, 16.0f32, 48usize, 64usize, 24_000u32);
        let out = Command::new(python())
            .arg(check_media_script())
            .args(["--write-h264", path.to_str().unwrap()])
            .args(["--frames", &t.to_string(), "--fps", &fps.to_string()])
            .args(["--width", &w.to_string(), "--height", &h.to_string()])
            .args(["--profile", profile, "--sample-rate", &sr.to_string()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let back = read_mp4(&path).unwrap();
        let expect = video(t, h, w);
        assert_eq!(back.frames.shape(), expect.shape(), "{profile}");
        let mad = mean_abs_diff(&back.frames, &expect);
        eprintln!("libx264 {profile}: mean abs diff {mad:.3}");
        assert!(mad < 3.0, "{profile}: mean abs diff {mad}");
        assert!((back.fps - fps).abs() < 1e-3);
        assert_eq!(back.sample_rate, sr);
        let a = back.audio.unwrap();
        let n = (t as f64 / f64::from(fps) * f64::from(sr)).round() as usize;
        // FFmpeg's edit list is in a 1 kHz movie timescale: within a millisecond.
        assert!(
            a.ncols().abs_diff(n) <= sr as usize / 1000,
            "{} vs {n} samples",
            a.ncols()
        );
        let m = a.ncols().min(n);
        let ours = a.slice(s![.., ..m]).to_owned();
        // check_media.py writes a plain 440 Hz sine of amplitude 0.5 from t = 0:
        // the decoded audio must line up with it (priming trimmed by the edit list).
        let sine = Array2::from_shape_fn((1, m), |(_, i)| {
            0.5 * (2.0 * PI * 440.0 * i as f32 / sr as f32).sin()
        });
        let err = rms_err(&ours, &sine, 0);
        assert!(err < 0.03, "{profile}: audio rms error {err}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_rejects_bad_input_and_leaves_nothing() {
    let dir = scratch("mp4bad");
    let path = dir.join("odd.mp4");
    let e = write_mp4(&path, video(3, 47, 64).view(), 16.0, None).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    assert!(e.to_string().contains("even"), "{e}");
    let e = write_mp4(&path, video(3, 48, 64).view(), 0.0, None).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let a = tone(3, 1000, 48_000);
    let e = write_mp4(
        &path,
        video(3, 48, 64).view(),
        16.0,
        Some((a.view(), 48_000)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let a = tone(1, 1000, 22_222);
    let e = write_mp4(
        &path,
        video(3, 48, 64).view(),
        16.0,
        Some((a.view(), 22_222)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let mut a = tone(1, 1000, 48_000);
    a[[0, 10]] = f32::NAN;
    let e = write_mp4(
        &path,
        video(3, 48, 64).view(),
        16.0,
        Some((a.view(), 48_000)),
    )
    .unwrap_err();
    assert!(matches!(e, Error::Numeric(_)), "{e}");
    // Missing parent folder: typed I/O error.
    let e = write_mp4(
        &dir.join("no/such/x.mp4"),
        video(2, 48, 64).view(),
        16.0,
        None,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing partial is left"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_read_errors_are_typed() {
    let dir = scratch("mp4err");
    let e = read_mp4(&dir.join("missing.mp4")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");

    let junk = dir.join("junk.mp4");
    std::fs::write(
        &junk,
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let e = read_mp4(&junk).unwrap_err();
    assert!(
        matches!(&e, Error::Media { path, .. } if path == &junk),
        "{e}"
    );

    let good = dir.join("good.mp4");
    write_mp4(&good, video(9, 48, 64).view(), 16.0, None).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    for cut in [bytes.len() / 2, 40, bytes.len() - 10] {
        let truncated = dir.join(format!("cut{cut}.mp4"));
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let e = read_mp4(&truncated).unwrap_err();
        assert!(matches!(&e, Error::Media { .. }), "cut at {cut}: {e}");
    }
    // Garbage in the middle of the moov box.
    let mut broken = bytes.clone();
    for b in &mut broken[100..400] {
        *b = 0xff;
    }
    let bad = dir.join("broken.mp4");
    std::fs::write(&bad, &broken).unwrap();
    assert!(read_mp4(&bad).is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn png_sequence_round_trip_is_exact() {
    let dir = scratch("png");
    let frames = video(5, 20, 30);
    let seq = dir.join("frames");
    write_png_sequence(&seq, frames.view()).unwrap();
    let names: Vec<String> = {
        let mut v: Vec<String> = std::fs::read_dir(&seq)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names,
        [
            ".sora-output.json",
            "0000.png",
            "0001.png",
            "0002.png",
            "0003.png",
            "0004.png"
        ]
    );
    assert!(is_sora_output(&seq).unwrap());
    assert_eq!(read_png_sequence(&seq).unwrap(), frames);
    let clip = read_video(&seq).unwrap();
    assert_eq!(clip.frames, frames);
    assert_eq!(clip.fps, 16.0);
    assert!(clip.audio.is_none());
    assert_eq!(
        read_image(&seq.join("0003.png")).unwrap(),
        frames.index_axis(Axis(0), 3)
    );
    // Writing again replaces the sequence (fewer frames: no stale ones left).
    write_png_sequence(&seq, frames.slice(s![..2, .., .., ..])).unwrap();
    assert_eq!(read_png_sequence(&seq).unwrap().shape()[0], 2);
    // A folder holding other files is not replaced.
    std::fs::write(seq.join("notes.txt"), "keep me").unwrap();
    let e = write_png_sequence(&seq, frames.view()).unwrap_err();
    assert!(matches!(e, Error::Media { .. }), "{e}");
    assert!(seq.join("notes.txt").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn png_folder_errors_are_typed() {
    let dir = scratch("pngerr");
    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = read_png_sequence(&empty).unwrap_err();
    assert!(
        matches!(&e, Error::Media { path, .. } if path == &empty),
        "{e}"
    );
    assert!(matches!(
        read_video(&empty).unwrap_err(),
        Error::Media { .. }
    ));

    let e = read_png_sequence(&dir.join("missing")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");

    let mixed = dir.join("mixed");
    write_png_sequence(&mixed, video(2, 20, 30).view()).unwrap();
    let other = dir.join("other");
    write_png_sequence(&other, video(1, 22, 30).view()).unwrap();
    std::fs::rename(other.join("0000.png"), mixed.join("0002.png")).unwrap();
    let e = read_png_sequence(&mixed).unwrap_err();
    assert!(
        matches!(&e, Error::Media { path, .. } if path.ends_with("0002.png")),
        "{e}"
    );

    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let e = read_image(&corrupt).unwrap_err();
    assert!(
        matches!(&e, Error::Media { path, .. } if path == &corrupt),
        "{e}"
    );
    let e = read_image(&dir.join("missing.png")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn png_sequence_sorts_numerically() {
    let dir = scratch("pngsort");
    let frames = video(11, 8, 8);
    let seq = dir.join("s");
    std::fs::create_dir(&seq).unwrap();
    for t in 0..11 {
        let one = dir.join(format!("{t}.png"));
        sora_core::io::write_image(&one, frames.index_axis(Axis(0), t)).unwrap();
        std::fs::rename(&one, seq.join(format!("{t}.png"))).unwrap();
    }
    assert_eq!(read_png_sequence(&seq).unwrap(), frames);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wav_round_trip() {
    let dir = scratch("wav");
    let audio = tone(2, 4000, 16_000);
    let p16 = dir.join("a16.wav");
    write_wav(&p16, audio.view(), 16_000).unwrap();
    let (back, sr) = read_wav(&p16).unwrap();
    assert_eq!(sr, 16_000);
    assert_eq!(back.shape(), audio.shape());
    let max = back
        .iter()
        .zip(&audio)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(max <= 0.5 / 32768.0 + 1e-7, "16-bit error {max}");
    let pf = dir.join("af.wav");
    write_wav_as(&pf, audio.view(), 16_000, WavFormat::Float32).unwrap();
    assert_eq!(read_wav(&pf).unwrap().0, audio);
    let e = read_wav(&dir.join("missing.wav")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    let junk = dir.join("junk.wav");
    std::fs::write(&junk, b"RIFF....WAVEjunk").unwrap();
    assert!(matches!(read_wav(&junk).unwrap_err(), Error::Media { .. }));
    let _ = std::fs::remove_dir_all(dir);
}

fn clip(frames: Array4<u8>, audio: Option<Array2<f32>>, sample_rate: u32) -> Clip {
    Clip {
        frames,
        audio,
        fps: 16.0,
        sample_rate,
        meta: ClipMeta::default(),
    }
}

#[test]
fn clip_save_picks_the_format_from_the_path() {
    let dir = scratch("save");
    let frames = video(17, 48, 64);
    let audio = tone(1, 17_000, 16_000);
    let c = clip(frames.clone(), Some(audio.clone()), 16_000);

    c.save(dir.join("c.mp4")).unwrap();
    let m = read_video(&dir.join("c.mp4")).unwrap();
    assert_eq!(m.frames.shape(), frames.shape());
    assert_eq!(m.audio.unwrap().shape(), audio.shape());

    // A clip's WAV is 32-bit float: the samples exactly.
    c.save(dir.join("c.wav")).unwrap();
    assert_eq!(
        read_wav(&dir.join("c.wav")).unwrap(),
        (audio.clone(), 16_000)
    );

    // A frame folder holds the audio as `audio.wav` and the rate in its marker.
    save_clip(&c, &dir.join("frames")).unwrap();
    let back = read_video(&dir.join("frames")).unwrap();
    assert_eq!(back.frames, frames);
    assert_eq!(
        (back.audio.as_ref(), back.fps, back.sample_rate),
        (Some(&audio), 16.0, 16_000)
    );
    assert_eq!(
        read_wav(&dir.join("frames").join("audio.wav")).unwrap().0,
        audio
    );
    // ... and is still sora's frame folder: saving over it is allowed.
    let fast = Clip {
        fps: 24.0,
        ..c.clone()
    };
    save_clip(&fast, &dir.join("frames")).unwrap();
    assert_eq!(read_video(&dir.join("frames")).unwrap().fps, 24.0);
    // A silent clip's folder has no audio.wav.
    let quiet = clip(frames.clone(), None, 0);
    save_clip(&quiet, &dir.join("frames")).unwrap();
    assert!(!dir.join("frames").join("audio.wav").exists());
    assert!(read_video(&dir.join("frames")).unwrap().audio.is_none());

    let e = c.save(dir.join("c.png")).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let one = clip(frames.slice(s![..1, .., .., ..]).to_owned(), None, 0);
    one.save(dir.join("one.png")).unwrap();
    assert_eq!(read_video(&dir.join("one.png")).unwrap().frames, one.frames);

    let silent = clip(frames.clone(), None, 0);
    let e = silent.save(dir.join("s.wav")).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    let e = silent.save(dir.join("s.avi")).unwrap_err();
    assert!(matches!(e, Error::InvalidRequest(_)), "{e}");
    silent.save(dir.join("s.mp4")).unwrap();
    assert!(read_video(&dir.join("s.mp4")).unwrap().audio.is_none());

    // Failed saves leave nothing behind (no partial or temporary files).
    let odd = clip(video(2, 47, 64), None, 0);
    assert!(odd.save(dir.join("odd.mp4")).is_err());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["c.mp4", "c.wav", "frames", "one.png", "s.mp4"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn mp4_reader_survives_corrupted_files() {
    // Random byte changes, mostly in the header boxes: an error or a clip, never a panic.
    let dir = scratch("mp4fuzz");
    let good = dir.join("good.mp4");
    let audio = tone(2, 24_000, 24_000);
    write_mp4(
        &good,
        video(9, 48, 64).view(),
        16.0,
        Some((audio.view(), 24_000)),
    )
    .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as usize
    };
    let bad = dir.join("bad.mp4");
    let mut errors = 0;
    for it in 0..300 {
        let mut b = bytes.clone();
        let span = if it % 5 == 0 {
            b.len()
        } else {
            1500.min(b.len())
        };
        for _ in 0..1 + rnd() % 8 {
            let i = rnd() % span;
            b[i] = rnd() as u8;
        }
        std::fs::write(&bad, &b).unwrap();
        errors += usize::from(read_mp4(&bad).is_err());
    }
    assert!(errors > 0);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn every_output_carries_soras_mark_and_still_reads_back() {
    let dir = scratch("marks");
    let frames = video(2, 16, 16);
    let audio = Array2::from_shape_fn((1, 800), |(_, i)| (i as f32 * 0.05).sin() * 0.5);
    let c = clip(frames.clone(), Some(audio.clone()), 16000);
    for name in ["c.mp4", "c.wav", "frames"] {
        let p = dir.join(name);
        assert!(!is_sora_output(&p).unwrap());
        c.save(&p).unwrap();
        assert!(is_sora_output(&p).unwrap(), "{name} is not marked");
    }
    let one = clip(frames.slice(s![..1, .., .., ..]).to_owned(), None, 0);
    for name in ["one.png", "one.jpg"] {
        let p = dir.join(name);
        one.save(&p).unwrap();
        assert!(is_sora_output(&p).unwrap(), "{name} is not marked");
        assert_eq!(read_image(&p).unwrap().shape(), [16, 16, 3]);
    }
    assert_eq!(
        read_image(&dir.join("one.png")).unwrap(),
        one.frames.index_axis(Axis(0), 0)
    );
    // The WAV's mark (a LIST chunk after the data) leaves the samples as they were.
    let (back, rate) = read_wav(&dir.join("c.wav")).unwrap();
    assert_eq!((back.shape(), rate), (&[1usize, 800][..], 16000));
    assert!(read_mp4(&dir.join("c.mp4")).unwrap().audio.is_some());
    // Files sora did not write are not taken for its own.
    std::fs::write(dir.join("x.mp4"), b"\0\0\0\x14ftypisom\0\0\0\0isom").unwrap();
    assert!(!is_sora_output(&dir.join("x.mp4")).unwrap());
    let _ = std::fs::remove_dir_all(dir);
}
