//! `LTX2VideoTransformerBlock`: per stream (video, audio) an AdaLN-modulated
//! self-attention, a text cross-attention (modulated on both sides in
//! LTX-2.3), the audio→video and video→audio cross-attentions with their own
//! modulation and gates, and a modulated feed-forward.

use tch::Tensor;

use super::attention::{AttentionDims, Ltx2Attention, Perturbation};
use super::config::Ltx2TransformerConfig;
use super::rope::Ltx2RopeTables;
use crate::nn::feed_forward::GeluFeedForward;
use crate::nn::RmsNorm;
use crate::weights::WeightPath;
use crate::{Error, Result};

/// What every block of one forward shares: text tokens, timestep
/// embeddings, rotary tables and attention biases.
#[derive(Debug)]
pub struct BlockInputs<'a> {
    /// Video text tokens `[B, L, cross_attention_dim]`.
    pub text: &'a Tensor,
    /// Audio text tokens `[B, L, audio_cross_attention_dim]`.
    pub audio_text: &'a Tensor,
    /// Video AdaLN embedding `[B, T, n·dim]`.
    pub temb: &'a Tensor,
    /// Audio AdaLN embedding `[B, T, n·audio_dim]`.
    pub temb_audio: &'a Tensor,
    /// Video side of the audio↔video scale/shift `[B, T, 4·dim]`.
    pub temb_ca_scale_shift: &'a Tensor,
    /// Audio side of the audio↔video scale/shift `[B, T, 4·audio_dim]`.
    pub temb_ca_audio_scale_shift: &'a Tensor,
    /// a2v gate `[B, T, dim]`.
    pub temb_ca_gate: &'a Tensor,
    /// v2a gate `[B, T, audio_dim]`.
    pub temb_ca_audio_gate: &'a Tensor,
    /// Video prompt modulation `[B, T, 2·dim]` (LTX-2.3 `prompt_adaln`).
    pub temb_prompt: Option<&'a Tensor>,
    /// Audio prompt modulation `[B, T, 2·audio_dim]`.
    pub temb_prompt_audio: Option<&'a Tensor>,
    /// Video self-attention rotary tables.
    pub video_rope: &'a Ltx2RopeTables,
    /// Audio self-attention rotary tables.
    pub audio_rope: &'a Ltx2RopeTables,
    /// Time-only tables of the video tokens (audio↔video attention).
    pub ca_video_rope: &'a Ltx2RopeTables,
    /// Time-only tables of the audio tokens.
    pub ca_audio_rope: &'a Ltx2RopeTables,
    /// Additive bias of the video text padding, `[B, 1, 1, L]`.
    pub text_bias: Option<&'a Tensor>,
    /// Additive bias of the audio text padding.
    pub audio_text_bias: Option<&'a Tensor>,
    /// Additive bias of the video self-attention, `[B, 1, S, S]`.
    pub video_self_bias: Option<&'a Tensor>,
    /// Run the audio→video cross-attention.
    pub use_a2v: bool,
    /// Run the video→audio cross-attention.
    pub use_v2a: bool,
    /// `[B, 1, 1]`: 1 where the audio↔video cross-attentions' outputs are
    /// added, 0 on the batch elements that are isolated (modality guidance
    /// batched with the other branches); all added when `None`.
    pub cross_modal_keep: Option<&'a Tensor>,
}

/// The batch elements `index` of a [`BlockInputs`], owned; borrow them as
/// inputs again with [`SelectedInputs::inputs`].
#[derive(Debug)]
pub struct SelectedInputs {
    text: Tensor,
    audio_text: Tensor,
    temb: Tensor,
    temb_audio: Tensor,
    temb_ca_scale_shift: Tensor,
    temb_ca_audio_scale_shift: Tensor,
    temb_ca_gate: Tensor,
    temb_ca_audio_gate: Tensor,
    temb_prompt: Option<Tensor>,
    temb_prompt_audio: Option<Tensor>,
    video_rope: Ltx2RopeTables,
    audio_rope: Ltx2RopeTables,
    ca_video_rope: Ltx2RopeTables,
    ca_audio_rope: Ltx2RopeTables,
    text_bias: Option<Tensor>,
    audio_text_bias: Option<Tensor>,
    video_self_bias: Option<Tensor>,
    cross_modal_keep: Option<Tensor>,
    use_a2v: bool,
    use_v2a: bool,
}

