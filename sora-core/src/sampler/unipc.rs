//! UniPC multistep scheduler (diffusers' UniPCMultistepScheduler).
