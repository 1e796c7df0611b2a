//! The video VAE's tiled decode, with the values of diffusers'
//! `AutoencoderKLLTX2Video`: spatial tiles (`tiled_decode`, on with
//! `enable_tiling`) decoded over the whole tile's time and blended with the
//! shared [`crate::nn::tiling`] geometry, and time windows (`_temporal_tiled_decode`,
//! diffusers' `use_framewise_decoding`) of `min/t + 1` latent frames every
//! `stride/t`, each blended with the previous window over
//! `min − stride` frames. Windows are handed out as soon as they are blended,
//! so memory holds the latents, one window and the previous one.

use tch::Tensor;

pub use crate::nn::tiling::FrameTiling;
use crate::nn::tiling::{blend, join_tiles, TileGrid, VaeTiling};
use crate::Result;

/// The tiling settings of one decode, with the VAE's compression ratios.
pub(super) struct Plan {
    pub spatial: Option<VaeTiling>,
    pub frames: Option<FrameTiling>,
    pub spatial_ratio: i64,
    pub temporal_ratio: i64,
}

impl Plan {
    fn grid(&self) -> Option<TileGrid> {
        self.spatial
            .as_ref()
            .map(|t| TileGrid::new(t, self.spatial_ratio, 1))
    }

    /// Decodes `z` through `decode` (one untiled decoder call) as diffusers'
    /// `_decode` dispatches it, handing blended frames to `on_frames`.
    pub fn run(
        &self,
        z: &Tensor,
        decode: &dyn Fn(&Tensor) -> Result<Tensor>,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let frames = z.size()[2];
        if let Some(ft) = &self.frames {
            let min_t = ft.tile_sample_min_num_frames / self.temporal_ratio;
            if frames > min_t {
                return self.temporal(z, ft, decode, on_frames);
            }
        }
        on_frames(self.spatial_or_whole(z, decode)?)
    }

    /// `tiled_decode` when the latent is larger than a tile, else one call.
    fn spatial_or_whole(
        &self,
        z: &Tensor,
        decode: &dyn Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let s = z.size();
        let (h, w) = (s[3], s[4]);
        let Some(grid) = self.grid().filter(|g| g.needs_tiling(h, w)) else {
            return decode(z);
        };
        let (row_at, col_at) = grid.origins(h, w);
        let mut rows = Vec::with_capacity(row_at.len());
        for &i in &row_at {
            let mut row = Vec::with_capacity(col_at.len());
            for &j in &col_at {
                let tile = z.f_narrow(3, i, grid.latent_min.0.min(h - i))?.f_narrow(
                    4,
                    j,
                    grid.latent_min.1.min(w - j),
                )?;
                row.push(decode(&tile)?);
            }
            rows.push(row);
        }
        join_tiles(rows, &grid, h * self.spatial_ratio, w * self.spatial_ratio)
    }

    /// `_temporal_tiled_decode`, window by window.
    fn temporal(
        &self,
        z: &Tensor,
        ft: &FrameTiling,
        decode: &dyn Fn(&Tensor) -> Result<Tensor>,
        on_frames: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let frames = z.size()[2];
        let total = (frames - 1) * self.temporal_ratio + 1;
        let min_t = ft.tile_sample_min_num_frames / self.temporal_ratio;
        let stride_t = (ft.tile_sample_stride_num_frames / self.temporal_ratio).max(1);
        let blend_frames = ft.tile_sample_min_num_frames - ft.tile_sample_stride_num_frames;
        let stride = ft.tile_sample_stride_num_frames;
        let mut prev: Option<Tensor> = None;
        let mut sent = 0;
        let mut i = 0;
        while i < frames {
            let window = z.f_narrow(2, i, (min_t + 1).min(frames - i))?;
            let mut tile = self.spatial_or_whole(&window, decode)?;
            let keep = if let Some(p) = &prev {
                let n = tile.size()[2];
                tile = tile.f_narrow(2, 0, n - 1)?.f_contiguous()?;
                blend(p, &mut tile, blend_frames, 2)?;
                stride
            } else {
                stride + 1
            };
            let n = keep.min(tile.size()[2]).min(total - sent);
            if n > 0 {
                on_frames(tile.f_narrow(2, 0, n)?)?;
                sent += n;
            }
            prev = Some(tile);
            i += stride_t;
        }
        Ok(())
    }
}