impl SelectedInputs {
    /// The selected elements as block inputs.
    pub fn inputs(&self) -> BlockInputs<'_> {
        BlockInputs {
            text: &self.text,
            audio_text: &self.audio_text,
            temb: &self.temb,
            temb_audio: &self.temb_audio,
            temb_ca_scale_shift: &self.temb_ca_scale_shift,
            temb_ca_audio_scale_shift: &self.temb_ca_audio_scale_shift,
            temb_ca_gate: &self.temb_ca_gate,
            temb_ca_audio_gate: &self.temb_ca_audio_gate,
            temb_prompt: self.temb_prompt.as_ref(),
            temb_prompt_audio: self.temb_prompt_audio.as_ref(),
            video_rope: &self.video_rope,
            audio_rope: &self.audio_rope,
            ca_video_rope: &self.ca_video_rope,
            ca_audio_rope: &self.ca_audio_rope,
            text_bias: self.text_bias.as_ref(),
            audio_text_bias: self.audio_text_bias.as_ref(),
            video_self_bias: self.video_self_bias.as_ref(),
            use_a2v: self.use_a2v,
            use_v2a: self.use_v2a,
            cross_modal_keep: self.cross_modal_keep.as_ref(),
        }
    }
}

impl BlockInputs<'_> {
    /// The batch elements `index` (`[n]`, int64) of every per-element input
    /// (inputs shared by the batch, with batch 1, stay shared).
    pub fn select(&self, index: &Tensor) -> Result<SelectedInputs> {
        let pick = |t: &Tensor| -> Result<Tensor> {
            if t.size().first() == Some(&1) {
                Ok(t.shallow_clone())
            } else {
                Ok(t.f_index_select(0, index)?)
            }
        };
        let pick_opt = |t: Option<&Tensor>| t.map(pick).transpose();
        Ok(SelectedInputs {
            text: pick(self.text)?,
            audio_text: pick(self.audio_text)?,
            temb: pick(self.temb)?,
            temb_audio: pick(self.temb_audio)?,
            temb_ca_scale_shift: pick(self.temb_ca_scale_shift)?,
            temb_ca_audio_scale_shift: pick(self.temb_ca_audio_scale_shift)?,
            temb_ca_gate: pick(self.temb_ca_gate)?,
            temb_ca_audio_gate: pick(self.temb_ca_audio_gate)?,
            temb_prompt: pick_opt(self.temb_prompt)?,
            temb_prompt_audio: pick_opt(self.temb_prompt_audio)?,
            video_rope: self.video_rope.select_batch(index)?,
            audio_rope: self.audio_rope.select_batch(index)?,
            ca_video_rope: self.ca_video_rope.select_batch(index)?,
            ca_audio_rope: self.ca_audio_rope.select_batch(index)?,
            text_bias: pick_opt(self.text_bias)?,
            audio_text_bias: pick_opt(self.audio_text_bias)?,
            video_self_bias: pick_opt(self.video_self_bias)?,
            cross_modal_keep: pick_opt(self.cross_modal_keep)?,
            use_a2v: self.use_a2v,
            use_v2a: self.use_v2a,
        })
    }
}

/// One block's text keys and values, for both streams' text
/// cross-attentions (`[B, L, inner]` each): they depend on the prompt only, so
/// a walk computes them once ([`Ltx2Block::text_kv`]).
#[derive(Debug)]
pub struct BlockTextKv {
    /// Video stream (`attn2`): keys, values.
    pub video: (Tensor, Tensor),
    /// Audio stream (`audio_attn2`): keys, values.
    pub audio: (Tensor, Tensor),
}

impl BlockTextKv {
    /// The batch of several prompts' keys and values, in order.
    pub fn cat(parts: &[&BlockTextKv]) -> Result<BlockTextKv> {
        let cat = |f: &dyn Fn(&BlockTextKv) -> &Tensor| -> Result<Tensor> {
            let v: Vec<&Tensor> = parts.iter().map(|p| f(p)).collect();
            Ok(Tensor::f_cat(&v, 0)?)
        };
        Ok(BlockTextKv {
            video: (cat(&|p| &p.video.0)?, cat(&|p| &p.video.1)?),
            audio: (cat(&|p| &p.audio.0)?, cat(&|p| &p.audio.1)?),
        })
    }
}

