//! Certificate policy processing: the `valid_policy_tree` of RFC 5280 §6.1.2 (a), §6.1.3 (d)–(f),
//! §6.1.4 (a)–(b) and §6.1.5 (g).
//!
//! Owns: the tree, its pruning and the final intersection with the user-initial-policy-set.
//! Refuses: trees larger than [`MAX_NODES`] (the exponential growth described in RFC 9618 §1 is a
//! known denial-of-service; the cap ends such inputs with an error instead of exhausting memory).

use std::collections::BTreeSet;

/// anyPolicy, in the dotted form policies are kept in.
const ANY_POLICY: &str = crate::oid::ANY_POLICY.dotted();

/// Upper bound on nodes in the tree. PKITS's largest tree has a few dozen nodes; real PKIs
/// use one to three policies per level. 4,096 leaves room for every legitimate input and stops
/// the RFC 9618 blow-up (which needs millions) early.
pub(crate) const MAX_NODES: usize = 4096;

#[derive(Debug, Clone)]
struct Node {
    valid_policy: String,
    expected: BTreeSet<String>,
    parent: Option<usize>,
    alive: bool,
}

/// The policy tree, one level per certificate (level 0 is the root anyPolicy node).
#[derive(Debug, Clone)]
pub(crate) struct PolicyTree {
    levels: Vec<Vec<Node>>,
    null: bool,
    nodes: usize,
}

/// The tree grew beyond [`MAX_NODES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyNodes;

impl PolicyTree {
    pub fn new() -> PolicyTree {
        PolicyTree {
            levels: vec![vec![Node {
                valid_policy: ANY_POLICY.into(),
                expected: [ANY_POLICY.to_string()].into(),
                parent: None,
                alive: true,
            }]],
            null: false,
            nodes: 1,
        }
    }

    pub fn is_null(&self) -> bool {
        self.null
    }

