//! The C heap's mmap threshold, fixed once per process when its first
//! long-form run starts. glibc's allocator raises the threshold each time a
//! large block is freed (up to 32 MiB), so that a long run's window-sized
//! buffers come from the heap, where freed memory stays mapped and
//! fragments: a minute of long-form windows then peaked 8–20 % above ten
//! seconds' (the LTX-2 fixture at 384×224 to MP4; the peak varied by tens of
//! MiB from run to run), though nothing is kept. With the threshold fixed at
//! [`MMAP_THRESHOLD`] blocks above it are always mapped and unmapped: the
//! same runs peaked 497–508 MiB for both lengths (against 560–630) at the
//! same speed (a 1 MiB threshold was ~30 % slower: every mid-sized buffer a
//! fresh mapping). Not fixed for every run: a short Wan clip (256×192, 17
//! frames) decoded about 10 % slower with it (2.33–2.54 s against
//! 2.07–2.18 s), where the dynamic threshold serves its buffers from the
//! heap. A process that sets its own threshold (`MALLOC_MMAP_THRESHOLD_`,
//! or `glibc.malloc.mmap_threshold` in `GLIBC_TUNABLES`) keeps it, and
//! `SORA_MALLOC_DEFAULTS=1` leaves glibc's dynamic threshold alone (to
//! measure against it).

use std::sync::Once;

/// The fixed mmap threshold (bytes).
pub const MMAP_THRESHOLD: usize = 4 << 20;

static FIXED: Once = Once::new();

/// Fixes the heap's mmap threshold at [`MMAP_THRESHOLD`] once per process
/// (glibc on Linux; a no-op elsewhere, or when the environment sets one).
/// glibc offers no way back to the dynamic threshold: later runs of the
/// process keep it.
pub(crate) fn fix_mmap_threshold() {
    FIXED.call_once(|| {
        let own = std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("mmap_threshold"))
            || std::env::var("SORA_MALLOC_DEFAULTS").is_ok_and(|v| v == "1");
        if own {
            return;
        }
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `mallopt` sets an allocator parameter; it takes no
        // pointers, and glibc serialises it with allocation.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
        }
    });
}
