//! A small cache of prompt embeddings, so that a prompt encoded once is not
//! encoded again while the pipeline lives (and a released text encoder need
//! not be reloaded for it).

use std::collections::VecDeque;

use tch::Tensor;

/// How many prompts a pipeline remembers by default.
pub const DEFAULT_ENTRIES: usize = 8;

/// Embeddings per `(prompt, max sequence length)`, the least recently used
/// dropped first. Entries share storage with the tensors handed out, which
/// the engine never modifies in place.
#[derive(Debug)]
pub struct EmbeddingCache {
    capacity: usize,
    entries: VecDeque<(String, usize, Tensor)>,
}

impl Default for EmbeddingCache {
    fn default() -> Self {
        Self::new(DEFAULT_ENTRIES)
    }
}

impl EmbeddingCache {
    /// A cache of at most `capacity` prompts (0 turns caching off).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: VecDeque::new(),
        }
    }

    /// The most prompts kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Prompts kept now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `(prompt, max_len)` is kept (does not refresh it).
    pub fn contains(&self, prompt: &str, max_len: usize) -> bool {
        self.entries
            .iter()
            .any(|(p, l, _)| p == prompt && *l == max_len)
    }

    /// The embeddings of `(prompt, max_len)`, marked most recently used.
    pub fn get(&mut self, prompt: &str, max_len: usize) -> Option<Tensor> {
        let i = self
            .entries
            .iter()
            .position(|(p, l, _)| p == prompt && *l == max_len)?;
        let entry = self.entries.remove(i)?;
        let t = entry.2.shallow_clone();
        self.entries.push_back(entry);
        Some(t)
    }

    /// Keeps `embeddings` for `(prompt, max_len)`, dropping the least recently
    /// used entry when full.
    pub fn insert(&mut self, prompt: &str, max_len: usize, embeddings: &Tensor) {
        if self.capacity == 0 {
            return;
        }
        self.entries
            .retain(|(p, l, _)| !(p == prompt && *l == max_len));
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries
            .push_back((prompt.to_string(), max_len, embeddings.shallow_clone()));
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_prompts() {
        let mut c = EmbeddingCache::new(2);
        let t = |v: f64| Tensor::from_slice(&[v]);
        c.insert("a", 512, &t(1.0));
        c.insert("b", 512, &t(2.0));
        assert!(c.get("a", 512).is_some()); // a is now the most recent
        c.insert("c", 512, &t(3.0)); // drops b
        assert!(!c.contains("b", 512));
        assert!(c.contains("a", 512) && c.contains("c", 512));
        assert!(c.get("a", 256).is_none(), "the length is part of the key");
        assert_eq!(c.get("c", 512).unwrap().double_value(&[0]), 3.0);
        let mut off = EmbeddingCache::new(0);
        off.insert("a", 512, &t(1.0));
        assert!(off.is_empty());
    }
}