    fn push(&mut self, level: usize, node: Node) -> Result<(), TooManyNodes> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(TooManyNodes);
        }
        while self.levels.len() <= level {
            self.levels.push(Vec::new());
        }
        self.levels[level].push(node);
        Ok(())
    }

    /// §6.1.3 (d) for certificate `i` (1-based) with `policies`; `any_allowed` is
    /// "inhibit_anyPolicy > 0, or i < n and the certificate is self-issued".
    pub fn process_certificate(
        &mut self,
        i: usize,
        policies: &[String],
        any_allowed: bool,
    ) -> Result<(), TooManyNodes> {
        if self.null {
            return Ok(());
        }
        self.levels.truncate(i);
        self.levels.push(Vec::new());
        let parent_level = i - 1;
        // (d)(1)
        for p in policies.iter().filter(|p| p.as_str() != ANY_POLICY) {
            let matches: Vec<usize> = self
                .live(parent_level)
                .filter(|(_, n)| n.expected.contains(p))
                .map(|(idx, _)| idx)
                .collect();
            let parents = if matches.is_empty() {
                self.live(parent_level)
                    .filter(|(_, n)| n.valid_policy == ANY_POLICY)
                    .map(|(idx, _)| idx)
                    .collect()
            } else {
                matches
            };
            for parent in parents {
                self.push(
                    i,
                    Node {
                        valid_policy: p.clone(),
                        expected: [p.clone()].into(),
                        parent: Some(parent),
                        alive: true,
                    },
                )?;
            }
        }
        // (d)(2)
        if any_allowed && policies.iter().any(|p| p == ANY_POLICY) {
            let parents: Vec<(usize, Vec<String>)> = self
                .live(parent_level)
                .map(|(idx, n)| (idx, n.expected.iter().cloned().collect()))
                .collect();
            for (parent, expected) in parents {
                for e in expected {
                    let exists = self.levels[i]
                        .iter()
                        .any(|c| c.alive && c.parent == Some(parent) && c.valid_policy == e);
                    if !exists {
                        self.push(
                            i,
                            Node {
                                valid_policy: e.clone(),
                                expected: [e].into(),
                                parent: Some(parent),
                                alive: true,
                            },
                        )?;
                    }
                }
            }
        }
        // (d)(3)
        self.prune_childless(i);
        Ok(())
    }

    /// §6.1.3 (e): no certificatePolicies extension.
    pub fn set_null(&mut self) {
        self.null = true;
    }

    /// §6.1.4 (b): apply policyMappings of certificate `i`.
    pub fn apply_mappings(
        &mut self,
        i: usize,
        mappings: &[(String, String)],
        mapping_allowed: bool,
    ) -> Result<(), TooManyNodes> {
        if self.null || self.levels.len() <= i {
            return Ok(());
        }
        let mut issuer_policies: Vec<&String> = mappings.iter().map(|(a, _)| a).collect();
        issuer_policies.sort();
        issuer_policies.dedup();
        for idp in issuer_policies {
            let mapped: BTreeSet<String> = mappings
                .iter()
                .filter(|(a, _)| a == idp)
                .map(|(_, b)| b.clone())
                .collect();
            if mapping_allowed {
                let mut found = false;
                for node in self.levels[i].iter_mut().filter(|n| n.alive) {
                    if &node.valid_policy == idp {
                        node.expected = mapped.clone();
                        found = true;
                    }
                }
                if !found {
                    let any_parent = self.levels[i]
                        .iter()
                        .find(|n| n.alive && n.valid_policy == ANY_POLICY)
                        .map(|n| n.parent);
                    if let Some(parent) = any_parent {
                        self.push(
                            i,
                            Node {
                                valid_policy: idp.clone(),
                                expected: mapped,
                                parent,
                                alive: true,
                            },
                        )?;
                    }
                }
            } else {
                for node in self.levels[i].iter_mut() {
                    if node.alive && &node.valid_policy == idp {
                        node.alive = false;
                    }
                }
                self.prune_childless(i);
            }
        }
        Ok(())
    }

    /// §6.1.5 (g): intersect with the user-initial-policy-set (None = any-policy) for a path
    /// of `n` certificates. Returns the authorities-constrained policies that survive.
    pub fn intersect(&mut self, n: usize, initial: Option<&[String]>) -> Result<(), TooManyNodes> {
        if self.null {
            return Ok(());
        }
        let Some(initial) = initial else {
            return Ok(());
        };
        // (iii)(1)-(2): nodes whose parent is anyPolicy, not in the user set, are deleted.
        for level in 1..self.levels.len() {
            for idx in 0..self.levels[level].len() {
                let node = &self.levels[level][idx];
                if !node.alive {
                    continue;
                }
                let parent_any = node
                    .parent
                    .is_some_and(|p| self.levels[level - 1][p].valid_policy == ANY_POLICY);
                if parent_any
                    && node.valid_policy != ANY_POLICY
                    && !initial.contains(&node.valid_policy)
                {
                    self.levels[level][idx].alive = false;
                }
            }
            self.kill_orphans(level);
        }
        // (iii)(3)
        if self.levels.len() > n {
            let any_leaf = self.levels[n]
                .iter()
                .position(|x| x.alive && x.valid_policy == ANY_POLICY);
            if let Some(any_idx) = any_leaf {
                let parent = self.levels[n][any_idx].parent;
                let present: Vec<String> = self.valid_policy_node_set();
                for p in initial {
                    if !present.contains(p) {
                        self.push(
                            n,
                            Node {
                                valid_policy: p.clone(),
                                expected: [p.clone()].into(),
                                parent,
                                alive: true,
                            },
                        )?;
                    }
                }
                self.levels[n][any_idx].alive = false;
            }
        }
        // (iii)(4)
        self.prune_childless(n);
        Ok(())
    }

    /// The valid policies of nodes whose parent is anyPolicy.
    fn valid_policy_node_set(&self) -> Vec<String> {
        let mut out = Vec::new();
        for level in 1..self.levels.len() {
            for node in self.levels[level].iter().filter(|n| n.alive) {
                if node
                    .parent
                    .is_some_and(|p| self.levels[level - 1][p].valid_policy == ANY_POLICY)
                {
                    out.push(node.valid_policy.clone());
                }
            }
        }
        out
    }

    /// Policies at the deepest level, for reporting (anyPolicy included as such).
    pub fn leaf_policies(&self, n: usize) -> Vec<String> {
        if self.null || self.levels.len() <= n {
            return Vec::new();
        }
        let mut v: Vec<String> = self.levels[n]
            .iter()
            .filter(|x| x.alive)
            .map(|x| x.valid_policy.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn live(&self, level: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.levels
            .get(level)
            .into_iter()
            .flat_map(|l| l.iter().enumerate())
            .filter(|(_, n)| n.alive)
    }

    /// Marks nodes whose parent died as dead (deleting a node deletes its subtree).
    fn kill_orphans(&mut self, from_level: usize) {
        for level in from_level.max(1)..self.levels.len() {
            for idx in 0..self.levels[level].len() {
                if let Some(p) = self.levels[level][idx].parent
                    && !self.levels[level - 1][p].alive
                {
                    self.levels[level][idx].alive = false;
                }
            }
        }
        if !self.levels[0][0].alive {
            self.null = true;
        }
    }

    /// Deletes nodes at depth < `depth` without live children, repeatedly (RFC 5280 §6.1.3
    /// (d)(3)), then makes the tree NULL if the root went.
    fn prune_childless(&mut self, depth: usize) {
        self.kill_orphans(1);
        for level in (0..depth.min(self.levels.len())).rev() {
            let child_level = level + 1;
            for idx in 0..self.levels[level].len() {
                if !self.levels[level][idx].alive {
                    continue;
                }
                let has_child = self
                    .levels
                    .get(child_level)
                    .is_some_and(|c| c.iter().any(|n| n.alive && n.parent == Some(idx)));
                if !has_child {
                    self.levels[level][idx].alive = false;
                }
            }
        }
        if !self.levels[0][0].alive {
            self.null = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "2.16.840.1.101.3.2.1.48.1";
    const P2: &str = "2.16.840.1.101.3.2.1.48.2";

    fn two_level(policies: &[&str]) -> PolicyTree {
        let p: Vec<String> = policies.iter().map(|s| (*s).to_owned()).collect();
        let mut t = PolicyTree::new();
        t.process_certificate(1, &p, true).unwrap();
        t.process_certificate(2, &p, true).unwrap();
        t
    }

    #[test]
    fn intersection_keeps_asked_policies() {
        let mut t = two_level(&[P1]);
        t.intersect(2, Some(&[P1.to_owned()])).unwrap();
        assert!(!t.is_null());
        assert_eq!(t.leaf_policies(2), vec![P1.to_owned()]);
    }

    #[test]
    fn intersection_with_other_policies_is_null() {
        let mut t = two_level(&[P1]);
        t.intersect(2, Some(&[P2.to_owned()])).unwrap();
        assert!(t.is_null());
    }

    #[test]
    fn any_policy_expands_to_the_asked_set() {
        let mut t = two_level(&[ANY_POLICY]);
        t.intersect(2, Some(&[P2.to_owned()])).unwrap();
        assert_eq!(t.leaf_policies(2), vec![P2.to_owned()]);
    }

    #[test]
    fn mapping_changes_expected_policies() {
        let mut t = PolicyTree::new();
        t.process_certificate(1, &[P1.to_owned()], true).unwrap();
        t.apply_mappings(1, &[(P1.to_owned(), P2.to_owned())], true)
            .unwrap();
        t.process_certificate(2, &[P2.to_owned()], true).unwrap();
        assert!(!t.is_null());
        // Inhibited mapping deletes the mapped node instead.
        let mut t = PolicyTree::new();
        t.process_certificate(1, &[P1.to_owned()], true).unwrap();
        t.apply_mappings(1, &[(P1.to_owned(), P2.to_owned())], false)
            .unwrap();
        assert!(t.is_null());
    }

    #[test]
    fn growth_is_capped() {
        // Each level lists many policies and maps each to all others: the RFC 9618 shape.
        let many: Vec<String> = (0..64).map(|i| format!("1.2.3.{i}")).collect();
        let maps: Vec<(String, String)> = many
            .iter()
            .flat_map(|a| many.iter().map(move |b| (a.clone(), b.clone())))
            .collect();
        let mut t = PolicyTree::new();
        let mut capped = false;
        for i in 1..=8 {
            if t.process_certificate(i, &many, true).is_err()
                || t.apply_mappings(i, &maps, true).is_err()
            {
                capped = true;
                break;
            }
        }
        assert!(capped || t.nodes <= MAX_NODES);
    }
}
