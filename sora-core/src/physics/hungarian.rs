//! The Hungarian method (Kuhn–Munkres with potentials, O(n²m)) for the
//! minimum-cost assignment of rows to columns of a rectangular cost matrix.
//! Used to match object tracks to the detections of the next frame.

/// Assigns each row of `cost` (`rows × cols`, row-major) to a distinct column
/// so that the total cost is minimal; when there are more rows than columns,
/// some rows get `None`. Costs must be finite.
pub fn assign(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    if rows == 0 || cols == 0 || cost.len() != rows * cols {
        return vec![None; rows];
    }
    // The classic formulation needs rows ≤ columns: transpose otherwise.
    if rows > cols {
        let t: Vec<f64> = (0..cols * rows)
            .map(|k| cost[(k % rows) * cols + k / rows])
            .collect();
        let by_col = assign(&t, cols, rows);
        let mut out = vec![None; rows];
        for (c, r) in by_col.iter().enumerate() {
            if let Some(r) = r {
                out[*r] = Some(c);
            }
        }
        return out;
    }
    let (n, m) = (rows, cols);
    let at = |i: usize, j: usize| cost[(i - 1) * m + (j - 1)];
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    // p[j]: the row matched to column j (1-based, 0 = none); way: the path.
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = at(i0, j) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; n];
    for j in 1..=m {
        if p[j] != 0 {
            out[p[j] - 1] = Some(j - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best total by trying every permutation (small sizes, rows ≤ cols).
    fn brute(cost: &[f64], rows: usize, cols: usize) -> f64 {
        if rows > cols {
            let t: Vec<f64> = (0..cols * rows)
                .map(|k| cost[(k % rows) * cols + k / rows])
                .collect();
            return brute(&t, cols, rows);
        }
        fn go(r: usize, used: &mut Vec<bool>, cost: &[f64], rows: usize, cols: usize) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r * cols + c] + go(r + 1, used, cost, rows, cols));
                    used[c] = false;
                }
            }
            best
        }
        go(0, &mut vec![false; cols], cost, rows, cols)
    }

    #[test]
    fn matches_brute_force_on_random_matrices() {
        let mut s = 12345u64;
        for (rows, cols) in [(3, 3), (2, 5), (5, 2), (4, 4), (1, 3), (6, 6)] {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..rows * cols)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((s >> 33) % 100) as f64
                    })
                    .collect();
                let a = assign(&cost, rows, cols);
                let total: f64 = a
                    .iter()
                    .enumerate()
                    .filter_map(|(r, c)| c.map(|c| cost[r * cols + c]))
                    .sum();
                let assigned = a.iter().filter(|c| c.is_some()).count();
                assert_eq!(assigned, rows.min(cols));
                let mut cs: Vec<usize> = a.iter().flatten().copied().collect();
                cs.sort();
                cs.dedup();
                assert_eq!(cs.len(), assigned, "columns used once");
                assert!((total - brute(&cost, rows, cols)).abs() < 1e-9);
            }
        }
        assert_eq!(assign(&[], 0, 3), Vec::<Option<usize>>::new());
    }
}
