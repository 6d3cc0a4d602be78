//! One machine's share of a batch (`kyso verify --batch … --shard K/N`): N processes, on as many
//! machines, split one archive with no coordinator, each taking the documents whose name hashes
//! to its index.
//!
//! A document's name is what the batch calls it: its path below the folder (with `/`), its zip
//! entry name, or its line of an @list. The hash is SHA-256 of those bytes, so the split is the
//! same on every machine, operating system and run, and a re-run shard takes exactly the
//! documents it took before; an archive mounted at another path splits the same way. What this
//! module refuses: a shard index that is not below the count, and a count of zero.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use crate::signer::DigestAlgorithm::Sha256;

/// Shard `index` of `count`, counted from 0 (as Kubernetes' `JOB_COMPLETION_INDEX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: NonZeroU32,
}

/// Why a `--shard` value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("`{given}`: expected K/N, the shard K (from 0) of N shards, such as 0/3")]
    Form { given: String },
    #[error("shard {index} of {count}: K counts from 0, so it must be below N")]
    OutOfRange { index: u32, count: u32 },
    #[error("0 shards: N must be at least 1")]
    NoShards,
}

impl Shard {
    /// The whole batch: one shard of one.
    pub const WHOLE: Shard = Shard {
        index: 0,
        count: NonZeroU32::MIN,
    };

    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        let count = NonZeroU32::new(count).ok_or(ShardError::NoShards)?;
        if index >= count.get() {
            return Err(ShardError::OutOfRange {
                index,
                count: count.get(),
            });
        }
        Ok(Shard { index, count })
    }

    /// Whether the document called `name` is this shard's.
    pub fn holds(&self, name: &str) -> bool {
        if self.count.get() == 1 {
            return true;
        }
        let digest = Sha256.digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first) % u64::from(self.count.get()) == u64::from(self.index)
    }

    pub fn is_whole(&self) -> bool {
        self.count.get() == 1
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let form = || ShardError::Form {
            given: text.to_owned(),
        };
        let (index, count) = text.split_once('/').ok_or_else(form)?;
        let index = index.trim().parse().map_err(|_| form())?;
        let count = count.trim().parse().map_err(|_| form())?;
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("1/3".parse(), Shard::new(1, 3));
        assert_eq!("0/1".parse::<Shard>(), Ok(Shard::WHOLE));
        assert_eq!(
            "3/3".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 3, count: 3 })
        );
        assert_eq!("0/0".parse::<Shard>(), Err(ShardError::NoShards));
        for bad in ["", "1", "a/3", "1/b", "-1/3", "1/3/4"] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Form { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_split_is_fixed_by_the_name_alone() {
        // Pinned: a change of hash would move documents between shards of a running audit.
        let names = ["STP/2022/cv-001.pdf", "STC/hoa-don.xml", "a", ""];
        let shards: Vec<u32> = names
            .iter()
            .map(|n| {
                (0..3)
                    .find(|&k| Shard::new(k, 3).unwrap().holds(n))
                    .unwrap()
            })
            .collect();
        assert_eq!(shards, [0, 2, 1, 1]);
    }

    proptest! {
        /// Every name belongs to exactly one shard of N.
        #[test]
        fn every_name_has_exactly_one_shard(name in ".{0,40}", count in 1u32..9) {
            let owners = (0..count)
                .filter(|&k| Shard::new(k, count).unwrap().holds(&name))
                .count();
            prop_assert_eq!(owners, 1);
        }
    }
}
