//! Sinusoidal timestep embeddings and their MLP.
