//! The RFC 6962 Merkle tree (section 2.1) of a run's lines in one file, built as lines come:
//! the roots of its perfect subtrees, largest first, so memory grows with the tree's height, not
//! with the log.

use super::Hash;

/// A tree that grows one leaf at a time.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    /// The roots of the perfect subtrees the leaves so far make, with their heights, largest
    /// (leftmost) first: the binary digits of `size`.
    subtrees: Vec<(Hash, u32)>,
    size: u64,
}

/// SHA-256(0x00 || data): a leaf.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&[0]);
    ctx.update(data);
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// SHA-256(0x01 || left || right): an inner node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

impl Tree {
    pub fn new() -> Tree {
        Tree::default()
    }

    /// How many leaves it has.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf whose data is `line` (the exact bytes, newline included).
    pub fn push(&mut self, line: &[u8]) {
        self.push_hash(leaf_hash(line));
    }

    /// Adds a leaf by its leaf hash.
    pub fn push_hash(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut height = 0;
        while let Some(&(left, h)) = self.subtrees.last() {
            if h != height {
                break;
            }
            self.subtrees.pop();
            hash = node_hash(&left, &hash);
            height += 1;
        }
        self.subtrees.push((hash, height));
        self.size += 1;
    }

    /// The tree's root hash: MTH of RFC 6962 (SHA-256 of nothing for an empty tree). The
    /// subtrees, folded from the right, are exactly its split at the largest power of two.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.subtrees.iter().rev();
        let Some(&(mut hash, _)) = subtrees.next() else {
            return super::sha256(b"");
        };
        for (left, _) in subtrees {
            hash = node_hash(left, &hash);
        }
        hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH as RFC 6962 section 2.1 defines it, recursively: the reference.
    fn mth(leaves: &[&[u8]]) -> Hash {
        match leaves.len() {
            0 => crate::seal::sha256(b""),
            1 => leaf_hash(leaves[0]),
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn every_size_has_the_root_the_rfc_defines() {
        let data: Vec<Vec<u8>> = (0..70)
            .map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut tree = Tree::new();
        assert_eq!(tree.root(), mth(&[]));
        for n in 1..=data.len() {
            tree.push(&data[n - 1]);
            let leaves: Vec<&[u8]> = data[..n].iter().map(Vec::as_slice).collect();
            assert_eq!(tree.root(), mth(&leaves), "size {n}");
            assert_eq!(tree.size(), n as u64);
        }
        // Held in as many subtrees as 70 has binary ones.
        assert_eq!(tree.subtrees.len(), 70u32.count_ones() as usize);
    }

    /// The largest power of two below `n` (n > 1).
    fn split(n: usize) -> usize {
        1 << (usize::BITS - 1 - (n - 1).leading_zeros())
    }

    #[test]
    fn the_split_is_at_the_largest_power_of_two_below_the_size() {
        // The reference's split, checked by hand for the sizes around powers of two.
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (17, 16)] {
            assert_eq!(split(n), k, "n={n}");
        }
        // And one root known from outside: the empty tree's and a one-leaf tree's (RFC 6962
        // test data: leaf "" hashes to 6e340b9c...).
        let mut tree = Tree::new();
        tree.push(b"");
        assert_eq!(tree.root()[..4], [0x6e, 0x34, 0x0b, 0x9c]);
    }
}