/// One transformer block.
#[derive(Debug)]
pub struct Ltx2Block {
    perturbed_attn: bool,
    video_cross_adaln: bool,
    audio_cross_adaln: bool,
    norm1: RmsNorm,
    attn1: Ltx2Attention,
    audio_norm1: RmsNorm,
    audio_attn1: Ltx2Attention,
    norm2: RmsNorm,
    attn2: Ltx2Attention,
    audio_norm2: RmsNorm,
    audio_attn2: Ltx2Attention,
    audio_to_video_norm: RmsNorm,
    audio_to_video_attn: Ltx2Attention,
    video_to_audio_norm: RmsNorm,
    video_to_audio_attn: Ltx2Attention,
    norm3: RmsNorm,
    ff: GeluFeedForward,
    audio_norm3: RmsNorm,
    audio_ff: GeluFeedForward,
    scale_shift_table: Tensor,
    audio_scale_shift_table: Tensor,
    prompt_scale_shift_table: Option<Tensor>,
    audio_prompt_scale_shift_table: Option<Tensor>,
    video_a2v_cross_attn_scale_shift_table: Tensor,
    audio_a2v_cross_attn_scale_shift_table: Tensor,
}

/// `table[None, None] + temb.reshape(B, T, n, -1)`, split into its `n` rows
/// (`get_mod_params`), each `[B, T, dim]`.
fn mod_params(table: &Tensor, temb: &Tensor) -> Result<Vec<Tensor>> {
    let n = table.size()[0];
    let s = temb.size();
    if s.len() != 3 {
        return Err(Error::invalid(format!(
            "modulation embedding must be [batch, tokens, n·dim], got {s:?}"
        )));
    }
    let sum = temb
        .f_reshape([s[0], s[1], n, -1])?
        .f_add(&table.f_view([1, 1, n, -1])?)?;
    Ok(sum.f_unbind(2)?)
}

/// `x · (1 + scale) + shift`.
fn modulate(x: &Tensor, scale: &Tensor, shift: &Tensor) -> Result<Tensor> {
    Ok(x.f_mul(&scale.f_add_scalar(1.0)?)?.f_add(shift)?)
}

impl Ltx2Block {
    /// Loads `transformer_blocks.<i>` at `p`.
    pub fn load(p: &WeightPath, c: &Ltx2TransformerConfig) -> Result<Self> {
        let dim = c.inner_dim();
        let adim = c.audio_inner_dim();
        let (eps, affine) = (c.norm_eps, c.norm_elementwise_affine);
        let norm = |name: &str, d: i64| RmsNorm::load(&p.pp(name), d, eps, affine);
        let attn = |name: &str, d: AttentionDims, gated: bool| {
            Ltx2Attention::load(
                &p.pp(name),
                d,
                c.attention_bias,
                c.attention_out_bias,
                gated,
            )
        };
        let video = |kv_dim| AttentionDims {
            query_dim: dim,
            kv_dim,
            heads: c.num_attention_heads,
            head_dim: c.attention_head_dim,
        };
        let audio = |query_dim, kv_dim| AttentionDims {
            query_dim,
            kv_dim,
            heads: c.audio_num_attention_heads,
            head_dim: c.audio_attention_head_dim,
        };
        let n_video = if c.cross_attn_mod { 9 } else { 6 };
        let n_audio = if c.audio_cross_attn_mod { 9 } else { 6 };
        let prompt = c.prompt_modulation();
        Ok(Self {
            perturbed_attn: c.perturbed_attn,
            video_cross_adaln: c.cross_attn_mod,
            audio_cross_adaln: c.audio_cross_attn_mod,
            norm1: norm("norm1", dim)?,
            attn1: attn("attn1", video(dim), c.gated_attn)?,
            audio_norm1: norm("audio_norm1", adim)?,
            audio_attn1: attn("audio_attn1", audio(adim, adim), c.audio_gated_attn)?,
            norm2: norm("norm2", dim)?,
            attn2: attn("attn2", video(c.cross_attention_dim), c.gated_attn)?,
            audio_norm2: norm("audio_norm2", adim)?,
            audio_attn2: attn(
                "audio_attn2",
                audio(adim, c.audio_cross_attention_dim),
                c.audio_gated_attn,
            )?,
            audio_to_video_norm: norm("audio_to_video_norm", dim)?,
            audio_to_video_attn: attn("audio_to_video_attn", audio(dim, adim), c.gated_attn)?,
            video_to_audio_norm: norm("video_to_audio_norm", adim)?,
            video_to_audio_attn: attn("video_to_audio_attn", audio(adim, dim), c.audio_gated_attn)?,
            norm3: norm("norm3", dim)?,
            ff: GeluFeedForward::load(&p.pp("ff"), dim, 4 * dim, dim, &c.activation_fn, c.ff_bias)?,
            audio_norm3: norm("audio_norm3", adim)?,
            audio_ff: GeluFeedForward::load(
                &p.pp("audio_ff"),
                adim,
                4 * adim,
                adim,
                &c.activation_fn,
                c.audio_ff_bias,
            )?,
            scale_shift_table: p.get("scale_shift_table", &[n_video, dim])?,
            audio_scale_shift_table: p.get("audio_scale_shift_table", &[n_audio, adim])?,
            prompt_scale_shift_table: if prompt {
                Some(p.get("prompt_scale_shift_table", &[2, dim])?)
            } else {
                None
            },
            audio_prompt_scale_shift_table: if prompt {
                Some(p.get("audio_prompt_scale_shift_table", &[2, adim])?)
            } else {
                None
            },
            video_a2v_cross_attn_scale_shift_table: p
                .get("video_a2v_cross_attn_scale_shift_table", &[5, dim])?,
            audio_a2v_cross_attn_scale_shift_table: p
                .get("audio_a2v_cross_attn_scale_shift_table", &[5, adim])?,
        })
    }

    /// Pushes the block's tensors (for offload).
    pub fn tensors<'a>(&'a self, out: &mut Vec<&'a Tensor>) {
        for n in [
            &self.norm1,
            &self.audio_norm1,
            &self.norm2,
            &self.audio_norm2,
            &self.audio_to_video_norm,
            &self.video_to_audio_norm,
            &self.norm3,
            &self.audio_norm3,
        ] {
            super::rms_tensors(n, out);
        }
        for a in [
            &self.attn1,
            &self.audio_attn1,
            &self.attn2,
            &self.audio_attn2,
            &self.audio_to_video_attn,
            &self.video_to_audio_attn,
        ] {
            a.tensors(out);
        }
        self.ff.tensors(out);
        self.audio_ff.tensors(out);
        out.push(&self.scale_shift_table);
        out.push(&self.audio_scale_shift_table);
        out.extend(self.prompt_scale_shift_table.as_ref());
        out.extend(self.audio_prompt_scale_shift_table.as_ref());
        out.push(&self.video_a2v_cross_attn_scale_shift_table);
        out.push(&self.audio_a2v_cross_attn_scale_shift_table);
    }

    /// The text side's (shift, scale) of one stream: from the prompt
    /// embedding when there is one, else the static table.
    fn prompt_kv(table: Option<&Tensor>, temb: Option<&Tensor>) -> Result<Option<[Tensor; 2]>> {
        let Some(table) = table else {
            return Ok(None);
        };
        let v = match temb {
            Some(t) => mod_params(table, t)?,
            None => table.f_view([1, 1, 2, -1])?.f_unbind(2)?,
        };
        let mut it = v.into_iter();
        match (it.next(), it.next()) {
            (Some(shift), Some(scale)) => Ok(Some([shift, scale])),
            _ => Err(Error::invalid(
                "prompt modulation table has fewer than 2 rows",
            )),
        }
    }

    /// The text keys and values of both streams' cross-attentions for the
    /// (projected) prompt embeddings, or `None` when they change from step to
    /// step (LTX-2.3's prompt modulation scales the text by the timestep).
    pub fn text_kv(&self, text: &Tensor, audio_text: &Tensor) -> Result<Option<BlockTextKv>> {
        if self.prompt_scale_shift_table.is_some() || self.audio_prompt_scale_shift_table.is_some()
        {
            return Ok(None);
        }
        Ok(Some(BlockTextKv {
            video: self.attn2.context_kv(text)?,
            audio: self.audio_attn2.context_kv(audio_text)?,
        }))
    }

    /// Runs the block; returns the new (video, audio) hidden states. With
    /// `cached_kv` ([`Ltx2Block::text_kv`] of the batch's prompts) the text
    /// cross-attentions skip their key and value projections.
    pub fn forward(
        &self,
        x: &Tensor,
        ax: &Tensor,
        inp: &BlockInputs<'_>,
        perturb: Perturbation<'_>,
        cached_kv: Option<&BlockTextKv>,
    ) -> Result<(Tensor, Tensor)> {
        let perturb = if self.perturbed_attn {
            perturb
        } else {
            // diffusers' default processor takes no perturbation.
            Perturbation::None
        };
        // 1. Self-attention.
        let vm = mod_params(&self.scale_shift_table, inp.temb)?;
        let h = modulate(&self.norm1.forward(x)?, &vm[1], &vm[0])?;
        let a = self.attn1.forward(
            &h,
            None,
            inp.video_self_bias,
            Some(inp.video_rope),
            None,
            perturb,
        )?;
        let mut x = x.f_add(&a.f_mul(&vm[2])?)?;

        let am = mod_params(&self.audio_scale_shift_table, inp.temb_audio)?;
        let h = modulate(&self.audio_norm1.forward(ax)?, &am[1], &am[0])?;
        let a = self
            .audio_attn1
            .forward(&h, None, None, Some(inp.audio_rope), None, perturb)?;
        let mut ax = ax.f_add(&a.f_mul(&am[2])?)?;

        // 2. Text cross-attention.
        let text_kv = Self::prompt_kv(self.prompt_scale_shift_table.as_ref(), inp.temb_prompt)?;
        let audio_text_kv = Self::prompt_kv(
            self.audio_prompt_scale_shift_table.as_ref(),
            inp.temb_prompt_audio,
        )?;

        let mut h = self.norm2.forward(&x)?;
        if self.video_cross_adaln {
            h = modulate(&h, &vm[7], &vm[6])?;
        }
        let text = match &text_kv {
            Some([shift, scale]) => modulate(inp.text, scale, shift)?,
            None => inp.text.shallow_clone(),
        };
        let mut a = match cached_kv {
            Some(kv) => self.attn2.forward_kv(&h, &kv.video, inp.text_bias)?,
            None => self.attn2.forward(
                &h,
                Some(&text),
                inp.text_bias,
                None,
                None,
                Perturbation::None,
            )?,
        };
        if self.video_cross_adaln {
            a = a.f_mul(&vm[8])?;
        }
        x = x.f_add(&a)?;

        let mut h = self.audio_norm2.forward(&ax)?;
        if self.audio_cross_adaln {
            h = modulate(&h, &am[7], &am[6])?;
        }
        let audio_text = match &audio_text_kv {
            Some([shift, scale]) => modulate(inp.audio_text, scale, shift)?,
            None => inp.audio_text.shallow_clone(),
        };
        let mut a = match cached_kv {
            Some(kv) => self
                .audio_attn2
                .forward_kv(&h, &kv.audio, inp.audio_text_bias)?,
            None => self.audio_attn2.forward(
                &h,
                Some(&audio_text),
                inp.audio_text_bias,
                None,
                None,
                Perturbation::None,
            )?,
        };
        if self.audio_cross_adaln {
            a = a.f_mul(&am[8])?;
        }
        ax = ax.f_add(&a)?;

        // 3. Audio→video and video→audio cross-attention.
        if inp.use_a2v || inp.use_v2a {
            let nx = self.audio_to_video_norm.forward(&x)?;
            let nax = self.video_to_audio_norm.forward(&ax)?;
            let vt = &self.video_a2v_cross_attn_scale_shift_table;
            let at = &self.audio_a2v_cross_attn_scale_shift_table;
            // Rows: a2v scale, a2v shift, v2a scale, v2a shift; then the gate.
            let vss = mod_params(&vt.f_narrow(0, 0, 4)?, inp.temb_ca_scale_shift)?;
            let vgate = mod_params(&vt.f_narrow(0, 4, 1)?, inp.temb_ca_gate)?;
            let ass = mod_params(&at.f_narrow(0, 0, 4)?, inp.temb_ca_audio_scale_shift)?;
            let agate = mod_params(&at.f_narrow(0, 4, 1)?, inp.temb_ca_audio_gate)?;

            if inp.use_a2v {
                let q = modulate(&nx, &vss[0], &vss[1])?;
                let kv = modulate(&nax, &ass[0], &ass[1])?;
                let a = self.audio_to_video_attn.forward(
                    &q,
                    Some(&kv),
                    None,
                    Some(inp.ca_video_rope),
                    Some(inp.ca_audio_rope),
                    Perturbation::None,
                )?;
                let mut a = vgate[0].f_mul(&a)?;
                if let Some(keep) = inp.cross_modal_keep {
                    a = a.f_mul(keep)?;
                }
                x = x.f_add(&a)?;
            }
            if inp.use_v2a {
                let kv = modulate(&nx, &vss[2], &vss[3])?;
                let q = modulate(&nax, &ass[2], &ass[3])?;
                let a = self.video_to_audio_attn.forward(
                    &q,
                    Some(&kv),
                    None,
                    Some(inp.ca_audio_rope),
                    Some(inp.ca_video_rope),
                    Perturbation::None,
                )?;
                let mut a = agate[0].f_mul(&a)?;
                if let Some(keep) = inp.cross_modal_keep {
                    a = a.f_mul(keep)?;
                }
                ax = ax.f_add(&a)?;
            }
        }

        // 4. Feed-forward.
        let h = modulate(&self.norm3.forward(&x)?, &vm[4], &vm[3])?;
        let x = x.f_add(&self.ff.forward(&h)?.f_mul(&vm[5])?)?;
        let h = modulate(&self.audio_norm3.forward(&ax)?, &am[4], &am[3])?;
        let ax = ax.f_add(&self.audio_ff.forward(&h)?.f_mul(&am[5])?)?;
        Ok((x, ax))
    }
}
